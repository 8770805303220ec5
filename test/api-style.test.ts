// The public API in one style: one object per call (or the thing acted on and one
// object), checked against iproute2, sysctl(8) and nft; the positional forms of 0.1
// still do the same until 0.3 (deprecated overloads).
import { afterEach, describe, expect, it } from 'vitest';
import type { Netns } from '../src';
import { ip, run, Scope } from './helpers';
import { nftIn, T } from './nft-helpers';

const scope = new Scope();
afterEach(() => scope.cleanup());

const addrs = (ns: Netns, dev: string): { local: string; prefixlen: number; broadcast?: string }[] =>
  (JSON.parse(ip(ns.name!, '-j', 'addr', 'show', 'dev', dev)) as { addr_info: { local: string; prefixlen: number; broadcast?: string }[] }[])[0]!
    .addr_info.filter((a) => !a.local.startsWith('fe80:')); // the bridge's own link-local address

describe('one object per call', () => {
  it('addresses.add/replace/delete({ dev, address, ...options }), and the batch\'s, as ip addr sees them', async () => {
    const ns = await scope.ns('as');
    await ns.links.add({ name: 'd0', kind: 'bridge', up: true });
    await ns.addresses.add({ dev: 'd0', address: '10.1.0.1/24', broadcast: true });
    await ns.batch().addresses.add({ dev: 'd0', address: '10.1.1.1/24' }).addresses.add({ dev: 'd0', address: 'fd00::1/64', nodad: true }).commit();
    expect(addrs(ns, 'd0').map((a) => [a.local, a.prefixlen, a.broadcast])).toEqual([
      ['10.1.0.1', 24, '10.1.0.255'], ['10.1.1.1', 24, undefined], ['fd00::1', 64, undefined],
    ]);
    await ns.addresses.delete({ dev: 'd0', address: '10.1.1.1/24' });
    await ns.batch().addresses.delete({ dev: 'd0', address: 'fd00::1/64' }).commit();
    expect(addrs(ns, 'd0').map((a) => a.local)).toEqual(['10.1.0.1']);
    // The positional forms of 0.1, deprecated: the same requests.
    await ns.addresses.add('d0', '10.1.2.1/24', { broadcast: true });
    await ns.addresses.delete('d0', '10.1.0.1/24');
    expect(addrs(ns, 'd0').map((a) => [a.local, a.broadcast])).toEqual([['10.1.2.1', '10.1.2.255']]);
    await expect(ns.addresses.add({ dev: 'd0', address: '10.1.3.1/33' })).rejects.toBeInstanceOf(RangeError);
  });

  it('sysctl.set({ key: value, ... }) writes each in order, checks every one before the first', async () => {
    const ns = await scope.ns('ss');
    const sysctl = (key: string): string => run('ip', ['netns', 'exec', ns.name!, 'sysctl', '-n', key]).trim();
    await ns.sysctl.set({ 'net.ipv4.ip_forward': 1, 'net.ipv4.ip_local_port_range': [40000, 50000] });
    expect(sysctl('net.ipv4.ip_forward')).toBe('1');
    expect(sysctl('net.ipv4.ip_local_port_range').split(/\s+/)).toEqual(['40000', '50000']);
    // A bad key or value anywhere: nothing written.
    await expect(ns.sysctl.set({ 'net.ipv4.ip_forward': 0, 'kernel.hostname': 'x' })).rejects.toBeInstanceOf(TypeError);
    await expect(ns.sysctl.set({ 'net.ipv4.ip_forward': 0, 'net.ipv4.tcp_syncookies': 1.5 })).rejects.toBeInstanceOf(TypeError);
    expect(sysctl('net.ipv4.ip_forward')).toBe('1');
    await ns.sysctl.set('net.ipv4.ip_forward', 0); // deprecated form
    expect(sysctl('net.ipv4.ip_forward')).toBe('0');
  });

  it('nft reads take one object: listTables, listTable, listRules, getSet; the positional forms answer the same', async () => {
    const ns = await scope.ns('ns');
    nftIn(ns.name!, ['add', 'table', 'inet', T]);
    nftIn(ns.name!, ['add', 'chain', 'inet', T, 'c']);
    nftIn(ns.name!, ['add', 'rule', 'inet', T, 'c', 'ip', 'daddr', '10.0.0.1', 'accept']);
    nftIn(ns.name!, ['add', 'set', 'inet', T, 's', '{ type ipv4_addr . inet_service; }']);
    nftIn(ns.name!, ['add', 'element', 'inet', T, 's', '{ 10.0.0.2 . 80 }']);
    const nft = ns.nft;
    expect((await nft.listTables({ family: 'inet' })).map((t) => t.name)).toEqual([T]);
    expect(await nft.listTables('inet')).toEqual(await nft.listTables({ family: 'inet' }));
    const listing = await nft.listTable({ family: 'inet', name: T });
    expect(listing.chains.map((c) => c.name)).toEqual(['c']);
    expect({ ...(await nft.listTable('inet', T)), generation: listing.generation }).toEqual(listing);
    expect((await nft.listRules({ family: 'inet', table: T, chain: 'c' })).length).toBe(1);
    expect(await nft.listRules('inet', T, 'c')).toEqual(await nft.listRules({ family: 'inet', table: T, chain: 'c' }));
    const set = await nft.getSet({ family: 'inet', table: T, name: 's' });
    expect(set.elements).toEqual([{ key: ['10.0.0.2', 80] }]);
    expect(await nft.getSet('inet', T, 's')).toEqual(set);
  });
});
