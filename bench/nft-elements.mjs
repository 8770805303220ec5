#!/usr/bin/env node
// Benchmark (not a test): adding and deleting one map element while the map holds 10k
// and 100k elements, through netplumb (one transaction each) and through `nft add
// element` / `nft delete element` (a process each), in the same run.
//
//   npx tsc -p tsconfig.build.json && node scripts/in-netns.mjs node bench/nft-elements.mjs
//
// Must run inside the sandbox: it creates a namespace and tables in it.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
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
const { Netns, nft } = await import(path.join(root, 'dist', 'index.js'));

const SIZES = (process.env.SIZES ?? '10000,100000').split(',').map(Number);
const ITER = Number(process.env.ITER ?? 300);
const NFT_ITER = Number(process.env.NFT_ITER ?? 40);
const CHUNK = 1000; // elements per fill transaction (stays under the socket's send buffer)
const F = 'inet';
const T = 'netplumb';
const t = { family: F, table: T };

const name = `bench${process.pid}`;
const ns = await Netns.create(name);

function stats(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p) => s[Math.min(s.length - 1, Math.floor(p * s.length))];
  return { median: q(0.5), p99: q(0.99) };
}
const ms = (ns_) => Number(ns_) / 1e6;
const fmt = (x) => x.toFixed(3).padStart(9);

// i -> a distinct (addr, proto, port) key and its data.
const keyOf = (i) => [`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, 'tcp', 1000 + (i % 50000)];
const valOf = (i) => [`172.16.${(i >> 8) & 255}.${i & 255}`, 80];

const tx0 = ns.nft.transaction();
tx0.addTable({ family: F, name: T });
tx0.addSet({ ...t, name: 'dnat4_ip', key: { typeof: [nft.ip.daddr, nft.meta.l4proto, nft.th.dport] }, map: { typeof: [nft.ip.daddr, nft.th.dport] } });
await tx0.commit();

let filled = 0;
async function fillTo(n) {
  while (filled < n) {
    const tx = ns.nft.transaction();
    const count = Math.min(CHUNK, n - filled);
    tx.addElements({ ...t, set: 'dnat4_ip', elements: Array.from({ length: count }, (_, j) => ({ key: keyOf(filled + j), value: valOf(filled + j) })) });
    await tx.commit();
    filled += count;
  }
}

async function netplumb(n) {
  const add = [], del = [];
  const probe = 5_000_000; // keys outside the filled range
  for (let i = 0; i < ITER; i++) {
    const el = { key: keyOf(probe + i), value: valOf(i) };
    let tx = ns.nft.transaction();
    tx.addElements({ ...t, set: 'dnat4_ip', elements: [el] });
    let t0 = process.hrtime.bigint();
    await tx.commit();
    add.push(ms(process.hrtime.bigint() - t0));
    tx = ns.nft.transaction();
    tx.deleteElements({ ...t, set: 'dnat4_ip', elements: [{ key: el.key }] });
    t0 = process.hrtime.bigint();
    await tx.commit();
    del.push(ms(process.hrtime.bigint() - t0));
  }
  return { add: stats(add), del: stats(del) };
}

function nftCli(n) {
  const add = [], del = [];
  const run = (args) => {
    const t0 = process.hrtime.bigint();
    const r = spawnSync('ip', ['netns', 'exec', name, 'nft', ...args], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`nft ${args.join(' ')}: ${r.stderr}`);
    return ms(process.hrtime.bigint() - t0);
  };
  for (let i = 0; i < NFT_ITER; i++) {
    const [a, p, port] = keyOf(6_000_000 + i);
    const [da, dp] = valOf(i);
    add.push(run(['add', 'element', F, T, 'dnat4_ip', `{ ${a} . ${p} . ${port} : ${da} . ${dp} }`]));
    del.push(run(['delete', 'element', F, T, 'dnat4_ip', `{ ${a} . ${p} . ${port} }`]));
  }
  return { add: stats(add), del: stats(del) };
}

const rows = [];
try {
  for (const n of SIZES) {
    const t0 = Date.now();
    await fillTo(n);
    const fillS = (Date.now() - t0) / 1000;
    const np = await netplumb(n);
    const cli = nftCli(n);
    rows.push({ n, fillS, np, cli });
  }
} finally {
  ns.close();
  await Netns.delete(name).catch(() => undefined);
}

console.log(`\nadd + delete one element in map dnat4_ip (ipv4_addr . inet_proto . inet_service : ipv4_addr . inet_service)`);
console.log(`netplumb: ${ITER} iterations, one transaction per operation; nft: ${NFT_ITER} iterations, one process per operation; ms\n`);
console.log('elements | op  | netplumb median |   p99    | nft median |   p99    | (fill: s)');
console.log('---------|-----|-----------------|----------|------------|----------|----------');
for (const r of rows) {
  for (const op of ['add', 'del']) {
    console.log(`${String(r.n).padStart(8)} | ${op} | ${fmt(r.np[op].median)}       | ${fmt(r.np[op].p99)}| ${fmt(r.cli[op].median)}  | ${fmt(r.cli[op].p99)}| ${op === 'add' ? r.fillS.toFixed(1) : ''}`);
  }
}
