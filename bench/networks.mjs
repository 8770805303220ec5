#!/usr/bin/env node
// The model-level benchmark: every peer does the same Docker-style work per container
// (a named namespace attached to one bridge network: address, lo and eth0 up, default
// route, masquerade, optionally one published port; then all of it undone), measured
// side by side in one run. Run it as `npm run bench:networks [-- OPTIONS]` (inside the
// throwaway sandbox of scripts/in-netns.mjs); bench/README.md explains the workload,
// the peers, the columns and the scale scenario.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';
import { cpuBetween, cpuStat, now, quiesce, run, sleep, summarize, wallNow, works } from './lib/util.mjs';
import {
  CONTAINER_PORT, GATEWAY, NETNS_DIR, PORT_BASE, PREFIX_LEN, RUN_DIR, SUBNET,
  plan, prepareNetnsDir, settle, sweep, verifyAttached, verifyDetached,
} from './lib/model.mjs';
import { machine } from './lib/workload.mjs';

// Peer modules, in the order they run; each default-exports a peer or a list of them.
const MODULES = ['netplumb', 'cni', 'netavark'];
const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');

const USAGE = `usage: npm run bench:networks -- [options]
  --n LIST          container counts, comma separated (default 100,1000)
  --quick           smoke test: N=20 (and a 4 x 25 scale scenario with --scale)
  --peers LIST      only these peers (ids or module names; default all)
  --skip LIST       all peers but these
  --ports           each container also publishes one port (tcp ${PORT_BASE}+i -> ${CONTAINER_PORT})
  --no-paired       skip the paired round (netplumb and attachveth in turns, container by
                    container), which runs after the peers when both are selected
  --scale           the scale scenario (netplumb): 40 networks x 250 containers in one
                    state directory; alone it runs only that, with --n the per-N runs too
  --scale-networks K, --scale-per M   its shape (default 40 x 250)
  --state-dir DIR   put netplumb's state directories under DIR (default: the sandbox's
                    /run, a tmpfs; a directory on disk makes the store's fsyncs real)
  --json            print one JSON object instead of the tables
  --samples         with --json, include every per-container time
  --out FILE        also write the JSON object to FILE
  --help`;

function fail(msg) {
  console.error(msg);
  process.exit(2);
}

const { values: opt } = parseArgs({
  options: {
    n: { type: 'string' },
    quick: { type: 'boolean', default: false },
    peers: { type: 'string' },
    skip: { type: 'string' },
    ports: { type: 'boolean', default: false },
    'no-paired': { type: 'boolean', default: false },
    scale: { type: 'boolean', default: false },
    'scale-networks': { type: 'string' },
    'scale-per': { type: 'string' },
    'state-dir': { type: 'string' },
    json: { type: 'boolean', default: false },
    samples: { type: 'boolean', default: false },
    out: { type: 'string' },
    help: { type: 'boolean', default: false },
  },
});
if (opt.help) {
  console.log(USAGE);
  process.exit(0);
}
if (process.env.NETPLUMB_SANDBOX !== '1') {
  fail('bench/networks.mjs changes network state: run it inside the sandbox, as `npm run bench:networks`.');
}

const list = (s) => s.split(',').map((x) => x.trim()).filter(Boolean);
const sizes = opt.quick ? [20] : opt.n ? list(opt.n).map(Number) : opt.scale ? [] : [100, 1000];
if (sizes.some((n) => !Number.isInteger(n) || n < 1 || n > 10000)) fail('--n takes integers 1..10000 (host ports 20000+i)');
const scaleShape = {
  networks: Number(opt['scale-networks'] ?? (opt.quick ? 4 : 40)),
  per: Number(opt['scale-per'] ?? (opt.quick ? 25 : 250)),
};
if (!Number.isInteger(scaleShape.networks) || scaleShape.networks < 1 || scaleShape.networks > 256) fail('--scale-networks takes 1..256');
if (!Number.isInteger(scaleShape.per) || scaleShape.per < 4 || scaleShape.per > 250) fail('--scale-per takes 4..250 (a /24 per network)');
// Before each timed attach round: at least QUIET_MS, then until the CPUs are quiet (at
// most QUIET_MAX_MS): destroying the previous round's namespaces goes on in the
// kernel's background work and would otherwise slow whoever comes next.
const QUIET_MS = opt.quick ? 200 : 1000;
const WARMUP = 30; // untimed attaches per in-process peer before its measured rounds
const QUIET_MAX_MS = opt.quick ? 1000 : 15_000;

const log = opt.json ? (m) => console.error(m) : (m) => console.error(`  ${m}`);

// netplumb's state directories: on the sandbox's /run (a tmpfs: the store's fsyncs cost
// nothing) unless --state-dir names a place; a private subdirectory either way, removed after.
const stateBase = opt['state-dir'] ? path.resolve(opt['state-dir'], `netplumb-bench-state-${process.pid}`) : path.join(RUN_DIR, 'state');
function stateDirInfo() {
  if (!opt['state-dir']) return `${stateBase} (the sandbox's /run: a tmpfs, fsync is free)`;
  const fs = run('stat', ['-f', '-c', '%T', path.dirname(stateBase)]).trim();
  return `${stateBase} (${fs})`;
}

