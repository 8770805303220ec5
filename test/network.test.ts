// Docker's single-host network model, proven with real traffic between throwaway
// namespaces: a "host" namespace H where the bridges and the nftables table live, an
// "outside" namespace O joined to H by a veth (H 192.0.2.1, O 192.0.2.2, H's default
// route via O), and containers as namespaces attached through the Networks API. The
// kernel's state is read back with ip -j and nft -j, never from the library.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AddressInUseError, NetlinkError, Netns, type EndpointInfo, type Network, Networks, type AttachOptions } from '../src';
import { drop, ip, tcp } from '../src/nft';
import { ip as ipcmd, ipj, Scope, uniq } from './helpers';
import { layout6, nftIn, nftJson, normalise } from './nft-helpers';
import { connect, exec, haveSocat, HOST_IP, joinOutside, OUT_IP, ping, Servers, withHosts } from './traffic';

const scope = new Scope();
const servers = new Servers();
const dirs: string[] = [];
// The project's verified reference ruleset, a fixture in the repository.
const LAYOUT = path.join(__dirname, 'fixtures', 'nft-layout.nft');
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

/** H and O joined by a veth, H's default route via O, a controller on H. */
async function topology(): Promise<Topology> {
  const H = await scope.ns('nh');
  const O = await scope.ns('no');
  joinOutside(H, O);
  ipcmd(H.name!, 'route', 'add', 'default', 'via', OUT_IP);
  const stateDir = tmpDir('np-state');
  const nets = await Networks.open({ host: H, stateDir });
  return { H, O, nets, stateDir };
}

interface Ct { ns: Netns; ep: EndpointInfo }

/** A container: a fresh named namespace attached to `net`. */
async function container(net: Network, opts: AttachOptions = {}): Promise<Ct> {
  const ns = await scope.ns('nc');
  return { ns, ep: await net.attach(ns, opts) };
}

/** Deletes a container's namespace for good (name and handle). */
async function destroy(ns: Netns): Promise<void> {
  const name = ns.name!;
  ns.close();
  await Netns.delete(name);
}

/** Link names in a namespace, sorted (ip -j link). */
function linkNames(ns: Netns): string[] {
  return ipj<{ ifname: string }[]>(ns.name!, 'link', 'show').map((l) => l.ifname).sort();
}

/** Waits (2 s at most) until a link is gone from a namespace: namespace teardown is asynchronous. */
async function linkGone(ns: Netns, name: string): Promise<void> {
  for (let i = 0; i < 100 && linkNames(ns).includes(name); i++) await new Promise((r) => setTimeout(r, 20));
  expect(linkNames(ns)).not.toContain(name);
}

/** The owner's table as nft -j lists it, handles and counters dropped. */
function table(ns: Netns): unknown {
  return normalise(nftJson(ns.name!, 'table', 'inet', T));
}

/** Elements of one map (or set), as nft -j lists them, in one string for searching. */
function elements(ns: Netns, name: string, kind: 'map' | 'set' = 'map'): string {
  const obj = nftJson(ns.name!, kind, 'inet', T, name)[0] as Record<string, { elem?: unknown[] }> | undefined;
  return JSON.stringify(obj?.[kind]?.elem ?? []);
}

