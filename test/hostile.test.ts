// Hostile input across the public API: names that try to leave the netns directory,
// NUL bytes, huge strings, numbers that are not numbers (NaN, Infinity, -0, 2**53),
// values of the wrong type, oversized batches, closed handles, getters that throw,
// proxies and polluted prototypes. Each case must end in a typed error (TypeError,
// RangeError, or a NetlinkError with the right code) and leave nothing behind: the
// namespaces' links, addresses, routes, neighbours and nftables ruleset (as ip and nft
// print them), the netns directory and this process's file descriptors are compared
// before and after every case.
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  attachVeth, NetlinkError, Netns, NetnsPool, Networks, type LinkSpec, type Network, type NeighbourSpec, type RouteSpec,
} from '../src';
import { fdCount, run, Scope } from './helpers';

type Want = typeof TypeError | typeof RangeError | { code: string } | Error;
interface Case {
  what: string;
  want: Want;
  run: () => unknown;
}

const scope = new Scope();
let host: Netns;
let ctr: Netns;
let closed: Netns;
let nets: Networks;
let net: Network;
let stateDir: string;
let baseline: ReturnType<typeof snapshot>;
const NETNS_DIR = '/run/netns';

/** Names other test files create in the shared sandbox (uniq()): not ours to compare. */
const othersName = /\d+x\d+$/;

function ipState(ns: Netns): string {
  const ipOut = run('ip', ['-j', '-n', ns.name!, '-batch', '-'], 'link show\naddr show\nroute show table all\n');
  const v6 = run('ip', ['-j', '-6', '-n', ns.name!, 'route', 'show', 'table', 'all']);
  // The kernel's own multicast entries (IGMP reports of a bridge coming up) appear
  // when they like: not ours to compare.
  const neigh = (JSON.parse(run('ip', ['-j', '-n', ns.name!, 'neigh', 'show', 'nud', 'all'])) as { dst: string; state: string[] }[])
    .filter((n) => !(n.state.includes('NOARP') && /^(22[4-9]|23\d)\.|^ff/i.test(n.dst)));
  const nft = run('ip', ['netns', 'exec', ns.name!, 'nft', '-j', 'list', 'ruleset']);
  return [ipOut, v6, JSON.stringify(neigh), nft].join('\n');
}

function snapshot(): { host: string; ctr: string; netns: string[]; fds: number } {
  return {
    host: ipState(host),
    ctr: ipState(ctr),
    netns: readdirSync(NETNS_DIR).filter((n) => !othersName.test(n)).sort(),
    fds: fdCount(),
  };
}

const huge = 'x'.repeat(1 << 20);
const link = (spec: unknown): Promise<unknown> => host.links.add(spec as LinkSpec);
const tx = () => host.nft.transaction();
const T = { family: 'inet' as const, table: 'hostile' };
const pub = (p: unknown): Promise<unknown> => net.attach(ctr, { publish: [p] } as never);
const getterError = new RangeError('getter says no');
const proxyError = new TypeError('proxy says no');
const keyError = new TypeError('key getter says no');

