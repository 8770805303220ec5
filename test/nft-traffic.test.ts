// Real traffic through the reference layout built by netplumb: a "host" namespace with
// bridge br-n1 (10.88.0.0/16), containers as namespaces on veths, an "outside"
// namespace linked to the host, and a second network br-n2 (10.89.0.0/16).
import { type ChildProcess, spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Netns } from '../src';
import { accept, counter, ct, drop, fib, iifname, ip, masquerade, oifname } from '../src/nft';
import { ip as ipcmd, Scope, tryRun, uniq } from './helpers';
import { buildLayout, T } from './nft-helpers';

const haveSocat = tryRun('socat', ['-V']).status === 0;
const scope = new Scope();
const servers: ChildProcess[] = [];
let host: Netns, outside: Netns, c1: Netns, c2: Netns, c3: Netns;
const HOST_IP = '192.0.2.1';
const OUT_IP = '192.0.2.2';

function sh(ns: string, cmd: string): void {
  ipcmd(ns, ...cmd.split(' '));
}

/** A container: a namespace with a veth into the host's bridge. */
async function container(bridge: string, addr: string, gw: string): Promise<Netns> {
  const c = await scope.ns('ct');
  const hv = uniq('v').slice(0, 15);
  ipcmd(host.name!, 'link', 'add', hv, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', c.name!);
  ipcmd(host.name!, 'link', 'set', hv, 'master', bridge, 'up');
  sh(c.name!, `addr add ${addr} dev eth0`);
  sh(c.name!, 'link set eth0 up');
  sh(c.name!, 'link set lo up');
  sh(c.name!, `route add default via ${gw}`);
  return c;
}

/** A TCP server answering each connection with the peer address it saw. */
function serve(ns: Netns, port: number): void {
  const p = spawn('ip', ['netns', 'exec', ns.name!, 'socat', `TCP-LISTEN:${port},fork,reuseaddr`, 'SYSTEM:echo $SOCAT_PEERADDR'], { stdio: 'ignore' });
  servers.push(p);
}

async function listening(ns: Netns, port: number): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (tryRun('ip', ['netns', 'exec', ns.name!, 'ss', '-Htln', `sport = :${port}`]).stdout.trim()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`nothing listens on ${port} in ${ns.name}`);
}

/** Connects with a bounded timeout; returns what the server said, or null. */
function connect(from: Netns, addr: string, port: number): string | null {
  const r = tryRun('timeout', ['5', 'ip', 'netns', 'exec', from.name!, 'socat', '-T2', '-', `TCP:${addr}:${port},connect-timeout=1`]);
  return r.status === 0 ? r.stdout.trim() : null;
}

/** The per-network part of the layout for a second network (what attaching it does). */
async function addNetwork(n: string, bridge: string, subnet: string): Promise<void> {
  const t = { family: 'inet' as const, table: T };
  const tx = host.nft.transaction();
  for (const c of ['in', 'out', 'snat', 'hairpin', 'guard']) tx.addChain({ ...t, name: `${n}_${c}` });
  tx.addRule({ ...t, chain: `${n}_in`, rule: [ct.state.any('established', 'related'), accept()] });
  tx.addRule({ ...t, chain: `${n}_in`, rule: [iifname.eq(bridge), accept()] });
  tx.addRule({ ...t, chain: `${n}_in`, rule: [counter(), drop()] });
  tx.addRule({ ...t, chain: `${n}_out`, rule: [accept()] });
  tx.addRule({ ...t, chain: `${n}_snat`, rule: [oifname.neq(bridge), ip.saddr.eq(subnet), masquerade()] });
  tx.addRule({ ...t, chain: `${n}_hairpin`, rule: [ct.status.any('dnat'), fib.saddrType.eq('local'), masquerade()] });
  tx.addRule({ ...t, chain: `${n}_guard`, rule: [iifname.neq(bridge), counter(), drop()] });
  const jumpTo = (c: string) => ({ verdict: 'jump' as const, chain: `${n}_${c}` });
  tx.addElements({ ...t, set: 'fwd_in', elements: [{ key: bridge, value: jumpTo('in') }] });
  tx.addElements({ ...t, set: 'fwd_out', elements: [{ key: bridge, value: jumpTo('out') }] });
  tx.addElements({ ...t, set: 'snat_in', elements: [{ key: bridge, value: jumpTo('hairpin') }] });
  tx.addElements({ ...t, set: 'snat_out', elements: [{ key: bridge, value: jumpTo('snat') }] });
  tx.addElements({ ...t, set: 'guard4', elements: [{ key: subnet, value: jumpTo('guard') }] });
  await tx.commit();
}

