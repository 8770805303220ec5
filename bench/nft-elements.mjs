#!/usr/bin/env node
// Benchmark (not a test): publishing one port while 10k and 100k ports are already
// published, in netplumb's layout (the table Firewall.ensureBase makes, the elements
// Firewall.publish makes: a dnat4_ip entry and a pub4 entry per port), through
// netplumb's Transaction.commitSync() and commit() (one transaction each), and through
// `nft add element` (one process each, as a shell script would), in the same run. Each
// publish is undone (unpublish, timed too) before the next, so the maps stay at N.
// FAMILY=6 does the same over IPv6: IPv6 containers published on IPv6 host addresses,
// a dnat6_ip and a pub6 element per port (16-byte addresses in every key).
//
//   npm run bench:nft                  (= tsc, then the line below)
//   node scripts/in-netns.mjs node bench/nft-elements.mjs
//   FAMILY=6 node scripts/in-netns.mjs node bench/nft-elements.mjs
//   SIZES=10000 ITER=5000 node scripts/in-netns.mjs node bench/nft-elements.mjs --json
//
// Must run inside the sandbox: it creates a namespace and a table in it.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
if (process.env.NETPLUMB_SANDBOX !== '1') {
  console.error('run me inside the sandbox: node scripts/in-netns.mjs node bench/nft-elements.mjs');
  process.exit(2);
}
if (!existsSync(path.join(root, 'dist', 'index.js'))) {
  const r = spawnSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) process.exit(1);
}
const { Netns } = await import(path.join(root, 'dist', 'index.js'));
const { Firewall, portElements } = await import(path.join(root, 'dist', 'network', 'firewall.js'));
const { floorBinary } = await import(path.join(root, 'bench', 'peers', 'floor.mjs'));

const SIZES = (process.env.SIZES ?? '10000,100000').split(',').map(Number);
const ITER = Number(process.env.ITER ?? 3000); // per netplumb method and size
// Enough publishes before timing that V8 has optimised the path (a launcher publishing
// ports all day runs it hot), for the first size measured as for the next.
const WARM = Math.min(2000, ITER);
const NFT_ITER = Number(process.env.NFT_ITER ?? 40);
const CHUNK = 1000; // ports per fill transaction (stays well under the socket's send buffer)
const JSON_OUT = process.argv.includes('--json');
const TABLE = 'netplumb';
const SIX = process.env.FAMILY === '6';
const DNAT = SIX ? 'dnat6_ip' : 'dnat4_ip';
const PUB = SIX ? 'pub6' : 'pub4';

const name = `bench${process.pid}`;
const ns = await Netns.create(name);
const fw = new Firewall(ns, TABLE);
await fw.ensureBase();

// Port i of the fill: container 10.64.0.0/10 + i publishes tcp/80 on host address
// 198.18.0.(1 + i / 60000), host port 1024 + i % 60000. The measured ports use host
// address 198.19.0.1 and containers from 10.200.0.0/16: keys the fill never has.
const ip4 = (n) => `${(n >>> 24) & 255}.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`;
const fillPort = (i) => ({
  ip: ip4(((10 << 24) | (64 << 16)) + i),
  publish: [{ hostIp: ip4(((198 << 24) | (18 << 16)) + 1 + Math.floor(i / 60000)), hostPort: 1024 + (i % 60000), containerPort: 80, protocol: 'tcp' }],
});
const probePort = (j) => ({
  ip: ip4(((10 << 24) | (200 << 16)) + 2 + (j % 60000)),
  publish: [{ hostIp: '198.19.0.1', hostPort: 1024 + (j % 60000), containerPort: 80, protocol: 'tcp' }],
});
// Over IPv6 the same shape: containers fd00:40::/96 + i on host addresses
// 2001:db8:fff0::(1 + i / 60000); measured ports on 2001:db8:ffff::1 to fd00:200::/96.
const hex32 = (n) => `${((n >>> 16) & 0xffff).toString(16)}:${(n & 0xffff).toString(16)}`;
const fillPort6 = (i) => ({
  ip: '',
  ip6: `fd00:40::${hex32(i)}`,
  publish: [{ hostIp: `2001:db8:fff0::${(1 + Math.floor(i / 60000)).toString(16)}`, hostPort: 1024 + (i % 60000), containerPort: 80, protocol: 'tcp' }],
});
const probePort6 = (j) => ({
  ip: '',
  ip6: `fd00:200::${hex32(2 + (j % 60000))}`,
  publish: [{ hostIp: '2001:db8:ffff::1', hostPort: 1024 + (j % 60000), containerPort: 80, protocol: 'tcp' }],
});
const fill = SIX ? fillPort6 : fillPort;
const probe = SIX ? probePort6 : probePort;