const cases: Case[] = [
  // ---- namespace names and paths ----
  { what: 'netns name ../escape', want: TypeError, run: () => Netns.create('../escape') },
  { what: 'netns name ..', want: TypeError, run: () => Netns.create('..') },
  { what: 'netns name a/b', want: TypeError, run: () => Netns.create('a/b') },
  { what: 'netns name with NUL', want: TypeError, run: () => Netns.create('ok\0../../x') },
  { what: 'netns name of 256 bytes', want: TypeError, run: () => Netns.create('n'.repeat(256)) },
  { what: 'netns name of 1 MiB', want: TypeError, run: () => Netns.create(huge) },
  { what: 'netns name a number', want: TypeError, run: () => Netns.create(42 as unknown as string) },
  { what: 'netnsDir with NUL', want: TypeError, run: () => Netns.create('hostile-ok', { netnsDir: '/run/netns\0/x' }) },
  { what: 'open a file that is not a namespace', want: { code: 'EINVAL' }, run: () => Netns.open('/etc/hostname') },
  { what: 'open a path that does not exist', want: { code: 'ENOENT' }, run: () => Netns.open('/run/netns-nosuch/x') },
  { what: 'delete ../netns', want: TypeError, run: () => Netns.delete('../netns') },
  { what: 'delete a name that does not exist', want: { code: 'ENOENT' }, run: () => Netns.delete('hostile-nosuch') },
  { what: 'bind to ../x', want: TypeError, run: () => host.bind('../x') },
  { what: 'fromPid(NaN)', want: TypeError, run: () => Netns.fromPid(NaN) },
  { what: 'fromPid(-1)', want: RangeError, run: () => Netns.fromPid(-1) },
  { what: 'fromPid(2**53)', want: RangeError, run: () => Netns.fromPid(2 ** 53) },

  // ---- interface names and link references ----
  { what: 'ifname of 16 bytes', want: RangeError, run: () => link({ name: 'a'.repeat(16), kind: 'bridge' }) },
  { what: 'ifname of 1 MiB', want: RangeError, run: () => link({ name: huge, kind: 'bridge' }) },
  { what: 'ifname with NUL', want: TypeError, run: () => link({ name: 'eth\0x', kind: 'bridge' }) },
  { what: 'ifname ..', want: TypeError, run: () => link({ name: '..', kind: 'bridge' }) },
  { what: 'veth peer named ../x', want: TypeError, run: () => link({ name: 'h0', kind: 'veth', peer: { name: '../x' } }) },
  { what: 'link index 0', want: RangeError, run: () => host.links.get(0) },
  { what: 'link index -0', want: RangeError, run: () => host.links.delete(-0) },
  { what: 'link index NaN', want: RangeError, run: () => host.links.get(NaN) },
  { what: 'link index Infinity', want: RangeError, run: () => host.links.get(Infinity) },
  { what: 'link index 2**53', want: RangeError, run: () => host.links.get(2 ** 53) },
  { what: 'a link that does not exist', want: { code: 'ENODEV' }, run: () => host.links.get('nosuch0') },
  { what: 'alias of 1 MiB', want: RangeError, run: () => host.links.set('br0', { alias: huge }) },

  // ---- numbers ----
  { what: 'mtu NaN', want: TypeError, run: () => link({ name: 'm0', kind: 'bridge', mtu: NaN }) },
  { what: 'mtu Infinity', want: TypeError, run: () => link({ name: 'm0', kind: 'bridge', mtu: Infinity }) },
  { what: 'mtu 2**53', want: RangeError, run: () => link({ name: 'm0', kind: 'bridge', mtu: 2 ** 53 }) },
  { what: 'mtu as a string', want: TypeError, run: () => link({ name: 'm0', kind: 'bridge', mtu: '1500' }) },
  { what: 'vxlan vni 2**24', want: RangeError, run: () => link({ name: 'vx0', kind: 'vxlan', vxlan: { vni: 2 ** 24 } }) },
  { what: 'vxlan vni NaN', want: TypeError, run: () => link({ name: 'vx0', kind: 'vxlan', vxlan: { vni: NaN } }) },
  { what: 'vxlan vni -1', want: RangeError, run: () => link({ name: 'vx0', kind: 'vxlan', vxlan: { vni: -1 } }) },
  { what: 'vxlan dstport 65536', want: RangeError, run: () => link({ name: 'vx0', kind: 'vxlan', vxlan: { vni: 5, dstport: 65536 } }) },
  { what: 'vlan id 4095', want: RangeError, run: () => link({ name: 'vl0', kind: 'vlan', parent: 'br0', vlan: { id: 4095 } }) },
  { what: 'vlan id 1.5', want: TypeError, run: () => link({ name: 'vl0', kind: 'vlan', parent: 'br0', vlan: { id: 1.5 } }) },
  { what: 'route table 2**32', want: RangeError, run: () => host.routes.add({ dst: '10.70.0.0/16', dev: 'br0', table: 2 ** 32 } as RouteSpec) },
  { what: 'route metric NaN', want: TypeError, run: () => host.routes.add({ dst: '10.70.0.0/16', dev: 'br0', metric: NaN } as RouteSpec) },

  // ---- CIDRs and addresses ----
  { what: 'CIDR with a NUL', want: TypeError, run: () => host.addresses.add('br0', '10.9.1.1/24\0') },
  { what: 'CIDR with a leading space', want: TypeError, run: () => host.addresses.add('br0', ' 10.9.1.1/24') },
  { what: 'CIDR prefix /200 (v6)', want: RangeError, run: () => host.addresses.add('br0', 'fd00::1/200') },
  { what: 'CIDR prefix /-1', want: TypeError, run: () => host.routes.add({ dst: '10.0.0.0/-1', dev: 'br0' }) },
  { what: 'v6 route through a v4 gateway', want: TypeError, run: () => host.routes.add({ dst: 'fd00::/64', gateway: '10.9.0.2' }) },
  { what: 'address already present', want: { code: 'EEXIST' }, run: () => host.addresses.add('br0', '10.9.0.1/24') },

  // ---- MACs, neighbours, FDB ----
  { what: 'MAC with 5 octets', want: TypeError, run: () => host.links.set('br0', { mac: '02:00:00:00:00' }) },
  { what: 'MAC with a newline', want: TypeError, run: () => host.fdb.add({ mac: '02:00:00:00:00:09\n', dev: 'v0' } as never) },
  { what: 'neighbour MAC zz', want: TypeError, run: () => host.neighbours.add({ dev: 'br0', address: '10.9.0.5', mac: 'zz:zz:zz:zz:zz:zz' }) },
  { what: 'neighbour as an array', want: TypeError, run: () => host.neighbours.add([] as unknown as NeighbourSpec) },
  { what: 'fdb vni 2**24', want: RangeError, run: () => host.fdb.add({ mac: '02:00:00:00:00:09', dev: 'v0', vni: 2 ** 24 } as never) },
  { what: 'fdb port 70000', want: RangeError, run: () => host.fdb.add({ mac: '02:00:00:00:00:09', dev: 'v0', port: 70000 } as never) },

  // ---- published ports ----
  { what: 'publish hostPort 0', want: RangeError, run: () => pub({ hostPort: 0, containerPort: 80 }) },
  { what: 'publish hostPort 65536', want: RangeError, run: () => pub({ hostPort: 65536, containerPort: 80 }) },
  { what: 'publish containerPort NaN', want: TypeError, run: () => pub({ hostPort: 8080, containerPort: NaN }) },
  { what: 'publish protocol icmp', want: TypeError, run: () => pub({ hostPort: 8080, containerPort: 80, protocol: 'icmp' }) },
  { what: 'publish hostIp not an address', want: TypeError, run: () => pub({ hostIp: 'localhost', hostPort: 8080, containerPort: 80 }) },
  { what: 'publish hostIp a CIDR', want: TypeError, run: () => pub({ hostIp: '10.0.0.0/8', hostPort: 8080, containerPort: 80 }) },
  { what: 'publish reversed range', want: RangeError, run: () => pub({ hostPort: [9000, 8000], containerPort: 80 }) },

  // ---- nftables ----
  { what: 'nft table name empty', want: TypeError, run: () => tx().addTable({ family: 'inet', name: '' }) },
  { what: 'nft table name of 1 MiB', want: TypeError, run: () => tx().addTable({ family: 'inet', name: huge }) },
  { what: 'nft chain name with NUL', want: TypeError, run: () => tx().addChain({ ...T, name: 'c\0x' }) },
  { what: 'nft set name of 256 bytes', want: TypeError, run: () => tx().addSet({ ...T, name: 's'.repeat(256), key: 'ipv4_addr' }) },
  { what: 'nft set key type nosuch', want: TypeError, run: () => tx().addSet({ ...T, name: 's2', key: 'nosuch' as 'ipv4_addr' }) },
  { what: 'nft family ipx', want: TypeError, run: () => tx().addTable({ family: 'ipx' as 'inet', name: 't' }) },
  { what: 'nft chain hook nosuch', want: TypeError, run: () => tx().addChain({ ...T, name: 'c9', type: 'filter', hook: 'nosuch' as 'input', priority: 0 }) },
  { what: 'nft chain priority 2**40', want: RangeError, run: () => tx().addChain({ ...T, name: 'c9', type: 'filter', hook: 'input', priority: 2 ** 40 }) },
  { what: 'nft chain priority NaN', want: TypeError, run: () => tx().addChain({ ...T, name: 'c9', type: 'filter', hook: 'input', priority: NaN }) },
  { what: 'nft comment of 200 bytes', want: TypeError, run: () => tx().addChain({ ...T, name: 'c9', comment: 'c'.repeat(200) }) },
  { what: 'nft rule with no statements', want: TypeError, run: () => tx().addRule({ ...T, chain: 'c', rule: [] }) },
  { what: 'nft delete rule handle -0', want: RangeError, run: () => tx().deleteRule({ ...T, chain: 'c', handle: -0 }) },
  { what: 'nft delete rule handle 2**53', want: RangeError, run: () => tx().deleteRule({ ...T, chain: 'c', handle: 2 ** 53 }) },
  { what: 'nft no elements', want: TypeError, run: () => tx().addElements({ ...T, set: 's', elements: [] }) },
  { what: 'nft element timeout NaN', want: RangeError, run: () => tx().addElements({ ...T, set: 's', elements: [{ key: '10.1.1.1', timeout: NaN }] }) },
  {
    what: 'nft element of the wrong type (a number for ipv4_addr)', want: TypeError,
    run: () => { const t = tx(); t.addElements({ ...T, set: 's', elements: [{ key: 42 }] }); return t.commit(); },
  },
  {
    what: 'nft element /33 prefix', want: TypeError,
    run: () => { const t = tx(); t.addElements({ ...T, set: 's', elements: [{ key: '10.0.0.0/33' }] }); return t.commit(); },
  },
  {
    what: 'nft map verdict jump to an empty chain name', want: TypeError,
    run: () => { const t = tx(); t.addElements({ ...T, set: 'm', elements: [{ key: 80, value: { verdict: 'jump', chain: '' } }] }); return t.commit(); },
  },
  {
    what: 'nft element as an object key', want: TypeError,
    run: () => { const t = tx(); t.addElements({ ...T, set: 's', elements: [{ key: { toString: () => '10.1.1.1' } as never }] }); return t.commit(); },
  },
  {
    what: 'nft transaction: a good chain then a table that does not exist (all or nothing)', want: { code: 'ENOENT' },
    run: () => { const t = tx(); t.addChain({ ...T, name: 'c_new' }); t.addChain({ family: 'inet', table: 'nosuch', name: 'c' }); return t.commit(); },
  },
  {
    what: 'nft create an element that exists', want: { code: 'EEXIST' },
    run: () => { const t = tx(); t.createElements({ ...T, set: 's', elements: [{ key: '10.1.1.1' }] }); return t.commit(); },
  },
  {
    what: 'nft elements of a set that does not exist', want: { code: 'ENOENT' },
    run: () => { const t = tx(); t.addElements({ ...T, set: 'nosuch', elements: [{ key: '10.1.1.1' }] }); return t.commit(); },
  },

  // ---- batches ----
  {
    what: 'batch of 10001 steps', want: RangeError,
    run: () => { const b = host.batch(); for (let i = 0; i < 10001; i++) b.addresses.add('br0', `10.${(i >> 8) & 255}.${i & 255}.1/32`); return b.commit(); },
  },
  {
    what: 'batch: a good link then a duplicate (rolled back)', want: { code: 'EEXIST' },
    run: () => host.batch().links.add({ name: 'b0', kind: 'bridge' }).links.add({ name: 'br0', kind: 'bridge' }).commit(),
  },
  { what: 'rawRequest with a string', want: TypeError, run: () => host.rawRequest('RTM_NEWLINK' as unknown as Buffer) },
  { what: 'rawRequest with 3 bytes', want: TypeError, run: () => host.rawRequest(Buffer.alloc(3)) },
  {
    what: 'rawRequest with a length past the end', want: TypeError,
    run: () => { const b = Buffer.alloc(16); b.writeUInt32LE(4096, 0); b.writeUInt16LE(16, 4); return host.rawRequest(b); },
  },

  // ---- wrong types ----
  { what: 'links.add(undefined)', want: TypeError, run: () => link(undefined) },
  { what: 'links.add(a string)', want: TypeError, run: () => link('br1') },
  { what: 'addresses.add(null dev)', want: TypeError, run: () => host.addresses.add(null as unknown as string, '10.9.2.1/24') },
  { what: 'routes.add(a string)', want: TypeError, run: () => host.routes.add('10.0.0.0/8' as unknown as RouteSpec) },
  { what: 'up: "yes"', want: TypeError, run: () => link({ name: 'u0', kind: 'bridge', up: 'yes' }) },
  { what: 'sysctl value an object', want: TypeError, run: () => host.sysctl.set('net.ipv4.ip_forward', {} as never) },
  { what: 'sysctl key escaping /proc/sys/net', want: TypeError, run: () => host.sysctl.set('net/../../kernel/hostname', 'x') },
  { what: 'sysctl key with a newline', want: TypeError, run: () => host.sysctl.get('net.ipv4.ip_forward\n') },
  { what: 'sysctl key that does not exist', want: { code: 'ENOENT' }, run: () => host.sysctl.get('net.ipv4.nosuch') },
  { what: 'NetnsPool size -1', want: RangeError, run: () => NetnsPool.create({ size: -1 } as never) },
  { what: 'attachVeth into a plain object', want: TypeError, run: () => attachVeth(host, {} as Netns, { bridge: 'br0', hostIfname: 'a0', address: '10.9.0.9/24' }) },

  // ---- closed handles ----
  { what: 'closed handle: links.list', want: { code: 'EBADF' }, run: () => closed.links.list() },
  { what: 'closed handle: nft commit', want: { code: 'EBADF' }, run: () => { const t = closed.nft.transaction(); t.addTable({ family: 'inet', name: 't' }); return t.commit(); } },
  { what: 'closed handle as a veth peer namespace', want: TypeError, run: () => link({ name: 'h1', kind: 'veth', peer: { name: 'p1', netns: closed } }) },
  { what: 'closed handle attached to a network', want: TypeError, run: () => net.attach(closed, {}) },

  // ---- getters that throw, proxies, polluted prototypes ----
  {
    what: 'a getter that throws (the error propagates as is)', want: getterError,
    run: () => link({ name: 'g0', get kind(): string { throw getterError; } }),
  },
  {
    what: 'a Proxy that throws on every property', want: proxyError,
    run: () => host.addresses.add('br0', '10.9.3.1/24', new Proxy({}, { get: () => { throw proxyError; }, has: () => { throw proxyError; }, ownKeys: () => { throw proxyError; } }) as never),
  },
  {
    what: 'nft element with a throwing key getter', want: keyError,
    run: () => {
      const t = tx();
      t.addElements({ ...T, set: 's', elements: [{ get key(): string { throw keyError; } }] });
      return t.commit();
    },
  },
  {
    what: 'polluted Object.prototype (kind, peer, netns) does not make a spec without a kind valid', want: TypeError,
    run: () => polluted({ kind: 'veth', peer: { name: 'evil0' }, up: true }, () => link({ name: 'p0' })),
  },
  {
    what: 'polluted Object.prototype (master, mtu) under a bad name', want: RangeError,
    run: () => polluted({ master: 'br0', mtu: 9000 }, () => link({ name: 'z'.repeat(20), kind: 'bridge' })),
  },
  {
    what: 'spec with a polluted own prototype', want: TypeError,
    run: () => link(Object.create({ name: 'proto0', kind: 'bridge' }, { up: { value: 'yes', enumerable: true } })),
  },

  // ---- the network model ----
  { what: 'network name ../x', want: TypeError, run: () => nets.create({ name: '../x' }) },
  { what: 'network name of 1 MiB', want: TypeError, run: () => nets.create({ name: huge }) },
  { what: 'network subnet /33', want: RangeError, run: () => nets.create({ name: 'n2', subnet: '10.0.0.0/33' }) },
  { what: 'network mtu NaN', want: RangeError, run: () => nets.create({ name: 'n2', mtu: NaN }) },
  { what: 'network that exists', want: { code: 'EEXIST' }, run: () => nets.create({ name: 'n1' }) },
  { what: 'network subnet overlapping n1', want: { code: 'EEXIST' }, run: () => nets.create({ name: 'n3', subnet: '10.77.1.0/24' }) },
  { what: 'attach with an IP outside the subnet', want: RangeError, run: () => net.attach(ctr, { ip: '10.99.0.5' }) },
  { what: 'attach with MAC ff', want: TypeError, run: () => net.attach(ctr, { mac: 'ff' }) },
  { what: 'attach with ifname ../eth', want: TypeError, run: () => net.attach(ctr, { ifname: '../eth' }) },
  { what: 'attach with a relative hostsFile', want: TypeError, run: () => net.attach(ctr, { hostsFile: '../hosts' }) },
  { what: 'Networks.open with an empty stateDir', want: TypeError, run: () => Networks.open({ stateDir: '' }) },
  { what: 'Networks.open with owner Bad-Owner', want: TypeError, run: () => Networks.open({ stateDir, owner: 'Bad-Owner' }) },
];

