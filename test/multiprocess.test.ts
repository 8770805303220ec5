// Two processes sharing one state directory, both attaching to the same network at once:
// two child node processes, each its own controller on the same state directory and the
// same host namespace (opened by name), each attaching 500 containers
// (`attach({ create })`, every fifth publishing a host port of its own) as fast as it can,
// several in flight. Then, read independently of the library (readState for the rows,
// ip -j for links and addresses, nft -j for the published ports): 1,000 ready endpoints
// with 1,000 distinct addresses, leases and port rows exactly the endpoints', every
// bridge port an endpoint's veth, containers holding exactly their recorded address,
// every published port's elements pointing at the endpoint that published it. Then the
// test's own controller detaches all 1,000 (another process's endpoints) and nothing is
// left: no veth, no element, no row.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Netns, Networks } from '../src';
import { ipj, Scope, SLOWDOWN, uniq } from './helpers';
import { nftJson } from './nft-helpers';
import { readState } from './state-helpers';

const scope = new Scope();
const dirs: string[] = [];
const children: ChildProcess[] = [];
// The children's namespace prefixes: whatever they made is deleted at the end, even if a child failed.
const prefixes: string[] = [];
afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  const left = (await Netns.list()).filter((n) => prefixes.some((p) => n.startsWith(p)));
  for (let k = 0; k < left.length; k += 50) await Promise.all(left.slice(k, k + 50).map((n) => Netns.delete(n).catch(() => undefined)));
  await scope.cleanup();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const PER_CHILD = 500;
// Attaches in flight in each child: attaches pipeline within a process as well as across.
const WINDOW = 8;
// Every PUBLISH_EVERY-th container publishes port base + i (each child its own base).
const PUBLISH_EVERY = 5;
const SUBNET = '10.80.0.0/21';
const PREFIX = 21;

interface ChildEp { i: number; id: string; ip: string; hostIfname: string; name: string; port?: number }
interface ChildResult { ms: number; start: number; end: number; eps: ChildEp[] }

// argv: dist, host namespace name, state dir, namespace prefix, count, port base.
const CHILD = `
const [dist, hostName, stateDir, prefix, countText, portBaseText, everyText, windowText] = process.argv.slice(2);
const { Netns, Networks } = require(dist);
const count = Number(countText), portBase = Number(portBaseText), every = Number(everyText), window = Number(windowText);
(async () => {
  const host = await Netns.open(hostName);
  const nets = await Networks.open({ stateDir, host });
  const net = nets.get('mp');
  process.stdout.write('ready\\n');
  // Both children start on the same word from the test: their attaches overlap.
  await new Promise((r) => process.stdin.once('data', r));
  const eps = [];
  let next = 0;
  const t0 = process.hrtime.bigint();
  const start = Date.now();
  const worker = async () => {
    for (let i = next++; i < count; i = next++) {
      const name = prefix + i;
      const port = i % every === 0 ? portBase + i : undefined;
      const ep = await net.attach({ create: name }, port === undefined ? {} : { publish: [{ hostPort: port, containerPort: 80 }] });
      ep.netns.close();
      eps.push({ i, id: ep.id, ip: ep.ip, hostIfname: ep.hostIfname, name, ...(port !== undefined && { port }) });
    }
  };
  await Promise.all(Array.from({ length: window }, worker));
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  const end = Date.now();
  await nets.close();
  host.close();
  process.stdout.write(JSON.stringify({ ms, start, end, eps }) + '\\n');
})().catch((e) => {
  process.stderr.write(String(e && e.stack ? e.stack : e) + '\\n');
  process.exit(1);
});
`;

/** Starts a child and resolves once it says it is ready; `done` resolves with its result. */
function start(script: string, args: string[]): Promise<{ child: ChildProcess; done: Promise<ChildResult> }> {
  const child = spawn(process.execPath, [script, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  children.push(child);
  let out = '';
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  const done = exited.then((code) => {
    if (code !== 0) throw new Error(`child exited (${code}): ${err}`);
    return JSON.parse(out.trim().split('\n').pop()!) as ChildResult;
  });
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      const first = out === '';
      out += d.toString();
      if (first && out.startsWith('ready\n')) resolve({ child, done });
    });
    void exited.then((code) => reject(new Error(`child exited (${code}) before ready: ${err}`)));
  });
}

