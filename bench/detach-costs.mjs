#!/usr/bin/env node
// Benchmark (not a test): what taking a container off a bridge costs in the kernel, and
// which single request makes the endpoint unreachable while its address and MAC can be
// used again at once. Every container is a veth whose host end is a port of br0 and
// whose peer (eth0, with an address) is in the container's own named namespace, made
// with attachVeth as Network.attach makes it.
//
//   npx tsc -p tsconfig.build.json && node scripts/in-netns.mjs node bench/detach-costs.mjs
//
// Measured, each request timed from the call to its ack (the library's async path: the
// floor row is an RTM_NEWLINK that changes nothing, i.e. the round trip itself):
//   (a) RTM_DELLINK of the host end
//   (b) down, (c) nomaster, (d) an IFLA_GROUP change
//   (e) bridge-port state disabled: in IFLA_INFO_SLAVE_DATA (raw RTM_NEWLINK), and as
//       the library sends it (AF_BRIDGE RTM_SETLINK); listening + flush (RTM_NEWLINK)
//   (f) (d)+(e) in one RTM_NEWLINK (raw), as the library sends it (NEWLINK + SETLINK in
//       one sendmsg), and group + listening + flush (one RTM_NEWLINK)
//   (g) group + down in one RTM_NEWLINK
//   (h) RTM_DELLINK by IFLA_GROUP of 1, 100 and 1,000 links (ack, and until no dump
//       shows them), against K single RTM_DELLINKs in one sendmsg
//   (i) deleting the container's named namespace (umount + unlink), until the host end
//       is gone (RTM_DELLINK seen by a monitor), one at a time and many at once
// and for every quiesce variant, on sample containers: does the endpoint stop answering
// (ping from another container on the bridge and from the host), and does a NEW
// container with the same IP and MAC on another port answer at once?
//
// During the bulk deletes, a second socket on the host namespace sends RTM_NEWLINKs
// that change nothing (each takes the RTNL lock, as an attach does) back to back: their
// worst latency is how long the bulk delete holds up everyone else's link requests.
//
// Environment: PHASES (any of requests,reach,delete,bulk,netns; default all), N
// (containers for the per-request costs, default 200), ROUNDS (default
// 2), SAMPLES (containers per variant for the reachability checks, default 2), BULK
// (group sizes, default 1,100,1000), BULK_REPS (default 3), PER_NS (veth peers per
// namespace in the bulk runs, default 20), NS_SERIAL (namespaces deleted one by one,
// default 30), NS_BULK (deleted at once, default 100), OUT (write the JSON there).
//
// Must run inside the sandbox. Timings on a shared machine are noisy: the medians over
// many requests are the numbers to read, and the load average is printed with them.
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { now, quiesce, sleep, summarize } from './lib/util.mjs';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
if (process.env.NETPLUMB_SANDBOX !== '1') {
  console.error('run me inside the sandbox: node scripts/in-netns.mjs node bench/detach-costs.mjs');
  process.exit(2);
}
const { Netns, attachVeth } = await import(path.join(root, 'dist', 'index.js'));

const N = Number(process.env.N ?? 200);
const ROUNDS = Number(process.env.ROUNDS ?? 2);
const SAMPLES = Number(process.env.SAMPLES ?? 2);
const BULK = (process.env.BULK ?? '1,100,1000').split(',').map(Number);
const BULK_REPS = Number(process.env.BULK_REPS ?? 3);
const PER_NS = Number(process.env.PER_NS ?? 20);
const NS_SERIAL = Number(process.env.NS_SERIAL ?? 30);
const NS_BULK = Number(process.env.NS_BULK ?? 100);
const REAP = 4242;
const PHASES = new Set((process.env.PHASES ?? 'requests,reach,delete,bulk,netns').split(','));
const log = (...a) => console.error(...a);

// ---- raw messages (what the library will not send: IFLA_BRPORT_STATE disabled in an
// RTM_NEWLINK, and such a message with IFLA_GROUP) -----------------------------------

const IFLA_GROUP = 27;
const IFLA_LINKINFO = 18;
const IFLA_INFO_SLAVE_KIND = 4;
const IFLA_INFO_SLAVE_DATA = 5;
const IFLA_BRPORT_STATE = 1;

