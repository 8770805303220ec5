#!/usr/bin/env node
// npm run bench:cni: the netplumb CNI plugin against the reference chain, in one run
// inside a throwaway sandbox (scripts/in-netns.mjs), each call timed as a runtime pays
// for it: from the plugin process's start to its exit.
//
//   start-up   what a plugin process costs before it does anything: bare node, node
//              with the library loaded, the in-process plugin's VERSION, the executable's
//              VERSION through the daemon and with no daemon (it then execs node)
//   ADD / DEL  per container, with one published port (runtimeConfig.portMappings):
//                ref      bridge (+ host-local, ipMasq, hairpin) and portmap, chained as a
//                         runtime chains them (bench/model/cni.sh plugins-attach/teardown)
//                daemon   dist/cni/netplumb forwarding to a running `netplumb daemon`
//                alone    dist/cni/netplumb with no daemon: node, the plugin in-process
//              in ROUNDS rounds, the three alternating, CONTAINERS containers each.
//
// The bar: through the daemon >= 5x faster than ref for ADD and for DEL; alone,
// no slower than ref. Printed as PASS/FAIL lines; `--json` prints everything as JSON.
// The machine is shared and small (2 CPUs): numbers are noisy; run it quiet for the record.
//
//   node scripts/in-netns.mjs node bench/cni.mjs [--rounds 3] [--containers 20] [--json] [--report-only]
// Exit status 1 when a bar is missed, unless --report-only (CI's shared machine).
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { run, runJson } from './lib/util.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.dirname(here);
const { values } = parseArgs({
  options: { rounds: { type: 'string', default: '3' }, containers: { type: 'string', default: '20' }, json: { type: 'boolean' }, 'report-only': { type: 'boolean' } },
});
const ROUNDS = Number(values.rounds);
const N = Number(values.containers);
const PLUGIN = path.join(root, 'dist', 'cni', 'netplumb');
const MAIN = path.join(root, 'dist', 'cni', 'main.js');
const ENV = { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C' };
const BIN = ['/usr/lib/cni', '/opt/cni/bin'].find((d) => ['bridge', 'host-local', 'portmap'].every((p) => existsSync(path.join(d, p))));

if (process.env.NETPLUMB_SANDBOX !== '1') {
  console.error('bench/cni.mjs runs in the sandbox: npm run bench:cni');
  process.exit(2);
}
if (!existsSync(PLUGIN)) {
  console.error(`${PLUGIN} is missing: npm run build`);
  process.exit(1);
}
if (!BIN) {
  console.error('the reference plugins bridge, host-local and portmap are missing (apt-get install containernetworking-plugins)');
  process.exit(1);
}

const work = mkdtempSync('/tmp/np-bench-cni-');
const netnsDir = '/run/netns';
const stats = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p) => s[Math.min(s.length - 1, Math.floor(p * s.length))];
  return { n: s.length, median: q(0.5), p10: q(0.1), p90: q(0.9), min: s[0], max: s[s.length - 1] };
};
const fmt = (x) => (x < 10 ? x.toFixed(2) : x.toFixed(1));

// An "outside" link so that the host has a default route (the bridge plugin's ipMasq and
// netplumb's MTU both look for one), as in bench/networks.mjs.
// (A veth pair: the dummy module may not be loadable here.)
run('ip', ['link', 'add', 'bench-up', 'type', 'veth', 'peer', 'name', 'bench-peer']);
run('ip', ['addr', 'add', '192.0.2.1/24', 'dev', 'bench-up']);
run('ip', ['link', 'set', 'bench-up', 'up']);
run('ip', ['link', 'set', 'bench-peer', 'up']);
run('ip', ['route', 'add', 'default', 'via', '192.0.2.254']);

// The reference chain's config, as bench/model/cni.mjs writes it.
const refDir = path.join(work, 'ref');
mkdirSync(path.join(refDir, 'results'), { recursive: true });
writeFileSync(path.join(refDir, 'bridge.json'), JSON.stringify({
  cniVersion: '1.0.0', name: 'bench', type: 'bridge', bridge: 'cnib0', isGateway: true, isDefaultGateway: true, ipMasq: true, hairpinMode: true,
  ipam: { type: 'host-local', ranges: [[{ subnet: '10.210.0.0/16', gateway: '10.210.0.1' }]], dataDir: path.join(refDir, 'ipam') },
}));
writeFileSync(path.join(refDir, 'loopback.json'), JSON.stringify({ cniVersion: '1.0.0', name: 'lo', type: 'loopback' }));

// netplumb: one network through the daemon, another (its own state and owner tag) alone.
const sock = path.join(work, 'netplumb.sock');
const confDaemon = path.join(work, 'daemon.json');
const confAlone = path.join(work, 'alone.json');
writeFileSync(confDaemon, JSON.stringify({ cniVersion: '1.0.0', name: 'benchd', type: 'netplumb', subnet: '10.211.0.0/16', stateDir: path.join(work, 'state-d'), capabilities: { portMappings: true } }));
writeFileSync(confAlone, JSON.stringify({ cniVersion: '1.0.0', name: 'bencha', type: 'netplumb', subnet: '10.212.0.0/16', stateDir: path.join(work, 'state-a'), owner: 'npalone', capabilities: { portMappings: true } }));

const daemon = spawn(process.execPath, [path.join(root, 'dist', 'cli.js'), 'daemon', '--state-dir', path.join(work, 'state-d'), '--socket', sock, '--no-dns'], { stdio: ['ignore', 'ignore', 'pipe'] });
await new Promise((resolve, reject) => {
  let err = '';
  daemon.stderr.on('data', (c) => {
    err += c;
    if (err.includes('"listening"')) resolve();
  });
  daemon.once('exit', (c) => reject(new Error(`daemon exited ${c}: ${err}`)));
});