async function loadPeers() {
  const all = [];
  for (const m of MODULES) {
    const mod = (await import(`./model/${m}.mjs`)).default;
    for (const p of Array.isArray(mod) ? mod : [mod]) all.push(Object.assign(p, { module: m }));
  }
  const want = opt.peers ? new Set(list(opt.peers)) : null;
  const skip = new Set(opt.skip ? list(opt.skip) : []);
  const known = new Set(all.flatMap((p) => [p.id, p.module]));
  for (const id of [...(want ?? []), ...skip]) if (!known.has(id)) fail(`unknown peer ${id} (known: ${[...known].join(', ')})`);
  return all.filter((p) => (!want || want.has(p.id) || want.has(p.module)) && !skip.has(p.id) && !skip.has(p.module));
}

/** The plan as text for the peers that are separate programs: "NS IP HOSTPORT" a line. */
function writePlan(file, containers) {
  writeFileSync(file, containers.map((c) => `${c.ns} ${c.ip} ${c.hostPort}\n`).join(''));
}

const pick = ({ count, median, p99, mean, min, max }) => ({ count, median, p99, mean, min, max });

// attach() returns { times } for serial attaches (throughput from their sum) or
// { times, wallMs } when they overlap (throughput from the wall time).
function attachStats(r) {
  const s = summarize(r.times);
  const wallMs = r.wallMs ?? s.total;
  return { ...pick(s), wallMs, perSec: (r.times.length / wallMs) * 1000 };
}

async function measure(peer, n, containers, planFile) {
  const out = {
    id: peer.id, label: peer.label, netplumb: !!peer.netplumb, reference: !!peer.reference,
    ...(peer.inFlight && { inFlight: peer.inFlight }), how: peer.how, bulkMethod: peer.bulkMethod,
  };
  const t0 = now();
  await sweep();
  mkdirSync(RUN_DIR, { recursive: true });
  const stateDir = path.join(stateBase, `${peer.id}-${n}`);
  const ctx = {
    n, containers, planFile, log, stateDir,
    gateway: GATEWAY, prefixLen: PREFIX_LEN, subnet: SUBNET, netnsDir: NETNS_DIR, runDir: RUN_DIR,
    ports: opt.ports, portBase: PORT_BASE, containerPort: CONTAINER_PORT,
  };
  const checks = { ports: opt.ports };
  try {
    const reason = await peer.prepare(ctx);
    if (reason) {
      log(`${peer.id}: skipped: ${reason}`);
      return Object.assign(out, { status: 'skipped', reason });
    }
    if (peer.version) out.version = peer.version;
    if (peer.netplumb || peer.reference) {
      // The peers that run in this process share its JIT: each is warmed with an untimed
      // round of its own (WARMUP containers attached and torn down), so the order they run
      // in does not favour the later ones. The separate programs start cold every time.
      const warm = { ...ctx, containers: containers.slice(0, Math.min(WARMUP, n)) };
      log(`${peer.id} N=${n}: warm-up, ${warm.containers.length} untimed`);
      await peer.attach(warm);
      await peer.teardown(warm);
      await settle();
    }
    const quietMs = [await quiesce(QUIET_MS, QUIET_MAX_MS)];
    log(`${peer.id} N=${n}: attach`);
    const cpu0 = cpuStat();
    const a = await peer.attach(ctx);
    const cpu = cpuBetween(cpu0, cpuStat());
    verifyAttached(peer, containers, checks);
    log(`${peer.id} N=${n}: teardown, one by one`);
    const tdStart = wallNow();
    const td = await peer.teardown(ctx);
    await settle();
    const tdWallMs = wallNow() - tdStart;
    verifyDetached(peer, containers);
    let a2;
    let bulk;
    if (peer.hasBulk) {
      quietMs.push(await quiesce(QUIET_MS, QUIET_MAX_MS));
      log(`${peer.id} N=${n}: attach again, then bulk teardown`);
      a2 = await peer.attach(ctx);
      verifyAttached(peer, containers, checks);
      // Timed from when the peer began until the kernel shows no veth left (deleting
      // namespaces finishes in the background).
      const b = await peer.bulkTeardown(ctx);
      await settle();
      const ms = Math.max(b.ms, wallNow() - b.startedAt);
      verifyDetached(peer, containers);
      bulk = { count: n, ms, peerMs: b.ms, perSec: (n / ms) * 1000, method: peer.bulkMethod };
    } else {
      // No bulk operation: the serial teardown round, until the links were gone.
      bulk = { count: n, ms: tdWallMs, peerMs: summarize(td.times).total, perSec: (n / tdWallMs) * 1000, method: peer.bulkMethod };
    }
    const tds = summarize(td.times);
    Object.assign(out, {
      status: 'ok',
      quietMs,
      // The machine's CPUs during the attach round (every task, kernel workers too): how
      // busy they were, and their time per attach.
      attach: { ...attachStats(a), cpu: { share: cpu.share, cpus: cpu.cpus, msPerAttach: cpu.busyMs / n } },
      ...(a2 && { attachAgain: attachStats(a2) }),
      teardown: { ...pick(tds), perSec: (n / tds.total) * 1000 },
      bulk,
    });
    // netplumb's attach and teardown in their parts: network.attach (with the namespace
    // made in its call); network.detach and Netns.delete.
    if (a.parts) out.parts = { netnsCreate: pick(summarize(a.parts.netns)), networkAttach: pick(summarize(a.parts.attach)) };
    if (td.parts) Object.assign(out.parts ??= {}, { networkDetach: pick(summarize(td.parts.detach)), netnsDelete: pick(summarize(td.parts.netns)) });
    if (opt.samples) out.samples = { attach: a.times, teardown: td.times };
    return out;
  } catch (e) {
    log(`${peer.id} N=${n}: FAILED: ${e.message}`);
    return Object.assign(out, { status: 'failed', error: e.message });
  } finally {
    await peer.finish?.(ctx);
    await sweep();
    rmSync(stateDir, { recursive: true, force: true });
    out.elapsedMs = now() - t0;
  }
}