function nla(type, payload) {
  const h = Buffer.alloc(4);
  h.writeUInt16LE(4 + payload.length, 0);
  h.writeUInt16LE(type, 2);
  return Buffer.concat([h, payload, Buffer.alloc((4 - (payload.length % 4)) % 4)]);
}
const u32 = (v) => Buffer.from(Uint32Array.of(v).buffer);

/** RTM_NEWLINK (REQUEST|ACK), AF_UNSPEC, by index, no flag change. */
function newlink(index, ...attrs) {
  const ifi = Buffer.alloc(16);
  ifi.writeInt32LE(index, 4);
  const body = Buffer.concat([ifi, ...attrs]);
  const h = Buffer.alloc(16);
  h.writeUInt32LE(16 + body.length, 0);
  h.writeUInt16LE(16, 4);
  h.writeUInt16LE(0x1 | 0x4, 6);
  return Buffer.concat([h, body]);
}
const slaveState = (state) =>
  nla(IFLA_LINKINFO, Buffer.concat([nla(IFLA_INFO_SLAVE_KIND, Buffer.from('bridge')), nla(IFLA_INFO_SLAVE_DATA, nla(IFLA_BRPORT_STATE, Buffer.from([state])))]));

async function raw(ns, msg) {
  const [step] = await ns.rawRequest(msg);
  if (step.error) throw step.error;
}

// ---- the world -----------------------------------------------------------------------

const tag = process.pid % 100000;
const host = await Netns.create(`dh${tag}`);
await host.links.set('lo', { up: true });
await host.links.add({ kind: 'bridge', name: 'br0', up: true, addrGenMode: 'none' });
await host.addresses.add({ dev: 'br0', address: '10.70.0.1/16' });
const br = (await host.links.get('br0')).index;
let serial = 0;

const ipOf = (k) => `10.70.${k >> 8}.${k & 255}`;
const macOf = (k) => `02:42:0a:46:${(k >> 8).toString(16).padStart(2, '0')}:${(k & 255).toString(16).padStart(2, '0')}`;

/** Attaches a container with IP/MAC number k (a fresh namespace and host port); returns what the checks need. */
async function container(k) {
  serial += 1;
  const name = `dc${tag}-${serial}`;
  const hostIfname = `d${serial}`;
  const r = await attachVeth(host, { create: name }, { bridge: br, hostIfname, address: `${ipOf(k)}/16`, gateway: '10.70.0.1', mac: macOf(k) });
  r.netns.close();
  const index = (await host.links.get(hostIfname)).index;
  return { name, hostIfname, index, ip: ipOf(k), mac: macOf(k) };
}

async function removeContainers(cs) {
  const b = host.batch();
  for (const c of cs) b.links.delete(c.index);
  await b.commit({ rollback: false }).catch(() => undefined);
  for (const c of cs) await Netns.delete(c.name).catch(() => undefined);
}

function ping(nsName, ip, wait = 0.5) {
  return spawnSync('ip', ['netns', 'exec', nsName, 'ping', '-n', '-q', '-c1', '-W', String(wait), ip], { stdio: 'ignore' }).status === 0;
}

const witness = await container(0xfffe);
const portStateName = ['disabled', 'listening', 'learning', 'forwarding', 'blocking'];

/** How the host end looks now, from one dump: 'down', 'no master', the port state, the group. */
async function looks(cs) {
  const byIndex = new Map((await host.links.list()).map((l) => [l.index, l]));
  const seen = new Map();
  for (const c of cs) {
    const l = byIndex.get(c.index);
    const d = !l ? 'gone' : [l.up ? null : 'down', l.master ? `port ${portStateName[l.bridgePort?.state] ?? '?'}` : 'no master', l.group ? `group ${l.group}` : null].filter(Boolean).join(', ');
    seen.set(d, (seen.get(d) ?? 0) + 1);
  }
  return [...seen].map(([d, n]) => (seen.size > 1 ? `${d} (${n})` : d)).join('; ');
}

