import { afterEach, describe, expect, it } from 'vitest';
import { NetlinkError, Netns, type LinkSpec } from '../src';
import { fdCount, run, Scope } from './helpers';

const scope = new Scope();
afterEach(() => scope.cleanup());

/** Links, addresses and routes of a namespace, as iproute2 sees them (without -d: bridge timers tick). */
function state(ns: string): string {
  return ['link', 'addr', 'route show table all'].map((what) => run('ip', ['-j', '-n', ns, ...what.split(' ')])).join('\n');
}

describe('bad input: a clear error before the kernel, and nothing left behind', () => {
  it('interface names: over 15 bytes, "/", ":", whitespace, empty, "." and ".."', async () => {
    const ns = await scope.ns('bi');
    const before = state(ns.name!);
    for (const name of ['a'.repeat(16), 'é'.repeat(8), 'a/b', 'a:b', 'a b', 'tab\there', 'nl\n', '', '.', '..']) {
      const e = await ns.links.add({ name, kind: 'bridge' }).catch((x: unknown) => x);
      expect(e instanceof TypeError || e instanceof RangeError, `name ${JSON.stringify(name)}`).toBe(true);
      await expect(ns.links.get(name)).rejects.toSatisfy((x: unknown) => x instanceof TypeError || x instanceof RangeError);
    }
    // 15 bytes is fine.
    await ns.links.add({ name: 'a'.repeat(15), kind: 'bridge' });
    await ns.links.delete('a'.repeat(15));
    expect(state(ns.name!)).toBe(before);
  });

  it('malformed CIDRs, addresses and MACs', async () => {
    const ns = await scope.ns('bc');
    await ns.links.add({ name: 'br0', kind: 'bridge' });
    const before = state(ns.name!);
    for (const cidr of ['10.0.0.1/33', '10.0.0.256/24', '10.0.0.1/', '10.0.0.1/x', 'fd00::1/129', 'nonsense', '', '10.0.0.1/24/1']) {
      const e = await ns.addresses.add('br0', cidr).catch((x: unknown) => x);
      expect(e instanceof TypeError || e instanceof RangeError, cidr).toBe(true);
    }
    for (const mac of ['00:11:22:33:44', '00:11:22:33:44:gg', '0011.2233.4455', '00-11-22-33-44-55', '']) {
      await expect(ns.links.add({ name: 'x0', kind: 'bridge', mac })).rejects.toBeInstanceOf(TypeError);
      await expect(ns.links.set('br0', { mac })).rejects.toBeInstanceOf(TypeError);
    }
    await expect(ns.routes.add({ dst: '10.0.0.0/40', dev: 'br0' })).rejects.toBeInstanceOf(RangeError);
    await expect(ns.routes.add({ dst: '10.0.0.0/8', gateway: 'fd00::1' })).rejects.toBeInstanceOf(TypeError);
    await expect(ns.routes.add({ dst: '10.0.0.0/8' })).rejects.toThrow(/gateway or a dev/);
    await expect(ns.addresses.add('br0', '10.0.0.1/24', { peer: 'fd00::1' })).rejects.toBeInstanceOf(TypeError);
    await expect(ns.links.add({ name: 'v0', kind: 'vxlan', vxlan: { vni: 1 << 24 } })).rejects.toBeInstanceOf(RangeError);
    await expect(ns.links.add({ name: 'v0', kind: 'vxlan', vxlan: { vni: 1, remote: '239.1.1.1' } })).rejects.toThrow(/unicast/);
    await expect(ns.links.add({ name: 'v0', kind: 'vxlan', vxlan: { vni: 1, group: '239.1.1.1' } })).rejects.toThrow(/device/);
    await expect(ns.links.add({ name: 'v0', kind: 'bridge', mtu: -1 })).rejects.toBeInstanceOf(RangeError);
    await expect(ns.links.add({ name: 'v0', kind: 'bridge', mtu: 1.5 })).rejects.toBeInstanceOf(TypeError);
    expect(state(ns.name!)).toBe(before);
  });

  it('a gateway on no connected subnet: the kernel refuses, with its reason', async () => {
    const ns = await scope.ns('gw');
    // No IPv6 autoconf: its link-local address would appear asynchronously.
    await ns.links.add({ name: 'br0', kind: 'bridge', up: true, addrGenMode: 'none' });
    await ns.addresses.add('br0', '10.20.0.1/24');
    const before = state(ns.name!);
    const e = (await ns.routes.add({ dst: '10.30.0.0/16', gateway: '10.99.0.1' }).catch((x: unknown) => x)) as NetlinkError;
    expect(e).toBeInstanceOf(NetlinkError);
    expect(e.code).toBe('ENETUNREACH');
    expect(e.op).toBe('RTM_NEWROUTE');
    expect(e.extack).toMatch(/gateway/i);
    expect(state(ns.name!)).toBe(before);
  });

  it('an unknown kind: a TypeError for a kind netplumb does not know, EOPNOTSUPP for one the kernel does not', async () => {
    const ns = await scope.ns('uk');
    const before = state(ns.name!);
    await expect(ns.links.add({ name: 'x0', kind: 'wat' } as unknown as LinkSpec)).rejects.toThrow(/unknown link kind "wat"/);
    const e = (await ns.links.add({ name: 'x0', kind: 'other', type: 'nosuchkind' }).catch((x: unknown) => x)) as NetlinkError;
    expect(e.code).toBe('EOPNOTSUPP');
    expect(e.extack).toBe('Unknown device type');
    expect(state(ns.name!)).toBe(before);
  });

  it('a closed peer namespace: TypeError, no half-made veth', async () => {
    const ns = await scope.ns('cp');
    const peer = await Netns.create();
    peer.close();
    const before = state(ns.name!);
    await expect(ns.links.add({ name: 'h0', kind: 'veth', peer: { name: 'eth0', netns: peer } })).rejects.toThrow(/closed Netns/);
    await expect(ns.links.set('lo', { netns: peer })).rejects.toThrow(/closed Netns/);
    expect(state(ns.name!)).toBe(before);
  });

  it('a failing veth (peer name taken in its namespace) leaves neither end', async () => {
    const ns = await scope.ns('vt');
    const c = await scope.ns('vtc');
    await c.links.add({ name: 'eth0', kind: 'bridge' });
    const before = state(ns.name!);
    const cBefore = state(c.name!);
    const e = (await ns.links.add({ name: 'h0', kind: 'veth', peer: { name: 'eth0', netns: c } }).catch((x: unknown) => x)) as NetlinkError;
    expect(e.code).toBe('EEXIST');
    expect(state(ns.name!)).toBe(before);
    expect(state(c.name!)).toBe(cBefore);
  });

  it('wrong types everywhere are TypeErrors, and no fd leaks from failed calls', async () => {
    const ns = await scope.ns('wt');
    await ns.links.get('lo');
    const fds = fdCount();
    const bad: (() => Promise<unknown>)[] = [
      () => ns.links.add(null as unknown as LinkSpec),
      () => ns.links.add({ name: 'x', kind: 'veth' } as unknown as LinkSpec),
      () => ns.links.add({ name: 'x', kind: 'bridge', up: 'yes' } as unknown as LinkSpec),
      () => ns.links.add({ name: 'x', kind: 'veth', peer: { name: 'y', netns: {} } } as unknown as LinkSpec),
      () => ns.links.get({} as unknown as string),
      () => ns.links.get(-1),
      () => ns.links.set('lo', null as unknown as object),
      () => ns.addresses.add('lo', 42 as unknown as string),
      () => ns.addresses.list({ family: 5 as 4 }),
      () => ns.routes.add({ dst: 'default', gateway: '10.0.0.1', table: 0 }),
      () => ns.routes.list({ table: 'nope' as 'main' }),
      () => ns.routes.get('not-an-ip'),
    ];
    for (const f of bad) {
      const e = await f().catch((x: unknown) => x);
      expect(e instanceof TypeError || e instanceof RangeError, String(e)).toBe(true);
    }
    expect(fdCount()).toBe(fds);
  });
});
