#!/usr/bin/env node
// The container-attach benchmark: netplumb and its peers in one run, side by side.
// Run it as `npm run bench [-- OPTIONS]` (inside the throwaway sandbox of
// scripts/in-netns.mjs); bench/README.md explains the workload, the peers and the columns.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { now, quiesce, sleep, summarize, wallNow } from './lib/util.mjs';
import {
  BRIDGE, CONTAINER_PORT, GATEWAY, NETNS_DIR, PORT_BASE, PREFIX_LEN, RUN_DIR, SUBNET,
  loadPortsSkeleton, machine, plan, prepareNetnsDir, settle, setupBridge, sweep, verifyAttached, verifyDetached,
  verifyPorts, verifyPortsGone, writePlan,
} from './lib/workload.mjs';

// Peer modules, in the order they run. Each default-exports a peer or a list of peers
// (netplumb's variants); see README.md for the interface.
const MODULES = ['floor', 'netplumb', 'iproute2', 'cni', 'pyroute2', 'netlink-npm'];

const USAGE = `usage: npm run bench -- [options]
  --n LIST          container counts, comma separated (default 100,1000)
  --quick           smoke test: N=20, short link-get loop
  --peers LIST      only these peers (ids or module names; default all)
  --skip LIST       all peers but these
  --linkget COUNT   link-get latency iterations (default 20000, 0 to skip)
  --workload NAME   attach (default), or ports: attach plus one published port per container
  --json            print one JSON object instead of the tables
  --samples         with --json, include every per-container time
  --out FILE        also write the JSON object to FILE
  --help`;

// The workloads. ports adds a publish step to each attach (and an unpublish to each
// teardown) for every peer that can express it; see README.md.
const WORKLOADS = {
  attach: 'container attach: namespace, veth into the bridge, address, lo up, eth0 up, default route',
  ports: `container attach plus one published port: tcp ${PORT_BASE}+i on every host address to the container's port ${CONTAINER_PORT}`,
};

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
    linkget: { type: 'string' },
    workload: { type: 'string', default: 'attach' },
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
if (!(opt.workload in WORKLOADS)) fail(`unknown workload ${opt.workload}\n${USAGE}`);
if (process.env.NETPLUMB_SANDBOX !== '1') {
  fail('bench/run.mjs changes network state: run it inside the sandbox, as `npm run bench`.');
}

const list = (s) => s.split(',').map((x) => x.trim()).filter(Boolean);
const sizes = opt.quick ? [20] : list(opt.n ?? '100,1000').map(Number);
if (sizes.some((n) => !Number.isInteger(n) || n < 1 || n > 65000)) fail('--n takes integers 1..65000');
const linkGetIterations = Number(opt.linkget ?? (opt.quick ? 2000 : 20000));
if (!Number.isInteger(linkGetIterations) || linkGetIterations < 0) fail('--linkget takes a count');
// Before each timed attach round: at least QUIET_MS, then until the CPUs are quiet
// (at most QUIET_MAX_MS), so that no peer's attaches compete with the kernel still
// destroying the namespaces of the previous peer or round.
const QUIET_MS = opt.quick ? 200 : 1000;
const QUIET_MAX_MS = opt.quick ? 1000 : 15_000;

const log = opt.json ? (m) => console.error(m) : (m) => console.error(`  ${m}`);

async function loadPeers() {
  const all = [];
  for (const m of MODULES) {
    const mod = (await import(`./peers/${m}.mjs`)).default;
    for (const p of Array.isArray(mod) ? mod : [mod]) all.push({ ...p, module: m });
  }
  const want = opt.peers ? new Set(list(opt.peers)) : null;
  const skip = new Set(opt.skip ? list(opt.skip) : []);
  const known = new Set(all.flatMap((p) => [p.id, p.module]));
  for (const id of [...(want ?? []), ...skip]) if (!known.has(id)) fail(`unknown peer ${id} (known: ${[...known].join(', ')})`);
  return all.filter((p) => (!want || want.has(p.id) || want.has(p.module)) && !skip.has(p.id) && !skip.has(p.module));
}

