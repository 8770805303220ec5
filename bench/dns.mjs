#!/usr/bin/env node
// The DNS benchmark: netplumb's resolver (`netplumb dns`, a process of its own) and
// aardvark-dns (Podman's, the Debian package), side by side on the same machine, the same
// network and gateway (different ports), asked by the same client from a container
// namespace with the same query mix: container names (A), PTR of container addresses,
// and misses that both forward to the same upstream (a fake resolver in an "outside"
// namespace answering NXDOMAIN). p50 latency with one query in flight, queries per
// second with 32 in flight; then the same with 10,000 names on the network.
//
//   npm run bench:dns [-- --seconds S] [--json]
//
// Runs inside the sandbox (scripts/in-netns.mjs). The client is bench/dns/load.c (built
// here with cc). aardvark-dns reads a config directory as netavark writes it
// (<dir>/<network>: the gateway, then `id ipv4 ipv6 names` per container) and forwards
// to the nameservers of /etc/resolv.conf: inside the sandbox's private mount namespace
// that file is bind-mounted to name the fake upstream, for both servers.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { run, sleep, works } from './lib/util.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const { Networks } = require(path.join(root, 'dist'));
const { NetworkStore, poolIds } = require(path.join(root, 'dist', 'network', 'store.js'));
const packet = require('dns-packet');

const argv = process.argv.slice(2);
const opt = (n, d) => (argv.includes(n) ? argv[argv.indexOf(n) + 1] : d);
const SECONDS = Number(opt('--seconds', '5'));
const JSON_OUT = argv.includes('--json');
const log = (...a) => (JSON_OUT ? console.error(...a) : console.log(...a));

if (process.env.NETPLUMB_SANDBOX !== '1') {
  console.error('bench/dns.mjs runs inside the sandbox: npm run bench:dns');
  process.exit(2);
}
const AARDVARK = ['/usr/lib/podman/aardvark-dns', '/usr/libexec/podman/aardvark-dns'].find((p) => existsSync(p));
const work = mkdtempSync('/run/np-bench-dns-');
const load = path.join(work, 'load');
run('cc', ['-O2', '-o', load, path.join(root, 'bench', 'dns', 'load.c')]);