let planNo = 0;
function plan(prefix, portBase) {
  const file = path.join(work, `plan${planNo++}`);
  writeFileSync(file, Array.from({ length: N }, (_, i) => `${prefix}${i} - ${portBase + i}`).join('\n') + '\n');
  return file;
}
const ref = (mode, p) => runJson('bash', [path.join(here, 'model', 'cni.sh'), mode, p, BIN, netnsDir, refDir, path.join(refDir, 'results'), '1'], { env: ENV });
const np = (mode, p, conf, socket) => runJson('bash', [path.join(here, 'cni-netplumb.sh'), mode, p, PLUGIN, netnsDir, conf, '1'], {
  env: { ...ENV, NETPLUMB_SOCKET: socket, NETPLUMB_NODE: process.execPath },
});
const start = (args, env = {}) => runJson('bash', [path.join(here, 'cni-netplumb.sh'), 'start', '30', ...args], { env: { ...ENV, ...env } });

const out = { machine: { node: process.version, cpus: (await import('node:os')).availableParallelism() }, startup: {}, add: {}, del: {} };
try {
  // Start-up: what a process costs before its work.
  const none = path.join(work, 'none.sock');
  out.startup['node -e 0'] = stats((await start([process.execPath, '-e', '0'])).times);
  out.startup['node + require(netplumb)'] = stats((await start([process.execPath, '-e', `require(${JSON.stringify(path.join(root, 'dist'))})`])).times);
  out.startup['node dist/cni/main.js VERSION (in-process)'] = stats((await start([process.execPath, MAIN], { NETPLUMB_CNI_NO_DAEMON: '1' })).times);
  out.startup['netplumb VERSION, daemon'] = stats((await start([PLUGIN], { NETPLUMB_SOCKET: sock })).times);
  out.startup['netplumb VERSION, no daemon (execs node)'] = stats((await start([PLUGIN], { NETPLUMB_SOCKET: none, NETPLUMB_NODE: process.execPath })).times);

  const times = { ref: { add: [], del: [] }, daemon: { add: [], del: [] }, alone: { add: [], del: [] } };
  for (let r = 0; r < ROUNDS; r++) {
    // Alternated so that drift on a shared machine falls on all three alike.
    const pr = plan(`br${r}x`, 20000 + r * 1000);
    const pd = plan(`bd${r}x`, 30000 + r * 1000);
    const pa = plan(`ba${r}x`, 40000 + r * 1000);
    times.ref.add.push(...(await ref('plugins-attach', pr)).times);
    times.daemon.add.push(...(await np('attach', pd, confDaemon, sock)).times);
    times.alone.add.push(...(await np('attach', pa, confAlone, none)).times);
    times.ref.del.push(...(await ref('plugins-teardown', pr)).times);
    times.daemon.del.push(...(await np('teardown', pd, confDaemon, sock)).times);
    times.alone.del.push(...(await np('teardown', pa, confAlone, none)).times);
  }
  for (const op of ['add', 'del']) for (const k of ['ref', 'daemon', 'alone']) out[op][k] = stats(times[k][op]);
} finally {
  daemon.kill('SIGTERM');
  await new Promise((r) => daemon.once('exit', r));
  rmSync(work, { recursive: true, force: true });
}

const verdicts = [];
for (const op of ['add', 'del']) {
  const { ref: r, daemon: d, alone: a } = out[op];
  const speedup = r.median / d.median;
  verdicts.push({ what: `${op.toUpperCase()} through the daemon >= 5x faster than ref (median)`, pass: speedup >= 5, detail: `${fmt(r.median)} / ${fmt(d.median)} ms = ${speedup.toFixed(1)}x` });
  verdicts.push({ what: `${op.toUpperCase()} with no daemon no slower than ref (median)`, pass: a.median <= r.median, detail: `${fmt(a.median)} vs ${fmt(r.median)} ms` });
}
out.verdicts = verdicts;

if (values.json) {
  console.log(JSON.stringify(out, null, 2));
} else {
  console.log(`netplumb CNI plugin vs bridge + host-local + portmap (node ${out.machine.node}, ${out.machine.cpus} CPUs; ${ROUNDS} rounds x ${N} containers, one published port each)\n`);
  console.log('start-up, process start to exit (30 runs)      median     p10     p90  ms');
  for (const [k, s] of Object.entries(out.startup)) console.log(`  ${k.padEnd(44)} ${fmt(s.median).padStart(7)} ${fmt(s.p10).padStart(7)} ${fmt(s.p90).padStart(7)}`);
  for (const op of ['add', 'del']) {
    console.log(`\n${op.toUpperCase()} per container, process start to exit     median     p10     p90  ms`);
    const label = { ref: 'ref: bridge + host-local + portmap', daemon: 'netplumb, through the daemon', alone: 'netplumb, no daemon (in-process)' };
    for (const k of ['ref', 'daemon', 'alone']) {
      const s = out[op][k];
      console.log(`  ${label[k].padEnd(44)} ${fmt(s.median).padStart(7)} ${fmt(s.p10).padStart(7)} ${fmt(s.p90).padStart(7)}`);
    }
  }
  console.log('');
  for (const v of verdicts) console.log(`${v.pass ? 'PASS' : 'FAIL'}  ${v.what}: ${v.detail}`);
}
process.exitCode = values['report-only'] || verdicts.every((v) => v.pass) ? 0 : 1;
