// The overlay control plane on a real 3-member etcd cluster (Debian's etcd-server, on
// this sandbox's loopback, data on its tmpfs, every member killed by pid at the end) and
// three simulated hosts on an underlay, each with its own Networks controller and
// OverlayControlPlane; host 2 runs in a process of its own. Witnesses: bridge -j fdb of
// each VXLAN port and ip -j neigh of each bridge, etcdctl's view of the keys, ping and TCP between
// containers. The cases run in order on one topology: each fault starts from what the
// one before left.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import * as readline from 'node:readline';
import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AddressInUseError, Netns, Networks, OverlayControlPlane, type EndpointInfo } from '../src';
import { etcdBinaries, startCluster, type Cluster, type Relay } from '../bench/lib/etcd-cluster.mjs';
import { ip, run, Scope } from './helpers';
import { fdbMaster, fdbSelf, type Host, neighs, underlay } from './overlay-topology';
import { connect, ping as answered, Servers } from './traffic';

const { missing } = etcdBinaries();
const scope = new Scope();
const dirs: string[] = [];
const ctls: Networks[] = [];
const SUBNET = '10.99.0.0/24';
const VNI = 4242;
const TTL = 2;
const NET = 'ov';

let cluster: Cluster;
const warnings: string[] = [];
const warn = (m: string): void => {
  warnings.push(m);
};