const t = { family: 'inet', table: TABLE };
// As Firewall.publish/unpublish build them (the operation written out: no object spread).
const publishTx = (ep) => {
  const tx = ns.nft.transaction();
  for (const { set, el } of portElements(ep)) tx.createElements({ family: 'inet', table: TABLE, set, elements: [el] });
  return tx;
};
const unpublishTx = (ep) => {
  const tx = ns.nft.transaction();
  for (const { set, el } of portElements(ep)) tx.destroyElements({ family: 'inet', table: TABLE, set, elements: [{ key: el.key }] });
  return tx;
};

let filled = 0;
async function fillTo(n) {
  while (filled < n) {
    const count = Math.min(CHUNK, n - filled);
    const bySet = new Map();
    for (let i = filled; i < filled + count; i++) {
      for (const { set, el } of portElements(fill(i))) (bySet.get(set) ?? bySet.set(set, []).get(set)).push(el);
    }
    const tx = ns.nft.transaction();
    for (const [set, elements] of bySet) tx.createElements({ ...t, set, elements });
    await tx.commit();
    filled += count;
  }
}

function stats(us) {
  const s = [...us].sort((a, b) => a - b);
  const q = (p) => s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))];
  return { count: s.length, medianUs: q(0.5), p99Us: q(0.99), maxUs: s[s.length - 1] };
}
const elapsedUs = (t0) => Number(process.hrtime.bigint() - t0) / 1e3;

async function netplumb(sync) {
  const pub = [], unpub = [];
  for (let j = 0; j < ITER + WARM; j++) {
    const ep = probe(j);
    // Timed: the whole publish as a caller sees it (building the transaction included).
    let t0 = process.hrtime.bigint();
    if (sync) publishTx(ep).commitSync();
    else await publishTx(ep).commit();
    const a = elapsedUs(t0);
    t0 = process.hrtime.bigint();
    if (sync) unpublishTx(ep).commitSync();
    else await unpublishTx(ep).commit();
    const d = elapsedUs(t0);
    if (j >= WARM) { pub.push(a); unpub.push(d); }
  }
  return { publish: stats(pub), unpublish: stats(unpub) };
}

// What `nft` is given for the same two elements.
function nftText(verb, ep) {
  return portElements(ep).map(({ set, el }) => {
    const key = el.key.join(' . ');
    const val = verb === 'add' && el.value ? ` : ${el.value.join(' . ')}` : '';
    return `${verb} element inet ${TABLE} ${set} { ${key}${val} }`;
  }).join('; ');
}

function nftCli() {
  const pub = [], unpub = [];
  const run = (cmd) => {
    const t0 = process.hrtime.bigint();
    const r = spawnSync('ip', ['netns', 'exec', name, 'nft', cmd], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`nft ${cmd}: ${r.stderr}`);
    return elapsedUs(t0);
  };
  for (let j = 0; j < NFT_ITER; j++) {
    const ep = probe(50_000 + j);
    pub.push(run(nftText('add', ep)));
    unpub.push(run(nftText('delete', ep)));
  }
  return { publish: stats(pub), unpublish: stats(unpub) };
}

