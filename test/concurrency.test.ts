// Concurrency: many attaches started at once into distinct namespaces, and many requests
// started at once on one namespace handle. Every check reads the kernel with ip -j (or
// sends real traffic), never what the library said it did.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { attachVeth, Netns, Networks, type Link } from '../src';
import { ipj, ping, Scope, uniq } from './helpers';
import { readState } from './state-helpers';

const scope = new Scope();
const dirs: string[] = [];
afterAll(async () => {
  await scope.cleanup();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

interface AddrInfo { family: string; local: string; prefixlen: number }
interface IpAddr { ifname: string; addr_info: AddrInfo[] }
interface IpRoute { dst: string; gateway?: string; dev: string; prefsrc?: string }

/** n named namespaces, all created at once. */
async function namespaces(n: number, prefix: string): Promise<Netns[]> {
  const names = Array.from({ length: n }, () => uniq(prefix));
  const hs = await Promise.all(names.map((name) => Netns.create(name)));
  scope.handles.push(...hs);
  scope.names.push(...names);
  return hs;
}

/** IPv4 addresses per interface inside ns (ip -j -4 addr), lo dropped after checking it holds only 127.0.0.1/8. */
function v4(ns: Netns): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const l of ipj<IpAddr[]>(ns.name!, '-4', 'addr', 'show')) out[l.ifname] = l.addr_info.map((a) => `${a.local}/${a.prefixlen}`);
  return out;
}

/** `ip -j -n NS ARGS...` without blocking the event loop (hundreds of them would stall vitest's RPC). */
function ipjAsync<T>(ns: string, ...args: string[]): Promise<T> {
  return new Promise((resolve, reject) => {
    execFile('ip', ['-j', '-n', ns, ...args], (e, out) => (e ? reject(e) : resolve((out.trim() ? JSON.parse(out) : []) as T)));
  });
}

interface CtState { links: string[]; addrs: Record<string, string[]>; routes: IpRoute[]; eth0: { ifindex: number; address: string } }

/** A container's kernel state as ip -j shows it: link names, IPv4 addresses, main-table routes, eth0. */
async function containerState(ns: Netns): Promise<CtState> {
  const [links, addrs, routes] = await Promise.all([
    ipjAsync<{ ifname: string; ifindex: number; address: string }[]>(ns.name!, 'link', 'show'),
    ipjAsync<IpAddr[]>(ns.name!, '-4', 'addr', 'show'),
    ipjAsync<IpRoute[]>(ns.name!, 'route', 'show'),
  ]);
  const eth0 = links.find((l) => l.ifname === 'eth0');
  return {
    links: links.map((l) => l.ifname).sort(),
    addrs: Object.fromEntries(addrs.map((l) => [l.ifname, l.addr_info.map((a) => `${a.local}/${a.prefixlen}`)])),
    routes: routes.map((r) => ({ dst: r.dst, dev: r.dev, ...(r.gateway && { gateway: r.gateway }), ...(r.prefsrc && { prefsrc: r.prefsrc }) })),
    eth0: { ifindex: eth0?.ifindex ?? -1, address: eth0?.address ?? '' },
  };
}

/** containerState of every namespace, four at a time. */
async function statesOf(cts: Netns[]): Promise<CtState[]> {
  const out: CtState[] = [];
  for (let i = 0; i < cts.length; i += 4) out.push(...await Promise.all(cts.slice(i, i + 4).map(containerState)));
  return out;
}