/** Each netplumb peer against each other peer; above 1 means netplumb is faster. */
function ratios(results) {
  const ok = results.filter((r) => r.status === 'ok');
  const out = [];
  for (const np of ok.filter((r) => r.netplumb)) {
    for (const other of ok.filter((r) => !r.netplumb)) {
      out.push({
        netplumb: np.id,
        peer: other.id,
        attachMedian: other.attach.median / np.attach.median,
        attachThroughput: np.attach.perSec / other.attach.perSec,
        teardownMedian: other.teardown.median / np.teardown.median,
        bulk: np.bulk.perSec / other.bulk.perSec,
      });
    }
  }
  return out;
}

/** The issue's "Must show" items that this run can answer, computed from what it measured. */
function targets(results) {
  const get = (id) => results.find((r) => r.id === id && r.status === 'ok');
  const np = get('netplumb');
  const out = [];
  if (!np) return out;
  const av = get('attachveth');
  if (av) out.push({ what: 'network.attach median / attachVeth { create } median', value: np.attach.median / av.attach.median, want: '<= 1.3', met: np.attach.median / av.attach.median <= 1.3 });
  if (results.paired?.status === 'ok') {
    const p = results.paired;
    out.push({ what: 'the same, paired (the two in turns, container by container)', value: p.ratio, want: '<= 1.3', met: p.ratio <= 1.3 });
  }
  const same = get('attachveth-same');
  if (same) out.push({ what: 'for comparison: network.attach median / attachVeth with the same netlink work', value: np.attach.median / same.attach.median, want: '-', met: undefined });
  const par = get('netplumb-par16');
  if (par) out.push({ what: '16 in flight / serial, attaches per second', value: par.attach.perSec / np.attach.perSec, want: '>= 1.5', met: par.attach.perSec / np.attach.perSec >= 1.5 });
  const avPar = get('attachveth-par16');
  if (av && avPar) out.push({ what: 'for comparison: attachVeth 16 in flight / serial (what the kernel leaves)', value: avPar.attach.perSec / av.attach.perSec, want: '-', met: undefined });
  // What the CPUs did (every task, kernel workers too, from /proc/stat): how busy they
  // were through netplumb's 16 in flight (near 1: the machine, not the library, is the
  // limit), and the CPU time one serial attach costs the machine, netplumb's and the
  // fast path's.
  if (par) out.push({ what: `for comparison: CPUs busy during netplumb 16 in flight (share of ${par.attach.cpu.cpus})`, value: par.attach.cpu.share, want: '-', met: undefined });
  if (av) out.push({ what: `for comparison: CPU ms per serial attach, machine-wide: netplumb ${np.attach.cpu.msPerAttach.toFixed(2)}, attachVeth ${av.attach.cpu.msPerAttach.toFixed(2)}; ratio`, value: np.attach.cpu.msPerAttach / av.attach.cpu.msPerAttach, want: '-', met: undefined });
  out.push({ what: 'detach median (network.detach + Netns.delete), ms', value: np.teardown.median, want: '<= 1', met: np.teardown.median <= 1 });
  out.push({ what: `bulk teardown of ${np.bulk.count}, containers per second until the links are gone`, value: np.bulk.perSec, want: '>= 1000', met: np.bulk.perSec >= 1000 });
  for (const id of ['cni', 'netavark']) {
    const p = get(id);
    if (!p) continue;
    out.push({ what: `attach: ${id} median / netplumb median`, value: p.attach.median / np.attach.median, want: '>= 5', met: p.attach.median / np.attach.median >= 5 });
    out.push({ what: `teardown: ${id} median / netplumb median`, value: p.teardown.median / np.teardown.median, want: '>= 5', met: p.teardown.median / np.teardown.median >= 5 });
  }
  return out;
}

// ---- the paired comparison ----

// The reference's own subnet in the paired run (the model keeps SUBNET): two bridges side
// by side, neither in the other's way.
const PAIR_SUBNET_OCTET = 90;

/**
 * network.attach and attachVeth { create } taken in turns, container by container, in one
 * round (which goes first alternates): both see the same machine at the same moment, so
 * the ratio does not move with whatever the machine does between two peers' rounds
 * (the per-peer rounds above run seconds apart). Each is warmed first (WARMUP each, in
 * turns); nothing is torn down until the round is over. Returns both peers' attach
 * statistics and the ratio of their medians.
 */
