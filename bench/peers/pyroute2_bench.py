"""pyroute2 in one Python process: the whole loop, timed inside Python.

    pyroute2_bench.py attach PLAN BRIDGE GATEWAY PORTBASE | teardown PLAN PORTBASE | bulk PLAN PORTBASE

PLAN: "NS VETH CIDR" a line. Prints {"times": [ms, ...]}, or for bulk
{"startedAt": epoch_ms, "ms": total}.
PORTBASE 0: no ports; else container i publishes tcp PORTBASE+i to its port 80 in
netplumb's table. pyroute2 0.7's NFTables API has tables, chains and rules but no set
elements, so that step runs `nft` (one process per publish, as a script would).
Namespaces are created with pyroute2.netns.create (as `ip netns add`); requests inside
a namespace go through an IPRoute socket opened there (netns.pushns / popns), the
cheapest way pyroute2 offers (NetNS would fork a proxy process per namespace).
"""
import json
import subprocess
import sys
import time

from pyroute2 import IPRoute, netns


def read_plan(path):
    with open(path) as f:
        return [line.split() for line in f if line.strip()]


def publish(verb, port, ip):
    value = f' : {ip} . 80' if verb == 'add' else ''
    subprocess.run(['nft', f'{verb} element inet netplumb dnat4_any {{ tcp . {port}{value} }}; '
                           f'{verb} element inet netplumb pub4 {{ {ip} . tcp . 80 }}'], check=True)


def attach(plan, bridge, gateway, ports):
    times = []
    with IPRoute() as ipr:
        master = ipr.link_lookup(ifname=bridge)[0]
        for i, (ns, veth, cidr) in enumerate(plan):
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
            if ports:
                publish('add', ports + i, address)
            times.append((time.perf_counter() - t0) * 1e3)
    return {'times': times}


def teardown(plan, ports):
    times = []
    with IPRoute() as ipr:
        for i, (ns, veth, cidr) in enumerate(plan):
            t0 = time.perf_counter()
            if ports:
                publish('delete', ports + i, cidr.split('/')[0])
            ipr.link('del', ifname=veth)
            netns.remove(ns)
            times.append((time.perf_counter() - t0) * 1e3)
    return {'times': times}


def bulk(plan, ports):
    # No bulk request in pyroute2: remove every namespace; the kernel destroys them,
    # veths included, in the background (the harness waits for the links to go).
    started_at = time.time() * 1e3
    t0 = time.perf_counter()
    if ports:
        subprocess.run(['nft', 'flush map inet netplumb dnat4_any; flush set inet netplumb pub4'], check=True)
    for ns, _, _ in plan:
        netns.remove(ns)
    return {'startedAt': started_at, 'ms': (time.perf_counter() - t0) * 1e3}


def main(argv):
    mode = argv[1]
    plan = read_plan(argv[2])
    if mode == 'attach':
        out = attach(plan, argv[3], argv[4], int(argv[5]))
    elif mode == 'teardown':
        out = teardown(plan, int(argv[3]))
    elif mode == 'bulk':
        out = bulk(plan, int(argv[3]))
    else:
        raise SystemExit('usage: pyroute2_bench.py attach PLAN BRIDGE GATEWAY PORTBASE | teardown PLAN PORTBASE | bulk PLAN PORTBASE')
    json.dump(out, sys.stdout)
    sys.stdout.write('\n')


if __name__ == '__main__':
    main(sys.argv)
