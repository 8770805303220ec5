#!/usr/bin/env node
// Benchmark (not a test): dumping a neighbour table of 10,000 permanent ARP entries into
// JS objects, all of it and filtered by one device (NDA_IFINDEX in the request, so the
// kernel filters), through netplumb's async and sync paths, with `ip -j neigh show` as
// the reference peer and bench/floor/neigh-dump.c (the same dump in C, nothing decoded:
// the kernel's share) as the floor.
//
//   npm run bench:neigh
//   npx tsc -p tsconfig.build.json && node scripts/in-netns.mjs node bench/neigh-dump.mjs
//
// Environment: N (entries, default 10000), PAIRS (veth pairs, default 10), ON_DEV
// (entries on the filtered device, default 100), ITER (timed runs, default 50), WARMUP
// (default 10), IP_ITER (ip runs, default 10).
//
// Must run inside the sandbox: it creates a namespace, veths and neighbours in it.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
if (process.env.NETPLUMB_SANDBOX !== '1') {
  console.error('run me inside the sandbox: node scripts/in-netns.mjs node bench/neigh-dump.mjs');
  process.exit(2);
}
if (!existsSync(path.join(root, 'dist', 'index.js'))) {
  const r = spawnSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) process.exit(1);
}
const { Netns } = await import(path.join(root, 'dist', 'index.js'));

const N = Number(process.env.N ?? 10000);
const PAIRS = Number(process.env.PAIRS ?? 10);
const ON_DEV = Number(process.env.ON_DEV ?? 100);
const ITER = Number(process.env.ITER ?? 50);
const WARMUP = Number(process.env.WARMUP ?? 10);
const IP_ITER = Number(process.env.IP_ITER ?? 10);

function stats(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p) => s[Math.min(s.length - 1, Math.floor(p * s.length))];
  return { median: q(0.5), p99: q(0.99), min: s[0] };
}
const now = () => process.hrtime.bigint();
const ms = (t0) => Number(now() - t0) / 1e6;

const name = `nbench${process.pid}`;
const ns = await Netns.create(name);