// --- the world: host (this namespace), outside O with the upstream, a client container ---
const H_IP = '192.0.2.1';
const O_IP = '192.0.2.2';
run('ip', ['netns', 'add', 'bdo']);
run('ip', ['link', 'add', 'uplink', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', 'bdo']);
run('ip', ['addr', 'add', `${H_IP}/24`, 'dev', 'uplink']);
run('ip', ['link', 'set', 'uplink', 'up']);
run('ip', ['-n', 'bdo', 'addr', 'add', `${O_IP}/24`, 'dev', 'eth0']);
run('ip', ['-n', 'bdo', 'link', 'set', 'eth0', 'up']);
run('ip', ['-n', 'bdo', 'link', 'set', 'lo', 'up']);
const procs = [];
const start = (cmd, args) => {
  const p = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  p.out = '';
  p.stdout.on('data', (d) => { if (p.out.length < 4096) p.out += d; });
  p.stderr.on('data', (d) => { if (p.out.length < 4096) p.out += d; });
  procs.push(p);
  return p;
};
const waitFor = async (p, re) => {
  for (let i = 0; i < 500 && !re.test(p.out); i++) {
    if (p.exitCode !== null) throw new Error(`exited: ${p.out}`);
    await sleep(10);
  }
  if (!re.test(p.out)) throw new Error(`not ready: ${p.out}`);
};
const upstream = start('ip', ['netns', 'exec', 'bdo', process.execPath, path.join(root, 'test', 'fixtures', 'fake-upstream.mjs'), O_IP, '53']);
await waitFor(upstream, /ready/);
// Both servers forward to the fake upstream: /etc/resolv.conf, in this sandbox's own mount namespace only.
writeFileSync(path.join(work, 'resolv.conf'), `nameserver ${O_IP}\n`);
run('mount', ['--bind', path.join(work, 'resolv.conf'), '/etc/resolv.conf']);

const stateDir = path.join(work, 'state');
const nets = await Networks.open({ stateDir });
const net = await nets.create({ name: 'bench', subnet: '10.82.0.0/16' });
const client = await net.attach({ create: 'bdc' }, { name: 'client' });
const small = [];
for (let i = 0; i < 20; i++) small.push(await net.attach({ create: `bdn${i}` }, { name: `c${i}`, aliases: [`alias${i}`] }));
const gw = net.info.gateway;

// 10,000 more names: endpoint rows as an attach records them (address leased, phase
// ready), written by another connection like another process would; their kernel side
// is not made (only the resolvers are measured here, and 10,000 namespaces would measure
// the kernel). The resolver indexes rows; aardvark reads the same list from its file.
function addNames(n) {
  const store = NetworkStore.open(stateDir);
  const added = [];
  store.write((tx) => {
    for (let i = 0; i < n; i++) {
      const id = `${(i + 1).toString(16).padStart(8, '0')}${'b'.repeat(56)}`;
      const ip = tx.allocate(poolIds(net.id).v4, id);
      const info = { id, network: net.id, name: `n${i}`, aliases: [], ifname: 'eth0', hostIfname: `np${id.slice(0, 10)}`, ip, mac: '02:42:00:00:00:00', publish: [], netnsId: `bench:${i}`, defaultRoute: true };
      tx.putEndpoint(info, 'ready');
      added.push(info);
    }
  });
  store.close();
  return added;
}

// aardvark's config, as netavark writes it: one file per network.
function writeAardvarkConfig(dir, eps) {
  mkdirSync(dir, { recursive: true });
  const lines = [gw, ...eps.map((e) => `${e.id} ${e.ip}  ${[e.name, ...e.aliases].filter(Boolean).join(',')}`)];
  writeFileSync(path.join(dir, 'bench'), `${lines.join('\n')}\n`);
}

// --- the query mix: 60% names (A), 20% PTR, 20% misses (forwarded, NXDOMAIN) ---
function queries(eps) {
  const out = [];
  const text = [];
  const named = eps.filter((e) => e.name);
  for (let i = 0; i < 1000; i++) {
    const e = named[(i * 7919) % named.length];
    let q;
    if (i % 10 < 6) q = { type: 'A', name: i % 2 ? e.name : e.name.toUpperCase() };
    else if (i % 10 < 8) q = { type: 'PTR', name: `${e.ip.split('.').reverse().join('.')}.in-addr.arpa` };
    else q = { type: 'A', name: 'nx.example.test' };
    text.push(`${q.name} ${q.type}`);
    const m = packet.encode({ id: 0, type: 'query', flags: packet.RECURSION_DESIRED, questions: [q] });
    const len = Buffer.alloc(2);
    len.writeUInt16BE(m.length);
    out.push(len, m);
  }
  const file = path.join(work, `queries-${eps.length}`);
  writeFileSync(file, Buffer.concat(out));
  writeFileSync(`${file}.txt`, `${text.join('\n')}\n`);
  return file;
}

// A cross-check with dnsperf (Debian's dnsperf package), when installed: the same query
// list as text, 32 outstanding, its own queries-per-second figure.
const DNSPERF = works('dnsperf', ['-h']) || existsSync('/usr/bin/dnsperf');
function dnsperf(port, file, seconds) {
  const out = run('ip', ['netns', 'exec', 'bdc', 'dnsperf', '-s', gw, '-p', String(port), '-d', `${file}.txt`, '-l', String(seconds), '-q', '32', '-t', '1']);
  return { qps: Number(/Queries per second:\s+([\d.]+)/.exec(out)?.[1] ?? 0), lost: Number(/Queries lost:\s+(\d+)/.exec(out)?.[1] ?? -1) };
}

function measure(port, file, window, seconds) {
  return JSON.parse(run('ip', ['netns', 'exec', 'bdc', load, gw, String(port), file, String(window), String(seconds)]).trim());
}

async function servers(label, eps) {
  const file = queries(eps);
  const results = {};
  // netplumb dns: its own process, following the state directory.
  const np = start(process.execPath, [path.join(root, 'dist', 'cli.js'), 'dns', '--state-dir', stateDir, '--port', '53']);
  await waitFor(np, /ready/);
  let av;
  if (AARDVARK) {
    const dir = path.join(work, `aardvark-${eps.length}`);
    writeAardvarkConfig(dir, eps);
    // `run` forks and the parent exits once the child serves; the child's pid is in the directory.
    run(AARDVARK, ['--config', dir, '-p', '5533', 'run']);
    av = Number(readFileSync(path.join(dir, 'aardvark.pid'), 'utf8'));
  }
  // Warm both, then alternate: the machine's load drifts, so each gets the same share.
  measure(53, file, 4, 1);
  if (av) measure(5533, file, 4, 1);
  for (const [name, port] of [['netplumb', 53], ...(av ? [['aardvark-dns', 5533]] : [])]) {
    results[name] = { latency: measure(port, file, 1, SECONDS), throughput: measure(port, file, 32, SECONDS), ...(DNSPERF && { dnsperf: dnsperf(port, file, SECONDS) }) };
  }
  process.kill(np.pid, 'SIGTERM');
  if (av) process.kill(av, 'SIGTERM');
  await sleep(200);
  log(`\n${label}: ${eps.length} names on the network (${SECONDS} s per measure)`);
  log('server        p50 µs (1 in flight)  p99 µs   qps (32 in flight)  p50 µs at 32  answered NOERROR/NXDOMAIN  timeouts');
  for (const [name, r] of Object.entries(results)) {
    const l = r.latency;
    const t = r.throughput;
    log(`${name.padEnd(14)}${String(l.p50us).padStart(10)}${String(l.p99us).padStart(19)}${String(t.qps).padStart(18)}${String(t.p50us).padStart(15)}      ${t.noerror}/${t.nxdomain}${' '.repeat(12)}${t.timeouts + l.timeouts}` +
      (r.dnsperf ? `   dnsperf: ${Math.round(r.dnsperf.qps)} qps, ${r.dnsperf.lost} lost` : ''));
  }
  return results;
}

const out = { machine: { cpus: (await import('node:os')).cpus().length, load: (await import('node:os')).loadavg() }, aardvark: AARDVARK ?? 'not installed (Debian: aardvark-dns)' };
try {
  const all = [client, ...small];
  out.small = await servers('small network', all);
  const many = addNames(10_000);
  out.large = await servers('10,000 names', [...all, ...many]);
} finally {
  for (const p of procs) if (p.exitCode === null) p.kill('SIGKILL');
  run('umount', ['/etc/resolv.conf']);
}
log(`\nload average during the run: ${out.machine.load.map((x) => x.toFixed(2)).join(' ')} on ${out.machine.cpus} CPUs (numbers are noisy on a shared machine)`);
if (JSON_OUT) console.log(JSON.stringify(out));
process.exit(0);
