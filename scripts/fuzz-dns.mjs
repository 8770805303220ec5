#!/usr/bin/env node
// Fuzzes the DNS resolver over its real sockets: a network with two containers, the
// in-process Resolver on its gateway (upstream: a socket that never answers, so that
// forwarded queries pile up against the in-flight caps), and a client in a container
// namespace (scripts/fuzz-dns-client.mjs) sending random and mutated packets over UDP
// and TCP until the resolver has received --packets of them. Fails on a crash (an
// exception would end this process), on a resolver that no longer answers dig
// afterwards, or on heap growth between the first sample and the end.
//
//   node scripts/in-netns.mjs node --expose-gc scripts/fuzz-dns.mjs [--packets N] [--seed S]
//
// Run inside the sandbox (scripts/in-netns.mjs): it makes namespaces and a bridge.
import { execFile, execFileSync, spawn } from 'node:child_process';
import * as dgram from 'node:dgram';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const { Networks, Resolver } = require(path.join(root, 'dist'));

const arg = (name, d) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : d;
};
const target = arg('--packets', 1_000_000);
const seed = arg('--seed', Date.now() % 100000);
if (process.env.NETPLUMB_SANDBOX !== '1') {
  console.error('fuzz-dns: run inside the sandbox: node scripts/in-netns.mjs node --expose-gc scripts/fuzz-dns.mjs');
  process.exit(2);
}
const gc = globalThis.gc ?? (() => undefined);

const stateDir = mkdtempSync('/run/np-fuzz-dns-');
const nets = await Networks.open({ stateDir });
const net = await nets.create({ name: 'fuzz', subnet: '10.83.0.0/24', ipv6Subnet: 'fd00:83::/64' });
const c1 = await net.attach({ create: `fz${process.pid}` }, { name: 'web', aliases: ['www'] });
const c2 = await net.attach({ create: `fy${process.pid}` }, { name: 'db' });
const silent = dgram.createSocket('udp4');
await new Promise((r) => silent.bind(5399, '127.0.0.1', r));
const r = await Resolver.open({ networks: nets, upstreams: ['127.0.0.1:5399'], timeoutMs: 100 });

const mem = () => {
  gc();
  const m = process.memoryUsage();
  return { heapMB: +(m.heapUsed / 2 ** 20).toFixed(1), rssMB: +(m.rss / 2 ** 20).toFixed(1) };
};
const t0 = Date.now();
const client = spawn('ip', ['netns', 'exec', `fz${process.pid}`, process.execPath, path.join(root, 'scripts', 'fuzz-dns-client.mjs'), net.info.gateway, '53', String(seed)], { stdio: ['ignore', 'pipe', 'inherit'] });
let clientOut = '';
client.stdout.on('data', (d) => (clientOut += d));
const samples = [];
let failure;
await new Promise((resolve) => {
  let next = 0.1;
  const tick = setInterval(() => {
    const st = r.stats;
    if (st.received >= target * next) {
      samples.push({ at: st.received, ...mem() });
      next += 0.1;
    }
    if (st.received >= target || client.exitCode !== null) {
      clearInterval(tick);
      if (client.exitCode !== null && st.received < target) failure = `the client exited (${client.exitCode}) early`;
      client.kill('SIGTERM');
      client.once('exit', resolve);
      if (client.exitCode !== null) resolve();
    }
  }, 50);
});
const secs = (Date.now() - t0) / 1000;
// Let forwarded queries time out, then check the resolver still answers a real client.
await new Promise((res) => setTimeout(res, 300));
// (Asked asynchronously: the resolver answers from this very event loop.)
const dig = await new Promise((resolve) => {
  execFile('ip', ['netns', 'exec', `fy${process.pid}`, 'dig', '+short', '+tries=2', '+time=1', `@${net.info.gateway}`, 'web'], { encoding: 'utf8' }, (e, out, err) => {
    resolve(e ? `dig failed: ${e.message} ${out} ${err}` : out.trim());
  });
});
const end = mem();
const st = r.stats;
await r.close();
silent.close();
await net.detach(c1.id);
await net.detach(c2.id);
await nets.remove('fuzz');
await nets.close();
for (const n of [`fz${process.pid}`, `fy${process.pid}`]) execFileSync('ip', ['netns', 'delete', n]);
rmSync(stateDir, { recursive: true, force: true });

const first = samples[0] ?? end;
const growth = end.heapMB - first.heapMB;
if (dig !== c1.ip) failure ??= `the resolver did not answer dig afterwards: ${dig}`;
// The heap after a GC must not grow with the packets: 8 MB of slack for JIT and caches.
if (growth > 8) failure ??= `heap grew ${growth.toFixed(1)} MB from ${first.heapMB} MB`;
const summary = {
  seed, packets: st.received, seconds: +secs.toFixed(1), perSecond: Math.round(st.received / secs), client: clientOut.trim(),
  answeredHere: st.local, formerr: st.formerr, refused: st.refused, notimp: st.notimp, dropped: st.dropped, notMember: st.notMember,
  forwarded: st.forwarder.forwarded, servfail: st.forwarder.servfail, droppedPerClient: st.forwarder.droppedPerClient,
  overloaded: st.forwarder.overloaded, memory: samples.map((s) => `${s.at}: heap ${s.heapMB} MB, rss ${s.rssMB} MB`), end,
};
console.log(JSON.stringify(summary, null, 2));
if (failure) {
  console.error(`fuzz-dns: FAILED: ${failure} (seed ${seed})`);
  process.exit(1);
}
console.log(`fuzz-dns: ${st.received} packets in ${secs.toFixed(1)} s, no crash, resolver answering, heap ${first.heapMB} -> ${end.heapMB} MB (seed ${seed})`);
