"""pyroute2 in one Python process: the whole loop, timed inside Python.

    pyroute2_bench.py attach PLAN BRIDGE GATEWAY | teardown PLAN | bulk PLAN

PLAN: "NS VETH CIDR" a line. Prints {"times": [ms, ...]}, or for bulk
{"startedAt": epoch_ms, "ms": total}.
Namespaces are created with pyroute2.netns.create (as `ip netns add`); requests inside
a namespace go through an IPRoute socket opened there (netns.pushns / popns), the
cheapest way pyroute2 offers (NetNS would fork a proxy process per namespace).
"""
import json
import sys
import time

from pyroute2 import IPRoute, netns


def read_plan(path):
    with open(path) as f:
        return [line.split() for line in f if line.strip()]


def attach(plan, bridge, gateway):
    times = []
    with IPRoute() as ipr:
        master = ipr.link_lookup(ifname=bridge)[0]
        for ns, veth, cidr in plan:
            address, prefixlen = cidr.split('/')
            t0 = time.perf_counter()
            netns.create(ns)
            ipr.link('add', ifname=veth, kind='veth', peer={'ifname': 'eth0', 'net_ns_fd': ns},
                     master=master, state='up')
            netns.pushns(ns)
            try:
                with IPRoute() as inside:
                    eth0 = inside.link_lookup(ifname='eth0')[0]
                    inside.addr('add', index=eth0, address=address, prefixlen=int(prefixlen))
                    inside.link('set', index=inside.link_lookup(ifname='lo')[0], state='up')
                    inside.link('set', index=eth0, state='up')
                    inside.route('add', dst='default', gateway=gateway)
            finally:
                netns.popns()
            times.append((time.perf_counter() - t0) * 1e3)
    return {'times': times}


def teardown(plan):
    times = []
    with IPRoute() as ipr:
        for ns, veth, _ in plan:
            t0 = time.perf_counter()
            ipr.link('del', ifname=veth)
            netns.remove(ns)
            times.append((time.perf_counter() - t0) * 1e3)
    return {'times': times}


def bulk(plan):
    # No bulk request in pyroute2: remove every namespace; the kernel destroys them,
    # veths included, in the background (the harness waits for the links to go).
    started_at = time.time() * 1e3
    t0 = time.perf_counter()
    for ns, _, _ in plan:
        netns.remove(ns)
    return {'startedAt': started_at, 'ms': (time.perf_counter() - t0) * 1e3}


def main(argv):
    mode = argv[1]
    plan = read_plan(argv[2])
    if mode == 'attach':
        out = attach(plan, argv[3], argv[4])
    elif mode == 'teardown':
        out = teardown(plan)
    elif mode == 'bulk':
        out = bulk(plan)
    else:
        raise SystemExit('usage: pyroute2_bench.py attach PLAN BRIDGE GATEWAY | teardown PLAN | bulk PLAN')
    json.dump(out, sys.stdout)
    sys.stdout.write('\n')


if __name__ == '__main__':
    main(sys.argv)
