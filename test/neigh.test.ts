import { afterEach, describe, expect, it } from 'vitest';
import { NetlinkError, type Neighbour, type NeighbourSpec, type Netns } from '../src';
import { ip, run, Scope } from './helpers';

const scope = new Scope();
afterEach(() => scope.cleanup());

interface IpNeigh {
  dst: string;
  dev: string;
  lladdr?: string;
  state?: string[];
  router?: null;
  proxy?: null;
  extern_learn?: null;
}

/** `ip -j neigh show ARGS` in a namespace, independent of netplumb. */
function ipNeigh(ns: Netns, ...args: string[]): IpNeigh[] {
  const out = run('ip', ['-n', ns.name!, '-j', 'neigh', 'show', ...args]);
  return out.trim() ? (JSON.parse(out) as IpNeigh[]) : [];
}

async function withVeth(prefix: string): Promise<Netns> {
  const ns = await scope.ns(prefix);
  ip(ns.name!, 'link', 'add', 'v0', 'type', 'veth', 'peer', 'name', 'v1');
  return ns;
}

describe('neighbours', () => {
  it('adds, replaces, gets and deletes ARP and NDP entries as ip neigh sees them', async () => {
    const ns = await withVeth('nb');
    await ns.neighbours.add({ dev: 'v0', address: '10.0.0.2', mac: '02:00:00:00:00:02' });
    await ns.neighbours.add({ dev: 'v0', address: 'fd00::2', mac: '02:00:00:00:00:03', state: 'reachable', router: true });
    await ns.neighbours.add({ dev: 'v0', address: '10.0.0.9', proxy: true });
    expect(ipNeigh(ns)).toEqual([
      { dst: '10.0.0.2', dev: 'v0', lladdr: '02:00:00:00:00:02', state: ['PERMANENT'] },
      { dst: 'fd00::2', dev: 'v0', lladdr: '02:00:00:00:00:03', router: null, state: ['REACHABLE'] },
    ]);
    expect(ipNeigh(ns, 'proxy')).toEqual([{ dst: '10.0.0.9', dev: 'v0', proxy: null }]);

    // add is NLM_F_EXCL; replace overwrites.
    const dup = await ns.neighbours.add({ dev: 'v0', address: '10.0.0.2', mac: '02:00:00:00:00:99' }).catch((e: unknown) => e);
    expect(dup).toBeInstanceOf(NetlinkError);
    expect((dup as NetlinkError).code).toBe('EEXIST');
    expect((dup as NetlinkError).op).toBe('RTM_NEWNEIGH');
    await ns.neighbours.replace({ dev: 'v0', address: '10.0.0.2', mac: '02:00:00:00:00:aa', state: 'stale' });
    expect(ipNeigh(ns, 'to', '10.0.0.2')).toEqual([{ dst: '10.0.0.2', dev: 'v0', lladdr: '02:00:00:00:00:aa', state: ['STALE'] }]);

    const v0 = await ns.links.get('v0');
    const got = await ns.neighbours.get({ dev: 'v0', address: '10.0.0.2' });
    expect(got).toMatchObject({ family: 4, ifindex: v0.index, address: '10.0.0.2', mac: '02:00:00:00:00:aa', state: 'stale', proxy: false });
    const got6 = await ns.neighbours.get({ dev: v0.index, address: 'fd00::2' });
    expect(got6).toMatchObject({ family: 6, router: true, state: 'reachable', flags: ['router'] });
    const proxy = await ns.neighbours.get({ dev: 'v0', address: '10.0.0.9', proxy: true });
    expect(proxy).toMatchObject({ address: '10.0.0.9', proxy: true, flags: ['proxy'] });

    await ns.neighbours.delete({ dev: 'v0', address: '10.0.0.2' });
    await ns.neighbours.delete({ dev: 'v0', address: '10.0.0.9', proxy: true });
    expect(ipNeigh(ns, 'to', '10.0.0.2')).toEqual([]);
    expect(ipNeigh(ns, 'proxy')).toEqual([]);
    const gone = await ns.neighbours.delete({ dev: 'v0', address: '10.0.0.2' }).catch((e: unknown) => e);
    expect((gone as NetlinkError).code).toBe('ENOENT');
    const nothing = await ns.neighbours.get({ dev: 'v0', address: '10.0.0.2' }).catch((e: unknown) => e);
    expect((nothing as NetlinkError).code).toBe('ENOENT');
  });

  it('lists with kernel-side device, master, family and proxy filters, matching ip neigh', async () => {
    const ns = await withVeth('nl');
    ip(ns.name!, 'link', 'add', 'br0', 'type', 'bridge');
    ip(ns.name!, 'link', 'set', 'v1', 'master', 'br0');
    await ns.neighbours.add({ dev: 'v0', address: '10.1.0.1', mac: '02:00:00:00:01:01' });
    await ns.neighbours.add({ dev: 'v0', address: 'fd01::1', mac: '02:00:00:00:01:02' });
    await ns.neighbours.add({ dev: 'v1', address: '10.1.0.2', mac: '02:00:00:00:01:03', state: 'noarp' });
    await ns.neighbours.add({ dev: 'v1', address: '10.1.0.3', proxy: true });
    const [v0, v1] = [await ns.links.get('v0'), await ns.links.get('v1')];

    const key = (n: { address: string; ifindex: number }): string => `${n.ifindex}/${n.address}`;
    const all = await ns.neighbours.list();
    // Everything ip neigh shows (it hides noarp entries by default: ask for all states).
    const shown = ipNeigh(ns, 'nud', 'all').map((n) => `${n.dev === 'v0' ? v0.index : v1.index}/${n.dst}`);
    expect(all.map(key).sort()).toEqual(shown.sort());
    expect((await ns.neighbours.list({ dev: 'v0' })).map(key).sort()).toEqual([`${v0.index}/10.1.0.1`, `${v0.index}/fd01::1`]);
    expect((await ns.neighbours.list({ master: 'br0' })).map(key)).toEqual([`${v1.index}/10.1.0.2`]);
    expect((await ns.neighbours.list({ dev: 'v0', family: 6 })).map((n) => n.address)).toEqual(['fd01::1']);
    const proxies = await ns.neighbours.list({ proxy: true });
    expect(proxies.map(key)).toEqual([`${v1.index}/10.1.0.3`]);
    expect(proxies[0]!.proxy).toBe(true);
  });

  it('flush deletes what ip neigh flush would, or everything with includePermanent', async () => {
    const ns = await withVeth('nf');
    await ns.neighbours.add({ dev: 'v0', address: '10.2.0.1', mac: '02:00:00:00:02:01' });
    await ns.neighbours.add({ dev: 'v0', address: '10.2.0.2', mac: '02:00:00:00:02:02', state: 'stale' });
    await ns.neighbours.add({ dev: 'v0', address: '10.2.0.3', mac: '02:00:00:00:02:03', state: 'reachable' });
    await ns.neighbours.add({ dev: 'v1', address: '10.2.0.4', mac: '02:00:00:00:02:04', state: 'stale' });
    expect(await ns.neighbours.flush({ dev: 'v0' })).toBe(2);
    expect(ipNeigh(ns).map((n) => n.dst).sort()).toEqual(['10.2.0.1', '10.2.0.4']);
    expect(await ns.neighbours.flush({ includePermanent: true })).toBe(2);
    expect(ipNeigh(ns, 'nud', 'all')).toEqual([]);
  });

  it('addMany sends several requests per sendmsg and undoes them all when one fails', async () => {
    const ns = await withVeth('nm');
    await ns.neighbours.add({ dev: 'v0', address: '10.3.0.50', mac: '02:00:00:00:03:50' });
    const specs = Array.from({ length: 40 }, (_, i) => ({ dev: 'v0', address: `10.3.0.${i + 1}`, mac: '02:00:00:00:03:01' }));
    const before = ns.socketStats().sends;
    await ns.neighbours.addMany(specs);
    expect(ns.socketStats().sends - before).toBeLessThanOrEqual(2); // one RTM_GETLINK for 'v0', one batch
    expect(ipNeigh(ns, 'dev', 'v0')).toHaveLength(41);
    await ns.neighbours.flush({ includePermanent: true });

    // Step 30 collides with the entry already there: EEXIST names it, the rest is undone.
    const bad = specs.map((s, i) => (i === 30 ? { ...s, address: '10.3.0.50' } : s));
    await ns.neighbours.add({ dev: 'v0', address: '10.3.0.50', mac: '02:00:00:00:03:50' });
    const err = await ns.neighbours.addMany(bad).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NetlinkError);
    expect((err as NetlinkError).code).toBe('EEXIST');
    expect((err as NetlinkError).step).toBe(30);
    expect(ipNeigh(ns, 'dev', 'v0')).toEqual([{ dst: '10.3.0.50', lladdr: '02:00:00:00:03:50', state: ['PERMANENT'] }]);
  });

  it('rejects bad input with typed errors before touching the kernel, and leaves nothing behind', async () => {
    const ns = await withVeth('nx');
    const before = ns.socketStats().sends;
    const cases: [unknown, ErrorConstructor | RangeErrorConstructor][] = [
      [{ dev: 'v0', address: '10.0.0.256', mac: '02:00:00:00:00:01' }, TypeError],
      [{ dev: 'v0', address: '10.0.0.1/24', mac: '02:00:00:00:00:01' }, TypeError],
      [{ dev: 'v0', address: '10.0.0.1', mac: '02:00:00:00:00' }, TypeError],
      [{ dev: 'v0', address: '10.0.0.1', mac: 'zz:00:00:00:00:01' }, TypeError],
      [{ dev: 'v0', address: '10.0.0.1', state: 'bogus' }, TypeError],
      [{ dev: 'v0', address: '10.0.0.1', proxy: true, mac: '02:00:00:00:00:01' }, TypeError],
      [{ dev: 'v0', address: '10.0.0.1', router: 'yes' }, TypeError],
      [{ dev: 'bad/name', address: '10.0.0.1' }, TypeError],
      [{ dev: 'x'.repeat(16), address: '10.0.0.1' }, RangeError],
      [{ dev: 0, address: '10.0.0.1' }, RangeError],
      [{ dev: -3, address: '10.0.0.1' }, RangeError],
      [{ address: '10.0.0.1' }, TypeError],
      [null, TypeError],
      ['10.0.0.1', TypeError],
    ];
    for (const [spec, type] of cases) {
      // @ts-expect-error deliberately malformed input
      await expect(ns.neighbours.add(spec)).rejects.toBeInstanceOf(type);
    }
    // @ts-expect-error not an array
    await expect(ns.neighbours.addMany({ dev: 'v0' })).rejects.toBeInstanceOf(TypeError);
    await expect(ns.neighbours.addMany([{ dev: 'v0', address: '10.0.0.1' }, { dev: 'v0', address: 'nope' }])).rejects.toBeInstanceOf(TypeError);
    // @ts-expect-error family must be 4 or 6
    await expect(ns.neighbours.list({ family: 5 })).rejects.toBeInstanceOf(TypeError);
    expect(ns.socketStats().sends).toBe(before);

    // Well-formed but wrong: the kernel's answer as a NetlinkError.
    const nodev = await ns.neighbours.add({ dev: 'nosuch0', address: '10.0.0.1', mac: '02:00:00:00:00:01' }).catch((e: unknown) => e);
    expect((nodev as NetlinkError).code).toBe('ENODEV');
    const badidx = await ns.neighbours.add({ dev: 9999, address: '10.0.0.1', mac: '02:00:00:00:00:01' }).catch((e: unknown) => e);
    expect((badidx as NetlinkError).code).toBe('ENODEV');
    expect(ipNeigh(ns, 'nud', 'all')).toEqual([]);
    expect(ipNeigh(ns, 'proxy')).toEqual([]);
  });
});