async function allForwarding(cs) {
  for (let i = 0; i < 100; i++) {
    const ports = await host.links.list({ master: br });
    const fwd = new Set(ports.filter((l) => l.up && l.bridgePort?.state === 3).map((l) => l.index));
    if (cs.every((c) => fwd.has(c.index))) return;
    await sleep(50);
  }
  throw new Error('ports did not come back to forwarding');
}

// ---- the quiesce variants ----------------------------------------------------------------

const variants = [
  { id: 'floor', what: 'RTM_NEWLINK changing nothing (the round trip)', msgs: 1, op: (c) => host.links.set(c.index, {}) },
  { id: 'b', what: 'down', msgs: 1, quiesce: true, op: (c) => host.links.set(c.index, { up: false }), undo: { up: true } },
  { id: 'c', what: 'nomaster', msgs: 1, quiesce: true, op: (c) => host.links.set(c.index, { master: null }), undo: { master: br } },
  { id: 'd', what: 'IFLA_GROUP change', msgs: 1, quiesce: true, op: (c) => host.links.set(c.index, { group: REAP }), undo: { group: 0 } },
  { id: 'e1', what: 'state disabled in IFLA_INFO_SLAVE_DATA (raw NEWLINK)', msgs: 1, quiesce: true, op: (c) => raw(host, newlink(c.index, slaveState(0))), undo: { bridgePort: { state: 'forwarding' } } },
  { id: 'e2', what: 'state disabled, AF_BRIDGE RTM_SETLINK (library)', msgs: 1, quiesce: true, op: (c) => host.links.set(c.index, { bridgePort: { state: 'disabled' } }), undo: { bridgePort: { state: 'forwarding' } } },
  { id: 'e3', what: 'state listening + FDB flush (NEWLINK)', msgs: 1, quiesce: true, op: (c) => host.links.set(c.index, { bridgePort: { state: 'listening', flush: true } }), undo: { bridgePort: { state: 'forwarding' } } },
  { id: 'f1', what: 'group + state disabled in one NEWLINK (raw)', msgs: 1, quiesce: true, op: (c) => raw(host, newlink(c.index, nla(IFLA_GROUP, u32(REAP)), slaveState(0))), undo: { group: 0, bridgePort: { state: 'forwarding' } } },
  { id: 'f2', what: 'group (NEWLINK) + disabled (SETLINK), one sendmsg (library)', msgs: 2, quiesce: true, op: (c) => host.links.set(c.index, { group: REAP, bridgePort: { state: 'disabled' } }), undo: { group: 0, bridgePort: { state: 'forwarding' } } },
  { id: 'f3', what: 'group + listening + flush in one NEWLINK', msgs: 1, quiesce: true, op: (c) => host.links.set(c.index, { group: REAP, bridgePort: { state: 'listening', flush: true } }), undo: { group: 0, bridgePort: { state: 'forwarding' } } },
  { id: 'f4', what: 'group + disabled + flush (NEWLINK + SETLINK, library)', msgs: 2, quiesce: true, op: (c) => host.links.set(c.index, { group: REAP, bridgePort: { state: 'disabled', flush: true } }), undo: { group: 0, bridgePort: { state: 'forwarding' } } },
  { id: 'g', what: 'group + down in one NEWLINK', msgs: 1, quiesce: true, op: (c) => host.links.set(c.index, { group: REAP, up: false }), undo: { group: 0, up: true } },
];

async function undo(v, cs) {
  if (!v.undo) return;
  const b = host.batch();
  for (const c of cs) b.links.set(c.index, v.undo);
  await b.commit({ rollback: false });
  await allForwarding(cs);
}

const results = { env: {}, perRequest: [], reach: [], bulk: [], netns: {} };
results.env = {
  kernel: readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim(),
  cpus: readFileSync('/proc/cpuinfo', 'utf8').split('\n').filter((l) => l.startsWith('processor')).length,
  loadavgStart: readFileSync('/proc/loadavg', 'utf8').trim(),
  N, ROUNDS,
};

const needPool = PHASES.has('requests') || PHASES.has('delete');
log(needPool ? `attaching ${N} containers...` : 'no per-request phases');
const pool = [];
for (let k = 0; needPool && k < N; k++) pool.push(await container(16 + k));
if (needPool) await allForwarding(pool);
for (const c of pool.slice(0, 20)) await host.links.set(c.index, {}); // warm the path

