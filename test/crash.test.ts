// Crash safety: a child process attaches and detaches containers (with published ports)
// in a loop and is killed with SIGKILL at a random moment, again and again. After each
// kill the next Networks.open() alone (no gc) must leave a consistent world: no address
// or port held twice, no port leading to a container that did not publish it, every
// recorded endpoint present in the kernel and every endpoint link recorded. gc() then
// finds nothing more to collect. Checked with ip -j, nft -j and the database's rows.
//
// CRASH_ROUNDS sets the number of kills (default 30; `npm run test:crash` runs 200).
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Netns, Networks, type EndpointInfo } from '../src';
import { expandPorts } from '../src/network/ports';
import { ipj, Scope, SLOWDOWN, tryRun, uniq } from './helpers';
import { nftJson } from './nft-helpers';
import { readState } from './state-helpers';
import { connect, HOST_IP, joinOutside, OUT_IP, Servers } from './traffic';

const scope = new Scope();
const servers = new Servers();
const dirs: string[] = [];
afterAll(async () => {
  servers.stop();
  await scope.cleanup();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const ROUNDS = Number(process.env.CRASH_ROUNDS ?? 30);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const DIST = path.resolve(__dirname, '../dist');

interface IpLink {
  ifindex: number;
  ifname: string;
  ifalias?: string;
  group?: string;
  link_index?: number;
  linkinfo?: { info_kind?: string };
}

// The child. argv: mode, host namespace name, state dir, namespace prefix, first host port.
//   loop: attach (a published port, half the time with the namespace made in the attach's
//         call) and detach in fresh named namespaces forever; each container stays until
//         the next one is attached, so a kill always finds one or two.
//   kill-before-ready: one attach publishing the port, killed by itself once the kernel
//         holds the veth and the port but before the record says 'ready'.
const CHILD = `
const [mode, hostName, stateDir, prefix, port] = process.argv.slice(2);
const { Netns, Networks } = require(${JSON.stringify(path.join(DIST, 'index.js'))});
const { StoreTx } = require(${JSON.stringify(path.join(DIST, 'network/store.js'))});
(async () => {
  const host = await Netns.open(hostName);
  const nets = await Networks.open({ stateDir, host });
  const net = nets.get('crash');
  if (mode === 'kill-before-ready') {
    const put = StoreTx.prototype.putEndpoint;
    StoreTx.prototype.putEndpoint = function (info, phase, holder) {
      if (phase === 'ready') process.kill(process.pid, 'SIGKILL');
      return put.call(this, info, phase, holder);
    };
    await net.attach({ create: prefix + '0' }, { publish: [{ hostPort: Number(port), containerPort: 80 }] });
    return;
  }
  process.stdout.write('ready\\n');
  let prev;
  for (let i = 0; ; i++) {
    const name = prefix + i;
    const publish = [{ hostPort: Number(port) + (i % 3), containerPort: 80 }];
    let ns, ep;
    if (i % 2 === 0) {
      ({ netns: ns, ...ep } = await net.attach({ create: name }, { publish }));
    } else {
      ns = await Netns.create(name);
      ep = await net.attach(ns, { publish });
    }
    if (prev) {
      await net.detach(prev.ep);
      prev.ns.close();
      await Netns.delete(prev.name);
    }
    prev = { name, ns, ep };
    process.stdout.write('cycle\\n');
  }
})().catch((e) => {
  process.stderr.write(String(e && e.stack ? e.stack : e) + '\\n');
  process.exit(1);
});
`;

/** Runs the child; mode loop: until `ready`, lets it work for `ms`, kills it. Returns the cycles it completed. */
async function runChild(script: string, args: string[], ms?: number): Promise<number> {
  const child = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => child.on('exit', (code, signal) => r({ code, signal })));
  if (ms !== undefined) {
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', () => {
        if (out.startsWith('ready\n')) resolve();
      });
      void exited.then(({ code }) => reject(new Error(`child exited (${code}) before ready: ${err}`)));
    });
    await sleep(ms);
    child.kill('SIGKILL');
  }
  const { code, signal } = await exited;
  if (signal !== 'SIGKILL') throw new Error(`child exited by itself (${code}): ${err}`);
  return out.split('\n').filter((l) => l === 'cycle').length;
}

/** IPv4 addresses anywhere in a JSON value. */
function ipsIn(v: unknown): string[] {
  return JSON.stringify(v).match(/\d+\.\d+\.\d+\.\d+/g) ?? [];
}

