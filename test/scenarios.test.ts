// The seeds' scenarios, end to end: networks between throwaway namespaces built only
// through netplumb, proven by real traffic (ping) and checked with ip.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import type { Netns } from '../src';
import { ipj, run, Scope } from './helpers';

const execFileP = promisify(execFile);
const scope = new Scope();
afterEach(() => scope.cleanup());

/** One echo request from inside ns, one second to answer; a couple of tries for the first ARP. */
async function ping(ns: Netns, addr: string, ...opts: string[]): Promise<void> {
  let last: unknown;
  for (let i = 0; i < 3; i++) {
    try {
      await execFileP('ip', ['netns', 'exec', ns.name!, 'ping', '-n', '-q', '-c1', '-W1', ...opts, addr]);
      return;
    } catch (e) {
      last = e;
    }
  }
  const err = last as { stdout?: string; stderr?: string };
  throw new Error(`ping ${addr} from ${ns.name} failed: ${err.stdout ?? ''}${err.stderr ?? ''}`);
}

/** Fails unless ns has no answer from addr (one try, one second). */
async function noPing(ns: Netns, addr: string): Promise<void> {
  const ok = await execFileP('ip', ['netns', 'exec', ns.name!, 'ping', '-n', '-q', '-c1', '-W1', addr]).then(() => true, () => false);
  expect(ok, `${addr} answered ${ns.name}`).toBe(false);
}

function ipAddrsOf(ns: Netns, dev: string): string[] {
  return ipj<{ addr_info: { family: string; local: string; prefixlen: number }[] }[]>(ns.name!, 'addr', 'show', 'dev', dev)[0]!
    .addr_info.filter((a) => a.family === 'inet')
    .map((a) => `${a.local}/${a.prefixlen}`);
}