describe.skipIf(!haveSocat)('bridge networks: traffic', () => {
  let t: Topology;
  let A: Network, B: Network, D: Network;
  let web: Ct, db: Ct, other: Ct, d1: Ct, d2: Ct;
  let i1: Ct, i2: Ct; // on the internal network
  let hostsDir: string;
  const hosts = (n: string) => path.join(hostsDir, n, 'hosts');

  beforeAll(async () => {
    t = await topology();
    hostsDir = tmpDir('np-hosts');
    A = await t.nets.create({ name: 'a', subnet: '10.88.0.0/24' });
    B = await t.nets.create({ name: 'b', subnet: '10.89.0.0/24' });
    D = await t.nets.defaultNetwork();
    // The outside knows the way to A's containers: only the guard stops it.
    ipcmd(t.O.name!, 'route', 'add', '10.88.0.0/24', 'via', HOST_IP);
    web = await container(A, {
      name: 'web',
      aliases: ['www'],
      hostsFile: hosts('web'),
      hostsFileScope: 'members',
      publish: [{ hostPort: 8080, containerPort: 80 }, { hostIp: '127.0.0.1', hostPort: 8081, containerPort: 80 }],
    });
    db = await container(A, { name: 'db', hostsFile: hosts('db'), hostsFileScope: 'members' });
    other = await container(B, { name: 'other' });
    d1 = await container(D, { name: 'd1', hostsFile: hosts('d1'), hostsFileScope: 'members' });
    d2 = await container(D, { name: 'd2' });
    await Promise.all([
      servers.serve(web.ns, 80),
      servers.serve(web.ns, 81), // never published
      servers.serve(other.ns, 80),
      servers.serve(t.O, 9000),
    ]);
  });

  it('containers on one bridge ping each other (user-defined and default network)', async () => {
    expect(web.ep.ip).toBe('10.88.0.2');
    expect(await Promise.all([ping(web.ns, db.ep.ip), ping(db.ns, web.ep.ip), ping(d1.ns, d2.ep.ip)])).toEqual([true, true, true]);
    expect(D.info.subnet).toBe('172.17.0.0/16');
    // MAC from the IP, as Docker does; the host side on the bridge, hairpin on.
    const eth0 = ipj<{ address: string }[]>(web.ns.name!, 'link', 'show', 'eth0')[0]!;
    expect(eth0.address).toBe('02:42:0a:58:00:02');
    const hv = ipj<{ master: string; linkinfo: { info_slave_data: { hairpin: boolean } } }[]>(t.H.name!, 'link', 'show', web.ep.hostIfname)[0]!;
    expect(hv.master).toBe(A.info.bridge);
    expect(hv.linkinfo.info_slave_data.hairpin).toBe(true);
  });

  it('egress is masqueraded: the outside server sees the host address', async () => {
    expect(await Promise.all([connect(web.ns, OUT_IP, 9000), connect(d1.ns, OUT_IP, 9000)])).toEqual([HOST_IP, HOST_IP]);
  });

  it('a published port is reached from outside, the host, 127.0.0.1, another container and the container itself', async () => {
    const gw = A.info.gateway;
    const [fromOut, fromHost, fromLo, fromPeer, hairpin, loFromOut] = await Promise.all([
      connect(t.O, HOST_IP, 8080),
      connect(t.H, HOST_IP, 8080),
      connect(t.H, '127.0.0.1', 8081),
      connect(db.ns, HOST_IP, 8080),
      connect(web.ns, HOST_IP, 8080),
      connect(t.O, HOST_IP, 8081),
    ]);
    // The container sees the real client from outside; locally made connections are
    // masqueraded to the bridge address so that the replies come back through the host.
    expect(fromOut).toBe(OUT_IP);
    expect(fromHost).toBe(gw);
    expect(fromLo).toBe(gw);
    expect(fromPeer).toBe(gw);
    expect(hairpin).toBe(gw);
    // Published on 127.0.0.1 only: not from outside.
    expect(loFromOut).toBeNull();
  });

  it('direct access from outside to a container address is dropped', async () => {
    const r = await Promise.all([connect(t.O, web.ep.ip, 80), connect(t.O, web.ep.ip, 81), ping(t.O, web.ep.ip)]);
    expect(r).toEqual([null, null, false]);
  });

  it('networks are isolated; published ports of one are reachable from the other via the host address', async () => {
    const [a, b, c, d, viaHost] = await Promise.all([
      connect(other.ns, web.ep.ip, 80),
      connect(other.ns, web.ep.ip, 81),
      ping(other.ns, web.ep.ip),
      connect(web.ns, other.ep.ip, 80),
      connect(other.ns, HOST_IP, 8080),
    ]);
    expect([a, b, c, d]).toEqual([null, null, false, null]);
    // Leaving B's bridge for A's, the connection is masqueraded as Docker does (B's
    // source NAT: out of its bridge, from its subnet).
    expect(viaHost).toBe(A.info.gateway);
  });

  it('icc=false: containers of the network cannot reach each other, each still reaches the gateway and outside', async () => {
    const C = await t.nets.create({ name: 'c', subnet: '10.90.0.0/24', icc: false });
    const c1 = await container(C);
    const c2 = await container(C);
    const r = await Promise.all([
      ping(c1.ns, c2.ep.ip),
      ping(c2.ns, c1.ep.ip),
      ping(c1.ns, C.info.gateway),
      ping(c2.ns, C.info.gateway),
      connect(c1.ns, OUT_IP, 9000),
    ]);
    expect(r).toEqual([false, false, true, true, HOST_IP]);
    // The bridge ports are isolated (bridge -j would say so too; ip -d shows it).
    const port = ipj<{ linkinfo: { info_slave_data: { isolated: boolean } } }[]>(t.H.name!, 'link', 'show', c1.ep.hostIfname)[0]!;
    expect(port.linkinfo.info_slave_data.isolated).toBe(true);
  });

  it('an internal network cannot get out (nor be reached); its containers reach each other', async () => {
    const I = await t.nets.create({ name: 'i', subnet: '10.91.0.0/24', internal: true });
    i1 = await container(I);
    i2 = await container(I);
    // No default route is given; add one by hand so that the firewall, not the routing
    // table, has to stop the traffic.
    expect(ipj<{ dst: string }[]>(i1.ns.name!, 'route').map((r) => r.dst)).not.toContain('default');
    ipcmd(i1.ns.name!, 'route', 'add', 'default', 'via', I.info.gateway);
    ipcmd(t.O.name!, 'route', 'add', '10.91.0.0/24', 'via', HOST_IP);
    await servers.serve(i2.ns, 80);
    const r = await Promise.all([
      ping(i1.ns, i2.ep.ip),
      connect(i1.ns, i2.ep.ip, 80),
      ping(i1.ns, OUT_IP),
      connect(i1.ns, OUT_IP, 9000),
      connect(t.O, i2.ep.ip, 80),
      connect(web.ns, i2.ep.ip, 80),
    ]);
    expect(r).toEqual([true, i1.ep.ip, false, null, null, null]);
  });

  it("a drop in the user chain wins over netplumb's accept; removing it restores access", async () => {
    const tx = t.H.nft.transaction();
    tx.addRule({ family: 'inet', table: T, chain: 'user_forward', rule: [ip.daddr.eq(web.ep.ip), tcp.dport.eq(80), drop()] });
    const [handle] = (await tx.commit()).handles;
    expect(nftIn(t.H.name!, ['list', 'chain', 'inet', T, 'user_forward'])).toContain(`ip daddr ${web.ep.ip} tcp dport 80 drop`);
    expect(await Promise.all([connect(t.O, HOST_IP, 8080), connect(other.ns, HOST_IP, 8080)])).toEqual([null, null]);
    const del = t.H.nft.transaction();
    del.deleteRule({ family: 'inet', table: T, chain: 'user_forward', handle: handle! });
    await del.commit();
    expect(await connect(t.O, HOST_IP, 8080)).toBe(OUT_IP);
  });

  it('none, host and container modes', async () => {
    // none: a namespace with lo only, up.
    const name = uniq('nn');
    const none = await t.nets.noneMode(name);
    scope.handles.push(none);
    scope.names.push(name);
    const links = ipj<{ ifname: string; flags: string[] }[]>(name, 'link', 'show');
    expect(links.map((l) => l.ifname)).toEqual(['lo']);
    expect(links[0]!.flags).toContain('UP');

    // host: the host's namespace; publishing is ignored with a warning.
    const warnings: Error[] = [];
    const onWarning = (w: Error) => warnings.push(w);
    process.on('warning', onWarning);
    try {
      const quiet = await t.nets.hostMode();
      const h = await t.nets.hostMode({ publish: [{ hostPort: 8090, containerPort: 80 }] });
      await new Promise((r) => setImmediate(r));
      expect(h.sameAs(t.H) && quiet.sameAs(t.H)).toBe(true);
      h.close();
      quiet.close();
    } finally {
      process.off('warning', onWarning);
    }
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.name).toBe('NetplumbWarning');
    expect(warnings[0]!.message).toMatch(/published ports are ignored/);
    expect(elements(t.H, 'dnat4_any')).not.toContain('8090');

    // container: join the namespace of an existing endpoint.
    const joined = await t.nets.containerMode(web.ep);
    expect(joined.sameAs(web.ns)).toBe(true);
    joined.close();
    await expect(t.nets.containerMode('0'.repeat(64))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('name resolution: all-members hosts files (hostsFileScope members) carry every member and alias, follow attach and detach; none on the default network', async () => {
    // Written off the attach's path; flushHosts() waits for the writes.
    await t.nets.flushHosts();
    const webHosts = readFileSync(hosts('web'), 'utf8');
    expect(webHosts).toContain(`${web.ep.ip}\tweb www`);
    expect(webHosts).toContain(`${db.ep.ip}\tdb`);
    expect(readFileSync(hosts('db'), 'utf8')).toContain(`${web.ep.ip}\tweb www`);
    // Resolution for real: /etc/hosts replaced by the file, as a runtime mounts it.
    const g = await withHosts(web.ns, hosts('web'), 'getent hosts db');
    expect(g.stdout.split(/\s+/)[0]).toBe(db.ep.ip);
    expect((await withHosts(db.ns, hosts('db'), 'ping -c1 -W1 www')).status).toBe(0);

    // A new member appears in the others' files, and goes when it leaves.
    const cache = await container(A, { name: 'cache', aliases: ['redis'] });
    await t.nets.flushHosts();
    expect(readFileSync(hosts('web'), 'utf8')).toContain(`${cache.ep.ip}\tcache redis`);
    expect((await withHosts(web.ns, hosts('web'), 'getent hosts redis')).stdout).toContain(cache.ep.ip);
    await A.detach(cache.ns);
    await t.nets.flushHosts();
    expect(readFileSync(hosts('web'), 'utf8')).not.toContain('cache');
    expect((await withHosts(web.ns, hosts('web'), 'getent hosts cache')).status).not.toBe(0);

    // The default network, as docker0: no peer names.
    const d1Hosts = readFileSync(hosts('d1'), 'utf8');
    expect(d1Hosts).not.toContain('d2');
    expect(d1Hosts).not.toContain(d2.ep.ip);
    expect((await withHosts(d1.ns, hosts('d1'), 'getent hosts d2')).status).not.toBe(0);
    expect(t.nets.hostsFor(d1.ep.netnsId, { scope: 'members' })).not.toContain('d2');
  });

  it('with br_netfilter off in the host namespace, the same paths hold', async () => {
    // On by default here (the module is loaded): bridged traffic then passes the inet
    // forward hook too. The layout must work either way.
    const get = async () => (await exec(t.H, ['sysctl', '-n', 'net.bridge.bridge-nf-call-iptables'])).stdout.trim();
    const was = await get();
    await exec(t.H, ['sysctl', '-qw', 'net.bridge.bridge-nf-call-iptables=0']);
    try {
      expect(await get()).toBe('0');
      const gw = A.info.gateway;
      const r = await Promise.all([
        ping(web.ns, db.ep.ip),
        connect(t.O, HOST_IP, 8080),
        connect(db.ns, HOST_IP, 8080),
        connect(web.ns, HOST_IP, 8080),
        connect(web.ns, OUT_IP, 9000),
        ping(i1.ns, i2.ep.ip),
        connect(t.O, web.ep.ip, 80),
        connect(other.ns, web.ep.ip, 81),
        connect(i1.ns, OUT_IP, 9000),
      ]);
      expect(r).toEqual([true, OUT_IP, gw, gw, HOST_IP, true, null, null, null]);
    } finally {
      await exec(t.H, ['sysctl', '-qw', `net.bridge.bridge-nf-call-iptables=${was}`]);
    }
  });

  it('concurrent attaches get distinct addresses', async () => {
    const cts = await Promise.all(Array.from({ length: 6 }, () => scope.ns('nc')));
    const eps = await Promise.all(cts.map((ns) => A.attach(ns)));
    const seen = cts.map((ns) => ipj<{ addr_info: { local: string }[] }[]>(ns.name!, '-4', 'addr', 'show', 'dev', 'eth0')[0]!.addr_info[0]!.local);
    expect(seen).toEqual(eps.map((e) => e.ip));
    expect(new Set([...seen, web.ep.ip, db.ep.ip]).size).toBe(8);
    await Promise.all(cts.map((ns) => A.detach(ns)));
  });

  it('detach is idempotent, also once the container namespace is gone', async () => {
    const x = await container(A, { publish: [{ hostPort: 8091, containerPort: 80 }] });
    expect(await A.detach(x.ns)).toMatchObject({ id: x.ep.id, ip: x.ep.ip });
    // Unreachable at once: the host end down, in the reap group, off the bridge's forwarding.
    const quiet = ipj<{ flags: string[]; group: string }[]>(t.H.name!, '-d', 'link', 'show', 'dev', x.ep.hostIfname)[0];
    expect(quiet?.flags).not.toContain('UP');
    expect(await ping(web.ns, x.ep.ip)).toBe(false);
    expect(await A.detach(x.ns)).toBeUndefined();
    expect(await A.detach(x.ep)).toBeUndefined();
    await t.nets.reap();
    expect(linkNames(t.H)).not.toContain(x.ep.hostIfname);
    expect(linkNames(x.ns)).toEqual(['lo']);

    const y = await container(A, { publish: [{ hostPort: 8092, containerPort: 80 }] });
    await destroy(y.ns);
    // A closed handle cannot say which endpoint it was: a TypeError, not a silent no-op.
    await expect(A.detach(y.ns)).rejects.toBeInstanceOf(TypeError);
    expect(A.endpoints().map((e) => e.id)).toContain(y.ep.id);
    await A.detach(y.ep);
    await A.detach(y.ep.id);
    await linkGone(t.H, y.ep.hostIfname);
    const dnat = elements(t.H, 'dnat4_any');
    expect(dnat).not.toContain('8091');
    expect(dnat).not.toContain('8092');
    expect(elements(t.H, 'pub4', 'set')).not.toContain(`"${y.ep.ip}"`);
    expect(A.endpoints().map((e) => e.id)).not.toContain(y.ep.id);

    // A namespace that dies without a detach: nsfs inode numbers are reused, so the next
    // namespace very likely has its identity; attaching it must still work.
    const w = await container(A, { name: 'w', hostsFile: hosts('w'), hostsFileScope: 'members' });
    await destroy(w.ns);
    await linkGone(t.H, w.ep.hostIfname);
    // (The number is freed a little after the namespace's links are gone.)
    let n = await scope.ns('nc');
    for (let i = 0; i < 20 && n.id !== w.ep.netnsId; i++) {
      await new Promise((r) => setTimeout(r, 25));
      n = await scope.ns('nc');
    }
    const reused = n.id === w.ep.netnsId;
    const ep = await A.attach(n, { name: 'n', hostsFile: hosts('n'), hostsFileScope: 'members' });
    await t.nets.flushHosts();
    if (reused) {
      // The dead endpoint was dropped (its address freed): its name is no one's peer.
      expect(A.endpoints().map((e) => e.id)).not.toContain(w.ep.id);
      expect(readFileSync(hosts('n'), 'utf8')).not.toMatch(/\tw\n/);
      expect(readFileSync(hosts('web'), 'utf8')).not.toMatch(/\tw\n/);
    }
    await A.detach(ep);
    await A.detach(w.ep);
    expect(A.endpoints().map((e) => e.id)).not.toContain(w.ep.id);
  });

  it('a failed attach rolls back everything and changes nothing', async () => {
    const snapshot = () => ({ links: linkNames(t.H), table: table(t.H), endpoints: A.endpoints().map((e) => e.id).sort() });
    // Learn which address the next attach gets, then free it again.
    const probe = await container(A);
    await A.detach(probe.ns);
    await t.nets.reap();
    const before = snapshot();
    const z = await scope.ns('nz');

    // A static address someone holds.
    const taken = await A.attach(z, { ip: db.ep.ip }).catch((e: unknown) => e);
    expect(taken).toBeInstanceOf(AddressInUseError);
    expect(snapshot()).toEqual(before);
    expect(linkNames(z)).toEqual(['lo']);

    // A host port another container publishes: the whole attach fails with EEXIST.
    const clash = await A.attach(z, { publish: [{ hostPort: 8093, containerPort: 80 }, { hostPort: 8080, containerPort: 80 }] }).catch((e: unknown) => e);
    expect(clash).toBeInstanceOf(NetlinkError);
    expect((clash as NetlinkError).code).toBe('EEXIST');
    expect(snapshot()).toEqual(before);
    expect(linkNames(z)).toEqual(['lo']);
    // A hosts file that cannot be written fails the attach after everything else was made.
    writeFileSync(path.join(hostsDir, 'plain'), '');
    const ghost = await A.attach(z, { name: 'ghost', hostsFile: path.join(hostsDir, 'plain', 'hosts') }).catch((e: unknown) => e);
    expect(ghost).toBeInstanceOf(Error);
    expect(snapshot()).toEqual(before);
    expect(linkNames(z)).toEqual(['lo']);
    expect(readFileSync(hosts('web'), 'utf8')).not.toContain('ghost');
    expect(JSON.stringify(t.nets.inspect('a'))).not.toContain('ghost');
    // The first container keeps its port; db keeps its address.
    expect(await connect(t.O, HOST_IP, 8080)).toBe(OUT_IP);
    expect(await ping(web.ns, db.ep.ip)).toBe(true);
    // Neither failure consumed an address: the next attach gets the probe's.
    const ok = await A.attach(z);
    expect(ok.ip).toBe(probe.ep.ip);
    await A.detach(ok);
  });

  it('a failed attach with { create }: the namespace begun while the record was written is gone again', async () => {
    const snapshot = () => ({ links: linkNames(t.H), table: table(t.H), endpoints: A.endpoints().map((e) => e.id).sort() });
    const probe = await container(A);
    await A.detach(probe.ns);
    await t.nets.reap();
    const before = snapshot();
    const gone = async (name: string) => {
      expect(await Netns.list()).not.toContain(name);
      expect(readFileSync('/proc/self/mountinfo', 'utf8')).not.toContain(`/${name} `);
    };

    // Refused by the record (the address is db's; the port is web's): the namespace was
    // being made meanwhile, and is deleted again.
    const n1 = uniq('nk');
    expect(await A.attach({ create: n1 }, { ip: db.ep.ip }).catch((e: unknown) => e)).toBeInstanceOf(AddressInUseError);
    await gone(n1);
    const n2 = uniq('nk');
    const clash = (await A.attach({ create: n2 }, { publish: [{ hostPort: 8080, containerPort: 80 }] }).catch((e: unknown) => e)) as NetlinkError;
    expect(clash.code).toBe('EEXIST');
    await gone(n2);
    // A name that is taken: EEXIST from the kernel side, the record dropped, the other
    // namespace untouched.
    const taken = await scope.ns('nk');
    const named = (await A.attach({ create: taken.name! }).catch((e: unknown) => e)) as NetlinkError;
    expect(named.code).toBe('EEXIST');
    expect(linkNames(taken)).toEqual(['lo']);
    expect(snapshot()).toEqual(before);

    // And then the same attach works, with the probe's address (none was consumed).
    const n3 = uniq('nk');
    const { netns, ...ok } = await A.attach({ create: n3 });
    expect(ok.ip).toBe(probe.ep.ip);
    expect(ok.netnsPath).toBe(path.join('/run/netns', n3));
    expect(netns.sameAs(await Netns.open(n3).then((h) => (scope.handles.push(h), h)))).toBe(true);
    expect(await ping(netns, web.ep.ip)).toBe(true);
    await A.detach(ok);
    netns.close();
    await Netns.delete(n3);
  });
});

describe('bridge networks: layout and removal', () => {
  it('a full bridge (1,023 ports): ports still waiting to be reaped are deleted to make room; then EXFULL naming the network, nothing half-made', async () => {
    const H = await scope.ns('nf');
    // Reaped only on demand here, so the detached port below is certainly still waiting.
    const nets = await Networks.open({ host: H, stateDir: tmpDir('np-state'), reap: { delayMs: 600_000 } });
    try {
      const net = await nets.create({ name: 'full', bridge: 'br-full', subnet: '10.91.0.0/16' });
      // 1,021 ports that are not containers', then two containers: the bridge is full.
      const filler = Array.from({ length: 1021 }, (_, i) => `link add f${i} type veth peer name f${i}p\nlink set f${i} master br-full\n`).join('');
      execFileSync('ip', ['-n', H.name!, '-batch', '-'], { input: filler });
      const c1 = await container(net);
      const c2 = await container(net);
      // Over 2,000 links: listed without details, in a buffer that holds them (a filter
      // leaves the links it drops as empty objects).
      const links = (...args: string[]) => (JSON.parse(execFileSync('ip', ['-j', '-n', H.name!, 'link', 'show', ...args], { encoding: 'utf8', maxBuffer: 64 << 20 })) as { ifname?: string }[])
        .flatMap((l) => (l.ifname === undefined ? [] : [l.ifname])).sort();
      const ports = () => links('master', 'br-full').length;
      const waiting = () => links('group', String(nets.reapGroup)).length;
      expect(ports()).toBe(1023);

      // c1 detached: its port waits in the reap group (still a port of the bridge). The
      // next attach is refused by the kernel, deletes the group, and goes through.
      await net.detach(c1.ns);
      expect(waiting()).toBe(1);
      expect(ports()).toBe(1023);
      const c3 = await container(net);
      expect(waiting()).toBe(0);
      expect(ports()).toBe(1023);
      expect(await ping(c3.ns, c2.ep.ip)).toBe(true);

      // Nothing left to reap: EXFULL, naming the network; no record, no link, no namespace.
      const endpoints = net.endpoints().length;
      const before = links();
      const name = uniq('nf');
      const e = (await net.attach({ create: name }).catch((x: unknown) => x)) as NetlinkError;
      expect(e).toBeInstanceOf(NetlinkError);
      expect(e.code).toBe('EXFULL');
      expect(e.message).toMatch(/network "full": its bridge has all the ports a Linux bridge takes/);
      expect(net.endpoints().length).toBe(endpoints);
      expect(links()).toEqual(before);
      expect(await Netns.list()).not.toContain(name);
      await net.detach(c2.ns);
      await net.detach(c3.ns);
    } finally {
      await nets.close();
    }
  });

  it('nft lists the reference layout for one network; remove() is EBUSY with endpoints, then leaves the base layout only', async () => {
    const t = await topology();
    const ref = await scope.ns('nr');
    // An IPv4-only network: the reference's base (with its IPv6 twins) and n1's IPv4 rules only.
    nftIn(ref.name!, ['-f', '-'], layout6('base'));
    const n1 = await t.nets.create({ name: 'n1', bridge: 'br-n1', subnet: '10.88.0.0/16' });
    const prefix = `n${n1.id.slice(0, 12)}_`;
    const mine = JSON.parse(JSON.stringify(table(t.H)).replaceAll(prefix, 'n1_'));
    expect(mine).toEqual(table(ref));

    const c = await container(n1, { publish: [{ hostPort: 8080, containerPort: 80 }] });
    expect(JSON.stringify(table(t.H))).toContain(c.ep.ip);
    await expect(t.nets.remove('n1')).rejects.toMatchObject({ code: 'EBUSY' });
    expect(linkNames(t.H)).toContain('br-n1');
    await n1.detach(c.ns);
    await t.nets.remove('n1');
    expect(linkNames(t.H)).not.toContain('br-n1');
    expect(t.nets.list()).toEqual([]);
    // The reference without its network: maps flushed, per-network chains deleted.
    const chains = ['n1_in', 'n1_out', 'n1_snat', 'n1_hairpin', 'n1_guard'];
    nftIn(ref.name!, ['-f', '-'], [
      ...['fwd_in', 'fwd_out', 'snat_in', 'snat_out', 'guard4', 'guard6'].map((m) => `flush map inet ${T} ${m}`),
      ...chains.map((ch) => `flush chain inet ${T} ${ch}`),
      ...chains.map((ch) => `delete chain inet ${T} ${ch}`),
    ].join('\n'));
    expect(table(t.H)).toEqual(table(ref));
  });

  it('a dual-stack network: nft lists the dual-stack reference; its removal leaves the base', async () => {
    const t = await topology();
    const ref = await scope.ns('nr');
    nftIn(ref.name!, ['-f', '-'], layout6('dual'));
    const n1 = await t.nets.create({ name: 'n1', bridge: 'br-n1', subnet: '10.88.0.0/16', ipv6Subnet: 'fd00:88::/64' });
    const prefix = `n${n1.id.slice(0, 12)}_`;
    expect(JSON.parse(JSON.stringify(table(t.H)).replaceAll(prefix, 'n1_'))).toEqual(table(ref));
    await t.nets.remove('n1');
    const base = await scope.ns('nb');
    nftIn(base.name!, ['-f', '-'], layout6('base'));
    const chains = ['n1_in', 'n1_out', 'n1_snat', 'n1_hairpin', 'n1_guard'];
    nftIn(base.name!, ['-f', '-'], [
      ...['fwd_in', 'fwd_out', 'snat_in', 'snat_out', 'guard4', 'guard6'].map((m) => `flush map inet ${T} ${m}`),
      ...chains.map((ch) => `flush chain inet ${T} ${ch}`),
      ...chains.map((ch) => `delete chain inet ${T} ${ch}`),
    ].join('\n'));
    expect(table(t.H)).toEqual(table(base));
  });
});

describe.skipIf(!haveSocat)('bridge networks: restart and gc', () => {
  it('a new controller reloads networks and endpoints, reconciles dead ones, and gc() finds orphans', async () => {
    const t = await topology();
    const N = await t.nets.create({ name: 'r', subnet: '10.77.0.0/24' });
    const r1 = await container(N, { publish: [{ hostPort: 8080, containerPort: 80 }] });
    const r2 = await container(N, { publish: [{ hostPort: 8082, containerPort: 80 }] });
    await servers.serve(r1.ns, 80);
    await t.nets.close();

    // While no controller runs, r2's namespace dies (its veth pair with it).
    await destroy(r2.ns);
    await linkGone(t.H, r2.ep.hostIfname);
    expect(elements(t.H, 'dnat4_any')).toContain('8082');

    const nets = await Networks.open({ host: t.H, stateDir: t.stateDir });
    expect(nets.list().map((n) => n.name)).toEqual(['r']);
    const N2 = nets.get('r');
    expect(N2.endpoints().map((e) => e.id)).toEqual([r1.ep.id]);
    // r2's published port is gone with it; r1's still works.
    const dnat = elements(t.H, 'dnat4_any');
    expect(dnat).not.toContain('8082');
    expect(dnat).toContain('8080');
    expect(await connect(t.O, HOST_IP, 8080)).toBe(OUT_IP);
    // A new attach does not reuse an allocated address.
    const r3 = await container(N2);
    expect(r3.ep.ip).not.toBe(r1.ep.ip);
    expect(await ping(r3.ns, r1.ep.ip)).toBe(true);

    // Orphans: a link carrying the owner tag (and one that does not), a stale element.
    const H = t.H.name!;
    ipcmd(H, 'link', 'add', 'npdeadbeef00', 'type', 'bridge');
    ipcmd(H, 'link', 'set', 'npdeadbeef00', 'alias', 'netplumb:ep:deadbeef0000');
    ipcmd(H, 'link', 'add', 'keepme', 'type', 'bridge');
    nftIn(H, ['add', 'element', 'inet', T, 'dnat4_any', '{ tcp . 9999 : 10.77.0.200 . 80 }']);
    nftIn(H, ['add', 'element', 'inet', T, 'pub4', '{ 10.77.0.200 . tcp . 80 }']);
    const removed = await nets.gc();
    expect(removed).toEqual({ links: ['npdeadbeef00'], elements: 2, reaped: 0, records: 0 });
    expect(linkNames(t.H)).not.toContain('npdeadbeef00');
    expect(linkNames(t.H)).toContain('keepme');
    expect(elements(t.H, 'dnat4_any')).not.toContain('9999');
    expect(elements(t.H, 'pub4', 'set')).not.toContain('10.77.0.200');
    // What state claims survived gc.
    expect(await connect(t.O, HOST_IP, 8080)).toBe(OUT_IP);
    expect(linkNames(t.H)).toEqual(expect.arrayContaining([N2.info.bridge, r1.ep.hostIfname, r3.ep.hostIfname]));
    expect(await nets.gc()).toEqual({ links: [], elements: 0, reaped: 0, records: 0 });
    await nets.close();
  });
});