async function paired(n, model, reference) {
  const modelPlan = plan(n);
  const refPlan = modelPlan.map((c) => {
    const k = c.i + 2;
    const ip = `10.${PAIR_SUBNET_OCTET}.${k >> 8}.${k & 255}`;
    return { ...c, ns: `r${c.i}`, ip, cidr: `${ip}/${PREFIX_LEN}` };
  });
  await sweep();
  mkdirSync(RUN_DIR, { recursive: true });
  const stateDir = path.join(stateBase, `paired-${n}`);
  const base = {
    n, log, stateDir, prefixLen: PREFIX_LEN, netnsDir: NETNS_DIR, runDir: RUN_DIR,
    ports: opt.ports, portBase: PORT_BASE, containerPort: CONTAINER_PORT,
  };
  const mctx = { ...base, containers: modelPlan, gateway: GATEWAY, subnet: SUBNET };
  const rctx = { ...base, containers: refPlan, gateway: `10.${PAIR_SUBNET_OCTET}.0.1`, subnet: `10.${PAIR_SUBNET_OCTET}.0.0/${PREFIX_LEN}` };
  const out = { n, model: model.id, reference: reference.id };
  try {
    for (const [peer, ctx] of [[model, mctx], [reference, rctx]]) {
      const reason = await peer.prepare(ctx);
      if (reason) return Object.assign(out, { status: 'skipped', reason: `${peer.id}: ${reason}` });
    }
    const one = async (peer, ctx, c) => (await peer.attach({ ...ctx, containers: [c] })).times[0];
    const warm = Math.min(WARMUP, n);
    log(`paired N=${n}: warm-up, ${warm} each in turns, untimed`);
    for (let i = 0; i < warm; i++) {
      await one(model, mctx, modelPlan[i]);
      await one(reference, rctx, refPlan[i]);
    }
    await model.teardown({ ...mctx, containers: modelPlan.slice(0, warm) });
    await reference.teardown({ ...rctx, containers: refPlan.slice(0, warm) });
    await settle();
    out.quietMs = await quiesce(QUIET_MS, QUIET_MAX_MS);
    log(`paired N=${n}: ${model.id} and ${reference.id} in turns`);
    const m = [];
    const r = [];
    for (let i = 0; i < n; i++) {
      if (i % 2 === 0) {
        m.push(await one(model, mctx, modelPlan[i]));
        r.push(await one(reference, rctx, refPlan[i]));
      } else {
        r.push(await one(reference, rctx, refPlan[i]));
        m.push(await one(model, mctx, modelPlan[i]));
      }
    }
    // Both peers' namespaces share the directory: the model checks its own state only.
    model.verifyAttached?.(modelPlan);
    await model.teardown(mctx);
    await reference.teardown(rctx);
    await settle();
    const ms = pick(summarize(m));
    const rs = pick(summarize(r));
    const each = m.map((x, i) => x / r[i]).sort((a, b) => a - b);
    return Object.assign(out, { status: 'ok', modelAttach: ms, referenceAttach: rs, ratio: ms.median / rs.median, medianOfPairs: each[each.length >> 1] });
  } catch (e) {
    log(`paired N=${n}: FAILED: ${e.message}`);
    return Object.assign(out, { status: 'failed', error: e.message });
  } finally {
    await model.finish?.(mctx);
    await reference.finish?.(rctx);
    await sweep();
    rmSync(stateDir, { recursive: true, force: true });
  }
}

// ---- the scale scenario ----

/** Bytes this process has passed to write(2)-family calls so far (/proc/self/io wchar: every thread, every file). */
function wchar() {
  return Number(/^wchar: (\d+)$/m.exec(readFileSync('/proc/self/io', 'utf8'))[1]);
}

/** Total size of the files in a directory (the state files). */
function dirBytes(dir) {
  let total = 0;
  for (const f of readdirSync(dir)) total += statSync(path.join(dir, f)).size;
  return total;
}

/**
 * Runs fn under `strace -f -y` attached to this process, and returns the bytes its
 * write-family calls wrote, per file (the path strace resolved the fd to). The attach
 * is waited for before fn starts; the timings of these attaches are not used.
 */
async function straced(fn, tmp) {
  if (!works('strace', ['-V'])) return { error: 'strace is not installed' };
  const file = path.join(tmp, `strace-${Date.now()}.txt`);
  const child = spawn('strace', ['-f', '-y', '-s', '0', '-qq', '-e', 'trace=write,pwrite64,writev,pwritev,pwritev2', '-e', 'signal=none', '-o', file, '-p', String(process.pid)], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr.on('data', (d) => { err += d; });
  const exited = new Promise((r) => child.on('close', r));
  // strace has attached once this process's threads are traced (TracerPid in /proc).
  const t0 = now();
  while (!/^TracerPid:\s*[1-9]/m.test(readFileSync('/proc/self/status', 'utf8'))) {
    if (child.exitCode !== null || now() - t0 > 10_000) {
      child.kill();
      return { error: `strace could not attach: ${err.trim() || 'timeout'}` };
    }
    await sleep(10);
  }
  await sleep(200); // the threads other than the main one are attached right after it
  try {
    await fn();
  } finally {
    child.kill('SIGINT');
    await exited;
  }
  const perFile = new Map();
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const m = /(?:write|pwrite64|writev|pwritev2?)\(\d+<([^>]*)>.*\)\s+=\s+(\d+)/.exec(line);
    if (m) perFile.set(m[1], (perFile.get(m[1]) ?? 0) + Number(m[2]));
  }
  rmSync(file, { force: true });
  return { perFile };
}