/** Polls `fn` every 50 ms until it returns true (or `timeout` ms: the last value is in the error). */
async function until(what: string, fn: () => boolean | Promise<boolean>, timeout = 10_000): Promise<number> {
  const t0 = Date.now();
  for (;;) {
    if (await fn()) return Date.now() - t0;
    if (Date.now() - t0 > timeout) throw new Error(`timed out after ${timeout} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** One ping, retried for up to 3 s (the first may wait on ARP). */
async function reaches(from: Netns, to: string): Promise<void> {
  await until(`ping ${to} from ${from.name}`, () => answered(from, to), 8000).catch((e: Error) => {
    const dbg = [ip(from.name!, 'neigh'), ip(from.name!, 'link')];
    for (const h of hosts) dbg.push(h.ns.name!, run('ip', ['netns', 'exec', h.ns.name!, 'bridge', 'fdb', 'show']), ip(h.ns.name!, 'neigh'), ip(h.ns.name!, 'link'));
    throw new Error(`${e.message}\n${dbg.join('\n')}`);
  });
}

// A host in a process of its own (test/fixtures/etcd-host.cjs over dist/).
class ChildHost {
  readonly proc: ChildProcess;
  readonly #waiting = new Map<number, (m: Record<string, unknown>) => void>();
  #next = 1;
  stderr = '';
  readonly ready: Promise<Record<string, unknown>>;

  constructor(config: object) {
    const dist = path.resolve(__dirname, '../dist/index.js');
    this.proc = spawn(process.execPath, [path.join(__dirname, 'fixtures/etcd-host.cjs'), dist, JSON.stringify(config)], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.proc.stderr!.on('data', (d) => (this.stderr += d));
    this.ready = new Promise((resolve, reject) => {
      this.#waiting.set(0, resolve);
      this.proc.once('exit', (code) => reject(new Error(`host process exited (${code}): ${this.stderr}`)));
    });
    readline.createInterface({ input: this.proc.stdout! }).on('line', (line) => {
      const m = JSON.parse(line) as { id: number };
      this.#waiting.get(m.id)?.(m);
      this.#waiting.delete(m.id);
    });
  }

  async request(cmd: Record<string, unknown>): Promise<Record<string, unknown>> {
    const id = this.#next++;
    const r = await new Promise<Record<string, unknown>>((resolve) => {
      this.#waiting.set(id, resolve);
      this.proc.stdin!.write(`${JSON.stringify({ id, ...cmd })}\n`);
    });
    if (!r.ok) throw new Error(`host process: ${String(r.error)}`);
    return r;
  }

  async kill(): Promise<void> {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return;
    const gone = new Promise((r) => this.proc.once('exit', r));
    this.proc.kill('SIGKILL');
    await gone;
  }
}

// The topology every case shares.
let hosts: Host[];
let cps: (OverlayControlPlane | undefined)[];
let child: ChildHost;
let relay: Relay;
/** Containers per host: namespace handle and endpoint. */
const ctrs: { ns: Netns; ep: EndpointInfo }[][] = [[], [], []];
const childNetns: string[] = [];
let vx: string[];
let br: string[];
let prefix: string;

function etcdOf(i: number): { endpoints: string[] } {
  // Host 1 reaches etcd through relays the test can cut.
  return { endpoints: i === 1 ? relay.endpoints : cluster.endpoints };
}

async function startCp(i: number): Promise<OverlayControlPlane> {
  const cp = await OverlayControlPlane.start(hosts[i]!.ctl, { etcd: etcdOf(i), prefix, ttl: TTL, warn, retryMs: 100 });
  await cp.join(NET, { local: hosts[i]!.vtep, device: 'ul0' });
  cps[i] = cp;
  return cp;
}

async function attachOn(i: number): Promise<{ ns: Netns; ep: EndpointInfo; requests: { txn: number; writes: number; range: number } }> {
  if (i === 2) {
    const name = `c2x${childNetns.length}x${process.pid % 10000}`;
    childNetns.push(name);
    const r = await child.request({ cmd: 'attach', create: name });
    const e = { ns: await Netns.open(name), ep: r.ep as EndpointInfo };
    scope.handles.push(e.ns);
    ctrs[2]!.push(e);
    return { ...e, requests: { ...(r.requests as { txn: number; writes: number }), range: 0 } };
  }
  const cp = cps[i]!;
  const before = { ...cp.stats };
  const ns = await scope.ns('c');
  const ep = await cp.attach(NET, ns);
  const requests = { txn: cp.stats.txn - before.txn, writes: cp.stats.writes - before.writes, range: cp.stats.range - before.range };
  ctrs[i]!.push({ ns, ep });
  return { ns, ep, requests };
}

async function detachOn(i: number, k: number): Promise<EndpointInfo> {
  const [gone] = ctrs[i]!.splice(k, 1);
  if (i === 2) await child.request({ cmd: 'detach', endpoint: gone!.ep.id });
  else await cps[i]!.detach(NET, gone!.ns);
  return gone!.ep;
}

/**
 * What host i must hold: on its VXLAN device, every other host's VTEP and containers (live
 * hosts only); in its bridge's FDB, those containers' MACs on the VXLAN port; in its
 * bridge's neighbour table, those containers and its own (the bridge answers ARP for both).
 */
function expected(i: number, live = [0, 1, 2]): { fdb: string[]; port: string[]; neigh: string[] } {
  const others = live.filter((j) => j !== i);
  return {
    fdb: [
      ...others.map((j) => `00:00:00:00:00:00 ${hosts[j]!.vtep} permanent`),
      ...others.flatMap((j) => ctrs[j]!.map((c) => `${c.ep.mac} ${hosts[j]!.vtep} permanent`)),
    ].sort(),
    port: others.flatMap((j) => ctrs[j]!.map((c) => `${c.ep.mac} static`)).sort(),
    neigh: [...others, i].flatMap((j) => ctrs[j]!.map((c) => `${c.ep.ip} ${c.ep.mac} PERMANENT`)).sort(),
  };
}

function kernelOf(i: number): { fdb: string[]; port: string[]; neigh: string[] } {
  return { fdb: fdbSelf(hosts[i]!.ns, vx[i]!), port: fdbMaster(hosts[i]!.ns, vx[i]!), neigh: neighs(hosts[i]!.ns, br[i]!) };
}

/** Waits until host i's kernel holds exactly what `expected` says; returns how long it took. */
function converged(i: number, live?: number[], timeout?: number): Promise<number> {
  return until(`host ${i}'s FDB and neighbours`, () => JSON.stringify(kernelOf(i)) === JSON.stringify(expected(i, live)), timeout).catch((e: Error) => {
    throw new Error(`${e.message}\n have ${JSON.stringify(kernelOf(i))}\n want ${JSON.stringify(expected(i, live))}\n child stderr: ${child?.stderr}`);
  });
}