const samples = new Map(variants.map((v) => [v.id, []]));
const after = new Map();
for (let round = 0; PHASES.has('requests') && round < ROUNDS; round++) {
  await quiesce(500, 5000);
  for (const v of variants) {
    for (const c of pool) {
      const t0 = now();
      await v.op(c);
      samples.get(v.id).push(now() - t0);
    }
    after.set(v.id, await looks(pool));
    await undo(v, pool);
  }
  log(`round ${round + 1}/${ROUNDS} done`);
}
const floor = PHASES.has('requests') ? summarize(samples.get('floor')).median : NaN;

// RTM_NEWLINKs that change nothing, back to back on a second socket, while fn runs:
// the worst wait is how long fn kept the RTNL lock from everyone else.
const prober = await Netns.open(host.name);
async function stallDuring(fn) {
  let done = false;
  let worst = 0;
  let count = 0;
  const loop = (async () => {
    while (!done) {
      const t = now();
      await prober.links.set(witness.index, {});
      worst = Math.max(worst, now() - t);
      count += 1;
    }
  })();
  await sleep(5);
  const r = await fn();
  done = true;
  await loop;
  return { ...r, worstOtherMs: worst, otherRequests: count };
}

// ---- reachability: does the variant quiesce, and can the IP and MAC be used again? ----------

log('reachability checks...');
const reach = new Map();
let nextK = 16 + N;
for (const v of variants.filter((x) => x.quiesce && PHASES.has('reach'))) {
  const rows = [];
  for (let s = 0; s < SAMPLES; s++) {
    const k = nextK++;
    const old = await container(k);
    await allForwarding([old]);
    const before = ping(witness.name, old.ip, 2) && ping(host.name, old.ip, 2);
    await v.op(old);
    const stillFromPeer = ping(witness.name, old.ip);
    const stillFromHost = ping(host.name, old.ip);
    // A new container with the same IP and MAC on another port, at once.
    const t0 = now();
    const fresh = await container(k);
    const attachMs = now() - t0;
    const peerAtOnce = ping(witness.name, fresh.ip, 1);
    const hostAtOnce = ping(host.name, fresh.ip, 1);
    // If not at once: how long until it answers (neighbour probes fall back to broadcast).
    let lateMs = 0;
    if (!peerAtOnce || !hostAtOnce) {
      const t1 = now();
      while (now() - t1 < 15000 && !(ping(witness.name, fresh.ip, 1) && ping(host.name, fresh.ip, 1))) await sleep(100);
      lateMs = now() - t1;
    }
    rows.push({ before, stillFromPeer, stillFromHost, peerAtOnce, hostAtOnce, lateMs, attachMs });
    await removeContainers([fresh, old]);
  }
  reach.set(v.id, rows);
}

// ---- (a) RTM_DELLINK of the host end, one at a time ------------------------------------

if (PHASES.has('delete')) await quiesce(500, 5000);
log('(a) deleting host ends one by one...');
const del = [];
for (const c of PHASES.has('delete') ? pool : []) {
  const t0 = now();
  await host.links.delete(c.index);
  del.push(now() - t0);
}
const leftAfterDelete = (await host.links.list({ master: br })).filter((l) => pool.some((c) => c.index === l.index)).length;
for (const c of pool) await Netns.delete(c.name).catch(() => undefined);

// ---- (h) one RTM_DELLINK for a whole group ----------------------------------------------

/** K veths, host ends ports of br0 in group g, peers up with an address in namespaces of PER_NS. */
async function groupOf(K, g) {
  const spaces = [];
  for (let i = 0; i < Math.ceil(K / PER_NS); i++) spaces.push(await Netns.create(`dg${tag}-${serial++}`));
  for (let from = 0; from < K; from += 250) {
    const b = host.batch();
    for (let j = from; j < Math.min(K, from + 250); j++) {
      b.links.add({
        kind: 'veth', name: `g${g}x${j}`, master: br, up: true, group: g, addrGenMode: 'none', numTxQueues: 1, numRxQueues: 1,
        peer: { name: `e${j}`, netns: spaces[Math.floor(j / PER_NS)], up: true, numTxQueues: 1, numRxQueues: 1 },
      });
    }
    await b.commit();
  }
  await Promise.all(spaces.map((ns, i) => {
    const b = ns.batch();
    for (let j = i * PER_NS; j < Math.min(K, (i + 1) * PER_NS); j++) b.addresses.add({ dev: `e${j}`, address: `10.71.${j >> 8}.${j & 255}/16` });
    return b.commit();
  }));
  return spaces;
}