async function scale(tmp) {
  const np = (await import('./model/netplumb.mjs'));
  const { networks: K, per: M } = scaleShape;
  const total = K * M;
  const W = Math.min(100, Math.floor(total / 4)); // the timed windows
  const S = Math.min(20, W); // the straced windows
  const out = { networks: K, perNetwork: M, endpoints: total, window: W, ports: opt.ports, stateDir: undefined };
  log(`scale: ${K} networks x ${M} containers = ${total} endpoints in one state directory`);
  await sweep();
  mkdirSync(RUN_DIR, { recursive: true });
  const stateDir = path.join(stateBase, 'scale');
  out.stateDir = stateDir;
  const ctx = { netnsDir: NETNS_DIR, stateDir, ports: opt.ports, containerPort: CONTAINER_PORT };
  // Container i: network i % K (round robin, so every network grows together and the
  // last window meets full networks and the full state), namespace s<i>, 10.90.k.x.
  const containers = Array.from({ length: total }, (_, i) => ({ i, ns: `s${i}`, net: i % K, hostPort: PORT_BASE + i }));
  const endpoints = new Map();
  let nets;
  try {
    nets = await np.openNetworks(ctx);
    const networks = [];
    for (let k = 0; k < K; k++) networks.push(await np.createNetwork(nets, `s${k}`, `10.90.${k}.0/24`));
    const attach = async (c) => {
      const w0 = wchar();
      const s = now();
      const r = await np.attachContainer(networks[c.net], ctx, c);
      const ms = now() - s;
      endpoints.set(c.ns, r.endpoint);
      return { ms, netnsMs: r.netnsMs, attachMs: r.attachMs, wchar: wchar() - w0 };
    };
    const windowStats = (rs, at) => ({
      endpointsBefore: at,
      attach: pick(summarize(rs.map((r) => r.ms))),
      netnsCreate: pick(summarize(rs.map((r) => r.netnsMs))),
      networkAttach: pick(summarize(rs.map((r) => r.attachMs))),
      wcharPerAttach: summarize(rs.map((r) => r.wchar)).mean,
      stateBytes: dirBytes(stateDir),
    });
    // The same attaches again under strace: detach the window's last S, attach them
    // anew while strace counts the bytes written per file.
    const attribute = async (cs) => {
      for (const c of cs) await np.detachContainer(networks[c.net], ctx, c, endpoints.get(c.ns));
      const again = [];
      const r = await straced(async () => {
        for (const c of cs) again.push(await attach(c));
      }, tmp);
      if (r.error) return { error: r.error };
      let state = 0;
      let other = 0;
      const others = {};
      for (const [f, b] of r.perFile) {
        if (f.startsWith(`${stateDir}/`) || f === stateDir) state += b;
        else {
          other += b;
          others[f] = b;
        }
      }
      // wchar over the same attaches: what the cheap counter says, next to the attribution.
      const w = again.reduce((a, x) => a + x.wchar, 0);
      return { attaches: cs.length, stateBytesPerAttach: state / cs.length, otherBytesPerAttach: other / cs.length, wcharPerAttach: w / cs.length, otherFiles: others };
    };

    // What the kernel alone costs at the same points: the fast path (attachVeth with
    // { create }, no state, no IPAM) onto a bridge of its own, one probe after each timed
    // attach of the windows, so both see the same kernel. Its growth from the first window
    // to the last is the kernel's (the host holds ever more veths whose peers live in
    // ever more namespaces), and the model's overhead is what grows beyond it.
    const lib = createRequire(import.meta.url)(path.join(ROOT, 'dist', 'index.js'));
    const host = await lib.Netns.current();
    const probeBridge = (await host.links.add({ name: 'scprobe', kind: 'bridge', up: true })).index;
    await host.addresses.add('scprobe', '10.91.0.1/16');
    let probes = 0;
    const probe = async () => {
      const k = probes++;
      const s = now();
      const r = await lib.attachVeth(host, { create: `sp${k}`, netnsDir: NETNS_DIR }, {
        bridge: probeBridge, hostIfname: `spv${k}`, address: `10.91.${Math.floor(k / 250) + 1}.${(k % 250) + 2}/16`, gateway: '10.91.0.1',
      });
      const ms = now() - s;
      r.netns.close();
      return ms;
    };
    // And the kernel with the model's own netlink work at the same point: attachVeth
    // given what network.attach gives it (MAC, MTU, alias tag, arp_notify, IPv6 off; as the
    // attachveth-same peer) onto the bridge of the container's own network, so that it
    // meets the same bridge (as many ports) too. What network.attach costs beyond this
    // probe is the model's own: the store, IPAM, JavaScript.
    const bridgeIndex = new Map();
    let sames = 0;
    const probeSame = async (c) => {
      const k = sames++;
      let bridge = bridgeIndex.get(c.net);
      if (bridge === undefined) {
        bridge = (await host.links.get(networks[c.net].info.bridge)).index;
        bridgeIndex.set(c.net, bridge);
      }
      const ip = `10.92.${Math.floor(k / 250) + 1}.${(k % 250) + 2}`;
      const s = now();
      const r = await lib.attachVeth(host, { create: `sq${k}`, netnsDir: NETNS_DIR }, {
        bridge, hostIfname: `sqv${k}`, address: `${ip}/16`, gateway: '10.92.0.1',
        mac: lib.macFromIp(ip), mtu: 1500, alias: `netplumb:ep:${k.toString(16).padStart(64, '0')}`, ipv4Conf: { arp_notify: 1 }, ipv6: false,
      });
      const ms = now() - s;
      r.netns.close();
      return ms;
    };

    out.quietMs = [await quiesce(QUIET_MS, QUIET_MAX_MS)];
    log(`scale: attach the first ${W} (timed), each followed by a fast-path probe`);
    const first = [];
    const firstProbe = [];
    const firstSame = [];
    for (const c of containers.slice(0, W)) {
      first.push(await attach(c));
      firstProbe.push(await probe());
      firstSame.push(await probeSame(c));
    }
    out.first = windowStats(first, 0);
    out.first.kernel = pick(summarize(firstProbe));
    out.first.kernelSame = pick(summarize(firstSame));
    log(`scale: ${S} of them again under strace`);
    out.first.strace = await attribute(containers.slice(W - S, W));
    const fillTimes = [];
    for (let i = W; i < total - W; i++) {
      if (i % 1000 === 0) log(`scale: ${i} endpoints`);
      fillTimes.push((await attach(containers[i])).ms);
    }
    // The fill, in tenths: how the attach time grows along the way.
    out.fill = Array.from({ length: 10 }, (_, d) => {
      const part = fillTimes.slice(Math.floor((d * fillTimes.length) / 10), Math.floor(((d + 1) * fillTimes.length) / 10));
      return { from: W + Math.floor((d * fillTimes.length) / 10), median: summarize(part).median };
    }).filter((x) => Number.isFinite(x.median));
    out.quietMs.push(await quiesce(QUIET_MS, QUIET_MAX_MS));
    log(`scale: attach the last ${W} (timed), each followed by a fast-path probe`);
    const last = [];
    const lastProbe = [];
    const lastSame = [];
    for (const c of containers.slice(total - W)) {
      last.push(await attach(c));
      lastProbe.push(await probe());
      lastSame.push(await probeSame(c));
    }
    out.last = windowStats(last, total - W);
    out.last.kernel = pick(summarize(lastProbe));
    out.last.kernelSame = pick(summarize(lastSame));
    host.close();
    log(`scale: ${S} of them again under strace`);
    out.last.strace = await attribute(containers.slice(total - S));
    const count = nets.list().reduce((a, n) => a + nets.get(n.name).endpoints().length, 0);
    if (count !== total) throw new Error(`verify: ${count} endpoints in the state, expected ${total}`);
    const ns = readdirSync(NETNS_DIR).filter((n) => !n.startsWith('sp') && !n.startsWith('sq')).length;
    if (ns !== total) throw new Error(`verify: ${ns} namespaces, expected ${total}`);
    // Spot checks in the kernel: the first and last container's address and route.
    for (const c of [containers[0], containers[total - 1]]) {
      const ep = endpoints.get(c.ns);
      const addrs = JSON.parse(run('ip', ['-j', '-n', c.ns, '-4', 'addr', 'show', 'dev', 'eth0'])).flatMap((a) => a.addr_info);
      if (!addrs.some((a) => a.local === ep.ip)) throw new Error(`verify: ${c.ns} does not have ${ep.ip}`);
      const routes = JSON.parse(run('ip', ['-j', '-n', c.ns, 'route', 'show', 'default']));
      if (!routes.some((r) => r.gateway === `10.90.${c.net}.1`)) throw new Error(`verify: ${c.ns} has no default route via 10.90.${c.net}.1`);
    }
    out.status = 'ok';
    out.p50Ratio = out.last.attach.median / out.first.attach.median;
    out.kernelRatio = out.last.kernel.median / out.first.kernel.median;
    // The model's own cost over the kernel's, at each end: flat means the growth is the kernel's.
    out.overFirst = out.first.attach.median / out.first.kernel.median;
    out.overLast = out.last.attach.median / out.last.kernel.median;
    // The model's own ms beyond the kernel doing its netlink work, at each end.
    out.ownFirstMs = out.first.attach.median - out.first.kernelSame.median;
    out.ownLastMs = out.last.attach.median - out.last.kernelSame.median;
  } catch (e) {
    log(`scale: FAILED: ${e.message}`);
    out.status = 'failed';
    out.error = e.message;
  } finally {
    // Cleanup, untimed: the namespaces, rules and the state directory go wholesale.
    await nets?.close();
    log('scale: cleaning up');
    await sweep();
    rmSync(stateDir, { recursive: true, force: true });
  }
  return out;
}

