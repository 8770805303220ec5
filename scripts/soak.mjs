#!/usr/bin/env node
// Soak: attach/detach cycles through the bridge-network model, checking that nothing
// leaks. Run inside the sandbox (`npm run build` first):
//   node scripts/in-netns.mjs node scripts/soak.mjs [--cycles 10000] [--every N]
//        [--warmup 100] [--rss-tolerance 5] [--v8-defaults] [--json]
// Each cycle: a pooled namespace, an attach with one published port, a detach, the
// namespace deleted; --warmup cycles of the same before the baseline. At the end, file
// descriptors, threads, links, named namespaces and nftables elements must be back
// where they started, and RSS at the last cycle within
// --rss-tolerance percent (default 5) of RSS at 10% of the run. Every --every cycles
// (and at those two points) it collects garbage and records where the memory is: V8's
// heap, external memory, the C allocator (mallinfo2) and /proc/self/smaps by kind; the
// table is printed at the end.
//
// V8's young generation: V8 starts its semi-spaces small and doubles them whenever as
// many bytes have survived scavenges since the last growth as the new space holds,
// up to --max-semi-space-size (16 MB on 64-bit Node 20). Any process that keeps
// allocating gets there: here 8 -> 16 MB of new space after ~1,200 cycles, 32 MB after
// ~3,300, +24 MB of RSS that is capacity, not memory anybody holds. So that this warm-up
// is not taken for a leak, the soak runs node with the young generation at that default
// maximum from the start (--min-semi-space-size = --max-semi-space-size = 16); the
// steady state is the same, only reached at once. --v8-defaults runs without (and shows
// the growth in the newSpace column).
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import v8 from 'node:v8';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : def;
};
const cycles = opt('cycles', 1000);
const every = opt('every', Math.max(1, Math.floor(cycles / 20)));
const rssTolerance = opt('rss-tolerance', 5);
const warmup = opt('warmup', 100);
const json = args.includes('--json');
const v8Defaults = args.includes('--v8-defaults');
if (!Number.isInteger(cycles) || cycles < 10 || !Number.isInteger(every) || every < 1 || !(rssTolerance >= 0) || !Number.isInteger(warmup) || warmup < 1) {
  console.error('usage: soak.mjs [--cycles N >= 10] [--every N] [--warmup N] [--rss-tolerance PERCENT] [--v8-defaults] [--json]');
  process.exit(2);
}

if (process.env.NETPLUMB_SANDBOX !== '1') {
  console.error('run inside the sandbox: node scripts/in-netns.mjs node scripts/soak.mjs');
  process.exit(2);
}

// The V8 flags the measurement needs; run again with them if node was started without.
const v8Flags = ['--expose-gc', ...(v8Defaults ? [] : ['--min-semi-space-size=16', '--max-semi-space-size=16'])];
if (!v8Flags.every((f) => process.execArgv.includes(f))) {
  const r = spawnSync(process.execPath, [...process.execArgv, ...v8Flags, fileURLToPath(import.meta.url), ...args], { stdio: 'inherit' });
  process.exit(r.status ?? 1);
}

const load = createRequire(import.meta.url);
const np = load(path.join(root, 'dist', 'index.js'));
const { nativeDebug } = load(path.join(root, 'dist', 'binding.js'));
// The allocator's own view needs the diagnostics of a debug build (native/ops/debug_ops.cc).
if (!nativeDebug) {
  console.error('soak.mjs reads malloc statistics: build the addon with them first: npx node-gyp rebuild --netplumb_debug=1');
  process.exit(2);
}

const fds = () => readdirSync('/proc/self/fd').length;
// What the open fds are (for the report when their number differs).
const fdList = () =>
  readdirSync('/proc/self/fd').flatMap((f) => {
    try {
      return [`${f} -> ${readlinkSync(`/proc/self/fd/${f}`)}`];
    } catch {
      return []; // readdir's own fd, closed by now
    }
  });
const threads = () => readdirSync('/proc/self/task').length;
const namedNs = () => readdirSync('/run/netns').length;