// `nud all`: plain `ip neigh show` hides NOARP entries, which a dump does return.
function ipNeigh(...args) {
  const r = spawnSync('ip', ['-n', name, '-j', 'neigh', 'show', 'nud', 'all', ...args], { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`ip neigh show ${args.join(' ')}: ${r.stderr}`);
  return r.stdout.trim() ? JSON.parse(r.stdout) : [];
}

async function timeIt(label, fn, iter = ITER, warmup = WARMUP) {
  let count = -1;
  for (let i = 0; i < warmup; i++) await fn();
  const xs = [];
  for (let i = 0; i < iter; i++) {
    const t0 = now();
    const r = await fn();
    xs.push(ms(t0));
    count = r.length;
  }
  return { label, count, ...stats(xs) };
}

// The C floor, compiled now; skipped without a compiler.
const tmp = mkdtempSync(path.join(tmpdir(), 'neigh-bench-'));
const floorBin = path.join(tmp, 'neigh-dump');
const cc = process.env.CC || 'cc';
const built = spawnSync(cc, ['-O2', '-Wall', '-o', floorBin, path.join(root, 'bench', 'floor', 'neigh-dump.c')], { stdio: 'inherit' });
const haveFloor = built.status === 0;
if (!haveFloor) console.error(`C floor skipped: ${cc} failed or is missing`);

function floor(label, iter, ifindex) {
  const args = [path.join('/run/netns', name), String(iter + WARMUP)];
  if (ifindex) args.push(String(ifindex));
  const r = spawnSync(floorBin, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`floor: ${r.stderr}`);
  const { times, count } = JSON.parse(r.stdout);
  return { label, count, ...stats(times.slice(WARMUP)) };
}

const rows = [];
try {
  // Devices: PAIRS veth pairs, both ends up; the filtered device `a0` holds ON_DEV entries,
  // the rest are spread round-robin over the other 2*PAIRS-1 ends.
  // IPv6 off first: an up veth otherwise gains multicast NDP entries while the checks
  // run, and the table would not hold still.
  await ns.sysctl.set({ 'net.ipv6.conf.default.disable_ipv6': 1, 'net.ipv6.conf.all.disable_ipv6': 1 });
  const devs = [];
  for (let i = 0; i < PAIRS; i++) {
    await ns.links.add({ kind: 'veth', name: `a${i}`, peer: { name: `b${i}` }, up: true });
    await ns.links.set(`b${i}`, { up: true });
    devs.push(`a${i}`, `b${i}`);
  }
  const others = devs.slice(1);
  const specs = [];
  for (let i = 0; i < N; i++) {
    const dev = i < ON_DEV ? devs[0] : others[i % others.length];
    const mac = `02:00:${[(i >> 16) & 255, (i >> 8) & 255, i & 255, 1].map((b) => b.toString(16).padStart(2, '0')).join(':')}`;
    specs.push({ dev, address: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, mac });
  }
  let t0 = now();
  for (let i = 0; i < specs.length; i += 2000) await ns.neighbours.addMany(specs.slice(i, i + 2000));
  const fillMs = ms(t0);

  // The counts must agree with iproute2's view before anything is timed.
  const ipAll = ipNeigh();
  const ipDev = ipNeigh('dev', devs[0]);
  const a0 = (await ns.links.get(devs[0])).index;
  const check = (label, got, want) => {
    if (got !== want) throw new Error(`${label}: netplumb has ${got} entries, ip -j neigh show ${want}`);
  };
  check('full dump', (await ns.neighbours.list()).length, ipAll.length);
  check('permanent ARP entries', ipAll.filter((n) => n.state?.includes('PERMANENT')).length, N);
  check(`dev ${devs[0]}`, (await ns.neighbours.list({ dev: a0 })).length, ipDev.length);
  check(`dev ${devs[0]}`, ipDev.length, ON_DEV);
  const hasSync = typeof ns.neighbours.listSync === 'function';
  if (hasSync) {
    check('full dump (sync)', ns.neighbours.listSync().length, ipAll.length);
    check(`dev ${devs[0]} (sync)`, ns.neighbours.listSync({ dev: a0 }).length, ON_DEV);
  }

  rows.push(await timeIt('netplumb list() async', () => ns.neighbours.list()));
  if (hasSync) rows.push(await timeIt('netplumb listSync()', async () => ns.neighbours.listSync()));
  rows.push(await timeIt(`netplumb list({dev}) async`, () => ns.neighbours.list({ dev: a0 }), ITER * 4, WARMUP * 4));
  if (hasSync) rows.push(await timeIt(`netplumb listSync({dev})`, async () => ns.neighbours.listSync({ dev: a0 }), ITER * 4, WARMUP * 4));
  if (haveFloor) {
    rows.push(floor('C floor (dump, no decoding)', ITER));
    rows.push(floor('C floor, NDA_IFINDEX', ITER * 4, a0));
  }
  rows.push(await timeIt('ip -j neigh show nud all', async () => ipNeigh(), IP_ITER, 1));
  rows.push(await timeIt(`ip -j neigh show nud all dev ${devs[0]}`, async () => ipNeigh('dev', devs[0]), IP_ITER, 1));

  console.log(`\nneighbour dump into JS objects: ${N} permanent ARP entries over ${devs.length} veth ends, ${ON_DEV} on ${devs[0]}`);
  console.log(`filled with addMany in ${fillMs.toFixed(0)} ms; netplumb: ${ITER} timed runs (x4 filtered) after ${WARMUP} warm-up; ip: ${IP_ITER} runs, process spawn included; ms\n`);
  console.log('path                               | entries |   median |      p99 |      min');
  console.log('-----------------------------------|---------|----------|----------|---------');
  const f = (x) => x.toFixed(3).padStart(8);
  for (const r of rows) console.log(`${r.label.padEnd(34)} | ${String(r.count).padStart(7)} | ${f(r.median)} | ${f(r.p99)} | ${f(r.min)}`);
} finally {
  ns.close();
  await Netns.delete(name).catch(() => undefined);
  rmSync(tmp, { recursive: true, force: true });
}
