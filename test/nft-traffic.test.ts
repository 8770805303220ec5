// Real traffic through the reference layout built by netplumb: a "host" namespace with
// bridge br-n1 (10.88.0.0/16), containers as namespaces on veths, an "outside"
// namespace linked to the host, and a second network br-n2 (10.89.0.0/16).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Netns } from '../src';
import { accept, counter, ct, drop, fib, iifname, ip, masquerade, oifname } from '../src/nft';
import { ip as ipcmd, Scope, tryRun, uniq } from './helpers';
import { buildLayout, T } from './nft-helpers';
import { connect, haveSocat, HOST_IP, joinOutside, OUT_IP, Servers } from './traffic';

const scope = new Scope();
const servers = new Servers();
let host: Netns, outside: Netns, c1: Netns, c2: Netns, c3: Netns;

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
  for (const [br, gw] of [['br-n1', '10.88.0.1/16'], ['br-n2', '10.89.0.1/16']] as const) {
    sh(H, `link add ${br} type bridge`);
    sh(H, `addr add ${gw} dev ${br}`);
    sh(H, `link set ${br} up`);
  }
  joinOutside(host, outside);
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

  await Promise.all([servers.serve(c1, 80), servers.serve(c1, 81) /* not published */, servers.serve(outside, 9000)]);
});

afterAll(async () => {
  servers.stop();
  await scope.cleanup();
});

describe.skipIf(!haveSocat)('traffic through the layout', () => {
  it('a published port is reached from outside, from the host and from another container', async () => {
    // From outside: the container sees the real client.
    expect(await connect(outside, HOST_IP, 8080)).toBe(OUT_IP);
    // From the host itself (nat output): hairpin masquerade to the bridge address.
    expect(await connect(host, HOST_IP, 8080)).toBe('10.88.0.1');
    // From another container on the same bridge, via the host address.
    expect(await connect(c2, HOST_IP, 8080)).toBe('10.88.0.1');
    // From another network, via the host address.
    expect(await connect(c3, HOST_IP, 8080)).not.toBeNull();
  });

  it('egress is masqueraded: the outside server sees the host address', async () => {
    expect(await connect(c1, OUT_IP, 9000)).toBe(HOST_IP);
    expect(await connect(c3, OUT_IP, 9000)).toBe(HOST_IP);
  });

  it('networks are isolated; container addresses are unreachable from outside', async () => {
    // Side by side: each of these waits out its connect timeout.
    const dark = await Promise.all([
      connect(c3, '10.88.0.2', 80),
      connect(c3, '10.88.0.2', 81),
      connect(outside, '10.88.0.2', 80),
      // Unpublished port through the host address: no DNAT, nothing listens on the host.
      connect(outside, HOST_IP, 81),
    ]);
    expect(dark).toEqual([null, null, null, null]);
    // Same network: direct access works (bridged, no layout involved).
    expect(await connect(c2, '10.88.0.2', 81)).toBe('10.88.0.3');
  });

  it('unpublishing is one atomic element change; the port goes dark', async () => {
    const tx = host.nft.transaction();
    tx.deleteElements({ family: 'inet', table: T, set: 'dnat4_any', elements: [{ key: ['tcp', 8080] }] });
    tx.deleteElements({ family: 'inet', table: T, set: 'pub4', elements: [{ key: ['10.88.0.2', 'tcp', 80] }] });
    await tx.commit();
    expect(await connect(outside, HOST_IP, 8080)).toBeNull();
    const back = host.nft.transaction();
    back.addElements({ family: 'inet', table: T, set: 'dnat4_any', elements: [{ key: ['tcp', 8080], value: ['10.88.0.2', 80] }] });
    back.addElements({ family: 'inet', table: T, set: 'pub4', elements: [{ key: ['10.88.0.2', 'tcp', 80] }] });
    await back.commit();
    expect(await connect(outside, HOST_IP, 8080)).toBe(OUT_IP);
  });
});