describe('200 concurrent attaches into distinct namespaces', () => {
  it('attachVeth (half making their namespace): each container holds exactly its own address and routes; the bridge has 200 ports', async () => {
    const N = 200;
    const [host] = await namespaces(1, 'ch');
    await host!.links.add({ name: 'br0', kind: 'bridge', up: true, addrGenMode: 'none' });
    await host!.addresses.add('br0', '10.200.0.1/16');
    // Half the namespaces exist beforehand; the other half attachVeth makes itself
    // ({ create }: on the namespace thread), all of them in flight together.
    const made = await namespaces(N / 2, 'cc');
    const ipOf = (i: number) => `10.200.${1 + (i >> 8)}.${(i & 255) + 1}`;
    const t0 = performance.now();
    const res = await Promise.all(Array.from({ length: N }, (_, i) => {
      const opts = { bridge: 'br0', hostIfname: `v${i}`, address: `${ipOf(i)}/16`, gateway: '10.200.0.1' };
      if (i % 2 === 0) return attachVeth(host!, made[i / 2]!, opts).then((r) => ({ ...r, netns: made[i / 2]! }));
      const name = uniq('cn');
      scope.names.push(name);
      return attachVeth(host!, { create: name }, opts);
    }));
    const cts = res.map((r) => r.netns);
    scope.handles.push(...cts.filter((_, i) => i % 2 === 1));
    const ms = performance.now() - t0;
    console.log(`${N} concurrent attachVeth (half with create): ${ms.toFixed(0)} ms`);
    expect(res.map((r) => r.hostIfname)).toEqual(cts.map((_, i) => `v${i}`));

    const states = await statesOf(cts);
    for (const [i, st] of states.entries()) {
      expect(st).toEqual({
        links: ['eth0', 'lo'],
        addrs: { lo: ['127.0.0.1/8'], eth0: [`${ipOf(i)}/16`] },
        routes: [
          { dst: 'default', gateway: '10.200.0.1', dev: 'eth0' },
          { dst: '10.200.0.0/16', dev: 'eth0', prefsrc: ipOf(i) },
        ],
        // The container end is the one attachVeth reported.
        eth0: { ifindex: res[i]!.peerIndex, address: expect.any(String) },
      });
    }
    const ports = ipj<{ ifname: string; flags: string[] }[]>(host!.name!, 'link', 'show', 'master', 'br0');
    expect(ports.map((p) => p.ifname).sort()).toEqual(cts.map((_, i) => `v${i}`).sort());
    expect(ports.every((p) => p.flags.includes('UP'))).toBe(true);
    // A sample of the containers reach the gateway and each other across the bridge.
    for (const i of [0, 57, 128, 199]) {
      await ping(cts[i]!, '10.200.0.1');
      await ping(cts[i]!, ipOf((i + 101) % N));
    }
  });

  it('Network.attach: 200 distinct addresses, each container holds the one its EndpointInfo names, all in the state', async () => {
    const N = 200;
    const [host] = await namespaces(1, 'nh');
    const stateDir = mkdtempSync('/run/np-concur-');
    dirs.push(stateDir);
    const nets = await Networks.open({ host: host!, stateDir });
    try {
      const net = await nets.create({ name: 'many', subnet: '10.210.0.0/16' });
      const cts = await namespaces(N, 'nc');
      const t0 = performance.now();
      const eps = await Promise.all(cts.map((c) => net.attach(c)));
      console.log(`${N} concurrent Network.attach: ${(performance.now() - t0).toFixed(0)} ms`);
      expect(new Set(eps.map((e) => e.ip)).size).toBe(N);
      expect(new Set(eps.map((e) => e.hostIfname)).size).toBe(N);
      const { gateway: gw, bridge } = net.info;
      const states = await statesOf(cts);
      for (const [i, st] of states.entries()) {
        const ep = eps[i]!;
        expect(st).toEqual({
          links: ['eth0', 'lo'],
          addrs: { lo: ['127.0.0.1/8'], eth0: [`${ep.ip}/16`] },
          routes: [
            { dst: 'default', gateway: gw, dev: 'eth0' },
            { dst: '10.210.0.0/16', dev: 'eth0', prefsrc: ep.ip },
          ],
          eth0: { ifindex: expect.any(Number), address: ep.mac },
        });
      }
      const ports = ipj<{ ifname: string }[]>(host!.name!, 'link', 'show', 'master', bridge);
      expect(ports.map((p) => p.ifname).sort()).toEqual(eps.map((e) => e.hostIfname).sort());
      const saved = readState(stateDir);
      expect(saved.endpoints.map((e) => `${e.id} ${e.doc.ip} ${e.phase}`).sort()).toEqual(eps.map((e) => `${e.id} ${e.ip} ready`).sort());
      expect(saved.leases.filter((l) => l.pool === net.id).map((l) => `${l.owner} ${l.address}`).sort()).toEqual(eps.map((e) => `${e.id} ${e.ip}`).sort());
      await ping(cts[0]!, eps[N - 1]!.ip);
    } finally {
      await nets.close();
    }
  });
});