async function dropSpaces(spaces) {
  for (const ns of spaces) {
    const n = ns.name;
    ns.close();
    await Netns.delete(n).catch(() => undefined);
  }
}

log('(h) group deletes...');
for (const K of PHASES.has('bulk') ? BULK : []) {
  for (let rep = 0; rep < BULK_REPS; rep++) {
    const g = 5000 + K + rep;
    const spaces = await groupOf(K, g);
    await quiesce(500, 8000);
    const r = await stallDuring(async () => {
      const t0 = now();
      await host.links.delete({ group: g });
      const ackMs = now() - t0;
      let left = (await host.links.list()).filter((l) => l.group === g).length;
      const leftAtAck = left;
      while (left > 0 && now() - t0 < 30000) {
        await sleep(1);
        left = (await host.links.list()).filter((l) => l.group === g).length;
      }
      return { ackMs, goneMs: now() - t0, leftAtAck };
    });
    const peersLeft = (await spaces[0].links.list()).filter((l) => l.name !== 'lo').length;
    results.bulk.push({ how: 'one RTM_DELLINK by group', K, ...r, peersLeft });
    await dropSpaces(spaces);
  }
  if (K > 100) continue;
  // The same K links deleted one RTM_DELLINK each, all in one sendmsg.
  for (let rep = 0; rep < BULK_REPS; rep++) {
    const g = 6000 + K + rep;
    const spaces = await groupOf(K, g);
    const idx = (await host.links.list()).filter((l) => l.group === g).map((l) => l.index);
    await quiesce(500, 8000);
    const b = host.batch();
    for (const i of idx) b.links.delete(i);
    const r = await stallDuring(async () => {
      const t0 = now();
      await b.commit({ rollback: false });
      const ackMs = now() - t0;
      return { ackMs, goneMs: ackMs, leftAtAck: (await host.links.list()).filter((l) => l.group === g).length };
    });
    results.bulk.push({ how: 'K RTM_DELLINK, one sendmsg', K, ...r, peersLeft: 0 });
    await dropSpaces(spaces);
  }
}

// ---- (i) deleting the container's namespace instead ---------------------------------------

log('(i) namespace deletes...');
if (PHASES.has('netns')) {
const mon = host.monitor({ links: true, addresses: false, routes: false, neighbours: false });
const goneAt = new Map();
mon.on('event', (e) => {
  if (e.type === 'delete' && e.kind === 'link') goneAt.set(e.value.index, now());
});
async function waitGone(index, t0, limit = 20000) {
  while (!goneAt.has(index) && now() - t0 < limit) await sleep(1);
  return goneAt.has(index) ? goneAt.get(index) - t0 : NaN;
}
await quiesce(500, 8000);
const serialNs = [];
for (let i = 0; i < NS_SERIAL; i++) {
  const c = await container(nextK++);
  await sleep(20);
  const t0 = now();
  await Netns.delete(c.name);
  const unlinkMs = now() - t0;
  serialNs.push({ unlinkMs, goneMs: await waitGone(c.index, t0) });
}
await quiesce(500, 8000);
const many = [];
for (let i = 0; i < NS_BULK; i++) many.push(await container(nextK++));
await quiesce(500, 8000);
const bulkNs = await stallDuring(async () => {
  const t0 = now();
  for (const c of many) await Netns.delete(c.name);
  const unlinkAllMs = now() - t0;
  const gone = await Promise.all(many.map((c) => waitGone(c.index, t0, 60000)));
  return { unlinkAllMs, firstGoneMs: Math.min(...gone), lastGoneMs: Math.max(...gone), notGone: gone.filter(Number.isNaN).length };
});
mon.close();
results.netns = {
  serial: { count: NS_SERIAL, unlink: summarize(serialNs.map((x) => x.unlinkMs)), gone: summarize(serialNs.map((x) => x.goneMs)) },
  bulk: { count: NS_BULK, ...bulkNs },
};
}