/** dnat4_any as port -> address, from nft -j (each element: [ {concat: [proto, port]}, {concat: [addr, port]} ]). */
function dnatAny(ns: string): Map<number, string[]> {
  const m = nftJson(ns, 'map', 'inet', 'netplumb', 'dnat4_any')[0] as { map: { elem?: [{ concat: [string, number] }, { concat: [string, number] }][] } };
  const out = new Map<number, string[]>();
  for (const [k, v] of m.map.elem ?? []) out.set(k.concat[1], [...(out.get(k.concat[1]) ?? []), v.concat[0]]);
  return out;
}

/**
 * The invariants of a consistent world, for the 'crash' network on H: checked against
 * the kernel and the committed rows, with nothing but open() having run.
 */
function checkConsistent(H: string, dir: string, eps: EndpointInfo[], gateway: string): void {
  const rows = readState(dir);
  // Rows: only ready endpoints, exactly the controller's, leases and ports exactly theirs.
  expect(rows.endpoints.map((e) => `${e.id} ${e.phase}`).sort()).toEqual(eps.map((e) => `${e.id} ready`).sort());
  const ips = eps.map((e) => e.ip);
  expect(new Set(ips).size).toBe(ips.length);
  expect(ips).not.toContain(gateway);
  expect(rows.leases.map((l) => `${l.address}=${l.owner}`).sort()).toEqual(eps.map((e) => `${e.ip}=${e.id}`).sort());
  const published = eps.flatMap((e) => expandPorts(e.publish).map((p) => ({ port: p.hostPort, ip: e.ip, id: e.id })));
  expect(new Set(published.map((p) => p.port)).size).toBe(published.length); // no port held twice
  expect(rows.ports.map((p) => `${p.key}=${p.endpoint}`).sort()).toEqual(published.map((p) => `tcp/*/${p.port}=${p.id}`).sort());
  // The kernel: every published port leads to the container that published it, and no other does.
  const dnat = dnatAny(H);
  expect([...dnat.keys()].sort()).toEqual(published.map((p) => p.port).sort());
  for (const p of published) expect(dnat.get(p.port)).toEqual([p.ip]);
  const pub = nftJson(H, 'set', 'inet', 'netplumb', 'pub4')[0] as { set: { elem?: unknown[] } };
  expect(ipsIn(pub.set.elem ?? []).sort()).toEqual(published.map((p) => p.ip).sort());
  // Links: every endpoint's host veth, and every tagged endpoint link an endpoint's; none left waiting to be reaped.
  const links = ipj<IpLink[]>(H, 'link', 'show');
  const tagged = links.filter((l) => l.ifalias?.startsWith('netplumb:ep:'));
  expect(tagged.map((l) => l.ifname).sort()).toEqual(eps.map((e) => e.hostIfname).sort());
  for (const l of tagged) expect(l.linkinfo?.info_kind).toBe('veth');
  for (const l of tagged) expect(l.group ?? 'default').toBe('default');
}