// attach() returns per-container times, or { times, wallMs } when attaches overlap.
function attachStats(r) {
  const times = Array.isArray(r) ? r : r.times;
  const s = summarize(times);
  const wallMs = Array.isArray(r) ? s.total : r.wallMs;
  return { ...s, wallMs, perSec: (times.length / wallMs) * 1000 };
}

const pick = ({ count, median, p99, mean, wallMs, perSec }) => ({ count, median, p99, mean, wallMs, perSec });

async function measure(peer, n, containers, planFile, tmpDir) {
  const ports = opt.workload === 'ports';
  // How the peer publishes a port (ports workload): 'nft' into netplumb's layout,
  // 'iptables' (CNI's portmap), or not at all (a partial peer for this workload).
  const publish = ports ? peer.ports : undefined;
  const partial = [peer.partial, ports && !publish ? 'no published port (it has no way to make one)' : undefined].filter(Boolean).join('; ');
  const out = {
    id: peer.id, label: peer.label, scope: peer.scope, netplumb: !!peer.netplumb,
    ...(partial ? { partial } : {}), bulkMethod: peer.bulkMethod,
    ...(ports ? { ports: publish ? { how: publish.how, method: publish.method } : null } : {}),
  };
  const t0 = now();
  await sweep();
  mkdirSync(RUN_DIR, { recursive: true });
  const ctx = {
    n, containers, planFile, tmpDir, log,
    bridge: BRIDGE, bridgeIndex: setupBridge(), gateway: GATEWAY, prefixLen: PREFIX_LEN, subnet: SUBNET,
    netnsDir: NETNS_DIR, runDir: RUN_DIR,
    ports: !!publish, portBase: PORT_BASE, containerPort: CONTAINER_PORT,
  };
  // The skeleton a peer publishes into is made untimed, like the bridge.
  if (publish?.how === 'nft') await loadPortsSkeleton();
  const portChecks = { how: publish?.how, ipam: !!peer.ipam };
  try {
    const reason = await peer.prepare(ctx);
    if (reason) {
      log(`${peer.id}: skipped: ${reason}`);
      return Object.assign(out, { status: 'skipped', reason });
    }
    const checks = { scope: peer.scope, ipam: !!peer.ipam };
    ctx.quietMs = [await quiesce(QUIET_MS, QUIET_MAX_MS)];
    log(`${peer.id} N=${n}: attach`);
    const a = await peer.attach(ctx);
    verifyAttached(containers, checks);
    if (publish) verifyPorts(containers, portChecks);
    log(`${peer.id} N=${n}: teardown, one by one`);
    const td = await peer.teardown(ctx);
    await settle();
    verifyDetached();
    if (publish) verifyPortsGone(portChecks);
    ctx.quietMs.push(await quiesce(QUIET_MS, QUIET_MAX_MS));
    log(`${peer.id} N=${n}: attach again, then bulk teardown`);
    const a2 = await peer.attach(ctx);
    verifyAttached(containers, checks);
    if (publish) verifyPorts(containers, portChecks);
    // Bulk teardown is timed from when the peer began until the kernel shows no veth
    // left (deleting namespaces finishes in the background), unless the peer knows
    // everything was gone when it returned.
    const bulk = await peer.bulkTeardown(ctx);
    await settle();
    const settledAt = wallNow();
    verifyDetached();
    if (publish) verifyPortsGone(portChecks);
    const tds = summarize(td);
    const bulkTotal = bulk.settled ? bulk.ms : Math.max(bulk.ms, settledAt - bulk.startedAt);
    Object.assign(out, {
      status: 'ok',
      quietMs: ctx.quietMs,
      attach: pick(attachStats(a)),
      attachAgain: pick(attachStats(a2)),
      teardown: { ...pick(tds), perSec: (td.length / tds.total) * 1000 },
      bulk: { count: n, ms: bulkTotal, peerMs: bulk.ms, perSec: (n / bulkTotal) * 1000 },
    });
    if (opt.samples) out.samples = { attach: Array.isArray(a) ? a : a.times, teardown: td };
    return out;
  } catch (e) {
    log(`${peer.id} N=${n}: FAILED: ${e.message}`);
    return Object.assign(out, { status: 'failed', error: e.message });
  } finally {
    await peer.finish?.(ctx);
    await sweep();
    out.elapsedMs = now() - t0;
  }
}