beforeAll(async () => {
  if (!haveSocat) return;
  host = await scope.ns('host');
  outside = await scope.ns('out');
  const H = host.name!;
  tryRun('ip', ['netns', 'exec', H, 'sysctl', '-qw', 'net.ipv4.ip_forward=1']);
  sh(H, 'link set lo up');
  for (const [br, gw] of [['br-n1', '10.88.0.1/16'], ['br-n2', '10.89.0.1/16']] as const) {
    sh(H, `link add ${br} type bridge`);
    sh(H, `addr add ${gw} dev ${br}`);
    sh(H, `link set ${br} up`);
  }
  ipcmd(H, 'link', 'add', 'uplink', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', outside.name!);
  sh(H, `addr add ${HOST_IP}/24 dev uplink`);
  sh(H, 'link set uplink up');
  sh(outside.name!, `addr add ${OUT_IP}/24 dev eth0`);
  sh(outside.name!, 'link set eth0 up');
  sh(outside.name!, 'link set lo up');
  // The outside may even know the way to the containers: the guard must stop it.
  sh(outside.name!, `route add 10.88.0.0/16 via ${HOST_IP}`);
  c1 = await container('br-n1', '10.88.0.2/16', '10.88.0.1');
  c2 = await container('br-n1', '10.88.0.3/16', '10.88.0.1');
  c3 = await container('br-n2', '10.89.0.2/16', '10.89.0.1');

  await buildLayout(host);
  await addNetwork('n2', 'br-n2', '10.89.0.0/16');
  // Publish c1:80 on every host address, port 8080.
  const tx = host.nft.transaction();
  tx.addElements({ family: 'inet', table: T, set: 'dnat4_any', elements: [{ key: ['tcp', 8080], value: ['10.88.0.2', 80] }] });
  tx.addElements({ family: 'inet', table: T, set: 'pub4', elements: [{ key: ['10.88.0.2', 'tcp', 80] }] });
  await tx.commit();

  serve(c1, 80);
  serve(c1, 81); // not published
  serve(outside, 9000);
  await Promise.all([listening(c1, 80), listening(c1, 81), listening(outside, 9000)]);
});

afterAll(async () => {
  for (const s of servers) s.kill();
  await scope.cleanup();
});

describe.skipIf(!haveSocat)('traffic through the layout', () => {
  it('a published port is reached from outside, from the host and from another container', () => {
    // From outside: the container sees the real client.
    expect(connect(outside, HOST_IP, 8080)).toBe(OUT_IP);
    // From the host itself (nat output): hairpin masquerade to the bridge address.
    expect(connect(host, HOST_IP, 8080)).toBe('10.88.0.1');
    // From another container on the same bridge, via the host address.
    expect(connect(c2, HOST_IP, 8080)).toBe('10.88.0.1');
    // From another network, via the host address.
    expect(connect(c3, HOST_IP, 8080)).not.toBeNull();
  });

  it('egress is masqueraded: the outside server sees the host address', () => {
    expect(connect(c1, OUT_IP, 9000)).toBe(HOST_IP);
    expect(connect(c3, OUT_IP, 9000)).toBe(HOST_IP);
  });

  it('networks are isolated; container addresses are unreachable from outside', () => {
    expect(connect(c3, '10.88.0.2', 80)).toBeNull();
    expect(connect(c3, '10.88.0.2', 81)).toBeNull();
    expect(connect(outside, '10.88.0.2', 80)).toBeNull();
    // Unpublished port through the host address: no DNAT, nothing listens on the host.
    expect(connect(outside, HOST_IP, 81)).toBeNull();
    // Same network: direct access works (bridged, no layout involved).
    expect(connect(c2, '10.88.0.2', 81)).toBe('10.88.0.3');
  });

  it('unpublishing is one atomic element change; the port goes dark', async () => {
    const tx = host.nft.transaction();
    tx.deleteElements({ family: 'inet', table: T, set: 'dnat4_any', elements: [{ key: ['tcp', 8080] }] });
    tx.deleteElements({ family: 'inet', table: T, set: 'pub4', elements: [{ key: ['10.88.0.2', 'tcp', 80] }] });
    await tx.commit();
    expect(connect(outside, HOST_IP, 8080)).toBeNull();
    const back = host.nft.transaction();
    back.addElements({ family: 'inet', table: T, set: 'dnat4_any', elements: [{ key: ['tcp', 8080], value: ['10.88.0.2', 80] }] });
    back.addElements({ family: 'inet', table: T, set: 'pub4', elements: [{ key: ['10.88.0.2', 'tcp', 80] }] });
    await back.commit();
    expect(connect(outside, HOST_IP, 8080)).toBe(OUT_IP);
  });
});