describe('crash recovery', () => {
  it(`SIGKILL at random points of attach and detach, ${ROUNDS} times: open() alone leaves a consistent world, gc() finds nothing more`, async () => {
    const H = await scope.ns('crh');
    const dir = mkdtempSync('/run/np-crash-');
    dirs.push(dir);
    const script = `${dir}-child.js`;
    writeFileSync(script, CHILD);
    dirs.push(script);
    const setup = await Networks.open({ stateDir: dir, host: H });
    const { gateway } = (await setup.create({ name: 'crash', subnet: '10.93.0.0/24' })).info;
    await setup.close();
    const tag = uniq('k');
    let cycles = 0;
    let reaped = 0;
    let survived = 0;
    let unmounted = 0;

    for (let round = 0; round < ROUNDS; round++) {
      const prefix = `${tag}r${round}n`;
      cycles += await runChild(script, ['loop', H.name!, dir, prefix, String(20000 + 3 * round)], (20 + Math.random() * 300) * SLOWDOWN);

      // Every other round the dead child's namespaces go too (as a runtime reaps a dead
      // container): their endpoints must then be found stale and dropped.
      const left = (await Netns.list()).filter((n) => n.startsWith(prefix));
      if (round % 2 === 0 && left.length > 0) {
        const linksOf = (n: string) => {
          // A kill inside the namespace's creation may leave the name's file without its mount.
          const r = tryRun('ip', ['-j', '-n', n, 'link', 'show']);
          if (r.status !== 0) unmounted += 1;
          return r.status === 0 ? (JSON.parse(r.stdout) as IpLink[]) : [];
        };
        const hostSides = left.flatMap((n) => linksOf(n).flatMap((l) => (l.link_index ? [l.link_index] : [])));
        for (const n of left) await Netns.delete(n);
        const present = () => ipj<IpLink[]>(H.name!, 'link', 'show').filter((l) => hostSides.includes(l.ifindex));
        for (let i = 0; i < 100 && present().length > 0; i++) await sleep(20);
        expect(present()).toEqual([]);
        reaped += hostSides.length;
      } else {
        for (const n of left) scope.names.push(n); // deleted at the end
      }

      // The next process: open() only.
      const nets = await Networks.open({ stateDir: dir, host: H });
      const eps = nets.inspect('crash').endpoints;
      survived = Math.max(survived, eps.length);
      checkConsistent(H.name!, dir, eps, gateway);

      // gc() has nothing left to collect.
      expect(await nets.gc()).toEqual({ links: [], elements: 0, reaped: 0, records: 0 });

      // A fresh container gets an address nobody holds, and leaves nothing when detached.
      const net = nets.get('crash');
      const { netns: c, ...fresh } = await net.attach({ create: uniq('crc') });
      scope.names.push(c!.name!);
      c!.close();
      expect(eps.map((e) => e.ip)).not.toContain(fresh.ip);
      expect(fresh.ip).not.toBe(gateway);
      await net.detach(fresh);
      await nets.reap();
      expect(ipj<IpLink[]>(H.name!, 'link', 'show').some((l) => l.ifname === fresh.hostIfname)).toBe(false);
      await nets.close();
    }
    expect(cycles).toBeGreaterThan(0);

    // The end: every survivor detached, the network removed; H holds nothing but lo.
    const nets = await Networks.open({ stateDir: dir, host: H });
    const net = nets.get('crash');
    for (const e of nets.inspect('crash').endpoints) await net.detach(e.id);
    await nets.reap();
    await nets.remove('crash');
    expect(await nets.gc()).toEqual({ links: [], elements: 0, reaped: 0, records: 0 });
    await nets.close();
    expect(ipj<IpLink[]>(H.name!, 'link', 'show').map((l) => l.ifname)).toEqual(['lo']);
    expect(readState(dir)).toMatchObject({ networks: [], endpoints: [], leases: [], ports: [] });
    console.log(`crash: ${ROUNDS} kills, ${cycles} complete cycles, ${reaped} host veths of reaped namespaces, up to ${survived} surviving endpoints, ${unmounted} names left unmounted by a kill in Netns.create`);
  }, 120_000 + ROUNDS * 4_000);

  it('killed after the kernel made the veth and published the port, before the record says so: the next open() undoes both', async () => {
    const H = await scope.ns('crk');
    const O = await scope.ns('cro');
    joinOutside(H, O);
    const dir = mkdtempSync('/run/np-crashk-');
    dirs.push(dir);
    const script = `${dir}-child.js`;
    writeFileSync(script, CHILD);
    dirs.push(script);
    const setup = await Networks.open({ stateDir: dir, host: H });
    await setup.create({ name: 'crash', subnet: '10.94.0.0/24' });
    await setup.close();
    const name = uniq('ck');
    await runChild(script, ['kill-before-ready', H.name!, dir, name, '8080']);
    scope.names.push(`${name}0`);

    // What the dead child left: its veth and its port in the kernel, its row 'attaching'.
    const rows = readState(dir);
    expect(rows.endpoints.map((e) => e.phase)).toEqual(['attaching']);
    const orphan = rows.endpoints[0]!.doc;
    expect(ipj<IpLink[]>(H.name!, 'link', 'show').some((l) => l.ifname === orphan.hostIfname)).toBe(true);
    expect(dnatAny(H.name!).get(8080)).toEqual([orphan.ip]);

    // open() alone: the veth, the port and the row are gone, the address free.
    const nets = await Networks.open({ stateDir: dir, host: H });
    expect(ipj<IpLink[]>(H.name!, 'link', 'show').some((l) => l.ifname === orphan.hostIfname)).toBe(false);
    expect(dnatAny(H.name!).has(8080)).toBe(false);
    expect(readState(dir)).toMatchObject({ endpoints: [], leases: [], ports: [] });

    // The next container gets the orphan's address and publishes nothing: port 8080 of the
    // host must not lead to it (from outside nor from the host itself).
    const net = nets.get('crash');
    const b = await net.attach({ create: uniq('cb') });
    scope.names.push(b.netns!.name!);
    expect(b.ip).toBe(orphan.ip);
    await servers.serve(b.netns!, 80);
    expect(await connect(O, HOST_IP, 8080)).toBeNull();
    expect(await connect(H, '127.0.0.1', 8080)).toBeNull();
    // The port is free to publish: a container that asks for it gets it.
    const c = await net.attach({ create: uniq('cc') }, { publish: [{ hostPort: 8080, containerPort: 80 }] });
    scope.names.push(c.netns!.name!);
    await servers.serve(c.netns!, 80);
    expect(await connect(O, HOST_IP, 8080)).toBe(OUT_IP);
    expect(await nets.gc()).toEqual({ links: [], elements: 0, reaped: 0, records: 0 });
    b.netns!.close();
    c.netns!.close();
    await nets.close();
  });
});
