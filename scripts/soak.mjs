#!/usr/bin/env node
// Soak: attach/detach cycles through the bridge-network model, checking that nothing
// leaks. Run inside the sandbox:
//   node scripts/in-netns.mjs node scripts/soak.mjs [--cycles 10000] [--json]
// Each cycle: a pooled namespace, an attach with one published port, a detach, the
// namespace deleted. Every `--every` cycles it records file descriptors, threads, RSS,
// links, named namespaces and nftables elements; at the end it checks they are back to
// where they started (RSS: within 5% of its value after the first 1000 cycles, or
// after half of a shorter run).
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';


const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const np = createRequire(import.meta.url)(path.join(root, 'dist', 'index.js'));

const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : def;
};
const cycles = opt('cycles', 1000);
const every = opt('every', Math.max(1, Math.floor(cycles / 20)));
const json = args.includes('--json');

if (process.env.NETPLUMB_SANDBOX !== '1') {
  console.error('run inside the sandbox: node scripts/in-netns.mjs node scripts/soak.mjs');
  process.exit(2);
}

const fds = () => readdirSync('/proc/self/fd').length;
const threads = () => readdirSync('/proc/self/task').length;
const rssKb = () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))[1]);
const namedNs = () => readdirSync('/run/netns').length;

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
  // Warm up once so lazily made things (the namespace thread, sockets) are counted in the baseline.
  const warm = await pool.take('soak-warm');
  await net.detach(await net.attach(warm, { publish: [{ hostPort: 20000, containerPort: 80 }] }));
  warm.close();
  await np.Netns.delete('soak-warm');
  await pool.fill();
  const base = { fds: fds(), threads: threads(), links: await links(), namedNs: namedNs(), elements: await elements() };
  const samples = [];
  const attachMs = [];
  const detachMs = [];
  const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
  let rssRef;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < cycles; i++) {
    const name = `soak${i}`;
    const ns = await pool.take(name);
    const ta = process.hrtime.bigint();
    const ep = await net.attach(ns, { name, publish: [{ hostPort: 20000 + (i % 1000), containerPort: 80, protocol: i % 2 ? 'udp' : 'tcp' }] });
    const td = process.hrtime.bigint();
    await net.detach(ep);
    attachMs.push(Number(td - ta) / 1e6);
    detachMs.push(Number(process.hrtime.bigint() - td) / 1e6);
    ns.close();
    await np.Netns.delete(name);
    // The reference RSS: after the first 1000 cycles (or half a shorter run), once the
    // JS heap and the allocator have grown to their working size.
    if (i + 1 === Math.min(1000, Math.floor(cycles / 2))) rssRef = rssKb();
    if ((i + 1) % every === 0) {
      globalThis.gc?.(); // with --expose-gc: the JS heap after a full collection
      const mem = process.memoryUsage();
      const s = { cycle: i + 1, heapKb: Math.round(mem.heapUsed / 1024), externalKb: Math.round(mem.external / 1024), fds: fds(), threads: threads(), rssKb: rssKb(), links: await links(), namedNs: namedNs(), elements: await elements() };
      samples.push(s);
      if (!json) console.error(`cycle ${s.cycle}: fds ${s.fds} threads ${s.threads} rss ${s.rssKb} kB heap ${s.heapKb} kB external ${s.externalKb} kB links ${s.links} netns ${s.namedNs} elements ${s.elements}`);
    }
  }
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  await pool.fill(); // as full as at the start, nothing in flight
  // Let the kernel finish destroying the last namespaces' veths.
  for (let i = 0; i < 100 && (await links()) > base.links; i++) await new Promise((r) => setTimeout(r, 20));
  const end = { fds: fds(), threads: threads(), rssKb: rssKb(), links: await links(), namedNs: namedNs(), elements: await elements() };
  await pool.close();
  const problems = [];
  for (const k of ['fds', 'threads', 'links', 'namedNs', 'elements']) {
    if (end[k] !== base[k]) problems.push(`${k}: ${base[k]} at start, ${end[k]} at the end`);
  }
  const rssGrowth = rssRef ? (end.rssKb - rssRef) / rssRef : 0;
  if (rssGrowth > 0.05) problems.push(`RSS grew ${(rssGrowth * 100).toFixed(1)}% after the reference point (${rssRef} -> ${end.rssKb} kB)`);
  await nets.remove('soak');
  nets.close();
  host.close();
  await np.Netns.delete('soak-host');
  const out = { cycles, seconds, perCycleMs: (seconds * 1000) / cycles, attachMedianMs: median(attachMs), detachMedianMs: median(detachMs), base, end, rssRefKb: rssRef, rssGrowth, samples, ok: problems.length === 0, problems };
  if (json) console.log(JSON.stringify(out, null, 2));
  else {
    console.log(`${cycles} attach/detach cycles in ${seconds.toFixed(1)} s (${out.perCycleMs.toFixed(2)} ms a cycle; Network.attach median ${out.attachMedianMs.toFixed(2)} ms, detach ${out.detachMedianMs.toFixed(2)} ms)`);
    console.log(`start: ${JSON.stringify(base)}`);
    console.log(`end:   ${JSON.stringify({ ...end, rssKb: undefined })}, RSS ${rssRef} -> ${end.rssKb} kB (${(rssGrowth * 100).toFixed(1)}%)`);
    console.log(problems.length ? `LEAKS:\n  ${problems.join('\n  ')}` : 'no leaks: fds, threads, links, namespaces and nftables elements back to the start; RSS flat');
  }
  process.exit(problems.length ? 1 : 0);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