/** The network's keys in etcd, by kind, as etcdctl shows them. */
function keys(): { vteps: string[]; endpoints: string[]; ipam: string[] } {
  const all = Object.keys(cluster.dump(`${prefix}/networks/${NET}/`)).map((k) => k.slice(`${prefix}/networks/${NET}/`.length));
  const of = (kind: string): string[] => all.filter((k) => k.startsWith(`${kind}/`)).map((k) => k.slice(kind.length + 1)).sort();
  return { vteps: of('vteps'), endpoints: of('endpoints'), ipam: of('ipam') };
}

const sortIps = (l: string[]): string[] => [...l].sort((a, b) => Number(a.split('.')[3]) - Number(b.split('.')[3]));

describe.skipIf(missing !== undefined)('overlay control plane on etcd', () => {
  beforeAll(async () => {
    cluster = await startCluster({ members: 3 });
    relay = await cluster.relay();
    prefix = `/np-test-${process.pid}`;
    ({ hosts } = await underlay(scope, 3, dirs, ctls));
    cps = [];
  });

  afterAll(async () => {
    for (const cp of cps) await cp?.close().catch(() => undefined);
    await child?.kill();
    for (const c of ctls.splice(0)) await c.close().catch(() => undefined);
    for (const n of childNetns) await Netns.delete(n).catch(() => undefined);
    await scope.cleanup();
    await cluster?.stop();
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('three hosts (one in its own process) find each other through etcd: ping and TCP between all; one transaction per attach; a removal reaches every host', async () => {
    const cp0 = await OverlayControlPlane.start(hosts[0]!.ctl, { etcd: etcdOf(0), prefix, ttl: TTL, warn });
    // The definition is stored once; the same again is fine, a different one is refused.
    await cp0.define({ name: NET, vni: VNI, subnet: SUBNET });
    await cp0.define({ name: NET, vni: VNI, subnet: SUBNET });
    await expect(cp0.define({ name: NET, vni: 7, subnet: SUBNET })).rejects.toMatchObject({ code: 'EEXIST' });
    await expect(cp0.define({ name: 'bad name', vni: 7, subnet: SUBNET })).rejects.toBeInstanceOf(TypeError);
    await expect(cp0.define({ name: 'x', vni: 0, subnet: SUBNET })).rejects.toBeInstanceOf(RangeError);
    await expect(cp0.join('nowhere', { local: hosts[0]!.vtep, device: 'ul0' })).rejects.toMatchObject({ code: 'ENOENT' });
    expect(JSON.parse(cluster.dump(`${prefix}/networks/${NET}`)[`${prefix}/networks/${NET}`]!)).toEqual({ name: NET, vni: VNI, subnet: SUBNET });
    await cp0.join(NET, { local: hosts[0]!.vtep, device: 'ul0' });
    cps[0] = cp0;
    await startCp(1);
    // Host 2: its own process, its own controller on its own state directory.
    hosts[2]!.ctl.close();
    ctls.splice(ctls.indexOf(hosts[2]!.ctl), 1);
    child = new ChildHost({ host: hosts[2]!.ns.name, stateDir: hosts[2]!.dir, etcd: etcdOf(2), prefix, ttl: TTL, network: NET, local: hosts[2]!.vtep, device: 'ul0' });
    await child.ready;
    vx = [cps[0]!.network(NET).info.overlay!.vxlan, cps[1]!.network(NET).info.overlay!.vxlan, ''];
    br = [cps[0]!.network(NET).info.bridge, cps[1]!.network(NET).info.bridge, ''];

    // One container per host, one after the other, each host having seen the claims before
    // (the watch delivered them): each attach is one etcd request, a transaction with two
    // writes (the claim and the registration) and no read.
    const attached = [];
    const seen = (i: number, n: number) => async (): Promise<boolean> => {
      const remotes = i === 2 ? ((await child.request({ cmd: 'stats' })).remotes as unknown[]) : cps[i]!.network(NET).remoteEndpoints();
      return remotes.length === n;
    };
    for (const i of [0, 1, 2]) {
      await until(`host ${i} sees the ${i} endpoints before it`, seen(i, i));
      const a = await attachOn(i);
      expect(a.requests).toEqual({ txn: 1, writes: 2, range: 0 });
      expect(a.ep.mac).toBe(`02:42:${a.ep.ip.split('.').map((b) => Number(b).toString(16).padStart(2, '0')).join(':')}`);
      attached.push(a);
    }
    // Then one more per host, all at once: the hosts race for the same lowest addresses;
    // the compare-and-swap gives each address to one of them, the others take the next.
    attached.push(...(await Promise.all([0, 1, 2].map((i) => attachOn(i)))));
    const ips = attached.map((a) => a.ep.ip);
    expect(new Set(ips).size).toBe(6);
    const other = await Networks.open({ stateDir: hosts[2]!.dir, host: hosts[2]!.ns });
    vx[2] = other.overlay(NET).info.overlay!.vxlan;
    br[2] = other.overlay(NET).info.bridge;
    other.close();
    for (let i = 0; i < 3; i++) await converged(i);
    expect(keys()).toEqual({ vteps: hosts.map((h) => h.vtep).sort(), endpoints: sortIps(ips).sort(), ipam: sortIps(ips).sort() });

    // Every container reaches every other one (30 pings), across the underlay and locally.
    const all = ctrs.flat();
    await Promise.all(all.flatMap((a) => all.filter((b) => b !== a).map((b) => reaches(a.ns, b.ep.ip))));
    // TCP both ways between the in-process hosts and the child process's host.
    const servers = new Servers();
    try {
      await servers.serve(ctrs[2]![0]!.ns, 7001);
      await servers.serve(ctrs[0]![0]!.ns, 7001);
      expect(await connect(ctrs[0]![0]!.ns, ctrs[2]![0]!.ep.ip, 7001)).toBe(ctrs[0]![0]!.ep.ip);
      expect(await connect(ctrs[2]![1]!.ns, ctrs[0]![0]!.ep.ip, 7001)).toBe(ctrs[2]![1]!.ep.ip);
      expect(await connect(ctrs[1]![1]!.ns, ctrs[2]![0]!.ep.ip, 7001)).toBe(ctrs[1]![1]!.ep.ip);
    } finally {
      servers.stop();
    }

    // A static address another host holds is refused before anything is made.
    await expect(cps[0]!.attach(NET, await scope.ns('c'), { ip: ctrs[1]![0]!.ep.ip })).rejects.toBeInstanceOf(AddressInUseError);

    // Host 1 removes a container: its entries leave every other host, its keys leave etcd.
    const gone = await detachOn(1, 0);
    await converged(0);
    await converged(2);
    expect(kernelOf(0).neigh.join()).not.toContain(gone.ip);
    expect(keys().endpoints).not.toContain(gone.ip);
    expect(keys().ipam).not.toContain(gone.ip);
    for (const c of ctrs[0]!) ip(c.ns.name!, 'neigh', 'flush', 'all');
    expect(await answered(ctrs[0]![0]!.ns, gone.ip)).toBe(false);
  });

  it('one of three etcd members killed: nothing lost, the watches go on', async () => {
    const before = keys();
    // The member the most clients talk to is as good as any: kill the first, by pid.
    await cluster.kill(0);
    const { ep } = await attachOn(0);
    const fresh = await attachOn(2);
    for (let i = 0; i < 3; i++) await converged(i);
    const after = keys();
    expect(after.endpoints).toEqual([...before.endpoints, ep.ip, fresh.ep.ip].sort());
    expect(after.vteps).toEqual(before.vteps);
    await reaches(ctrs[1]![0]!.ns, ep.ip);
    await reaches(ctrs[0]![0]!.ns, fresh.ep.ip);
    await cluster.restart(0);
  });

  it('a controller restarted: the full list compared with the kernel, then watched from that revision', async () => {
    const h = hosts[1]!;
    await cps[1]!.close();
    cps[1] = undefined;
    h.ctl.close();
    ctls.splice(ctls.indexOf(h.ctl), 1);
    // While it is away: host 0 adds a container, host 2 removes one; the kernel of host 1 is tampered with.
    await attachOn(0);
    await detachOn(2, 0);
    const stray = '10.99.0.250';
    ip(h.ns.name!, 'neigh', 'add', stray, 'lladdr', '02:00:00:00:00:fa', 'dev', br[1]!, 'nud', 'permanent');
    ip(h.ns.name!, 'neigh', 'add', '10.99.0.251', 'lladdr', '02:00:00:00:00:fb', 'dev', vx[1]!, 'nud', 'permanent');
    ip(h.ns.name!, 'neigh', 'del', ctrs[0]![0]!.ep.ip, 'dev', br[1]!);
    run('ip', ['netns', 'exec', h.ns.name!, 'bridge', 'fdb', 'del', ctrs[0]![0]!.ep.mac, 'dev', vx[1]!, 'master']);
    // Back within the TTL: its own registrations never left etcd (the lease is taken over by a new one).
    h.ctl = await Networks.open({ stateDir: h.dir, host: h.ns });
    ctls.push(h.ctl);
    const cp = await startCp(1);
    expect(cp.stats.resyncs).toBe(1);
    await converged(1, undefined, 3000);
    expect(neighs(h.ns, vx[1]!)).toEqual([]);
    expect(keys().endpoints).toEqual(expect.arrayContaining(ctrs[1]!.map((c) => c.ep.ip)));
    // Changes after the restart arrive through the watch, without another resync.
    const { ep } = await attachOn(0);
    await converged(1);
    expect(cp.stats.resyncs).toBe(1);
    await reaches(ctrs[1]![0]!.ns, ep.ip);
    await reaches(ctrs[0]![0]!.ns, ctrs[1]![0]!.ep.ip);
  });

  it('a host cut off from etcd: its data plane keeps working; a short cut resumes the watch, a long one (compacted, lease expired) resyncs and registers again', async () => {
    const cp = cps[1]!;
    // A short cut, shorter than the TTL: traffic goes on, the watch resumes from its revision.
    const resyncs = cp.stats.resyncs;
    const resumes = cp.stats.resumes;
    await relay.cut();
    await reaches(ctrs[1]![0]!.ns, ctrs[0]![0]!.ep.ip);
    const added = await attachOn(0);
    await relay.heal();
    await converged(1);
    expect(cp.stats.resumes).toBeGreaterThan(resumes);
    expect(cp.stats.resyncs).toBe(resyncs);
    await reaches(ctrs[1]![0]!.ns, added.ep.ip);

    // A long cut: changes elsewhere, the history compacted away, host 1's lease expires.
    await relay.cut();
    const t0 = Date.now();
    await reaches(ctrs[1]![0]!.ns, ctrs[2]![0]!.ep.ip);
    const late = await attachOn(2);
    await detachOn(0, 0);
    cluster.ctl(['compact', String(cluster.revision())]);
    // The others drop host 1 within the TTL (and a second of slack) of its last renewal.
    await converged(0, [0, 2], (TTL + 2) * 1000);
    await converged(2, [0, 2], (TTL + 2) * 1000);
    expect(Date.now() - t0).toBeLessThan((TTL + 2) * 1000);
    expect(keys().vteps).toEqual([hosts[0]!.vtep, hosts[2]!.vtep]);
    // Host 1 itself still holds the last state it knew (nothing is torn down while cut off).
    expect(kernelOf(1).neigh.join()).toContain(ctrs[2]![0]!.ep.ip);
    await relay.heal();
    // Back: a resync (the watch's revision is compacted), host 1 registered again under a new lease.
    await converged(1);
    await converged(0);
    await converged(2);
    expect(cp.stats.resyncs).toBeGreaterThan(resyncs);
    expect(keys().vteps).toEqual(hosts.map((h) => h.vtep).sort());
    await reaches(ctrs[1]![0]!.ns, late.ep.ip);
    await reaches(ctrs[2]![0]!.ns, ctrs[1]![0]!.ep.ip);
    await reaches(ctrs[0]![0]!.ns, ctrs[1]![0]!.ep.ip);
    expect(warnings.some((w) => /lease lost/.test(w))).toBe(true);
  });

  it('a host that dies: its VTEP and endpoints vanish from every other host within the TTL; its claims stay until releaseHost', async () => {
    const dead = ctrs[2]!.map((c) => c.ep.ip);
    const t0 = Date.now();
    await child.kill();
    const lost = ctrs[2]!.splice(0);
    await converged(0, [0, 1], (TTL + 2) * 1000);
    await converged(1, [0, 1], (TTL + 2) * 1000);
    const took = Date.now() - t0;
    expect(took).toBeLessThan((TTL + 2) * 1000);
    expect(keys().vteps).toEqual([hosts[0]!.vtep, hosts[1]!.vtep]);
    for (const a of dead) expect(keys().endpoints).not.toContain(a);
    // Its addresses stay claimed: never handed out again while the host might come back.
    for (const a of dead) expect(keys().ipam).toContain(a);
    await expect(cps[0]!.releaseHost(NET, hosts[0]!.vtep)).rejects.toMatchObject({ code: 'EBUSY' });
    expect(await cps[0]!.releaseHost(NET, hosts[2]!.vtep)).toBe(dead.length);
    for (const a of dead) expect(keys().ipam).not.toContain(a);
    expect(lost).toHaveLength(dead.length);
  });

  it('TLS with client certificates: works with the right certificate, refused without or with a stranger; nothing secret in warnings or inspect()', async () => {
    const tlsCluster = await startCluster({ members: 3, tls: true });
    const tlsCtls: Networks[] = [];
    const messages: string[] = [];
    try {
      const certs = tlsCluster.certs!;
      const tls = tlsCluster.tls()!;
      const tdirs = [mkdtempSync(path.join(tmpdir(), 'np-tls-')), mkdtempSync(path.join(tmpdir(), 'np-tls-'))];
      dirs.push(...tdirs);
      const pair = await Promise.all([0, 1].map(async (i) => {
        const c = await Networks.open({ stateDir: tdirs[i]!, host: hosts[i]!.ns });
        tlsCtls.push(c);
        return OverlayControlPlane.start(c, { etcd: { endpoints: tlsCluster.endpoints, tls }, prefix: '/secure', ttl: TTL, warn: (m) => messages.push(m) });
      }));
      await pair[0]!.define({ name: 'sec', vni: 77, subnet: '10.77.0.0/24' });
      for (let i = 0; i < 2; i++) await pair[i]!.join('sec', { local: hosts[i]!.vtep, device: 'ul0' });
      const a = await scope.ns('c');
      const b = await scope.ns('c');
      const ea = await pair[0]!.attach('sec', a);
      const eb = await pair[1]!.attach('sec', b);
      await reaches(a, eb.ip);
      await reaches(b, ea.ip);
      // Without a client certificate, with one from an unknown CA, or over plain http: refused, clearly.
      const refuse = async (etcd: object): Promise<string> => {
        const e = await OverlayControlPlane.start(tlsCtls[0]!, { etcd: etcd as never, prefix: '/secure', warn: (m) => messages.push(m) }).catch((x: Error) => x);
        expect(e).toBeInstanceOf(Error);
        return (e as Error).message;
      };
      expect(await refuse({ endpoints: tlsCluster.endpoints, tls: { ca: tls.ca }, dialTimeout: 2000 })).toMatch(/etcd not reachable/);
      expect(await refuse({ endpoints: tlsCluster.endpoints, tls: { ca: tls.ca, cert: readFileSync(certs.strangerCert), key: readFileSync(certs.strangerKey) }, dialTimeout: 2000 })).toMatch(/etcd not reachable/);
      await expect(OverlayControlPlane.start(tlsCtls[0]!, { etcd: { endpoints: tlsCluster.endpoints.map((e) => e.replace('https', 'http')), tls } })).rejects.toBeInstanceOf(TypeError);
      // The key never shows: not in a warning, an error or the control plane's inspection.
      const key = tls.key.toString().split('\n').slice(1, 3).join('\n');
      const seen = [...messages, inspect(pair[0], { depth: 6 }), ...warnings].join('\n');
      expect(seen).not.toContain(key);
      expect(seen).not.toContain('PRIVATE KEY');
      await pair[0]!.detach('sec', a);
      await pair[1]!.detach('sec', b);
      for (const p of pair) await p.close({ revoke: true });
      expect(Object.keys(JSON.parse(tlsCluster.ctl(['get', '--prefix', '/secure/networks/sec/', '-w', 'json'])).kvs ?? {})).toEqual([]);
    } finally {
      for (const c of tlsCtls) await c.close();
      await tlsCluster.stop();
    }
  });
});