// ---- printing ----

function ms(v) {
  if (!Number.isFinite(v)) return '-';
  if (v >= 100) return v.toFixed(0);
  if (v >= 10) return v.toFixed(1);
  return v.toFixed(2);
}
const rate = (v) => (Number.isFinite(v) ? (v >= 100 ? v.toFixed(0) : v.toFixed(1)) : '-');
const times = (v) => (Number.isFinite(v) ? `${v >= 10 ? v.toFixed(1) : v >= 0.1 ? v.toFixed(2) : v.toPrecision(2)}x` : '-');
const bytes = (v) => (v >= 1 << 20 ? `${(v / (1 << 20)).toFixed(2)} MiB` : v >= 1024 ? `${(v / 1024).toFixed(1)} KiB` : `${Math.round(v)} B`);

function table(rows) {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => String(r[i]).length)));
  return rows
    .map((r) => r.map((c, i) => (i === 0 ? String(c).padEnd(widths[i]) : String(c).padStart(widths[i]))).join('  '))
    .join('\n');
}

function printRun(r) {
  console.log(`\nN = ${r.n}   (ms per container${opt.ports ? ', each publishing one port' : ''})`);
  const rows = [['peer', 'attach med', 'p99', 'attach/s', 'teardown med', 'p99', 'bulk td/s', 'run s']];
  const notes = [];
  for (const p of r.peers) {
    if (p.status !== 'ok') {
      rows.push([p.label, p.status, '', '', '', '', '', '']);
      notes.push(`${p.id} ${p.status}: ${p.reason ?? p.error}`);
      continue;
    }
    rows.push([p.label, ms(p.attach.median), ms(p.attach.p99), rate(p.attach.perSec), ms(p.teardown.median), ms(p.teardown.p99), rate(p.bulk.perSec), (p.elapsedMs / 1000).toFixed(1)]);
    if (p.parts) {
      notes.push(`${p.id}: attach = network.attach({ create }) med ${ms(p.parts.networkAttach.median)} ms (the namespace made in the same call); ` +
        `teardown = network.detach med ${ms(p.parts.networkDetach.median)} + Netns.delete med ${ms(p.parts.netnsDelete.median)} ms`);
    }
  }
  console.log(table(rows));
  for (const np of [...new Set(r.ratios.map((x) => x.netplumb))]) {
    const mine = r.ratios.filter((x) => x.netplumb === np);
    // A parallel variant's teardown is the serial one: only its attach is its own.
    const parallel = r.peers.find((p) => p.id === np)?.inFlight;
    console.log(`\n${np} vs each peer (x; above 1 = ${np} faster)`);
    console.log(table([
      ['', ...mine.map((x) => x.peer)],
      ['attach, median per container', ...mine.map((x) => times(x.attachMedian))],
      ['attach throughput', ...mine.map((x) => times(x.attachThroughput))],
      ...(parallel ? [] : [
        ['teardown, median per container', ...mine.map((x) => times(x.teardownMedian))],
        ['bulk teardown', ...mine.map((x) => times(x.bulk))],
      ]),
    ]));
  }
  if (r.paired?.status === 'ok') {
    const p = r.paired;
    console.log(`\npaired (${p.model} and ${p.reference} in turns, container by container): attach median ${ms(p.modelAttach.median)} vs ${ms(p.referenceAttach.median)} ms, ` +
      `ratio ${p.ratio.toFixed(2)} (median of the per-container ratios ${p.medianOfPairs.toFixed(2)})`);
  } else if (r.paired) {
    notes.push(`paired ${r.paired.status}: ${r.paired.reason ?? r.paired.error}`);
  }
  if (r.targets.length) {
    console.log('\nthe issue\'s targets at this N');
    console.log(table([['', 'measured', 'target', ''], ...r.targets.map((t) => [t.what, t.value >= 100 ? t.value.toFixed(0) : t.value.toFixed(2), t.want, t.met === undefined ? '' : t.met ? 'met' : 'NOT met'])]));
  }
  for (const n of notes) console.log(n);
}

