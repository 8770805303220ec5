// IPv6 in the network model, proven with real IPv6 traffic between throwaway namespaces:
// a "host" namespace H (bridges, the nftables table) joined to an "outside" namespace O
// by a veth with both families (H 192.0.2.1 and 2001:db8::1, O .2 and ::2; H's default
// routes via O), containers attached through the Networks API. The kernel's state is
// read with ip -j, nft -j and sysctl files; addresses seen by servers are what socat
// logs, never what the library says.
import { mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NetlinkError, Netns, type AttachOptions, type EndpointInfo, type Network, Networks } from '../src';
import { ip as ipcmd, ipj, run, Scope, tryRun } from './helpers';
import { layout6, nftIn, nftJson, normalise } from './nft-helpers';
import { messages, strace } from './strace';
import {
  connect, exec, haveSocat, HOST_IP, HOST_IP6, joinOutside, OUT_IP, OUT_IP6, ping, Servers, spawnIn, withHosts,
} from './traffic';

const scope = new Scope();
const servers = new Servers();
const dirs: string[] = [];
const T = 'netplumb';

afterAll(async () => {
  servers.stop();
  await scope.cleanup();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function tmpDir(prefix: string): string {
  const d = mkdtempSync(`/run/${prefix}-`);
  dirs.push(d);
  return d;
}

interface Topology { H: Netns; O: Netns; nets: Networks; stateDir: string }

/** H and O joined by a dual-stack veth, H's default routes via O, a controller on H. */
async function topology(opts: Partial<Parameters<typeof Networks.open>[0]> = {}): Promise<Topology> {
  const H = await scope.ns('6h');
  const O = await scope.ns('6o');
  joinOutside(H, O, { ipv6: true });
  ipcmd(H.name!, 'route', 'add', 'default', 'via', OUT_IP);
  ipcmd(H.name!, '-6', 'route', 'add', 'default', 'via', OUT_IP6);
  const stateDir = tmpDir('np6-state');
  const nets = await Networks.open({ host: H, stateDir, ...opts });
  return { H, O, nets, stateDir };
}

interface Ct { ns: Netns; ep: EndpointInfo }

async function container(net: Network, opts: AttachOptions = {}): Promise<Ct> {
  const ns = await scope.ns('6c');
  return { ns, ep: await net.attach(ns, opts) };
}

/** A sysctl as the namespace's /proc shows it. */
function sysctl(ns: Netns, key: string): string {
  return run('ip', ['netns', 'exec', ns.name!, 'cat', `/proc/sys/${key.replaceAll('.', '/')}`]).trim();
}

/** Addresses of a link by family, as ip -j shows them. */
function addrs(ns: Netns, dev: string, family: '-4' | '-6'): { local: string; scope: string }[] {
  const l = ipj<{ addr_info: { local: string; scope: string }[] }[]>(ns.name!, family, 'addr', 'show', 'dev', dev)[0];
  return l?.addr_info ?? [];
}

/** The elements of one of the owner's maps or sets, as nft -j lists them, in one string. */
function elements(ns: Netns, name: string, kind: 'map' | 'set' = 'map'): string {
  const obj = nftJson(ns.name!, kind, 'inet', T, name)[0] as Record<string, { elem?: unknown[] }> | undefined;
  return JSON.stringify(obj?.[kind]?.elem ?? []);
}

describe.skipIf(!haveSocat)('IPv6: dual-stack, IPv6-only and routed bridge networks', () => {
  let t: Topology;
  let DS: Network, V6: Network, RT: Network, B: Network;
  let web: Ct, db: Ct, v1: Ct, v2: Ct, r1: Ct, other: Ct;
  let hostsDir: string;
  const hosts = (n: string) => path.join(hostsDir, n, 'hosts');

  beforeAll(async () => {
    t = await topology();
    hostsDir = tmpDir('np6-hosts');
    DS = await t.nets.create({ name: 'ds', subnet: '10.90.0.0/24', ipv6Subnet: 'fd00:90::/64' });
    V6 = await t.nets.create({ name: 'v6only', ipv4: false, ipv6Subnet: 'fd00:91::/64' });
    RT = await t.nets.create({ name: 'rt', ipv4: false, ipv6Subnet: '2001:db8:92::/64', ipv6Masquerade: false });
    B = await t.nets.create({ name: 'b', subnet: '10.93.0.0/24', ipv6Subnet: 'fd00:93::/64' });
    // The outside knows the way to the NAT66 network (only the guard stops it) and, as
    // an upstream router must in routed mode, to the routed one.
    ipcmd(t.O.name!, '-6', 'route', 'add', 'fd00:90::/64', 'via', HOST_IP6);
    ipcmd(t.O.name!, '-6', 'route', 'add', '2001:db8:92::/64', 'via', HOST_IP6);
    web = await container(DS, {
      name: 'web',
      hostsFile: hosts('web'),
      hostsFileScope: 'members',
      publish: [
        { hostPort: 8080, containerPort: 80 },
        { hostIp: '127.0.0.1', hostPort: 8081, containerPort: 80 },
        { hostIp: HOST_IP6, hostPort: 8082, containerPort: 80 },
        { hostIp: '::', hostPort: 8083, containerPort: 80 },
      ],
    });
    db = await container(DS, { name: 'db', hostsFile: hosts('db'), hostsFileScope: 'members' });
    v1 = await container(V6, { name: 'v1', publish: [{ hostPort: 9090, containerPort: 80 }] });
    v2 = await container(V6, { name: 'v2' });
    r1 = await container(RT, { name: 'r1', publish: [{ hostPort: 9191, containerPort: 80 }] });
    other = await container(B, { name: 'other', publish: [{ hostPort: 8090, containerPort: 80 }] });
    await Promise.all([
      servers.serve(web.ns, 80, 4),
      servers.serve(web.ns, 80, 6),
      servers.serve(web.ns, 81, 6), // never published
      servers.serve(v1.ns, 80, 6),
      servers.serve(r1.ns, 80, 6),
      servers.serve(r1.ns, 81, 6), // never published
      servers.serve(other.ns, 80, 6),
      servers.serve(t.O, 9000, 4),
      servers.serve(t.O, 9000, 6),
    ]);
  });

  it('dual-stack containers reach each other over both families; MAC from the IPv4 address', async () => {
    expect(web.ep.ip).toBe('10.90.0.2');
    expect(web.ep.ip6).toBe('fd00:90::2');
    expect(addrs(web.ns, 'eth0', '-6').map((a) => a.local)).toContain('fd00:90::2');
    expect(ipj<{ address: string }[]>(web.ns.name!, 'link', 'show', 'eth0')[0]!.address).toBe('02:42:0a:5a:00:02');
    // The host end is a bridge port: no IPv6 of its own (no link-local address, DAD or MLD).
    expect(addrs(t.H, web.ep.hostIfname, '-6')).toEqual([]);
    expect(ipj<{ inet6_addr_gen_mode: string }[]>(t.H.name!, 'link', 'show', web.ep.hostIfname)[0]!.inet6_addr_gen_mode).toBe('none');
    const [p4, p6, back6, tcp6] = await Promise.all([
      ping(db.ns, web.ep.ip),
      ping(db.ns, web.ep.ip6!),
      ping(web.ns, db.ep.ip6!),
      connect(db.ns, web.ep.ip6!, 80),
    ]);
    expect([p4, p6, back6]).toEqual([true, true, true]);
    // Within the bridge nothing is translated: the server sees db's own IPv6 address.
    expect(tcp6).toBe(db.ep.ip6);
    // Both containers have their IPv6 default route via the bridge's IPv6 address.
    const routes = ipj<{ dst: string; gateway?: string }[]>(web.ns.name!, '-6', 'route', 'show', 'default');
    expect(routes.map((r) => r.gateway)).toEqual([DS.info.ipv6Gateway]);
  });

  it('a published port answers from outside over IPv6 and IPv4, from the host, another container and itself over IPv6', async () => {
    const gw6 = DS.info.ipv6Gateway!;
    const [out6, out4, host6, lo4, peer6, hairpin6, bound6, bound6v4, any6, any6v4] = await Promise.all([
      connect(t.O, HOST_IP6, 8080),
      connect(t.O, HOST_IP, 8080),
      connect(t.H, HOST_IP6, 8080),
      connect(t.H, '127.0.0.1', 8081),
      connect(db.ns, HOST_IP6, 8080),
      connect(web.ns, HOST_IP6, 8080),
      connect(t.O, HOST_IP6, 8082),
      connect(t.O, HOST_IP, 8082),
      connect(t.O, HOST_IP6, 8083),
      connect(t.O, HOST_IP, 8083),
    ]);
    // From outside the container sees the real client, of either family.
    expect(out6).toBe(OUT_IP6);
    expect(out4).toBe(OUT_IP);
    // Locally made connections are masqueraded to the bridge's address, so the replies
    // come back through the host (as for IPv4).
    expect(host6).toBe(gw6);
    expect(lo4).toBe(DS.info.gateway);
    expect(peer6).toBe(gw6);
    expect(hairpin6).toBe(gw6);
    // Bound to one host IPv6 address: IPv6 only. '::': every IPv6 address, no IPv4.
    expect([bound6, bound6v4]).toEqual([OUT_IP6, null]);
    expect([any6, any6v4]).toEqual([OUT_IP6, null]);
    // As nft lists them: one dnat6_any element per port on every IPv6 address, one
    // dnat6_ip for the bound one, pub6 once for the container port.
    expect(elements(t.H, 'dnat6_any')).toContain('"fd00:90::2"');
    expect(elements(t.H, 'dnat6_ip')).toContain(HOST_IP6);
    expect(elements(t.H, 'pub6', 'set')).toContain('"fd00:90::2"');
  });

  it('::1: the kernel cannot NAT it (the replies are dropped); the LoopbackProxy serves it, for every-address ports and ports on ::1', async () => {
    // The kernel cannot serve a port at [::1]: a DNAT of it would have its replies dropped
    // (they come back on the bridge addressed to ::1, RFC 4291 2.5.3), so the table leaves
    // [::1] alone (pub: ip6 daddr ::1 return) and, with no proxy running, nothing answers.
    expect(await connect(t.H, '::1', 8080)).toBeNull();
    // A port on ::1 alone: recorded (its key held), no nftables element.
    const only = await container(DS, { publish: [{ hostIp: '::1', hostPort: 8089, containerPort: 80 }, { hostIp: '::1', hostPort: 8090, containerPort: 7, protocol: 'udp' }] });
    await servers.serve(only.ns, 80, 6);
    expect(elements(t.H, 'dnat6_ip')).not.toContain('8089');
    await expect(DS.attach(await scope.ns('6d'), { publish: [{ hostIp: '::1', hostPort: 8089, containerPort: 80 }] })).rejects.toMatchObject({ code: 'EEXIST' });

    // The proxy, in H (it listens on H's own [::1]), following the state directory.
    const proxy = spawnIn(t.H, `
      const { LoopbackProxy } = require(${JSON.stringify(path.resolve(__dirname, '../dist/network/proxy.js'))});
      LoopbackProxy.open({ stateDir: ${JSON.stringify(t.stateDir)} }).then((p) => {
        process.stdout.write('ready ' + JSON.stringify(p.ports.map((x) => x.protocol + '/' + x.port).sort()) + '\\n');
        process.on('SIGTERM', () => p.close().then(() => process.exit(0)));
      });`);
    try {
      const ready = await proxy.ready;
      expect(ready).toContain('"tcp/8080"');
      expect(ready).toContain('"tcp/8089"');
      expect(ready).toContain('"udp/8090"');
      // Every-address port and ::1 port answer at [::1]; the container sees the proxy (the
      // bridge's IPv6 address: it connects from the host).
      expect(await connect(t.H, '::1', 8080)).toBe(DS.info.ipv6Gateway);
      expect(await connect(t.H, '::1', 8089)).toBe(DS.info.ipv6Gateway);
      // UDP: a datagram relayed and its answer relayed back (socat's UDP echo in the container).
      servers.echoUdp(only.ns, 7);
      expect((await exec(t.H, ['sh', '-c', 'echo hello | timeout 3 socat -T2 - UDP6:[::1]:8090'])).stdout.trim()).toBe('hello');
      // Detached: the proxy stops listening (within its poll).
      await DS.detach(only.ns);
      for (let i = 0; i < 50 && (await connect(t.H, '::1', 8089)) !== null; i++) await new Promise((r) => setTimeout(r, 20));
      expect(await connect(t.H, '::1', 8089)).toBeNull();
      expect(await connect(t.H, '::1', 8080)).toBe(DS.info.ipv6Gateway);
    } finally {
      await proxy.stop();
    }
  });

  it('NAT66: egress is masqueraded, the outside server sees the host address; direct access from outside is dropped', async () => {
    const [egress6, egress4, direct, directUnpub, echo] = await Promise.all([
      connect(web.ns, OUT_IP6, 9000),
      connect(web.ns, OUT_IP, 9000),
      connect(t.O, web.ep.ip6!, 80),
      connect(t.O, web.ep.ip6!, 81),
      ping(t.O, web.ep.ip6!),
    ]);
    expect(egress6).toBe(HOST_IP6);
    expect(egress4).toBe(HOST_IP);
    expect([direct, directUnpub, echo]).toEqual([null, null, false]);
    expect(elements(t.H, 'guard6')).toContain('fd00:90::');
  });

  it('an IPv6-only network: no IPv4 anywhere; containers talk, get out through NAT66 and publish over IPv6', async () => {
    expect(V6.info.subnet).toBe('');
    expect(v1.ep.ip).toBe('');
    expect(v1.ep.ip6).toBe('fd00:91::2');
    // No IPv4 on the container, its routes or the bridge.
    expect(addrs(v1.ns, 'eth0', '-4')).toEqual([]);
    expect(ipj(v1.ns.name!, '-4', 'route', 'show')).toEqual([]);
    expect(addrs(t.H, V6.info.bridge, '-4')).toEqual([]);
    expect(addrs(t.H, V6.info.bridge, '-6').map((a) => a.local)).toContain('fd00:91::1');
    // The MAC from the address's host part (2): no IPv4 address to derive it from.
    expect(v1.ep.mac).toBe('02:42:00:00:00:02');
    expect(ipj<{ address: string }[]>(v1.ns.name!, 'link', 'show', 'eth0')[0]!.address).toBe('02:42:00:00:00:02');
    expect(v2.ep.mac).toBe('02:42:00:00:00:03');
    const [peer, out, published, published4] = await Promise.all([
      ping(v2.ns, v1.ep.ip6!),
      connect(v1.ns, OUT_IP6, 9000),
      connect(t.O, HOST_IP6, 9090),
      connect(t.O, HOST_IP, 9090),
    ]);
    expect(peer).toBe(true);
    expect(out).toBe(HOST_IP6);
    expect(published).toBe(OUT_IP6);
    // Published on every address of the families the container has: IPv6 only.
    expect(published4).toBeNull();
    // Nothing IPv4 in the table for it: no guard4 element, no dnat4 element.
    expect(elements(t.H, 'guard4')).not.toContain('fd00:91');
    expect(elements(t.H, 'dnat4_any')).not.toContain('9090');
    expect(elements(t.H, 'guard6')).toContain('fd00:91::');
  });

  it('routed mode: no NAT, the outside sees the container\'s own address and reaches its published container port directly', async () => {
    const [egress, directPub, directUnpub, echo, viaHost] = await Promise.all([
      connect(r1.ns, OUT_IP6, 9000),
      connect(t.O, r1.ep.ip6!, 80),
      connect(t.O, r1.ep.ip6!, 81),
      ping(t.O, r1.ep.ip6!),
      connect(t.O, HOST_IP6, 9191),
    ]);
    expect(egress).toBe(r1.ep.ip6);
    expect(directPub).toBe(OUT_IP6);
    // Only what is published: another port, or an echo request, is dropped.
    expect([directUnpub, echo]).toEqual([null, false]);
    // The host port is published too (DNAT, as on any network).
    expect(viaHost).toBe(OUT_IP6);
    // No guard for a routed prefix, and nothing in its source-NAT chain (its hairpin
    // chain still masquerades a container reaching a published port through the host).
    expect(elements(t.H, 'guard6')).not.toContain('2001:db8:92::');
    const snat = (net: Network) => nftJson(t.H.name!, 'chain', 'inet', T, `n${net.id.slice(0, 12)}_snat`).filter((o) => 'rule' in o);
    expect(snat(RT)).toEqual([]);
    expect(JSON.stringify(snat(V6))).toContain('fd00:91::');
  });

  it('networks are isolated over IPv6; a published port of one is reachable from the other via the host address', async () => {
    const [a, b, c, d, viaHost] = await Promise.all([
      connect(other.ns, web.ep.ip6!, 80),
      connect(other.ns, web.ep.ip6!, 81),
      ping(other.ns, web.ep.ip6!),
      connect(web.ns, other.ep.ip6!, 80),
      connect(other.ns, HOST_IP6, 8080),
    ]);
    expect([a, b, c, d]).toEqual([null, null, false, null]);
    expect(viaHost).toBe(DS.info.ipv6Gateway);
    // IPv6-only and routed networks are isolated from the dual-stack one too.
    expect(await Promise.all([connect(v1.ns, web.ep.ip6!, 80), connect(r1.ns, web.ep.ip6!, 80), ping(web.ns, v1.ep.ip6!)]))
      .toEqual([null, null, false]);
  });

  it('hosts files list each member\'s IPv6 address too, and names resolve to it', async () => {
    await t.nets.flushHosts();
    const webHosts = readFileSync(hosts('web'), 'utf8');
    expect(webHosts).toContain(`${db.ep.ip}\tdb`);
    expect(webHosts).toContain(`${db.ep.ip6}\tdb`);
    expect(webHosts).toContain(`${web.ep.ip6}\tweb`);
    const g = await withHosts(web.ns, hosts('web'), 'getent ahostsv6 db');
    expect(g.stdout).toContain(db.ep.ip6);
    expect((await withHosts(db.ns, hosts('db'), 'ping -6 -c1 -W1 web')).status).toBe(0);
    // And back: the IPv6 address to its name, as a PTR lookup through the hosts file.
    expect((await withHosts(web.ns, hosts('web'), `getent hosts ${db.ep.ip6}`)).stdout).toMatch(/\sdb\s*$/);
  });

  it('forwarding is on for IPv6, the bridges take no router advertisements, IPv4-only bridges are left without IPv6', async () => {
    expect(sysctl(t.H, 'net.ipv6.conf.all.forwarding')).toBe('1');
    expect(sysctl(t.H, `net.ipv6.conf.${DS.info.bridge}.accept_ra`)).toBe('0');
    expect(sysctl(t.H, `net.ipv6.conf.${V6.info.bridge}.forwarding`)).toBe('1');
  });

  it('static IPv6 addresses; a host part past 32 bits gets a random MAC no endpoint has', async () => {
    const s1 = await container(V6, { ip6: 'fd00:91::77' });
    const s2 = await container(V6, { ip6: 'fd00:91:0:0:1::5' });
    expect(s1.ep.ip6).toBe('fd00:91::77');
    expect(s1.ep.mac).toBe('02:42:00:00:00:77');
    expect(s2.ep.ip6).toBe('fd00:91::1:0:0:5');
    expect(s2.ep.mac).toMatch(/^06(:[0-9a-f]{2}){5}$/);
    expect(ipj<{ address: string }[]>(s2.ns.name!, 'link', 'show', 'eth0')[0]!.address).toBe(s2.ep.mac);
    expect(await ping(s2.ns, s1.ep.ip6!)).toBe(true);
    // An address another endpoint holds is refused before anything is made.
    await expect(container(V6, { ip6: 'fd00:91::77' })).rejects.toMatchObject({ code: 'EADDRINUSE' });
    await V6.detach(s1.ns);
    await V6.detach(s2.ns);
  });

  it('bad input is a TypeError or RangeError before anything is recorded or sent', async () => {
    const v4net = await t.nets.create({ name: 'only4', subnet: '10.94.0.0/24' });
    const ns = await scope.ns('6c');
    const links = ipj(t.H.name!, 'link').length;
    const cases: [Promise<unknown>, ErrorConstructor][] = [
      [v4net.attach(ns, { ip6: 'fd00::5' }), TypeError],
      [v4net.attach(ns, { publish: [{ hostIp: HOST_IP6, hostPort: 1, containerPort: 1 }] }), TypeError],
      [v4net.attach(ns, { publish: [{ hostIp: '::', hostPort: 1, containerPort: 1 }] }), TypeError],
      [V6.attach(ns, { ip: '10.0.0.5' }), TypeError],
      [V6.attach(ns, { publish: [{ hostIp: HOST_IP, hostPort: 1, containerPort: 1 }] }), TypeError],
      [V6.attach(ns, { ip6: '10.0.0.5' }), TypeError],
      [V6.attach(ns, { ip6: 'fd00:91::5%eth0' }), TypeError],
      [DS.attach(ns, { publish: [{ hostIp: '::ffff:192.0.2.1', hostPort: 1, containerPort: 1 }] }), TypeError],
      [DS.attach(ns, { ip6: 'fd00:99::5' }), RangeError], // not in the subnet
      [t.nets.create({ name: 'x1', ipv4: false }), TypeError],
      [t.nets.create({ name: 'x2', ipv4: false, subnet: '10.95.0.0/24', ipv6: true }), TypeError],
      [t.nets.create({ name: 'x3', ipv6: false, ipv6Subnet: 'fd00:95::/64' }), TypeError],
      [t.nets.create({ name: 'x4', ipv6Gateway: 'fd00:95::1' }), TypeError],
      [t.nets.create({ name: 'x5', ipv6Subnet: '10.95.0.0/24' }), TypeError],
      [t.nets.create({ name: 'x6', ipv6Subnet: 'fd00:95::/64', ipv6Range: 'fd00:96::/80' }), RangeError],
      [t.nets.create({ name: 'x7', ipv6Masquerade: 'no' as never, ipv6: true }), TypeError],
    ];
    for (const [p, kind] of cases) await expect(p).rejects.toBeInstanceOf(kind);
    // An IPv6 subnet another network has is the kernel's EEXIST, as for IPv4.
    await expect(t.nets.create({ name: 'x8', ipv6Subnet: 'fd00:90::/64' })).rejects.toBeInstanceOf(NetlinkError);
    expect(ipj(t.H.name!, 'link').length).toBe(links);
    expect(t.nets.list().map((n) => n.name).sort()).toEqual(['b', 'ds', 'only4', 'rt', 'v6only']);
    await t.nets.remove('only4');
  });
});

describe('IPv6: a table and networks from before IPv6', () => {
  it('open() adds the IPv6 twins to an IPv4-only table in place; the user chain, other chains and elements stay', async () => {
    const H = await scope.ns('6u');
    // The table an older netplumb made (the IPv4 reference), a user rule and a published port in it.
    nftIn(H.name!, ['-f', '-'], readFileSync(path.join(__dirname, 'fixtures', 'nft-layout.nft'), 'utf8'));
    nftIn(H.name!, ['add', 'rule', 'inet', T, 'user_forward', 'ip', 'saddr', '198.51.100.0/24', 'drop']);
    nftIn(H.name!, ['add', 'element', 'inet', T, 'dnat4_any', '{ tcp . 8080 : 10.88.0.2 . 80 }']);
    const nets = await Networks.open({ host: H, stateDir: tmpDir('np6-up') });
    // Exactly the dual-stack reference's base with IPv4 n1, plus what was there.
    const ref = await scope.ns('6r');
    nftIn(ref.name!, ['-f', '-'], layout6('base'));
    nftIn(ref.name!, ['add', 'rule', 'inet', T, 'user_forward', 'ip', 'saddr', '198.51.100.0/24', 'drop']);
    nftIn(ref.name!, ['add', 'element', 'inet', T, 'dnat4_any', '{ tcp . 8080 : 10.88.0.2 . 80 }']);
    expect(normalise(nftJson(H.name!, 'table', 'inet', T))).toEqual(normalise(nftJson(ref.name!, 'table', 'inet', T)));
    await nets.close();
  });

  it('a dual-stack network whose chains lack their IPv6 rules gets them again on open, in one transaction', async () => {
    const t = await topology();
    const stateDir = tmpDir('np6-re');
    const nets = await Networks.open({ host: t.H, stateDir });
    const n1 = await nets.create({ name: 'n1', bridge: 'br-n1', subnet: '10.88.0.0/16', ipv6Subnet: 'fd00:88::/64' });
    const prefix = `n${n1.id.slice(0, 12)}_`;
    // As a network made before IPv6 publishing: no IPv6 rules in its chains, no guard6 element.
    for (const chain of ['in', 'snat', 'hairpin']) {
      const rules = nftJson(t.H.name!, 'chain', 'inet', T, `${prefix}${chain}`).filter((o) => 'rule' in o) as { rule: { handle: number; expr: unknown } }[];
      for (const r of rules) if (JSON.stringify(r.rule.expr).includes('ip6')) nftIn(t.H.name!, ['delete', 'rule', 'inet', T, `${prefix}${chain}`, 'handle', String(r.rule.handle)]);
    }
    nftIn(t.H.name!, ['delete', 'element', 'inet', T, 'guard6', '{ fd00:88::/64 }']);
    await nets.close();
    const again = await Networks.open({ host: t.H, stateDir });
    const ref = await scope.ns('6r');
    nftIn(ref.name!, ['-f', '-'], layout6('dual'));
    expect(JSON.parse(JSON.stringify(normalise(nftJson(t.H.name!, 'table', 'inet', T))).replaceAll(prefix, 'n1_'))).toEqual(normalise(nftJson(ref.name!, 'table', 'inet', T)));
    await again.close();
  });
});

describe('IPv6: subnets, forwarding and router advertisements', () => {
  it('ipv6: true picks a /64 of the IPv6 pool that overlaps nothing routed; ipv6Range limits automatic addresses', async () => {
    const t = await topology({ ipv6Pools: [{ base: 'fd00:aa::/62', size: 64 }] });
    // Routed on the host already: the first /64 of the pool is skipped.
    ipcmd(t.H.name!, '-6', 'route', 'add', 'fd00:aa::/64', 'dev', 'uplink');
    const a = await t.nets.create({ name: 'a', ipv6: true });
    const b = await t.nets.create({ name: 'b', ipv6: true, ipv4: false });
    expect([a.info.ipv6Subnet, b.info.ipv6Subnet]).toEqual(['fd00:aa:0:1::/64', 'fd00:aa:0:2::/64']);
    expect(a.info.ipv6Gateway).toBe('fd00:aa:0:1::1');
    const c = await t.nets.create({ name: 'c', ipv6Subnet: 'fd00:bb::/64', ipv6Range: 'fd00:bb::100/120', ipv6Gateway: 'fd00:bb::fe' });
    const ns = await scope.ns('6c');
    const ep = await c.attach(ns);
    expect(ep.ip6).toBe('fd00:bb::100');
    expect(addrs(t.H, c.info.bridge, '-6').map((x) => x.local)).toContain('fd00:bb::fe');
    // The default pool, without ipv6Pools: a /64 of a unique local /48 (fdxx:xxxx:xxxx::/48).
    const u = await topology();
    const d = await u.nets.create({ name: 'd', ipv6: true });
    expect(d.info.ipv6Subnet).toMatch(/^fd[0-9a-f]{2}:[0-9a-f]{1,4}:[0-9a-f]{1,4}::\/64$/);
    await c.detach(ep);
    await t.nets.close();
    await u.nets.close();
  });

  it('turning forwarding on keeps router advertisements on interfaces that learn routes from them (accept_ra 2)', async () => {
    const H = await scope.ns('6r');
    // An uplink configured by SLAAC: routes of protocol 'ra', accept_ra 1.
    ipcmd(H.name!, 'link', 'add', 'up0', 'type', 'veth', 'peer', 'name', 'other0');
    for (const dev of ['up0', 'other0']) ipcmd(H.name!, 'link', 'set', dev, 'up');
    ipcmd(H.name!, '-6', 'route', 'add', '2001:db8:77::/64', 'dev', 'up0', 'proto', 'ra');
    for (const dev of ['up0', 'other0']) run('ip', ['netns', 'exec', H.name!, 'sysctl', '-qw', `net.ipv6.conf.${dev}.accept_ra=1`]);
    expect(sysctl(H, 'net.ipv6.conf.all.forwarding')).toBe('0');
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.message);
    process.on('warning', onWarning);
    try {
      const nets = await Networks.open({ host: H, stateDir: tmpDir('np6-ra') });
      await nets.create({ name: 'n', ipv6Subnet: 'fd00:cc::/64' });
      await new Promise((r) => setImmediate(r));
      expect(sysctl(H, 'net.ipv6.conf.all.forwarding')).toBe('1');
      expect(sysctl(H, 'net.ipv6.conf.up0.accept_ra')).toBe('2');
      // No routes learned there: left as it was (and, forwarding, it ignores RAs).
      expect(sysctl(H, 'net.ipv6.conf.other0.accept_ra')).toBe('1');
      expect(warnings.join('\n')).toMatch(/up0 has routes from router advertisements: accept_ra set to 2/);
      await nets.close();
    } finally {
      process.off('warning', onWarning);
    }
  });

  it('strace: an attach with a published port costs an IPv4-only network what it did before IPv6; a dual-stack one no more sendmsg calls', async () => {
    // A separate process, traced: the sendmsg calls of one Network.attach (after a
    // warm-up attach) and the netlink messages in each. The IPv4 numbers are those the
    // code before IPv6 sends (measured on its branch): host batch (veth, master, up),
    // container batch (lo, link, address, route, ...), nftables (begin, dnat4_any, pub4, end).
    const H = await scope.ns('6s');
    const script = path.join('/run', `attach6-${process.pid}.cjs`);
    const dist = path.resolve(__dirname, '../dist/index.js');
    writeFileSync(script, `
      const { Netns, Networks } = require(${JSON.stringify(dist)});
      (async () => {
        const host = await Netns.open(${JSON.stringify(H.name)});
        const nets = await Networks.open({ host, stateDir: ${JSON.stringify(tmpDir('np6-st'))} });
        const v4 = await nets.create({ name: 'v4', subnet: '10.78.0.0/24' });
        const ds = await nets.create({ name: 'ds', subnet: '10.79.0.0/24', ipv6Subnet: 'fd00:79::/64' });
        const c = [];
        for (let i = 0; i < 4; i++) { c.push(await Netns.create(${JSON.stringify(H.name)} + 'c' + i)); await c[i].links.get('lo'); }
        await v4.attach(c[0], { publish: [{ hostPort: 20000, containerPort: 80 }] });
        await ds.attach(c[1], { publish: [{ hostPort: 20001, containerPort: 80 }] });
        process.stderr.write('ATTACH-4\\n');
        await v4.attach(c[2], { publish: [{ hostPort: 20002, containerPort: 80 }] });
        process.stderr.write('ATTACH-6\\n');
        await ds.attach(c[3], { publish: [{ hostPort: 20003, containerPort: 80 }] });
        process.stderr.write('END\\n');
        await nets.close();
        for (const x of c) { const n = x.name; x.close(); await Netns.delete(n); }
      })();`);
    const { calls } = strace([process.execPath, script], ['sendmsg', 'write'], 'write');
    unlinkSync(script);
    const between = (from: string, to: string) => {
      const i = calls.findIndex((c) => c.name === 'write' && c.data.toString().includes(from));
      const j = calls.findIndex((c) => c.name === 'write' && c.data.toString().includes(to));
      return calls.slice(i + 1, j).filter((c) => c.name === 'sendmsg' && c.line.includes('AF_NETLINK'));
    };
    const v4 = between('ATTACH-4', 'ATTACH-6');
    const ds = between('ATTACH-6', 'END');
    expect(v4.map((c) => messages(c.data).length)).toEqual([3, 5, 4]);
    expect(v4.map((c) => c.data.length)).toEqual([364, 220, 208]);
    // Dual stack: the same three sendmsg; the container batch has its IPv6 address and
    // route, the nftables batch dnat6_any and pub6 too.
    expect(ds.map((c) => messages(c.data).length)).toEqual([3, 7, 6]);
  });

  it('an IPv4-only network does no IPv6 at all on its links (no link-local address, DAD or MLD)', async () => {
    const t = await topology();
    const n = await t.nets.create({ name: 'plain', subnet: '10.96.0.0/24' });
    const c = await container(n, { publish: [{ hostPort: 8080, containerPort: 80 }] });
    expect(addrs(c.ns, 'eth0', '-6')).toEqual([]);
    expect(addrs(t.H, n.info.bridge, '-6')).toEqual([]);
    expect(addrs(t.H, c.ep.hostIfname, '-6')).toEqual([]);
    const eth0 = ipj<{ inet6_addr_gen_mode: string }[]>(c.ns.name!, 'link', 'show', 'eth0')[0]!;
    expect(eth0.inet6_addr_gen_mode).toBe('none');
    // Its published port is the IPv4 elements only, as ever.
    expect(elements(t.H, 'dnat4_any')).toContain('10.96.0.2');
    expect(elements(t.H, 'dnat6_any')).toBe('[]');
    expect(elements(t.H, 'pub6', 'set')).toBe('[]');
    await t.nets.close();
  });
});