/** `ip -j -n NS ARGS...` parsed, for listings of a thousand links (beyond execFileSync's default 1 MiB of output). */
function ipjLarge<T>(ns: string, ...args: string[]): T {
  const out = execFileSync('ip', ['-j', '-n', ns, ...args], { encoding: 'utf8', maxBuffer: 256 << 20 });
  return (out.trim() ? JSON.parse(out) : []) as T;
}

interface IpLink { ifname: string; address: string }
interface IpAddr { ifname: string; address: string; addr_info: { family: string; local: string; prefixlen: number }[] }
type Concat = { concat: (string | number)[] };

describe('two processes on one state directory', () => {
  it(`2 × ${PER_CHILD} concurrent attaches on one network: distinct addresses, consistent state; all detached by a third controller`, async () => {
    const H = await scope.ns('mph');
    const dir = mkdtempSync('/run/np-mp-');
    dirs.push(dir);
    const script = `${dir}-child.js`;
    writeFileSync(script, CHILD);
    dirs.push(script);
    const nets = await Networks.open({ stateDir: dir, host: H });
    try {
      const net = await nets.create({ name: 'mp', subnet: SUBNET });
      const info = net.info;
      const dist = path.resolve(__dirname, '../dist/index.js');
      const tag = uniq('m');
      prefixes.push(`${tag}a`, `${tag}b`);
      const bases = [30000, 40000];
      const kids = await Promise.all(
        prefixes.map((p, k) => start(script, [dist, H.name!, dir, p, String(PER_CHILD), String(bases[k]), String(PUBLISH_EVERY), String(WINDOW)])),
      );
      const t0 = performance.now();
      for (const { child } of kids) child.stdin!.end('go\n');
      const results = await Promise.all(kids.map((k) => k.done));
      const attachMs = performance.now() - t0;
      const eps = results.flatMap((r) => r.eps);
      expect(eps.length).toBe(2 * PER_CHILD);
      // The two children really worked at the same time: each started before the other ended.
      expect(Math.max(...results.map((r) => r.start))).toBeLessThan(Math.min(...results.map((r) => r.end)));
      const overlap = Math.min(...results.map((r) => r.end)) - Math.max(...results.map((r) => r.start));

      // The rows: 1,000 ready endpoints, exactly the ones the children were given.
      const rows = readState(dir);
      expect(rows.endpoints.length).toBe(2 * PER_CHILD);
      expect(rows.endpoints.every((e) => e.phase === 'ready' && e.holder === null && e.network === info.id)).toBe(true);
      const byId = new Map(rows.endpoints.map((e) => [e.id, e]));
      for (const e of eps) expect(byId.get(e.id)?.doc.ip).toBe(e.ip);
      // 1,000 distinct addresses, none of them the gateway.
      const ips = rows.endpoints.map((e) => e.doc.ip);
      expect(new Set(ips).size).toBe(2 * PER_CHILD);
      expect(ips).not.toContain(info.gateway);
      // Leases are exactly the endpoints' (address and owner).
      expect(rows.leases.every((l) => l.pool === info.id)).toBe(true);
      expect(rows.leases.map((l) => `${l.address} ${l.owner}`).sort()).toEqual(rows.endpoints.map((e) => `${e.doc.ip} ${e.id}`).sort());
      // Port rows are exactly the published ports, each held by its publisher.
      const published = eps.filter((e) => e.port !== undefined);
      expect(published.length).toBe(2 * Math.ceil(PER_CHILD / PUBLISH_EVERY));
      expect(rows.ports.map((p) => `${p.key} ${p.endpoint}`).sort()).toEqual(published.map((e) => `tcp/*/${e.port} ${e.id}`).sort());

      // The kernel: every port of the bridge is an endpoint's veth, and every endpoint has one.
      const ports = ipjLarge<IpLink[]>(H.name!, 'link', 'show', 'master', info.bridge);
      expect(ports.map((l) => l.ifname).sort()).toEqual(rows.endpoints.map((e) => e.doc.hostIfname).sort());
      // A sample of containers (the first and last of each child, and 50 more) holds
      // exactly its recorded address and MAC.
      const sample = new Set<ChildEp>();
      for (const r of results) {
        const sorted = [...r.eps].sort((a, b) => a.i - b.i);
        sample.add(sorted[0]!);
        sample.add(sorted[sorted.length - 1]!);
      }
      for (let k = 0; k < 50; k++) sample.add(eps[Math.floor((k * eps.length) / 50)]!);
      for (const e of sample) {
        const [eth0] = ipj<IpAddr[]>(e.name, 'addr', 'show', 'dev', 'eth0');
        expect(eth0!.addr_info.filter((a) => a.family === 'inet').map((a) => `${a.local}/${a.prefixlen}`), e.name).toEqual([`${e.ip}/${PREFIX}`]);
        expect(eth0!.address, e.name).toBe(byId.get(e.id)!.doc.mac);
      }
      // The published ports' elements point at the endpoints that published them, and only those.
      const dnat = (nftJson(H.name!, 'map', 'inet', 'netplumb', 'dnat4_any')[0] as { map: { elem?: [Concat, Concat][] } }).map.elem ?? [];
      expect(dnat.map(([k, v]) => `${k.concat.join('/')} ${v.concat.join(':')}`).sort()).toEqual(published.map((e) => `tcp/${e.port} ${e.ip}:80`).sort());
      const pub = (nftJson(H.name!, 'set', 'inet', 'netplumb', 'pub4')[0] as { set: { elem?: Concat[] } }).set.elem ?? [];
      expect(pub.map((k) => k.concat.join(' ')).sort()).toEqual(published.map((e) => `${e.ip} tcp 80`).sort());

      // A third controller (this process's) detaches all of them: the others' endpoints
      // are as much its own. Then nothing is left.
      const t1 = performance.now();
      const each: number[] = [];
      for (const e of eps) {
        const t = performance.now();
        const removed = await net.detach(e.id);
        each.push(performance.now() - t);
        expect(removed?.id).toBe(e.id);
      }
      const detachMs = performance.now() - t1;
      each.sort((x, y) => x - y);
      await nets.reap();
      const reapMs = performance.now() - t1 - detachMs;
      expect(ipjLarge<IpLink[]>(H.name!, 'link', 'show', 'master', info.bridge)).toEqual([]);
      expect(ipjLarge<IpLink[]>(H.name!, 'link', 'show').map((l) => l.ifname).sort()).toEqual([info.bridge, 'lo'].sort());
      expect((nftJson(H.name!, 'map', 'inet', 'netplumb', 'dnat4_any')[0] as { map: { elem?: unknown[] } }).map.elem ?? []).toEqual([]);
      expect((nftJson(H.name!, 'set', 'inet', 'netplumb', 'pub4')[0] as { set: { elem?: unknown[] } }).set.elem ?? []).toEqual([]);
      const end = readState(dir);
      expect([end.endpoints, end.leases, end.ports]).toEqual([[], [], []]);
      expect(end.networks.map((n) => n.name)).toEqual(['mp']);

      console.log(
        `multiprocess: ${2 * PER_CHILD} attaches by 2 processes (${WINDOW} in flight each) in ${attachMs.toFixed(0)} ms wall ` +
          `(children ${results.map((r) => r.ms.toFixed(0)).join(' and ')} ms, overlapping ${overlap} ms; ${((2 * PER_CHILD) / (attachMs / 1000)).toFixed(0)}/s); ` +
          `detach ×${eps.length} by a third controller ${detachMs.toFixed(0)} ms (median ${each[each.length >> 1]!.toFixed(2)} ms, max ${each[each.length - 1]!.toFixed(0)} ms), ` +
          `reap ${reapMs.toFixed(0)} ms; load average ${loadavg()[0]!.toFixed(1)} on ${availableParallelism()} CPUs`,
      );
    } finally {
      await nets.close();
    }
  }, 90_000 * SLOWDOWN);
});