describe('concurrent requests on one namespace handle', () => {
  it('400 requests started at once: as many sendmsg calls as made one by one, every answer to its own request; dumps amid writes stay consistent', async () => {
    const [ns] = await namespaces(1, 'cs');
    const N = 100;
    const chain = async (i: number) => {
      const made = await ns!.links.add({ name: `cb${i}`, kind: 'bridge' });
      const [read] = await Promise.all([ns!.links.get(`cb${i}`), ns!.addresses.add(`cb${i}`, `10.201.${i}.1/24`)]);
      return { made, read };
    };
    // The sendmsg calls of one chain made alone (the address's device name is looked up first).
    const w0 = ns!.socketStats().sends;
    const warm = await chain(N);
    const perChain = ns!.socketStats().sends - w0;
    expect(perChain).toBe(4);
    await ns!.links.delete(warm.made.index);
    const s0 = ns!.socketStats().sends;
    const got = await Promise.all(Array.from({ length: N }, (_, i) => chain(i)));
    // Started at once, the same number of exchanges: nothing was resent or mixed up.
    expect(ns!.socketStats().sends - s0).toBe(perChain * N);
    for (const [i, g] of got.entries()) {
      expect(g.made.name).toBe(`cb${i}`);
      expect(g.read.name).toBe(`cb${i}`);
      expect(g.read.index).toBe(g.made.index);
      expect(g.read.kind).toBe('bridge');
    }
    expect(new Set(got.map((g) => g.made.index)).size).toBe(N);
    const kernel = ipj<{ ifname: string; ifindex: number; linkinfo?: { info_kind: string } }[]>(ns!.name!, 'link', 'show');
    expect(kernel.filter((l) => l.ifname !== 'lo').map((l) => `${l.ifname} ${l.ifindex} ${l.linkinfo?.info_kind}`).sort())
      .toEqual(got.map((g, i) => `cb${i} ${g.made.index} bridge`).sort());
    const addrs = v4(ns!);
    for (let i = 0; i < N; i++) expect(addrs[`cb${i}`]).toEqual([`10.201.${i}.1/24`]);

    // Dumps interleaved with writes: every dump is a consistent snapshot of well-formed links.
    const D = 10;
    const results = await Promise.all([
      ...Array.from({ length: 50 }, (_, i) => ns!.links.add({ name: `cd${i}`, kind: 'bridge' }).then(() => undefined)),
      ...Array.from({ length: N }, (_, i) => ns!.links.set(`cb${i}`, { up: true }).then(() => undefined)),
      ...Array.from({ length: D }, () => ns!.links.list()),
    ]);
    const byName = new Map(got.map((g, i) => [`cb${i}`, g.made.index]));
    for (const list of results.filter((r): r is Link[] => Array.isArray(r))) {
      expect(new Set(list.map((l) => l.index)).size).toBe(list.length);
      const names = list.map((l) => l.name);
      expect(names).toContain('lo');
      for (let i = 0; i < N; i++) expect(names).toContain(`cb${i}`);
      for (const l of list) {
        if (l.name === 'lo') continue;
        expect(l.name).toMatch(/^c[bd]\d+$/);
        expect(l.kind).toBe('bridge');
        if (l.name.startsWith('cb')) expect(l.index).toBe(byName.get(l.name));
      }
    }
    const after = ipj<{ ifname: string; flags: string[] }[]>(ns!.name!, 'link', 'show');
    expect(after.length).toBe(1 + N + 50);
    expect(after.filter((l) => l.ifname.startsWith('cb')).every((l) => l.flags.includes('UP'))).toBe(true);
  });
});