describe('neighbour dumps of a big table', () => {
  it('list and listSync return what ip -j neigh shows for 2,000 entries, and the device filter exactly that device\'s', async () => {
    const ns = await scope.ns('nbig');
    // Devices stay down: no automatic entries appear while the two views are taken. The
    // timers that move an entry on (reachable -> stale, probe -> failed) are made an hour
    // long (per device: a namespace other than the first has no neigh/default): a slow
    // run must not see a state change between the two views.
    for (let i = 0; i < 4; i++) ip(ns.name!, 'link', 'add', `a${i}`, 'type', 'veth', 'peer', 'name', `b${i}`);
    const devs = ['a0', 'b0', 'a1', 'b1', 'a2', 'b2', 'a3', 'b3'];
    await ns.sysctl.set(Object.fromEntries(devs.flatMap((d) => [
      [`net.ipv4.neigh.${d}.delay_first_probe_time`, 3600],
      [`net.ipv4.neigh.${d}.retrans_time_ms`, 3_600_000],
      [`net.ipv4.neigh.${d}.base_reachable_time_ms`, 3_600_000],
    ])));
    const hex = (i: number): string => (i & 255).toString(16).padStart(2, '0');
    const specs: NeighbourSpec[] = [];
    for (let i = 0; i < 2000; i++) {
      // a0 holds 50; the rest spread over the other seven. Most are permanent (they do not
      // count against the kernel's gc_thresh3, which all namespaces share); a few of each
      // other state, IPv6 routers and externally learned ones for the other fields.
      const dev = i < 50 ? 'a0' : devs[1 + (i % 7)]!;
      const spec: NeighbourSpec = i % 10 === 3
        ? { dev, address: `fd00::${i.toString(16)}`, mac: `02:00:00:06:${hex(i >> 8)}:${hex(i)}`, router: i % 20 === 3 }
        : { dev, address: `10.9.${i >> 8}.${i & 255}`, mac: `02:00:00:04:${hex(i >> 8)}:${hex(i)}` };
      if (i % 100 === 7) spec.externLearned = true;
      // (Not delay or probe: the kernel moves such an entry on at once, timers or not.)
      if (i % 400 === 11) spec.state = (['reachable', 'stale', 'noarp', 'reachable', 'stale'] as const)[(i / 400) | 0];
      specs.push(spec);
    }
    await ns.neighbours.addMany(specs);

    const names = new Map((await ns.links.list()).map((l) => [l.index, l.name]));
    const mine = (n: Neighbour): string =>
      [n.address, names.get(n.ifindex), n.mac ?? '', n.state.toUpperCase(), n.router, n.flags.includes('extern_learn')].join('|');
    // `ip neigh show dev X` leaves the device out of each entry.
    const theirs = (n: IpNeigh, dev?: string): string =>
      [n.dst, n.dev ?? dev, n.lladdr ?? '', (n.state ?? []).join(','), n.router !== undefined, n.extern_learn !== undefined].join('|');

    const shown = ipNeigh(ns, 'nud', 'all').map((n) => theirs(n)).sort();
    expect(shown).toHaveLength(2000);
    let before = ns.socketStats().receives;
    const listed = await ns.neighbours.list();
    const fullReceives = ns.socketStats().receives - before;
    expect(listed.map(mine).sort()).toEqual(shown);
    const synced = ns.neighbours.listSync();
    expect(synced.map(mine).sort()).toEqual(shown);
    // Both paths build the same plain objects (ages aside: time passed between the dumps).
    const ageless = ({ cacheinfo: _, ...n }: Neighbour): Omit<Neighbour, 'cacheinfo'> => n;
    expect(synced.map(ageless)).toStrictEqual(listed.map(ageless));
    expect(Object.getPrototypeOf(listed[0])).toBe(Object.prototype);
    expect(listed.every((n) => n.cacheinfo !== undefined)).toBe(true);

    const a0 = ipNeigh(ns, 'nud', 'all', 'dev', 'a0').map((n) => theirs(n, 'a0')).sort();
    expect(a0).toHaveLength(50);
    const a0Index = [...names].find(([, n]) => n === 'a0')![0];
    before = ns.socketStats().receives;
    expect((await ns.neighbours.list({ dev: a0Index })).map(mine).sort()).toEqual(a0);
    // Filtered by the kernel (NDA_IFINDEX): 50 entries come back in one or two datagrams
    // where the whole table takes several.
    const filteredReceives = ns.socketStats().receives - before;
    expect(filteredReceives).toBeLessThanOrEqual(2);
    expect(fullReceives).toBeGreaterThan(filteredReceives + 1);
    expect(ns.neighbours.listSync({ dev: 'a0' }).map(mine).sort()).toEqual(a0);
    expect(ns.neighbours.listSync({ dev: 'b3', family: 6 }).map(mine).sort())
      .toEqual(ipNeigh(ns, 'nud', 'all', 'dev', 'b3').filter((n) => n.dst.includes(':')).map((n) => theirs(n, 'b3')).sort());
  });
});