// netplumb's cost over C for one simple request: RTM_GETLINK "lo", answered and decoded.
async function linkGet(peers, tmpDir) {
  const floor = peers.find((p) => p.id === 'floor');
  const np = peers.find((p) => p.id === 'netplumb');
  if (!linkGetIterations || !floor || !np) return undefined;
  const warm = Math.min(1000, Math.floor(linkGetIterations / 10));
  const ctx = { tmpDir, log };
  const out = { request: 'RTM_GETLINK lo (IFLA_IFNAME, IFLA_EXT_MASK=RTEXT_FILTER_VF), answer decoded', iterations: linkGetIterations };
  for (const p of [floor, np]) {
    const reason = await p.prepare(ctx);
    if (reason) return { ...out, skipped: `${p.id}: ${reason}` };
    const times = (await p.linkGet(ctx, linkGetIterations + warm)).slice(warm);
    const s = summarize(times);
    out[p.id] = { medianUs: s.median * 1e3, p99Us: s.p99 * 1e3, meanUs: s.mean * 1e3 };
    if (p.linkGetSync) {
      const st = summarize((await p.linkGetSync(ctx, linkGetIterations + warm)).slice(warm));
      out[`${p.id}Sync`] = { medianUs: st.median * 1e3, p99Us: st.p99 * 1e3, meanUs: st.mean * 1e3 };
    }
    await p.finish?.(ctx);
  }
  out.differenceUs = out.netplumb.medianUs - out.floor.medianUs;
  if (out.netplumbSync) out.differenceSyncUs = out.netplumbSync.medianUs - out.floor.medianUs;
  return out;
}

// Ratios of each netplumb variant to each other peer; above 1 means netplumb is faster.
function ratios(results) {
  const ok = results.filter((r) => r.status === 'ok');
  const out = [];
  for (const np of ok.filter((r) => r.netplumb)) {
    for (const other of ok.filter((r) => !r.netplumb)) {
      out.push({
        netplumb: np.id,
        peer: other.id,
        ...(other.partial ? { partial: true } : {}),
        attach: np.attach.perSec / other.attach.perSec,
        teardown: other.teardown.median / np.teardown.median,
        bulk: np.bulk.perSec / other.bulk.perSec,
      });
    }
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
const times = (v) => (Number.isFinite(v) ? `${v >= 10 ? v.toFixed(1) : v.toFixed(2)}x` : '-');

function table(rows) {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => String(r[i]).length)));
  return rows
    .map((r) => r.map((c, i) => (i === 0 ? String(c).padEnd(widths[i]) : String(c).padStart(widths[i]))).join('  '))
    .join('\n');
}