// Resident kB of /proc/self/smaps by kind of mapping: the brk heap (glibc's main arena),
// anonymous mappings (V8's pages, glibc's thread arenas, thread stacks), files (node,
// the addon, libraries).
function smapsKb() {
  const out = { heap: 0, anon: 0, file: 0 };
  let kind;
  for (const line of readFileSync('/proc/self/smaps', 'utf8').split('\n')) {
    const m = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (m) kind = m[1] === '[heap]' ? 'heap' : m[1] === '' ? 'anon' : m[1].startsWith('/') ? 'file' : undefined;
    else if (kind && line.startsWith('Rss:')) out[kind] += Number(/(\d+)/.exec(line)[1]);
  }
  return out;
}

// Where the memory is, after a full collection, in kB.
function memory() {
  globalThis.gc();
  const kb = (x) => Math.round((x ?? 0) / 1024);
  const mu = process.memoryUsage();
  const space = Object.fromEntries(v8.getHeapSpaceStatistics().map((s) => [s.space_name, s.physical_space_size]));
  const mi = nativeDebug._debugMallocInfo();
  const sm = smapsKb();
  return {
    rss: kb(mu.rss),
    heapTotal: kb(mu.heapTotal),
    heapUsed: kb(mu.heapUsed),
    external: kb(mu.external),
    arrayBuffers: kb(mu.arrayBuffers),
    newSpace: kb(space.new_space),
    codeSpace: kb(space.code_space),
    v8Malloced: kb(v8.getHeapStatistics().malloced_memory),
    mallocUsed: kb(mi.uordblks),
    mallocFree: kb(mi.fordblks),
    mallocMmap: kb(mi.hblkhd),
    smapsHeap: sm.heap,
    smapsAnon: sm.anon,
    smapsFile: sm.file,
  };
}