function printScale(s) {
  console.log(`\nscale: ${s.networks} networks x ${s.perNetwork} containers = ${s.endpoints} endpoints in one state directory${s.ports ? ', each publishing one port' : ''}`);
  if (s.status !== 'ok') {
    console.log(`failed: ${s.error}`);
    return;
  }
  const strace = (w) => (w.strace?.error ? `(strace: ${w.strace.error})` : bytes(w.strace.stateBytesPerAttach));
  console.log(table([
    ['', 'endpoints before', 'attach p50', 'p99', 'Netns.create p50', 'network.attach p50', 'wchar/attach', 'state writes/attach (strace)', 'state files after'],
    ...[['first', s.first], ['last', s.last]].map(([k, w]) => [
      `${k} ${s.window}`, w.endpointsBefore, ms(w.attach.median), ms(w.attach.p99), ms(w.netnsCreate.median), ms(w.networkAttach.median),
      bytes(w.wcharPerAttach), strace(w), bytes(w.stateBytes),
    ]),
  ]));
  for (const [k, w] of [['first', s.first], ['last', s.last]]) {
    if (!w.strace || w.strace.error) continue;
    const others = Object.entries(w.strace.otherFiles).map(([f, b]) => `${f} ${bytes(b / w.strace.attaches)}`).join(', ');
    console.log(`${k} window, ${w.strace.attaches} attaches under strace: per attach ${bytes(w.strace.stateBytesPerAttach)} to the state directory, ${bytes(w.strace.otherBytesPerAttach)} elsewhere (${others || 'nothing'}); wchar ${bytes(w.strace.wcharPerAttach)}`);
  }
  console.log(`attach p50 last / first: ${s.p50Ratio.toFixed(2)} (target <= 1.25: ${s.p50Ratio <= 1.25 ? 'met' : 'NOT met'})`);
  console.log(`the kernel alone, same points (attachVeth { create } probes): p50 ${ms(s.first.kernel.median)} -> ${ms(s.last.kernel.median)} ms, last / first ${s.kernelRatio.toFixed(2)}`);
  console.log(`network.attach / the kernel's probe: ${s.overFirst.toFixed(2)} at the first window, ${s.overLast.toFixed(2)} at the last`);
  console.log(`the kernel with the model's netlink work on the network's own bridge (attachVeth probes, same options): p50 ${ms(s.first.kernelSame.median)} -> ${ms(s.last.kernelSame.median)} ms; ` +
    `network.attach beyond it (the model's own: store, IPAM, JavaScript): ${ms(s.ownFirstMs)} -> ${ms(s.ownLastMs)} ms`);
  const [b1, b2] = [s.first.strace?.stateBytesPerAttach ?? s.first.wcharPerAttach, s.last.strace?.stateBytesPerAttach ?? s.last.wcharPerAttach];
  console.log(`bytes written to the state per attach, last / first: ${(b2 / b1).toFixed(2)} (target: the same)`);
  console.log(`attach p50 along the fill: ${s.fill.map((f) => `${f.from}: ${ms(f.median)}`).join(', ')}`);
}