// The C floor (bench/floor/floor.c publat): the same two-element batch built by hand,
// one sendmsg, both acks read; the kernel's own cost plus a syscall pair.
const floorDir = mkdtempSync(path.join(tmpdir(), 'nft-elements-'));
const floor = floorBinary(floorDir);
function floorRun() {
  if (typeof floor !== 'string') return undefined;
  const r = spawnSync('ip', ['netns', 'exec', name, floor, SIX ? 'publat6' : 'publat', String(ITER + WARM)], { encoding: 'utf8', maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`floor publat: ${r.stderr}`);
  const out = JSON.parse(r.stdout);
  const us = (a) => a.slice(WARM).map((x) => x * 1e3);
  return { publish: stats(us(out.publish)), unpublish: stats(us(out.unpublish)) };
}

function setSizes() {
  const r = spawnSync('ip', ['netns', 'exec', name, 'nft', '-j', 'list', 'table', 'inet', TABLE], { encoding: 'utf8', maxBuffer: 1 << 30 });
  const sizes = {};
  for (const o of JSON.parse(r.stdout).nftables) {
    const s = o.set ?? o.map;
    if (s && (s.name === DNAT || s.name === PUB)) sizes[s.name] = s.elem?.length ?? 0;
  }
  return sizes;
}

const rows = [];
try {
  for (const n of SIZES) {
    const t0 = Date.now();
    await fillTo(n);
    const fillS = (Date.now() - t0) / 1000;
    const sizes = setSizes();
    if (sizes[DNAT] !== n || sizes[PUB] !== n) throw new Error(`fill: nft lists ${JSON.stringify(sizes)}, expected ${n} each`);
    const sync = await netplumb(true);
    const async_ = await netplumb(false);
    const cli = nftCli();
    const c = floorRun();
    const after = setSizes();
    if (after[DNAT] !== n || after[PUB] !== n) throw new Error(`after the runs nft lists ${JSON.stringify(after)}, expected ${n} each`);
    rows.push({ ports: n, fillS, commitSync: sync, commit: async_, nft: cli, ...(c ? { floor: c } : {}) });
    if (!JSON_OUT) console.error(`  ${n} ports published (fill ${fillS.toFixed(1)} s), measured`);
  }
} finally {
  ns.close();
  await Netns.delete(name).catch(() => undefined);
  rmSync(floorDir, { recursive: true, force: true });
}

const flat = {};
if (rows.length >= 2) {
  const [a, b] = [rows[0], rows[rows.length - 1]];
  for (const m of ['floor', 'commitSync', 'commit', 'nft'].filter((k) => a[k] && b[k])) {
    flat[m] = { median: b[m].publish.medianUs / a[m].publish.medianUs, p99: b[m].publish.p99Us / a[m].publish.p99Us };
  }
}
const result = {
  what: `publish one port (create ${DNAT} + ${PUB} elements, one transaction) and unpublish it (destroy both), with N ports published${SIX ? ' (IPv6)' : ''}`,
  iterations: { netplumb: ITER, nft: NFT_ITER, warmup: WARM },
  rows,
  flatness: rows.length >= 2 ? { from: rows[0].ports, to: rows[rows.length - 1].ports, ratios: flat } : undefined,
};
if (JSON_OUT) {
  console.log(JSON.stringify(result, null, 2));
} else {
  console.log(`\n${result.what}`);
  console.log(`netplumb: ${ITER} publishes per method after ${WARM} warm-up; nft: ${NFT_ITER}, one process each (ip netns exec nft); microseconds\n`);
  const f = (x) => (x >= 1000 ? x.toFixed(0) : x.toFixed(1)).padStart(8);
  console.log('   ports | method               | publish med |      p99 |      max | unpublish med |      p99');
  console.log('---------|----------------------|-------------|----------|----------|---------------|---------');
  for (const r of rows) {
    for (const [m, label] of [['floor', 'C floor (raw batch)'], ['commitSync', 'netplumb commitSync()'], ['commit', 'netplumb commit()'], ['nft', 'nft add element']]) {
      const x = r[m];
      if (!x) continue;
      console.log(`${String(r.ports).padStart(8)} | ${label.padEnd(20)} |    ${f(x.publish.medianUs)} | ${f(x.publish.p99Us)} | ${f(x.publish.maxUs)} |      ${f(x.unpublish.medianUs)} | ${f(x.unpublish.p99Us)}`);
    }
  }
  if (result.flatness) {
    console.log(`\nflatness, ${result.flatness.from} -> ${result.flatness.to} ports (publish, ratio of ${result.flatness.to} to ${result.flatness.from}):`);
    for (const [m, v] of Object.entries(flat)) console.log(`  ${m.padEnd(10)} median x${v.median.toFixed(2)}  p99 x${v.p99.toFixed(2)}`);
  }
}