describe('scenarios', () => {
  it('three namespaces on bridge br0 in a host namespace ping each other', async () => {
    const host = await scope.ns('host');
    const ctrs = [await scope.ns('c'), await scope.ns('c'), await scope.ns('c')];
    await host.links.add({ kind: 'bridge', name: 'br0', up: true, addrGenMode: 'none' });
    await Promise.all(
      ctrs.map(async (c, i) => {
        await host.links.add({
          kind: 'veth',
          name: `vh${i}`,
          master: 'br0',
          up: true,
          addrGenMode: 'none',
          numTxQueues: 1,
          numRxQueues: 1,
          peer: { name: 'eth0', netns: c, up: true, numTxQueues: 1, numRxQueues: 1 },
        });
        await c.addresses.add('eth0', `10.0.1.${i + 1}/24`);
      }),
    );
    // Checked independently: every port on br0, every container address in place.
    const ports = ipj<{ ifname: string; master?: string }[]>(host.name!, 'link', 'show', 'master', 'br0');
    expect(ports.map((p) => p.ifname).sort()).toEqual(['vh0', 'vh1', 'vh2']);
    ctrs.forEach((c, i) => expect(ipAddrsOf(c, 'eth0')).toEqual([`10.0.1.${i + 1}/24`]));
    const pings: Promise<void>[] = [];
    ctrs.forEach((c, i) => ctrs.forEach((_, j) => i !== j && pings.push(ping(c, `10.0.1.${j + 1}`))));
    await Promise.all(pings);
  });

  it('veth between a host and a container namespace, routes both ways', async () => {
    const host = await scope.ns('host');
    const ctr = await scope.ns('ctr');
    await host.links.add({ kind: 'veth', name: 'vc0', up: true, peer: { name: 'eth0', netns: ctr, up: true } });
    // Host side: the /30 and a loopback address of its own; container side: the other
    // end of the /30 and a loopback address behind it.
    await host.links.set('lo', { up: true });
    await host.addresses.add('vc0', '10.1.0.1/30');
    await host.addresses.add('lo', '10.3.0.1/32');
    await ctr.links.set('lo', { up: true });
    await ctr.addresses.add('eth0', '10.1.0.2/30');
    await ctr.addresses.add('lo', '10.2.0.1/32');
    // Not reachable until routed (checked once, by the kernel's own lookup).
    expect(ipj<{ dst: string }[]>(host.name!, 'route', 'show', '10.2.0.0/24')).toEqual([]);
    await host.routes.add({ dst: '10.2.0.0/24', gateway: '10.1.0.2' });
    await ctr.routes.add({ dst: 'default', gateway: '10.1.0.1', dev: 'eth0' });
    expect(ipj<{ gateway: string; dev: string }[]>(host.name!, 'route', 'get', '10.2.0.1')[0]).toMatchObject({ gateway: '10.1.0.2', dev: 'vc0' });
    expect(ipj<{ gateway: string; dev: string }[]>(ctr.name!, 'route', 'get', '10.3.0.1')[0]).toMatchObject({ gateway: '10.1.0.1', dev: 'eth0' });
    // Both directions, between the addresses that only the routes make reachable.
    await ping(host, '10.2.0.1', '-I', '10.3.0.1');
    await ping(ctr, '10.3.0.1', '-I', '10.2.0.1');
    // Take the host's route away: the container's loopback goes dark.
    await host.routes.delete({ dst: '10.2.0.0/24' });
    await noPing(host, '10.2.0.1');
  });

  it('a VXLAN link between two hosts joined by a veth underlay carries ping', async () => {
    const a = await scope.ns('ha');
    const b = await scope.ns('hb');
    await a.links.add({ kind: 'veth', name: 'u0', up: true, peer: { name: 'u0', netns: b, up: true } });
    await a.addresses.add('u0', '192.168.77.1/24');
    await b.addresses.add('u0', '192.168.77.2/24');
    for (const [ns, local, remote, overlay] of [
      [a, '192.168.77.1', '192.168.77.2', '10.77.0.1/24'],
      [b, '192.168.77.2', '192.168.77.1', '10.77.0.2/24'],
    ] as const) {
      await ns.links.add({ kind: 'vxlan', name: 'vx0', vxlan: { vni: 4242, local, remote, dstport: 4789, device: 'u0' }, up: true });
      await ns.addresses.add('vx0', overlay);
    }
    expect(ipj<{ linkinfo: { info_data: object } }[]>(a.name!, 'link', 'show', 'vx0')[0]!.linkinfo.info_data).toMatchObject({
      id: 4242, remote: '192.168.77.2', local: '192.168.77.1', port: 4789, link: 'u0',
    });
    await ping(a, '10.77.0.2');
    await ping(b, '10.77.0.1');
    // The overlay really crossed the tunnel: A's VTEP learned B's overlay MAC behind
    // B's underlay address.
    const macB = ipj<{ address: string }[]>(b.name!, 'link', 'show', 'vx0')[0]!.address;
    const fdb = JSON.parse(run('ip', ['netns', 'exec', a.name!, 'bridge', '-j', 'fdb', 'show', 'dev', 'vx0'])) as { mac: string; dst?: string }[];
    expect(fdb).toContainEqual(expect.objectContaining({ mac: macB, dst: '192.168.77.2' }));
  });

  it('two macvlan children (bridge mode) of one parent, each in its own container, reach each other', async () => {
    const host = await scope.ns('host');
    const c1 = await scope.ns('m');
    const c2 = await scope.ns('m');
    // The parent: one end of a veth pair, both ends up so it has carrier.
    await host.links.add({ kind: 'veth', name: 'p0', up: true, peer: { name: 'p1', up: true } });
    // One child created directly inside its container ...
    await host.links.add({ kind: 'macvlan', name: 'eth0', parent: 'p0', macvlan: { mode: 'bridge' }, netns: c1, up: true });
    // ... the other created in the host and then moved.
    await host.links.add({ kind: 'macvlan', name: 'mv2', parent: 'p0', macvlan: { mode: 'bridge' } });
    await host.links.set('mv2', { netns: c2 });
    await c2.links.set('mv2', { name: 'eth0', up: true });
    for (const c of [c1, c2]) {
      const x = ipj<{ linkinfo: { info_kind: string; info_data: { mode: string } }; flags: string[] }[]>(c.name!, 'link', 'show', 'eth0')[0]!;
      expect(x.linkinfo).toMatchObject({ info_kind: 'macvlan', info_data: { mode: 'bridge' } });
      expect(x.flags).toContain('UP');
    }
    await c1.addresses.add('eth0', '10.5.0.1/24');
    await c2.addresses.add('eth0', '10.5.0.2/24');
    await ping(c1, '10.5.0.2');
    await ping(c2, '10.5.0.1');
  });

  it('one batch builds a bridge, a veth into a container, an address and a route; traffic flows', async () => {
    const host = await scope.ns('host');
    const ctr = await scope.ns('ctr');
    const results = await host
      .batch()
      .links.add({ kind: 'bridge', name: 'br0', up: true })
      .addresses.add('br0', '10.6.0.1/24')
      .links.add({ kind: 'veth', name: 'vb0', master: 'br0', up: true, peer: { name: 'eth0', netns: ctr, up: true } })
      .routes.add({ dst: '10.7.0.0/24', gateway: '10.6.0.2' })
      .commit();
    expect(results).toHaveLength(4);
    // The container side, likewise in one batch of its own.
    await ctr
      .batch()
      .links.set('lo', { up: true })
      .addresses.add('eth0', '10.6.0.2/24')
      .addresses.add('lo', '10.7.0.1/32')
      .routes.add({ dst: 'default', gateway: '10.6.0.1' })
      .commit();
    expect(ipj<{ ifname: string; master?: string }[]>(host.name!, 'link', 'show', 'vb0')[0]!.master).toBe('br0');
    expect(ipAddrsOf(host, 'br0')).toEqual(['10.6.0.1/24']);
    expect(ipj<{ gateway: string }[]>(host.name!, 'route', 'show', '10.7.0.0/24')[0]!.gateway).toBe('10.6.0.2');
    await ping(host, '10.7.0.1');
    await ping(ctr, '10.6.0.1', '-I', '10.7.0.1');
  });
});