/** Runs fn with keys added to Object.prototype, removing them afterwards. */
async function polluted(keys: Record<string, unknown>, fn: () => Promise<unknown>): Promise<unknown> {
  const proto = Object.prototype as Record<string, unknown>;
  for (const [k, v] of Object.entries(keys)) Object.defineProperty(proto, k, { value: v, configurable: true, writable: true });
  try {
    return await fn();
  } finally {
    for (const k of Object.keys(keys)) delete proto[k];
  }
}

function expectWanted(e: unknown, want: Want, what: string): void {
  if (want instanceof Error) {
    expect(e, what).toBe(want);
  } else if (typeof want === 'function') {
    expect(e, `${what}: ${String(e)}`).toBeInstanceOf(want);
    expect(e, what).not.toBeInstanceOf(NetlinkError);
  } else {
    expect(e, `${what}: ${String(e)}`).toBeInstanceOf(NetlinkError);
    expect((e as NetlinkError).code, `${what}: ${String(e)}`).toBe(want.code);
  }
}

beforeAll(async () => {
  host = await scope.ns('hh');
  ctr = await scope.ns('hc');
  // No IPv6 autoconf: link-local addresses would appear asynchronously between snapshots.
  for (const ns of [host, ctr]) {
    await ns.sysctl.set('net.ipv6.conf.all.disable_ipv6', 1);
    await ns.sysctl.set('net.ipv6.conf.default.disable_ipv6', 1);
  }
  const h = host.name!;
  await host.links.add({ name: 'br0', kind: 'bridge', up: true });
  // Both ends up: the port forwards at once (no STP), so br0's carrier does not flip later.
  await host.links.add({ name: 'v0', kind: 'veth', master: 'br0', up: true, peer: { name: 'v1', up: true } });
  await host.addresses.add('br0', '10.9.0.1/24');
  await host.routes.add({ dst: '10.10.0.0/16', gateway: '10.9.0.254' });
  await host.neighbours.add({ dev: 'br0', address: '10.9.0.254', mac: '02:00:00:00:00:fe' });
  run('ip', ['netns', 'exec', h, 'nft', '-f', '-'], [
    'table inet hostile {',
    '  set s { type ipv4_addr; elements = { 10.1.1.1 } }',
    '  map m { type inet_service : verdict; }',
    '  chain c { type filter hook input priority 0; policy accept; ip saddr @s counter; }',
    '}',
  ].join('\n'));
  stateDir = mkdtempSync(path.join(tmpdir(), 'np-hostile-'));
  nets = await Networks.open({ stateDir, host });
  net = await nets.create({ name: 'n1', subnet: '10.77.0.0/16', mtu: 1500 });
  closed = await Netns.create();
  closed.close();
  // Open every socket the cases use, so the fd count is steady.
  await host.links.list();
  await host.nft.listTables();
  await ctr.links.list();
  await host.sysctl.get('net.ipv4.ip_forward');
  // Carrier and operstate settle asynchronously (linkwatch): wait until the state has
  // held still for a second.
  baseline = snapshot();
  for (let i = 0, still = 0; i < 100 && still < 5; i++) {
    await new Promise((r) => setTimeout(r, 200));
    const again = snapshot();
    still = JSON.stringify(again) === JSON.stringify(baseline) ? still + 1 : 0;
    baseline = again;
  }
});