// ---- report ------------------------------------------------------------------------------

results.env.loadavgEnd = readFileSync('/proc/loadavg', 'utf8').trim();
const us = (ms) => (Number.isFinite(ms) ? `${Math.round(ms * 1000)}` : 'n/a');
const msf = (ms) => (Number.isFinite(ms) ? ms.toFixed(ms < 10 ? 2 : 1) : 'n/a');
const yn = (b) => (b ? 'yes' : 'NO');

console.log(`\nkernel ${results.env.kernel}, ${results.env.cpus} CPUs, load ${results.env.loadavgStart} -> ${results.env.loadavgEnd}`);
console.log(`${N} containers x ${ROUNDS} rounds; times from call to ack, µs; "- floor" subtracts the median of an RTM_NEWLINK that changes nothing (${us(floor)} µs)\n`);
console.log('| id | request | msgs | median | p99 | median - floor | host end afterwards | stops answering (peer / host) | same IP+MAC on a new port answers at once (peer / host) |');
console.log('|---|---|---|---|---|---|---|---|---|');
const allRows = [{ id: 'a', what: 'RTM_DELLINK of the host end', msgs: 1, xs: del, after: leftAfterDelete === 0 ? 'gone at ack' : `${leftAfterDelete} left at ack` }]
  .concat(variants.map((v) => ({ id: v.id, what: v.what, msgs: v.msgs, xs: samples.get(v.id), after: after.get(v.id) })));
for (const r of allRows.filter((x) => x.xs.length > 0 || reach.has(x.id))) {
  const s = summarize(r.xs);
  const rr = reach.get(r.id);
  const stop = rr ? rr.map((x) => `${yn(!x.stillFromPeer)}/${yn(!x.stillFromHost)}`).join(', ') : '';
  const reuse = rr ? rr.map((x) => `${yn(x.peerAtOnce)}/${yn(x.hostAtOnce)}${x.lateMs ? ` (${(x.lateMs / 1000).toFixed(1)} s)` : ''}`).join(', ') : '';
  results.perRequest.push({ id: r.id, request: r.what, messages: r.msgs, ...s, minusFloor: s.median - floor, after: r.after, reach: rr });
  console.log(`| ${r.id} | ${r.what} | ${r.msgs} | ${us(s.median)} | ${us(s.p99)} | ${r.id === 'floor' ? '' : us(s.median - floor)} | ${r.after} | ${stop} | ${reuse} |`);
}
console.log('\n(h) bulk deletes, ms | how | links | ack | until no dump shows them | left at ack | worst wait of another RTM_NEWLINK meanwhile |');
console.log('|---|---|---|---|---|---|');
for (const b of results.bulk) console.log(`| ${b.how} | ${b.K} | ${msf(b.ackMs)} | ${msf(b.goneMs)} | ${b.leftAtAck} | ${msf(b.worstOtherMs)} (${b.otherRequests} sent) |`);
const ns = results.netns;
if (ns.serial) {
  console.log(`\n(i) named namespace deleted (umount + unlink), until the host end is gone (RTM_DELLINK on a monitor), ms:`);
  console.log(`  one at a time (${ns.serial.count}): unlink median ${msf(ns.serial.unlink.median)}; gone median ${msf(ns.serial.gone.median)}, p99 ${msf(ns.serial.gone.p99)}`);
  console.log(`  ${ns.bulk.count} at once: all unlinked in ${msf(ns.bulk.unlinkAllMs)}; first host end gone ${msf(ns.bulk.firstGoneMs)}, last ${msf(ns.bulk.lastGoneMs)}${ns.bulk.notGone ? `, ${ns.bulk.notGone} never` : ''}; worst wait of another RTM_NEWLINK meanwhile ${msf(ns.bulk.worstOtherMs)} (${ns.bulk.otherRequests} sent)`);
}
if (process.env.OUT) writeFileSync(process.env.OUT, `${JSON.stringify(results, null, 1)}\n`);

await removeContainers([witness]);
prober.close();
host.close();
await Netns.delete(host.name).catch(() => undefined);
