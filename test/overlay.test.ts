// Overlay networks across three "hosts" (namespaces, each with its own Networks
// controller and state directory) joined by an underlay bridge in a namespace of its
// own. Checked with real traffic between the containers and with bridge/ip listings of
// each host's VXLAN device.
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { AddressInUseError, NetlinkError, Netns, Networks, OverlayNetwork, type EndpointInfo, type RemoteEndpoint } from '../src';
import { answers, ip, ipj, ping, run, Scope } from './helpers';
import { fdbMaster, fdbSelf, type Host, neighs, proxyArpWifi, underlay as makeUnderlay } from './overlay-topology';

const scope = new Scope();
const dirs: string[] = [];
const ctls: Networks[] = [];

afterEach(async () => {
  for (const c of ctls.splice(0)) c.close();
  await scope.cleanup();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const SUBNET = '10.99.0.0/24';
const VNI = 4242;

/** An underlay bridge in its own namespace (192.168.90.254/24) and n hosts on it (192.168.90.i+1). */
function underlay(n: number): Promise<{ under: Netns; hosts: Host[] }> {
  return makeUnderlay(scope, n, dirs, ctls);
}

function overlayOn(h: Host, extra: { ipRange?: string } = {}): Promise<OverlayNetwork> {
  return h.ctl.create({ driver: 'overlay', name: 'ov', vni: VNI, subnet: SUBNET, local: h.vtep, device: 'ul0', ...extra });
}

/** Names of a namespace's links, as `ip link` lists them. */
function linkNames(ns: Netns): string[] {
  return ipj<{ ifname: string }[]>(ns.name!, 'link', 'show').map((l) => l.ifname);
}

function expectedFdb(peers: string[], remotes: RemoteEndpoint[]): string[] {
  return [...peers.map((p) => `00:00:00:00:00:00 ${p} permanent`), ...remotes.map((r) => `${r.mac} ${r.vtep} permanent`)].sort();
}

/** The bridge's neighbour table: every remote endpoint and every local one, IP -> MAC. */
function expectedNeigh(remotes: RemoteEndpoint[], locals: EndpointInfo[] = []): string[] {
  return [...remotes, ...locals].map((r) => `${r.ip} ${r.mac} PERMANENT`).sort();
}

/** The bridge's entries on the VXLAN port: each remote MAC, static. */
function expectedPort(remotes: RemoteEndpoint[]): string[] {
  return [...new Set(remotes.map((r) => r.mac))].map((m) => `${m} static`).sort();
}

/** The orchestrator's part: every host learns every other host as a peer and its endpoints. */
async function feed(hosts: Host[], nets: OverlayNetwork[], eps: EndpointInfo[][]): Promise<void> {
  for (let i = 0; i < hosts.length; i++) {
    for (let j = 0; j < hosts.length; j++) {
      if (i === j) continue;
      await nets[i]!.addPeer(hosts[j]!.vtep);
      for (const e of eps[j]!) await nets[i]!.addRemoteEndpoint({ ip: e.ip, mac: e.mac, vtep: hosts[j]!.vtep });
    }
  }
}

function remotesFor(i: number, hosts: Host[], eps: EndpointInfo[][]): RemoteEndpoint[] {
  return eps.flatMap((list, j) => (j === i ? [] : list.map((e) => ({ ip: e.ip, mac: e.mac, vtep: hosts[j]!.vtep }))));
}

describe('overlay networks', () => {
  it('three hosts, two containers each: all six reach each other; FDB and neighbours hold exactly what the control plane said; removal stops traffic', async () => {
    const { hosts } = await underlay(3);
    // Hosts 0 and 1 allocate from their own share of the subnet; host 2 takes static addresses.
    const nets = [
      await overlayOn(hosts[0]!, { ipRange: '10.99.0.16/28' }),
      await overlayOn(hosts[1]!, { ipRange: '10.99.0.32/28' }),
      await overlayOn(hosts[2]!),
    ];
    const ctrs: Netns[][] = [];
    const eps: EndpointInfo[][] = [];
    for (let i = 0; i < 3; i++) {
      const cs = [await scope.ns('c'), await scope.ns('c')];
      ctrs.push(cs);
      eps.push([
        await nets[i]!.attach(cs[0]!, i === 2 ? { ip: '10.99.0.200' } : {}),
        await nets[i]!.attach(cs[1]!, i === 2 ? { ip: '10.99.0.201' } : {}),
      ]);
    }
    expect(eps.map((l) => l.map((e) => e.ip))).toEqual([
      ['10.99.0.16', '10.99.0.17'], ['10.99.0.32', '10.99.0.33'], ['10.99.0.200', '10.99.0.201'],
    ]);
    const vx = nets[0]!.info.overlay!.vxlan;
    // The VXLAN device as the kernel shows it: VNI, port, local, underlay, no learning, proxy, MTU 1500 - 50.
    const link = ipj<{ mtu: number; master: string; linkinfo: { info_data: Record<string, unknown> } }[]>(hosts[0]!.ns.name!, 'link', 'show', vx)[0]!;
    expect(link.mtu).toBe(1450);
    expect(link.master).toBe(nets[0]!.info.bridge);
    expect(link.linkinfo.info_data).toMatchObject({ id: VNI, port: 4789, local: hosts[0]!.vtep, link: 'ul0', learning: false, proxy: true });
    expect(ipj<{ mtu: number }[]>(ctrs[0]![0]!.name!, 'link', 'show', 'eth0')[0]!.mtu).toBe(1450);
    // The overlay is layer 2 only: no address on the host side, and no default route in the containers.
    expect(ipj<{ addr_info: unknown[] }[]>(hosts[0]!.ns.name!, 'addr', 'show', 'dev', nets[0]!.info.bridge)[0]!.addr_info).toEqual([]);
    expect(ipj(ctrs[0]![0]!.name!, 'route', 'show', 'default')).toEqual([]);

    await feed(hosts, nets, eps);
    for (let i = 0; i < 3; i++) {
      const peers = hosts.filter((_, j) => j !== i).map((h) => h.vtep);
      const { vxlan } = nets[i]!.info.overlay!;
      const br = nets[i]!.info.bridge;
      expect(fdbSelf(hosts[i]!.ns, vxlan)).toEqual(expectedFdb(peers, remotesFor(i, hosts, eps)));
      // The bridge answers ARP: its neighbour table holds every endpoint, remote and local;
      // its FDB places remote MACs on the VXLAN port and each local MAC on its veth (static),
      // and every port has proxy_arp_wifi. The VXLAN device's own neighbour table is empty.
      expect(neighs(hosts[i]!.ns, br)).toEqual(expectedNeigh(remotesFor(i, hosts, eps), eps[i]));
      expect(neighs(hosts[i]!.ns, vxlan)).toEqual([]);
      expect(fdbMaster(hosts[i]!.ns, vxlan)).toEqual(expectedPort(remotesFor(i, hosts, eps)));
      for (const e of eps[i]!) {
        expect(fdbMaster(hosts[i]!.ns, e.hostIfname)).toEqual([`${e.mac} static`]);
        expect(proxyArpWifi(hosts[i]!.ns, e.hostIfname)).toBe(true);
      }
      expect(proxyArpWifi(hosts[i]!.ns, vxlan)).toBe(true);
    }

    // Every container reaches every other one: 30 pings, local and across the underlay.
    const all = ctrs.flatMap((cs, i) => cs.map((c, k) => ({ c, ip: eps[i]![k]!.ip })));
    await Promise.all(all.flatMap((a) => all.filter((b) => b !== a).map((b) => ping(a.c, b.ip))));

    // Host 0 forgets host 1's first container: its entries go, the second's stay.
    const gone = eps[1]![0]!;
    await nets[0]!.removeRemoteEndpoint(gone.ip);
    const left = remotesFor(0, hosts, eps).filter((r) => r.ip !== gone.ip);
    const vx0 = nets[0]!.info.overlay!.vxlan;
    const br0 = nets[0]!.info.bridge;
    expect(fdbSelf(hosts[0]!.ns, vx0)).toEqual(expectedFdb([hosts[1]!.vtep, hosts[2]!.vtep], left));
    expect(neighs(hosts[0]!.ns, br0)).toEqual(expectedNeigh(left, eps[0]));
    expect(fdbMaster(hosts[0]!.ns, vx0)).toEqual(expectedPort(left));
    // Once the containers' caches age out (flushed here), nothing answers for it any more.
    for (const c of ctrs[0]!) ip(c.name!, 'neigh', 'flush', 'all');
    expect(await answers(ctrs[0]![0]!, gone.ip)).toBe(false);
    expect(await answers(ctrs[0]![1]!, gone.ip)).toBe(false);
    await ping(ctrs[0]![0]!, eps[1]![1]!.ip);

    // Host 0 drops host 2 as a peer: its flood entry and both its endpoints' entries go.
    await nets[0]!.removePeer(hosts[2]!.vtep);
    const onlyHost1 = left.filter((r) => r.vtep === hosts[1]!.vtep);
    expect(fdbSelf(hosts[0]!.ns, vx0)).toEqual(expectedFdb([hosts[1]!.vtep], onlyHost1));
    expect(neighs(hosts[0]!.ns, br0)).toEqual(expectedNeigh(onlyHost1, eps[0]));
    expect(fdbMaster(hosts[0]!.ns, vx0)).toEqual(expectedPort(onlyHost1));
    expect(nets[0]!.peers()).toEqual([hosts[1]!.vtep]);
    expect(nets[0]!.remoteEndpoints()).toEqual(onlyHost1);
    for (const c of ctrs[0]!) ip(c.name!, 'neigh', 'flush', 'all');
    expect(await answers(ctrs[0]![0]!, eps[2]![0]!.ip)).toBe(false);
    await ping(ctrs[0]![1]!, eps[1]![1]!.ip);
  });

  it('remote endpoints are reference-counted per VTEP and MAC, with replace semantics', async () => {
    const { hosts } = await underlay(1);
    const net = await overlayOn(hosts[0]!);
    const vx = net.info.overlay!.vxlan;
    const br = net.info.bridge;
    const h = hosts[0]!.ns;
    const M = '02:42:0a:63:00:99';
    await net.addRemoteEndpoint({ ip: '10.99.0.50', mac: M, vtep: '192.168.90.7' });
    await net.addRemoteEndpoint({ ip: '10.99.0.51', mac: M, vtep: '192.168.90.7' });
    expect(fdbSelf(h, vx)).toEqual([`${M} 192.168.90.7 permanent`]);
    expect(fdbMaster(h, vx)).toEqual([`${M} static`]);
    expect(neighs(h, br)).toEqual([`10.99.0.50 ${M} PERMANENT`, `10.99.0.51 ${M} PERMANENT`]);
    // One of two addresses goes: the MAC's FDB entries stay for the other.
    await net.removeRemoteEndpoint('10.99.0.50');
    expect(fdbSelf(h, vx)).toEqual([`${M} 192.168.90.7 permanent`]);
    expect(fdbMaster(h, vx)).toEqual([`${M} static`]);
    expect(neighs(h, br)).toEqual([`10.99.0.51 ${M} PERMANENT`]);
    // The same address reported again on another VTEP replaces the old report.
    await net.addRemoteEndpoint({ ip: '10.99.0.51', mac: M, vtep: '192.168.90.8' });
    expect(fdbSelf(h, vx)).toEqual([`${M} 192.168.90.8 permanent`]);
    // The MAC reported on the first VTEP once more: the latest report wins; removing it falls back.
    await net.addRemoteEndpoint({ ip: '10.99.0.52', mac: M, vtep: '192.168.90.7' });
    expect(fdbSelf(h, vx)).toEqual([`${M} 192.168.90.7 permanent`]);
    await net.removeRemoteEndpoint({ ip: '10.99.0.52' });
    expect(fdbSelf(h, vx)).toEqual([`${M} 192.168.90.8 permanent`]);
    // A new MAC for an address replaces its neighbour entry and releases the old MAC's FDB entry.
    await net.addRemoteEndpoint({ ip: '10.99.0.51', mac: '02:42:0a:63:00:aa', vtep: '192.168.90.8' });
    expect(fdbSelf(h, vx)).toEqual(['02:42:0a:63:00:aa 192.168.90.8 permanent']);
    expect(fdbMaster(h, vx)).toEqual(['02:42:0a:63:00:aa static']);
    expect(neighs(h, br)).toEqual(['10.99.0.51 02:42:0a:63:00:aa PERMANENT']);
    // Idempotent: the same peer twice is one entry; removing unknown things is fine.
    await net.addPeer('192.168.90.7');
    await net.addPeer('192.168.90.7');
    await net.removeRemoteEndpoint('10.99.0.77');
    await net.removePeer('192.168.90.66');
    expect(fdbSelf(h, vx)).toEqual(['00:00:00:00:00:00 192.168.90.7 permanent', '02:42:0a:63:00:aa 192.168.90.8 permanent']);
    // A remote address is never handed out locally.
    const c = await scope.ns('c');
    await expect(net.attach(c, { ip: '10.99.0.51' })).rejects.toBeInstanceOf(AddressInUseError);
    await net.removeRemoteEndpoint('10.99.0.51');
    const here = await net.attach(c, { ip: '10.99.0.51' });
    expect(here.ip).toBe('10.99.0.51');
    expect(fdbSelf(h, vx)).toEqual(['00:00:00:00:00:00 192.168.90.7 permanent']);
    expect(fdbMaster(h, vx)).toEqual([]);
    expect(neighs(h, br)).toEqual([`10.99.0.51 ${here.mac} PERMANENT`]);
    expect(fdbMaster(h, here.hostIfname)).toEqual([`${here.mac} static`]);
    expect(neighs(h, vx)).toEqual([]);
    // An address that lived on another host comes here (its MAC follows it): the entry the
    // bridge learned for the MAC on the VXLAN port moves to the new veth in the attach's
    // own batch: one sendmsg on the host's socket (the container batch goes on its own).
    const moved = { ip: '10.99.0.53', mac: '02:42:0a:63:00:35' };
    await net.addRemoteEndpoint({ ...moved, vtep: '192.168.90.7' });
    await net.removeRemoteEndpoint(moved.ip);
    run('ip', ['netns', 'exec', h.name!, 'bridge', 'fdb', 'replace', moved.mac, 'dev', vx, 'master', 'dynamic']);
    expect(fdbMaster(h, vx)).toEqual([`${moved.mac} dynamic`]);
    const c2 = await scope.ns('c');
    const sends = h.socketStats().sends;
    const ep2 = await net.attach(c2, { ip: moved.ip });
    expect(h.socketStats().sends - sends).toBe(1);
    expect(ep2.mac).toBe(moved.mac);
    expect(fdbMaster(h, vx)).toEqual([]);
    expect(fdbMaster(h, ep2.hostIfname)).toEqual([`${moved.mac} static`]);
    // Detach: the port down and the neighbour entry gone, in one sendmsg.
    const before = h.socketStats().sends;
    await net.detach(c2);
    expect(h.socketStats().sends - before).toBe(1);
    expect(neighs(h, br)).toEqual([`10.99.0.51 ${here.mac} PERMANENT`]);
  });

  it('a restart reconciles the kernel with the persisted peers and remote endpoints', async () => {
    const { hosts } = await underlay(2);
    const nets = [await overlayOn(hosts[0]!, { ipRange: '10.99.0.16/28' }), await overlayOn(hosts[1]!, { ipRange: '10.99.0.32/28' })];
    const ctrs = [await scope.ns('c'), await scope.ns('c')];
    const eps = [[await nets[0]!.attach(ctrs[0]!)], [await nets[1]!.attach(ctrs[1]!)]];
    await feed(hosts, nets, eps);
    await nets[0]!.addRemoteEndpoint({ ip: '10.99.0.90', mac: '02:00:00:00:00:90', vtep: '192.168.90.9' });
    await ping(ctrs[0]!, eps[1]![0]!.ip);
    const h = hosts[0]!;
    const info = nets[0]!.info;
    const vx = info.overlay!.vxlan;
    const br = info.bridge;
    const veth = eps[0]![0]!.hostIfname;
    const kernel = (): Record<string, unknown> => ({
      fdb: fdbSelf(h.ns, vx),
      port: fdbMaster(h.ns, vx),
      neigh: neighs(h.ns, br),
      vxNeigh: neighs(h.ns, vx),
      local: fdbMaster(h.ns, veth).filter((e) => e.endsWith('static')),
      flags: [proxyArpWifi(h.ns, vx), proxyArpWifi(h.ns, veth)],
    });
    const want = kernel();
    expect(want.fdb).toHaveLength(3);
    expect(want).toMatchObject({ neigh: expect.arrayContaining([expect.stringMatching(/^10\.99\.0\.90 /)]), vxNeigh: [], local: [`${eps[0]![0]!.mac} static`], flags: [true, true] });

    // Tampering while the controller is away: an entry lost, a stray one, a lost flood
    // entry; the bridge's entries for a remote MAC and for the local container lost, a
    // stray neighbour on the bridge, an entry where versions before kept them (the VXLAN
    // device), a port without proxy_arp_wifi.
    h.ctl.close();
    ip(h.ns.name!, 'neigh', 'del', '10.99.0.90', 'dev', br);
    run('ip', ['netns', 'exec', h.ns.name!, 'bridge', 'fdb', 'add', '02:00:00:00:00:77', 'dev', vx, 'dst', '192.168.90.77', 'self', 'permanent']);
    run('ip', ['netns', 'exec', h.ns.name!, 'bridge', 'fdb', 'del', '00:00:00:00:00:00', 'dev', vx, 'dst', hosts[1]!.vtep, 'self']);
    run('ip', ['netns', 'exec', h.ns.name!, 'bridge', 'fdb', 'del', '02:00:00:00:00:90', 'dev', vx, 'master']);
    run('ip', ['netns', 'exec', h.ns.name!, 'bridge', 'fdb', 'del', eps[0]![0]!.mac, 'dev', veth, 'master']);
    ip(h.ns.name!, 'neigh', 'add', '10.99.0.91', 'lladdr', '02:00:00:00:00:91', 'dev', br, 'nud', 'permanent');
    ip(h.ns.name!, 'neigh', 'add', '10.99.0.92', 'lladdr', '02:00:00:00:00:92', 'dev', vx, 'nud', 'permanent');
    ip(h.ns.name!, 'link', 'set', veth, 'type', 'bridge_slave', 'proxy_arp_wifi', 'off');
    let ctl = await Networks.open({ stateDir: h.dir, host: h.ns });
    ctls.push(ctl);
    expect(kernel()).toEqual(want);

    // The VXLAN device and the bridge gone altogether: both made again, the veth enslaved again.
    ctl.close();
    ip(h.ns.name!, 'link', 'del', vx);
    ip(h.ns.name!, 'link', 'del', info.bridge);
    ctl = await Networks.open({ stateDir: h.dir, host: h.ns });
    ctls.push(ctl);
    expect(kernel()).toEqual(want);
    expect(ipj<{ master?: string }[]>(h.ns.name!, 'link', 'show', veth)[0]!.master).toBe(info.bridge);
    await ping(ctrs[0]!, eps[1]![0]!.ip);
    await ping(ctrs[1]!, eps[0]![0]!.ip);
    // The handle from the reopened controller is an overlay handle with the persisted state.
    const again = ctl.overlay('ov');
    expect(again.peers()).toEqual([hosts[1]!.vtep]);
    expect(again.remoteEndpoints()).toHaveLength(2);
    // The overlay's links carry the owner's tag and are claimed: gc leaves them.
    expect(await ctl.gc()).toEqual({ links: [], elements: 0, reaped: 0, records: 0 });
    expect(() => ctl.overlay('gone')).toThrow(NetlinkError);

    // An overlay whose underlay device vanished does not keep the controller from opening.
    ctl.close();
    ip(h.ns.name!, 'link', 'del', vx);
    ip(h.ns.name!, 'link', 'set', 'ul0', 'name', 'ul9');
    const warned = new Promise<string>((r) => process.once('warning', (w) => r(w.message)));
    ctl = await Networks.open({ stateDir: h.dir, host: h.ns });
    ctls.push(ctl);
    expect(await warned).toMatch(/overlay network ov not reconciled/);
    expect(ctl.list().map((n) => n.name)).toEqual(['ov']);
  });

  it('the bridge answers ARP for known endpoints, local and remote, and floods it to no other container (nft counters); unknown addresses, broadcast and multicast still flood', async () => {
    const { hosts } = await underlay(2);
    const nets = [await overlayOn(hosts[0]!, { ipRange: '10.99.0.16/28' }), await overlayOn(hosts[1]!, { ipRange: '10.99.0.32/28' })];
    const h0 = hosts[0]!.ns;
    const br0 = nets[0]!.info.bridge;
    // Host 0: an asker A, a local target B, a bystander C; host 1: a remote target R.
    const [a, b, c, r] = [await scope.ns('a'), await scope.ns('b'), await scope.ns('c'), await scope.ns('r')];
    const ea = await nets[0]!.attach(a);
    const eb = await nets[0]!.attach(b);
    // C's MAC is below every other port's: a bridge that took its ports' lowest MAC would
    // change address now and lose its whole neighbour table (see ensureLinks).
    const brMac = ipj<{ address: string }[]>(h0.name!, 'link', 'show', br0)[0]!.address;
    const ec = await nets[0]!.attach(c, { mac: '02:00:00:00:00:01' });
    expect(ipj<{ address: string }[]>(h0.name!, 'link', 'show', br0)[0]!.address).toBe(brMac);
    const er = await nets[1]!.attach(r);
    await feed(hosts, nets, [[ea, eb, ec], [er]]);
    expect(neighs(h0, br0)).toEqual(expectedNeigh([{ ip: er.ip, mac: er.mac, vtep: hosts[1]!.vtep }], [ea, eb, ec]));

    // The witnesses: nft counters in each container, of the ARP requests its interface
    // receives (arp input hook) and of the broadcast and multicast pings.
    for (const x of [a, b, c, r]) {
      run('ip', ['netns', 'exec', x.name!, 'nft', '-f', '-'], [
        'table arp np {',
        '  counter req {}',
        '  chain in { type filter hook input priority 0; arp operation request counter name req; }',
        '}',
        'table ip np {',
        '  counter bcast {}',
        '  counter mcast {}',
        '  chain in { type filter hook input priority 0; ip daddr 10.99.0.255 counter name bcast; ip daddr 224.0.0.1 counter name mcast; }',
        '}',
      ].join('\n'));
    }
    const counters = (x: Netns): Record<string, number> => {
      const out = JSON.parse(run('ip', ['netns', 'exec', x.name!, 'nft', '-j', 'list', 'counters'])) as { nftables: { counter?: { name: string; packets: number } }[] };
      return Object.fromEntries(out.nftables.filter((o) => o.counter).map((o) => [o.counter!.name, o.counter!.packets]));
    };
    const arpSeen = (): number[] => [a, b, c, r].map((x) => counters(x).req!);
    const flushed = (...xs: Netns[]): void => xs.forEach((x) => ip(x.name!, 'neigh', 'flush', 'all'));

    // A asks for R (remote) and for B (local): both answered (the pings go through), and no
    // container sees a request: not the bystander, not even the target (the bridge
    // answers; B's own request for A on the way back is answered by the bridge too).
    let before = arpSeen();
    flushed(a, b, r);
    await ping(a, er.ip);
    await ping(a, eb.ip);
    expect(ipj<{ dst: string; lladdr?: string }[]>(a.name!, 'neigh', 'show', er.ip)[0]!.lladdr).toBe(er.mac);
    expect(arpSeen()).toEqual(before);

    // An address nobody told the bridge about (free in the range): flooded to every
    // container of the host, answered by none; it never crosses the underlay.
    before = arpSeen();
    expect(await answers(a, '10.99.0.29')).toBe(false);
    let seen = arpSeen().map((n, i) => n - before[i]!);
    expect(seen[1]).toBeGreaterThan(0);
    expect(seen[2]).toBeGreaterThan(0);
    expect(seen[3]).toBe(0);

    // An address the bridge does not know but a container here owns (plugged in by hand,
    // not through netplumb): flooded, and its owner answers.
    const d = await scope.ns('d');
    ip(h0.name!, 'link', 'add', 'vd0', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', d.name!);
    ip(h0.name!, 'link', 'set', 'vd0', 'master', br0, 'up');
    ip(d.name!, 'addr', 'add', '10.99.0.30/24', 'dev', 'eth0');
    ip(d.name!, 'link', 'set', 'eth0', 'up');
    before = arpSeen();
    await ping(a, '10.99.0.30');
    seen = arpSeen().map((n, i) => n - before[i]!);
    expect(seen[2]).toBeGreaterThan(0);

    // Broadcast and multicast from the remote container reach the local ones.
    const cast = (): number[] => [b, c].flatMap((x) => [counters(x).bcast!, counters(x).mcast!]);
    const castBefore = cast();
    ip(r.name!, 'route', 'add', '224.0.0.0/4', 'dev', 'eth0');
    // Nobody answers either (containers ignore broadcast pings): the counters tell.
    spawnSync('ip', ['netns', 'exec', r.name!, 'ping', '-n', '-q', '-b', '-c', '2', '-i', '0.2', '-W', '1', '10.99.0.255']);
    spawnSync('ip', ['netns', 'exec', r.name!, 'ping', '-n', '-q', '-c', '2', '-i', '0.2', '-W', '1', '224.0.0.1']);
    expect(cast().map((n, i) => n - castBefore[i]!).every((n) => n > 0)).toBe(true);
  });

  it('a gateway network gives overlay containers the outside (masqueraded); detach removes both endpoints', async () => {
    const { hosts } = await underlay(2);
    const h = hosts[0]!;
    const gw = await h.ctl.create({ name: 'gwbridge', subnet: '172.30.0.0/24' });
    const nets = [await overlayOn(h, { ipRange: '10.99.0.16/28' }), await overlayOn(hosts[1]!, { ipRange: '10.99.0.32/28' })];
    const c = await scope.ns('c');
    const peer = await scope.ns('c');
    const ep = await nets[0]!.attach(c, { gatewayNetwork: 'gwbridge' });
    const far = await nets[1]!.attach(peer);
    await feed(hosts, nets, [[ep], [far]]);
    expect(ep.gatewayEndpoint).toBeDefined();
    const gep = gw.endpoints()[0]!;
    expect(gep).toMatchObject({ id: ep.gatewayEndpoint, ifname: 'eth1', forGateway: true, defaultRoute: true });
    expect(ipj<{ gateway: string; dev: string }[]>(c.name!, 'route', 'show', 'default')[0]).toMatchObject({ gateway: '172.30.0.1', dev: 'eth1' });
    // The underlay namespace has no route back to 172.30.0.0/24: an answer means masquerade.
    await ping(c, '192.168.90.254');
    await ping(c, far.ip);
    await nets[0]!.detach(c);
    expect(gw.endpoints()).toEqual([]);
    expect(nets[0]!.endpoints()).toEqual([]);
    // Both interfaces are down and waiting in the reap group; reap() deletes them now.
    expect(await h.ctl.reap()).toBe(2);
    expect(linkNames(c)).toEqual(['lo']);
  });

  it('bad input is a typed error and leaves nothing behind', async () => {
    const { hosts } = await underlay(1);
    const h = hosts[0]!;
    const linksBefore = linkNames(h.ns).sort();
    const base = { driver: 'overlay' as const, name: 'ov', vni: VNI, subnet: SUBNET, local: h.vtep, device: 'ul0' };
    const bad: [object, ErrorConstructor | RangeErrorConstructor][] = [
      [{ ...base, vni: undefined }, TypeError],
      [{ ...base, vni: 0 }, RangeError],
      [{ ...base, vni: 1 << 24 }, RangeError],
      [{ ...base, vni: '7' }, TypeError],
      [{ ...base, subnet: undefined }, TypeError],
      [{ ...base, subnet: 'fd00::/64' }, TypeError],
      [{ ...base, local: 'here' }, TypeError],
      [{ ...base, local: undefined }, TypeError],
      [{ ...base, device: 'a/b' }, TypeError],
      [{ ...base, device: 'x'.repeat(16) }, RangeError],
      [{ ...base, mtu: 20 }, RangeError],
      [{ ...base, dstport: 0 }, RangeError],
      [{ ...base, ipRange: '10.98.0.0/28' }, RangeError],
      [{ ...base, gateway: '10.1.1.1' }, RangeError],
      [{ ...base, driver: 'vxlan' }, TypeError],
    ];
    for (const [opts, type] of bad) {
      await expect(h.ctl.create(opts as never), JSON.stringify(opts)).rejects.toBeInstanceOf(type);
    }
    const kernel: [object, string][] = [
      [{ ...base, device: 'nope0' }, 'ENODEV'],
      [{ ...base, local: '192.168.90.99' }, 'EADDRNOTAVAIL'],
      [{ ...base, vxlan: 'ul0' }, 'EEXIST'],
    ];
    for (const [opts, code] of kernel) {
      const e = await h.ctl.create(opts as never).catch((x: unknown) => x);
      expect(e, JSON.stringify(opts)).toBeInstanceOf(NetlinkError);
      expect((e as NetlinkError).code).toBe(code);
    }
    await expect(h.ctl.create({ ...base, mtu: 1451 })).rejects.toBeInstanceOf(RangeError);
    // The kernel refuses the VXLAN device half way (its VNI and port are taken by a device
    // made behind the controller's back): the bridge made in the same batch is undone.
    ip(h.ns.name!, 'link', 'add', 'vxraw', 'type', 'vxlan', 'id', String(VNI), 'dstport', '4789', 'local', h.vtep, 'dev', 'ul0');
    const e = await h.ctl.create(base).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(NetlinkError);
    expect((e as NetlinkError).code).toBe('EEXIST');
    ip(h.ns.name!, 'link', 'del', 'vxraw');
    expect(linkNames(h.ns).sort()).toEqual(linksBefore);
    expect(h.ctl.list()).toEqual([]);

    // Now a good one, and bad control-plane input against it.
    const net = await h.ctl.create(base);
    const vx = net.info.overlay!.vxlan;
    await expect(h.ctl.create({ ...base, name: 'ov2', subnet: '10.98.0.0/24' })).rejects.toMatchObject({ code: 'EEXIST' });
    await expect(h.ctl.create({ ...base, name: 'ov2', vni: 7 })).rejects.toMatchObject({ code: 'EEXIST' });
    await expect(net.addPeer('nope')).rejects.toBeInstanceOf(TypeError);
    await expect(net.addPeer(h.vtep)).rejects.toBeInstanceOf(TypeError);
    await expect(net.addPeer('fd00::1')).rejects.toBeInstanceOf(TypeError);
    await expect(net.addRemoteEndpoint({ ip: '10.98.0.5', mac: '02:00:00:00:00:05', vtep: '192.168.90.5' })).rejects.toBeInstanceOf(RangeError);
    await expect(net.addRemoteEndpoint({ ip: '10.99.0.5', mac: '01:00:5e:00:00:05', vtep: '192.168.90.5' })).rejects.toBeInstanceOf(TypeError);
    await expect(net.addRemoteEndpoint({ ip: '10.99.0.5', mac: 'zz', vtep: '192.168.90.5' })).rejects.toBeInstanceOf(TypeError);
    await expect(net.addRemoteEndpoint({ ip: '10.99.0.1', mac: '02:00:00:00:00:05', vtep: '192.168.90.5' })).rejects.toBeInstanceOf(AddressInUseError);
    await expect(net.addRemoteEndpoint(null as never)).rejects.toBeInstanceOf(TypeError);
    expect(fdbSelf(h.ns, vx)).toEqual([]);
    expect(neighs(h.ns, vx)).toEqual([]);
    expect(net.remoteEndpoints()).toEqual([]);

    // Attach: an unknown or non-bridge gateway network; ports without one; a gateway
    // attach the kernel refuses (the container has an eth1 already): the overlay
    // endpoint is undone too.
    const c = await scope.ns('c');
    await expect(net.attach(c, { gatewayNetwork: 'nope' })).rejects.toMatchObject({ code: 'ENOENT' });
    await expect(net.attach(c, { gatewayNetwork: 'ov' })).rejects.toBeInstanceOf(TypeError);
    await expect(net.attach(c, { publish: [{ hostPort: 8080, containerPort: 80 }] })).rejects.toBeInstanceOf(TypeError);
    await h.ctl.create({ name: 'gw', subnet: '172.30.0.0/24' });
    await expect(h.ctl.get('gw').attach(c, { gatewayNetwork: 'gw' })).rejects.toBeInstanceOf(TypeError);
    ip(c.name!, 'link', 'add', 'eth1', 'type', 'veth', 'peer', 'name', 'eth9');
    await expect(net.attach(c, { gatewayNetwork: 'gw' })).rejects.toMatchObject({ code: 'EEXIST' });
    expect(linkNames(c).sort()).toEqual(['eth1', 'eth9', 'lo']);
    expect(net.endpoints()).toEqual([]);
    expect(h.ctl.get('gw').endpoints()).toEqual([]);
    expect(linkNames(h.ns).filter((n) => n.startsWith('np'))).toEqual([]);
    // Its address went back to the pool.
    ip(c.name!, 'link', 'del', 'eth1');
    expect((await net.attach(c)).ip).toBe('10.99.0.2');

    // Removing the network takes its links (and its entries with them).
    const br = net.info.bridge;
    await net.detach(c);
    await h.ctl.remove('ov');
    expect(linkNames(h.ns).filter((n) => n === vx || n === br)).toEqual([]);
  });
});

/** The VXLAN device's IPv6 neighbour entries, as "ip mac STATE", sorted. */
function neighs6(ns: Netns, dev: string): string[] {
  return ipj<{ dst: string; lladdr?: string; state: string[] }[]>(ns.name!, '-6', 'neigh', 'show', 'dev', dev)
    .map((n) => `${n.dst} ${n.lladdr} ${n.state.join(',')}`)
    .sort();
}

/** A container's neighbour entry for an IPv6 address: its MAC and state, as ip -j shows them. */
function neighOf(ns: Netns, addr: string): { lladdr?: string; state: string[] } | undefined {
  return ipj<{ dst: string; lladdr?: string; state: string[] }[]>(ns.name!, '-6', 'neigh', 'show', 'dev', 'eth0').find((n) => n.dst === addr);
}

describe('overlay networks with IPv6 container addresses', () => {
  it('dual stack across three hosts: every container reaches every other over IPv6 too; the VXLAN device answers NDP from its neighbour table', async () => {
    const { hosts } = await underlay(3);
    const nets: OverlayNetwork[] = [];
    for (let i = 0; i < 3; i++) {
      nets.push(await hosts[i]!.ctl.create({
        driver: 'overlay', name: 'ov6', vni: VNI, subnet: SUBNET, local: hosts[i]!.vtep, device: 'ul0',
        ipRange: `10.99.0.${16 * (i + 1)}/28`, ipv6Subnet: 'fd00:99::/64', ipv6Range: `fd00:99::${i + 1}00/120`,
      }));
    }
    const ctrs: Netns[] = [];
    const eps: EndpointInfo[][] = [];
    for (let i = 0; i < 3; i++) {
      const c = await scope.ns('c');
      ctrs.push(c);
      eps.push([await nets[i]!.attach(c)]);
    }
    expect(eps.map(([e]) => [e!.ip, e!.ip6])).toEqual([
      ['10.99.0.16', 'fd00:99::100'], ['10.99.0.32', 'fd00:99::200'], ['10.99.0.48', 'fd00:99::300'],
    ]);
    // The control plane feeds both addresses of each remote endpoint.
    for (let i = 0; i < 3; i++) {
      for (let j = 0; j < 3; j++) {
        if (i === j) continue;
        await nets[i]!.addPeer(hosts[j]!.vtep);
        const e = eps[j]![0]!;
        await nets[i]!.addRemoteEndpoint({ ip: e.ip, ip6: e.ip6!, mac: e.mac, vtep: hosts[j]!.vtep });
      }
    }
    const vx = nets[0]!.info.overlay!.vxlan;
    expect(neighs6(hosts[0]!.ns, vx)).toEqual([`fd00:99::200 ${eps[1]![0]!.mac} PERMANENT`, `fd00:99::300 ${eps[2]![0]!.mac} PERMANENT`]);
    expect(nets[0]!.remoteEndpoints().map((r) => r.ip6)).toEqual(['fd00:99::200', 'fd00:99::300']);
    for (let i = 0; i < 3; i++) {
      for (let j = 0; j < 3; j++) {
        if (i !== j) {
          expect(await answers(ctrs[i]!, eps[j]![0]!.ip6!)).toBe(true);
          expect(await answers(ctrs[i]!, eps[j]![0]!.ip)).toBe(true);
        }
      }
    }
    // The answer to a container's neighbour solicitation comes from host 0's VXLAN
    // device, not from the remote container: a remote endpoint on a VTEP where nothing
    // lives resolves all the same (and its echo goes unanswered); an address nobody
    // reported gets no answer at all.
    await nets[0]!.addRemoteEndpoint({ ip: '10.99.0.250', ip6: 'fd00:99::fa', mac: '02:42:0a:63:00:fa', vtep: '192.168.90.77' });
    expect(await answers(ctrs[0]!, 'fd00:99::fa')).toBe(false);
    expect(neighOf(ctrs[0]!, 'fd00:99::fa')?.lladdr).toBe('02:42:0a:63:00:fa');
    expect(await answers(ctrs[0]!, 'fd00:99::fb')).toBe(false);
    expect(neighOf(ctrs[0]!, 'fd00:99::fb')?.lladdr).toBeUndefined();
    // Its IPv6 address is held in the local pool, never handed out here.
    await expect(nets[0]!.attach(await scope.ns('c'), { ip6: 'fd00:99::fa' })).rejects.toMatchObject({ code: 'EADDRINUSE' });
    // Removed by its IPv6 address: both neighbour entries and its FDB entry go.
    await nets[0]!.removeRemoteEndpoint('fd00:99::fa');
    expect(neighs6(hosts[0]!.ns, vx)).toEqual([`fd00:99::200 ${eps[1]![0]!.mac} PERMANENT`, `fd00:99::300 ${eps[2]![0]!.mac} PERMANENT`]);
    expect(neighs(hosts[0]!.ns, vx)).not.toContain('10.99.0.250 02:42:0a:63:00:fa PERMANENT');
    expect(fdbSelf(hosts[0]!.ns, vx).join('\n')).not.toContain('02:42:0a:63:00:fa');

    // A restart reconciles the IPv6 entries too: a stray one goes, a missing one comes back.
    run('ip', ['netns', 'exec', hosts[0]!.ns.name!, 'ip', '-6', 'neigh', 'del', 'fd00:99::200', 'dev', vx]);
    run('ip', ['netns', 'exec', hosts[0]!.ns.name!, 'ip', '-6', 'neigh', 'add', 'fd00:99::99', 'lladdr', '02:42:00:00:00:99', 'dev', vx, 'nud', 'permanent']);
    hosts[0]!.ctl.close();
    const again = await Networks.open({ stateDir: hosts[0]!.dir, host: hosts[0]!.ns });
    ctls.push(again);
    expect(neighs6(hosts[0]!.ns, vx)).toEqual([`fd00:99::200 ${eps[1]![0]!.mac} PERMANENT`, `fd00:99::300 ${eps[2]![0]!.mac} PERMANENT`]);
  });

  it('an IPv6-only overlay: containers on two hosts talk over IPv6 with no IPv4 anywhere; MACs from the host parts of their addresses', async () => {
    const { hosts } = await underlay(2);
    const nets: OverlayNetwork[] = [];
    for (let i = 0; i < 2; i++) {
      nets.push(await hosts[i]!.ctl.create({
        driver: 'overlay', name: 'ov6only', vni: VNI + 1, local: hosts[i]!.vtep, device: 'ul0',
        ipv6Subnet: 'fd00:98::/64', ipv6Range: `fd00:98::${i + 1}00/120`,
      }));
    }
    expect(nets[0]!.info.subnet).toBe('');
    const ctrs = [await scope.ns('c'), await scope.ns('c')];
    const eps = [await nets[0]!.attach(ctrs[0]!), await nets[1]!.attach(ctrs[1]!)];
    expect(eps.map((e) => [e.ip, e.ip6, e.mac])).toEqual([
      ['', 'fd00:98::100', '02:42:00:00:01:00'],
      ['', 'fd00:98::200', '02:42:00:00:02:00'],
    ]);
    for (const [i, j] of [[0, 1], [1, 0]] as const) {
      await nets[i]!.addPeer(hosts[j]!.vtep);
      await nets[i]!.addRemoteEndpoint({ ip: '', ip6: eps[j]!.ip6!, mac: eps[j]!.mac, vtep: hosts[j]!.vtep });
    }
    expect(ipj(ctrs[0]!.name!, '-4', 'addr', 'show', 'dev', 'eth0')).toEqual([]);
    expect(await answers(ctrs[0]!, eps[1]!.ip6!)).toBe(true);
    expect(await answers(ctrs[1]!, eps[0]!.ip6!)).toBe(true);
    expect(nets[0]!.remoteEndpoints()).toEqual([{ ip: '', ip6: 'fd00:98::200', mac: eps[1]!.mac, vtep: hosts[1]!.vtep }]);
    // An IPv4 address on it, or a remote endpoint without an IPv6 one, is a TypeError.
    await expect(nets[0]!.addRemoteEndpoint({ ip: '10.0.0.1', ip6: 'fd00:98::5', mac: '02:42:00:00:00:05', vtep: hosts[1]!.vtep })).rejects.toBeInstanceOf(TypeError);
    await expect(nets[0]!.addRemoteEndpoint({ ip: '', mac: '02:42:00:00:00:05', vtep: hosts[1]!.vtep })).rejects.toBeInstanceOf(TypeError);
    await expect(nets[0]!.addRemoteEndpoint({ ip: '', ip6: 'fd00:97::5', mac: '02:42:00:00:00:05', vtep: hosts[1]!.vtep })).rejects.toBeInstanceOf(RangeError);
  });
});