afterAll(async () => {
  nets?.close();
  await scope.cleanup();
  if (stateDir) rmSync(stateDir, { recursive: true, force: true });
});

describe('hostile input: a typed error, and nothing left behind', () => {
  it(`has at least 50 cases (${cases.length})`, () => {
    expect(cases.length).toBeGreaterThanOrEqual(50);
    expect(new Set(cases.map((c) => c.what)).size).toBe(cases.length);
  });

  it.each(cases.map((c) => [c.what, c] as const))('%s', async (_what, c) => {
    // Every case is compared with the state before any case ran: nothing accumulates.
    const before = baseline;
    const e = await Promise.resolve()
      .then(c.run)
      .then(() => undefined, (x: unknown) => x);
    expectWanted(e, c.want, c.what);
    const after = snapshot();
    expect(after.host, `${c.what}: host namespace changed`).toBe(before.host);
    expect(after.ctr, `${c.what}: container namespace changed`).toBe(before.ctr);
    expect(after.netns, `${c.what}: netns directory changed`).toEqual(before.netns);
    expect(after.fds, `${c.what}: file descriptors leaked`).toBe(before.fds);
    // Names that would have escaped the netns directory did not land anywhere.
    for (const p of ['/run/escape', '/run/x', path.join(NETNS_DIR, 'hostile-ok')]) expect(existsSync(p), p).toBe(false);
    expect(nets.list().map((n) => n.name)).toEqual(['n1']);
    expect(net.endpoints()).toEqual([]);
  });
});