async function main() {
  const host = await np.Netns.create('soak-host');
  const nets = await np.Networks.open({ stateDir: '/run/netplumb-soak', host });
  const net = await nets.create({ name: 'soak', subnet: '10.123.0.0/16' });
  const pool = await np.NetnsPool.create({ size: 8, netnsDir: '/run/netns' });
  const elements = async () => {
    let n = 0;
    for (const set of ['dnat4_any', 'pub4']) n += (await host.nft.getSet('inet', 'netplumb', set)).elements?.length ?? 0;
    return n;
  };
  const links = async () => (await host.links.list()).length;
  // Warm up so that lazily made things (the namespace thread, sockets, stdio) are in the
  // baseline, and V8 has compiled the hot paths and touched its young generation.
  for (let i = 0; i < warmup; i++) {
    const warm = await pool.take('soak-warm');
    await net.detach(await net.attach(warm, { publish: [{ hostPort: 20000, containerPort: 80 }] }));
    warm.close();
    await np.Netns.delete('soak-warm');
  }
  await pool.fill();
  await nets.reap();
  // Node opens what stdout and stderr need (a pipe may take an fd) on first use: before the baseline.
  void process.stdout;
  void process.stderr;
  const baseList = fdList();
  const base = { fds: fds(), threads: threads(), links: await links(), namedNs: namedNs(), elements: await elements() };
  const samples = [];
  const attachMs = new Float64Array(cycles);
  const detachMs = new Float64Array(cycles);
  const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
  // RSS is compared between these two points, both right after a cycle's namespace is gone.
  const refCycle = Math.max(1, Math.round(cycles / 10));
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < cycles; i++) {
    const name = `soak${i}`;
    const ns = await pool.take(name);
    const ta = process.hrtime.bigint();
    const ep = await net.attach(ns, { name, publish: [{ hostPort: 20000 + (i % 1000), containerPort: 80, protocol: i % 2 ? 'udp' : 'tcp' }] });
    const td = process.hrtime.bigint();
    await net.detach(ep);
    attachMs[i] = Number(td - ta) / 1e6;
    detachMs[i] = Number(process.hrtime.bigint() - td) / 1e6;
    ns.close();
    await np.Netns.delete(name);
    const cycle = i + 1;
    if (cycle % every === 0 || cycle === refCycle || cycle === cycles) {
      const s = { cycle, ...memory(), fds: fds(), threads: threads(), links: await links(), namedNs: namedNs(), elements: await elements() };
      samples.push(s);
      if (!json) console.error(`cycle ${cycle}: rss ${s.rss} kB, fds ${s.fds}, threads ${s.threads}, links ${s.links}, netns ${s.namedNs}, elements ${s.elements}`);
    }
  }
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  await pool.fill(); // as full as at the start, nothing in flight
  await nets.reap(); // detached endpoints' links waiting in the reap group
  // Let the kernel finish destroying the last namespaces' veths.
  for (let i = 0; i < 100 && (await links()) > base.links; i++) await new Promise((r) => setTimeout(r, 20));
  const end = { fds: fds(), threads: threads(), links: await links(), namedNs: namedNs(), elements: await elements() };
  const endList = fdList();
  await pool.close();
  const problems = [];
  for (const k of ['fds', 'threads', 'links', 'namedNs', 'elements']) {
    if (end[k] !== base[k]) problems.push(`${k}: ${base[k]} at start, ${end[k]} at the end`);
  }
  if (end.fds !== base.fds) {
    problems.push(`fds opened since the start: ${endList.filter((f) => !baseList.includes(f)).join(', ') || '-'}; closed: ${baseList.filter((f) => !endList.includes(f)).join(', ') || '-'}`);
  }
  const ref = samples.find((s) => s.cycle === refCycle);
  const last = samples[samples.length - 1];
  const rssGrowth = (last.rss - ref.rss) / ref.rss;
  if (rssGrowth * 100 > rssTolerance) {
    problems.push(`RSS grew ${(rssGrowth * 100).toFixed(1)}% from cycle ${refCycle} to ${cycles} (${ref.rss} -> ${last.rss} kB; tolerance ${rssTolerance}%)`);
  }
  await nets.remove('soak');
  await nets.close();
  host.close();
  await np.Netns.delete('soak-host');
  const out = {
    cycles, seconds, perCycleMs: (seconds * 1000) / cycles, attachMedianMs: median(attachMs), detachMedianMs: median(detachMs),
    v8Flags, base, end, rss: { refCycle, refKb: ref.rss, endKb: last.rss, growth: rssGrowth, tolerancePercent: rssTolerance },
    samples, ok: problems.length === 0, problems,
  };
  if (json) console.log(JSON.stringify(out, null, 2));
  else {
    console.log(`${cycles} attach/detach cycles in ${seconds.toFixed(1)} s (${out.perCycleMs.toFixed(2)} ms a cycle; Network.attach median ${out.attachMedianMs.toFixed(2)} ms, detach ${out.detachMedianMs.toFixed(2)} ms), node ${v8Flags.join(' ')}`);
    console.log('memory after a full GC, kB (malloc: glibc mallinfo2 over all arenas; smaps: resident by mapping kind)');
    const cols = ['cycle', 'rss', 'heapTotal', 'heapUsed', 'external', 'arrayBuffers', 'newSpace', 'codeSpace', 'mallocUsed', 'mallocFree', 'smapsHeap', 'smapsAnon', 'smapsFile'];
    const w = cols.map((c) => Math.max(c.length, ...samples.map((s) => String(s[c]).length)));
    console.log(cols.map((c, j) => c.padStart(w[j])).join(' '));
    for (const s of samples) console.log(cols.map((c, j) => String(s[c]).padStart(w[j])).join(' '));
    console.log(`start: ${JSON.stringify(base)}`);
    console.log(`end:   ${JSON.stringify(end)}, RSS ${ref.rss} kB at cycle ${refCycle} -> ${last.rss} kB at ${cycles} (${(rssGrowth * 100).toFixed(1)}%)`);
    console.log(problems.length ? `LEAKS:\n  ${problems.join('\n  ')}` : `no leaks: fds, threads, links, namespaces and nftables elements back to the start; RSS within ${rssTolerance}%`);
  }
  process.exit(problems.length ? 1 : 0);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