// ---- main ----

const peers = await loadPeers();
const info = machine();
for (const [k, pkg] of [['netavark', 'netavark'], ['cniPlugins', 'containernetworking-plugins']]) {
  try {
    info[k] = run('dpkg-query', ['-W', '-f', '${Version}', pkg]).trim() || undefined;
  } catch {
    info[k] = undefined;
  }
}
delete info.pyroute2;
prepareNetnsDir();
const tmp = mkdtempSync(path.join(os.tmpdir(), 'netplumb-bench-model-'));
const started = now();
const result = {
  machine: info,
  workload: {
    what: 'per container: named namespace c<i>, attached to one bridge network (10.89.0.0/16, gateway .1, masquerade): an address, lo and eth0 up, default route' +
      (opt.ports ? `, one published port (tcp ${PORT_BASE}+i -> ${CONTAINER_PORT})` : '') + '; teardown undoes it and deletes the namespace',
    ports: opt.ports,
  },
  sandbox: 'user + network + mount namespace, tmpfs over /run (scripts/in-netns.mjs)',
  stateDir: stateDirInfo(),
  runs: [],
};
if (!opt.json) {
  console.log(`netplumb model-level benchmark: ${result.workload.what}`);
  console.log(`machine: ${info.nproc} x ${info.cpu}, kernel ${info.kernel}, node ${info.node}`);
  console.log(`peers: containernetworking-plugins ${info.cniPlugins ?? '?'}, netavark ${info.netavark ?? '?'}; netplumb state: ${result.stateDir}`);
}
try {
  for (const n of sizes) {
    const containers = plan(n);
    const planFile = path.join(tmp, `plan-${n}.txt`);
    writePlan(planFile, containers);
    const r = { n, peers: [] };
    for (const p of peers) r.peers.push(await measure(p, n, containers, planFile));
    const model = peers.find((p) => p.id === 'netplumb');
    const reference = peers.find((p) => p.id === 'attachveth');
    if (model && reference && !opt['no-paired']) r.paired = await paired(n, model, reference);
    r.ratios = ratios(r.peers);
    r.targets = targets(Object.assign([...r.peers], { paired: r.paired }));
    result.runs.push(r);
    if (!opt.json) printRun(r);
  }
  if (opt.scale) {
    result.scale = await scale(tmp);
    if (!opt.json) printScale(result.scale);
  }
} finally {
  rmSync(tmp, { recursive: true, force: true });
  if (opt['state-dir']) rmSync(stateBase, { recursive: true, force: true });
}
result.elapsedMs = now() - started;
if (opt.out) writeFileSync(opt.out, `${JSON.stringify(result, null, 2)}\n`);
if (opt.json) console.log(JSON.stringify(result, null, 2));
else console.log(`\ntotal ${(result.elapsedMs / 1000).toFixed(0)} s`);
const failed = result.runs.flatMap((r) => r.peers).filter((p) => p.status === 'failed').length + (result.scale?.status === 'failed' ? 1 : 0);
process.exit(failed ? 1 : 0);