function printRun(run) {
  const ports = opt.workload === 'ports' ? ', each attach publishing one port' : '';
  console.log(`\nN = ${run.n}   (times in ms per container; attaches serial${ports})`);
  const rows = [['peer', 'attach med', 'p99', 'attach/s', 'teardown med', 'p99', 'bulk td/s', 'run s']];
  const notes = [];
  for (const r of run.peers) {
    const mark = r.partial ? ' *' : '';
    if (r.status !== 'ok') {
      rows.push([`${r.label}${mark}`, r.status, '', '', '', '', '', '']);
      notes.push(`${r.id} ${r.status}: ${r.reason ?? r.error}`);
      continue;
    }
    rows.push([
      `${r.label}${mark}`,
      ms(r.attach.median), ms(r.attach.p99), rate(r.attach.perSec),
      ms(r.teardown.median), ms(r.teardown.p99), rate(r.bulk.perSec), (r.elapsedMs / 1000).toFixed(1),
    ]);
    if (r.partial) notes.push(`* ${r.id}: ${r.partial}`);
  }
  for (const r of run.peers) if (r.ports) notes.push(`${r.id} publishes with ${r.ports.method}`);
  console.log(table(rows));
  const rs = run.ratios;
  for (const np of [...new Set(rs.map((r) => r.netplumb))]) {
    const mine = rs.filter((r) => r.netplumb === np);
    console.log(`\n${np} vs each peer (x; above 1 = ${np} faster)`);
    console.log(
      table([
        ['', ...mine.map((r) => `${r.peer}${r.partial ? ' *' : ''}`)],
        ['attach throughput', ...mine.map((r) => times(r.attach))],
        ['teardown per container', ...mine.map((r) => times(r.teardown))],
        ['bulk teardown', ...mine.map((r) => times(r.bulk))],
      ]),
    );
  }
  for (const n of notes) console.log(n);
}

function printLinkGet(lg) {
  if (!lg) return;
  console.log(`\none simple request: ${lg.request}, ${lg.iterations} times`);
  if (lg.skipped) {
    console.log(`skipped: ${lg.skipped}`);
    return;
  }
  console.log(
    table([
      ['', 'median us', 'p99 us', 'mean us'],
      ...[['floor', 'C floor'], ['netplumbSync', 'netplumb links.getSync'], ['netplumb', 'netplumb links.get (async)']]
        .filter(([k]) => lg[k])
        .map(([k, label]) => [label, lg[k].medianUs.toFixed(1), lg[k].p99Us.toFixed(1), lg[k].meanUs.toFixed(1)]),
    ]),
  );
  if (lg.differenceSyncUs !== undefined) console.log(`netplumb links.getSync costs ${lg.differenceSyncUs.toFixed(1)} us more than C (medians)`);
  console.log(`netplumb links.get (a promise, through the libuv pool) costs ${lg.differenceUs.toFixed(1)} us more than C (medians)`);
}

// ---- main ----

const peers = await loadPeers();
const info = machine();
prepareNetnsDir();
const tmpDir = mkdtempSync(path.join(os.tmpdir(), 'netplumb-bench-'));
const started = now();
const result = {
  machine: info,
  workload: { id: opt.workload, what: WORKLOADS[opt.workload] },
  sandbox: 'user + network + mount namespace, tmpfs over /run (scripts/in-netns.mjs)',
  runs: [],
};
if (!opt.json) {
  console.log(`netplumb container-attach benchmark, workload ${opt.workload}: ${WORKLOADS[opt.workload]}`);
  console.log(`machine: ${info.nproc} x ${info.cpu}, kernel ${info.kernel}, node ${info.node}`);
  console.log(`peers: ${info.iproute2 ?? 'iproute2 ?'}, pyroute2 ${info.pyroute2 ?? '?'}, containernetworking-plugins ${info.cniPlugins ?? '?'}`);
}
try {
  for (const n of sizes) {
    const containers = plan(n);
    const planFile = path.join(tmpDir, `plan-${n}.txt`);
    writePlan(planFile, containers);
    const run = { n, peers: [] };
    for (const p of peers) run.peers.push(await measure(p, n, containers, planFile, tmpDir));
    run.ratios = ratios(run.peers);
    result.runs.push(run);
    if (!opt.json) printRun(run);
  }
  result.linkGet = await linkGet(peers, tmpDir);
  if (!opt.json) printLinkGet(result.linkGet);
} finally {
  rmSync(tmpDir, { recursive: true, force: true });
}
result.elapsedMs = now() - started;
if (opt.out) writeFileSync(opt.out, `${JSON.stringify(result, null, 2)}\n`);
if (opt.json) console.log(JSON.stringify(result, null, 2));
else console.log(`\ntotal ${(result.elapsedMs / 1000).toFixed(0)} s`);
const failed = result.runs.flatMap((r) => r.peers).filter((p) => p.status === 'failed');
process.exit(failed.length ? 1 : 0);
