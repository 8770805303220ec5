#!/usr/bin/env node
// `netplumb demo` (also `netplumb-demo`): the seeds' scenario, built through the library
// inside a throwaway sandbox (user + network + mount namespace, tmpfs over /run), checked
// with real traffic, printed, and cleaned up. Its own entry point: the CLI runs this file,
// and nothing in the library imports it.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { Netns } from './netns';
import { Networks } from './network/networks';
import type { Network } from './network/network';
import type { EndpointInfo } from './network/types';

const AGENT = path.join(__dirname, 'demo-agent.js');
const RUN = '/run/netplumb-demo';

interface Check {
  what: string;
  expect: string;
  saw: string;
  ok: boolean;
  ms: number;
}

const agents: ChildProcess[] = [];

function nsenterArgs(ns: Netns, ...cmd: string[]): string[] {
  return [`--net=${ns.path}`, ...cmd];
}

/** Starts the agent's TCP server inside a namespace and waits until it listens. */
async function serve(ns: Netns, port: number): Promise<void> {
  const p = spawn('nsenter', nsenterArgs(ns, process.execPath, AGENT, 'serve', String(port)), { stdio: ['ignore', 'pipe', 'inherit'] });
  agents.push(p);
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server in ${ns.name} did not start`)), 5000);
    p.stdout!.on('data', (d: Buffer) => {
      if (d.toString().includes('ready')) {
        clearTimeout(timer);
        resolve();
      }
    });
    p.on('error', reject);
  });
}

function agent(ns: Netns, ...args: string[]): string {
  const r = spawnSync('nsenter', nsenterArgs(ns, process.execPath, AGENT, ...args), { encoding: 'utf8', timeout: 10_000 });
  return (r.stdout ?? '').trim() || (r.stderr ?? '').trim() || 'no answer';
}

/**
 * Resolves a name inside a namespace with its hosts file mounted over /etc/hosts, and
 * no DNS server configured (an empty resolv.conf: the resolver can only try loopback),
 * so a name the hosts file lacks fails at once and no query leaves the namespace.
 */
function resolveIn(ns: Netns, hostsFile: string, name: string): string {
  const r = spawnSync(
    'nsenter',
    nsenterArgs(ns, 'unshare', '--mount', 'sh', '-c', 'mount --bind "$1" /etc/hosts && mount --bind /dev/null /etc/resolv.conf && exec "$2" "$3" resolve "$4"', 'sh', hostsFile, process.execPath, AGENT, name),
    { encoding: 'utf8', timeout: 10_000 },
  );
  return (r.stdout ?? '').trim() || (r.stderr ?? '').trim();
}

function time<T>(fn: () => T): [T, number] {
  const t0 = process.hrtime.bigint();
  const v = fn();
  return [v, Number(process.hrtime.bigint() - t0) / 1e6];
}

async function timeAsync<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const t0 = process.hrtime.bigint();
  const v = await fn();
  return [v, Number(process.hrtime.bigint() - t0) / 1e6];
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? 0;
}

/** Runs the demo; must already be inside a sandbox. Returns the process exit code. */
export async function runDemo(opts: { json?: boolean } = {}): Promise<number> {
  const log = (s = '') => {
    if (!opts.json) process.stdout.write(`${s}\n`);
  };
  mkdirSync(RUN, { recursive: true });
  const host = await Netns.current();
  const timings: Record<string, number> = {};
  const checks: Check[] = [];
  const made: Netns[] = [];
  const endpoints: [Network, EndpointInfo][] = [];
  let nets: Networks | undefined;
  try {
    // An "outside" world: a namespace on a veth from the host, the host's default route.
    const [outside, tNs] = await timeAsync(() => Netns.create('outside'));
    made.push(outside);
    timings['namespace create (ms)'] = tNs;
    await host
      .batch()
      .links.add({ name: 'out0', kind: 'veth', up: true, addrGenMode: 'none', peer: { name: 'eth0', netns: outside, up: true } })
      .addresses.add({ dev: 'out0', address: '192.0.2.1/24' })
      .routes.add({ dst: 'default', gateway: '192.0.2.2' })
      .commit();
    // The outside knows the way to the container subnets (as a router upstream might):
    // direct access must still be refused by the host.
    await outside
      .batch()
      .links.set('lo', { up: true })
      .addresses.add({ dev: 'eth0', address: '192.0.2.2/24' })
      .routes.add({ dst: '172.16.0.0/12', gateway: '192.0.2.1' })
      .commit();

    nets = await Networks.open({ stateDir: `${RUN}/state`, host });
    const [def, tDef] = await timeAsync(() => nets!.defaultNetwork());
    const [app, tApp] = await timeAsync(() => nets!.create({ name: 'app', labels: { demo: 'true' } }));
    timings['network create (ms)'] = (tDef + tApp) / 2;

    const attachTimes: number[] = [];
    const attach = async (net: Network, name: string, o: Parameters<Network['attach']>[1]) => {
      // The namespace made in the attach's own native call (as `ip netns add name`).
      const [{ netns, ...ep }, t] = await timeAsync(() => net.attach({ create: name }, o));
      const ns = netns!;
      made.push(ns);
      attachTimes.push(t);
      endpoints.push([net, ep]);
      return { ns, ep };
    };
    const c1 = await attach(def, 'c1', { name: 'c1', hostsFile: `${RUN}/c1.hosts`, hostsFileScope: 'members' });
    const c2 = await attach(def, 'c2', { name: 'c2' });
    const web = await attach(app, 'web', { name: 'web', publish: [{ hostPort: 8080, containerPort: 80 }], hostsFile: `${RUN}/web.hosts`, hostsFileScope: 'members' });
    const db = await attach(app, 'db', { name: 'db', aliases: ['database'], hostsFile: `${RUN}/db.hosts`, hostsFileScope: 'members' });
    timings['attach, median (ms)'] = median(attachTimes);
    // Hosts files are written off the attach's path; the checks below read them.
    await nets.flushHosts();

    log('netplumb demo: Docker\'s network model, built over netlink in a throwaway sandbox');
    log('');
    log('topology');
    log('  host (the sandbox\'s own namespace)');
    log(`  ├─ out0 192.0.2.1/24 ── outside (eth0 192.0.2.2/24)`);
    for (const net of [def, app]) {
      const i = net.info;
      log(`  ├─ ${i.bridge}: network "${i.name}"${i.isDefault ? ' (default, like docker0)' : ''}, ${i.subnet}, gateway ${i.gateway}`);
      for (const e of net.endpoints()) {
        const pub = e.publish.map((p) => ` publish ${p.hostPort}->${p.containerPort}/${p.protocol}`).join('');
        log(`  │    └─ ${e.hostIfname} ── ${e.name} (${e.ifname} ${e.ip}, ${e.mac})${pub}`);
      }
    }
    log('');

    const check = (what: string, expect: string, run: () => string, pass: (saw: string) => boolean) => {
      const [saw, ms] = time(run);
      checks.push({ what, expect, saw, ok: pass(saw), ms });
    };
    await serve(c2.ns, 7000);
    await serve(db.ns, 7000);
    await serve(web.ns, 80);
    await serve(outside, 9000);
    check('c1 -> c2 on the default bridge', `c2 sees ${c1.ep.ip}`, () => agent(c1.ns, 'connect', c2.ep.ip, '7000', '2000'), (s) => s === c1.ep.ip);
    check('web resolves "db" (user-defined network)', db.ep.ip, () => resolveIn(web.ns, `${RUN}/web.hosts`, 'db'), (s) => s === db.ep.ip);
    check('web -> db by name, port 7000', `db sees ${web.ep.ip}`, () => agent(web.ns, 'connect', resolveIn(web.ns, `${RUN}/web.hosts`, 'database'), '7000', '2000'), (s) => s === web.ep.ip);
    check('c1 does not resolve "c2" (default network: no names)', 'unresolved', () => resolveIn(c1.ns, `${RUN}/c1.hosts`, 'c2'), (s) => s === 'unresolved');
    check('outside -> 192.0.2.1:8080 published to web:80', 'web sees 192.0.2.2', () => agent(outside, 'connect', '192.0.2.1', '8080', '2000'), (s) => s === '192.0.2.2');
    check('web -> outside (masquerade)', 'outside sees 192.0.2.1', () => agent(web.ns, 'connect', '192.0.2.2', '9000', '2000'), (s) => s === '192.0.2.1');
    check('c1 -> web by its IP (other network)', 'blocked', () => agent(c1.ns, 'connect', web.ep.ip, '80', '1000'), (s) => s === 'timeout' || s === 'refused' || s === 'EHOSTUNREACH');
    check('outside -> web by its IP (direct access)', 'blocked', () => agent(outside, 'connect', web.ep.ip, '80', '1000'), (s) => s === 'timeout');

    log('checks');
    for (const c of checks) {
      log(`  ${c.ok ? 'ok  ' : 'FAIL'} ${c.what.padEnd(52)} expected ${c.expect}; saw ${c.saw} (${c.ms.toFixed(1)} ms)`);
    }
    log('');
    log('timings');
    for (const [k, v] of Object.entries(timings)) log(`  ${k.padEnd(26)} ${v.toFixed(2)}`);
  } finally {
    for (const a of agents) a.kill();
    if (nets) {
      for (const [net, ep] of endpoints.reverse()) await net.detach(ep).catch(() => undefined);
      for (const n of nets.list()) await nets.remove(n.name).catch(() => undefined);
      await nets.close();
    }
    for (const ns of made) {
      ns.close();
      if (ns.name) await Netns.delete(ns.name).catch(() => undefined);
    }
    await host.links.delete('out0').catch(() => undefined);
    host.close();
  }
  const ok = checks.length > 0 && checks.every((c) => c.ok);
  if (opts.json) process.stdout.write(`${JSON.stringify({ ok, checks, timings }, null, 2)}\n`);
  else log(`\n${ok ? 'all checks passed' : 'SOME CHECKS FAILED'}; everything removed`);
  return ok ? 0 : 1;
}

const USAGE = `usage: netplumb demo [--json]

Builds Docker's network model (default and user-defined bridge networks, published
ports, name resolution, isolation) inside a throwaway sandbox (a user + network + mount
namespace; nothing touches this machine's network), checks it with real TCP traffic,
prints what each check saw and removes everything.

options:
  --json      print the checks and timings as one JSON object
  -h, --help  this text

Exit codes: 0 every check passed, 1 a check failed or the sandbox could not be made,
2 usage error.
`;

async function main(args: string[]): Promise<number> {
  let json = false;
  try {
    const { values } = parseArgs({ args, options: { json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } }, strict: true });
    if (values.help) {
      process.stdout.write(USAGE);
      return 0;
    }
    json = values.json === true;
  } catch (e) {
    // parseArgs's messages start with one sentence ("Unknown option '--x'.").
    process.stderr.write(`netplumb: ${(e as Error).message.split(/\.\s|\n/)[0]!.replace(/\.$/, '')} (see netplumb demo --help)\n`);
    return 2;
  }
  if (process.env.NETPLUMB_SANDBOX !== '1') {
    // Again inside a user + network + mount namespace with a tmpfs over /run
    // (scripts/in-netns.mjs): nothing can touch the machine's own network.
    const root = path.resolve(__dirname, '..');
    const r = spawnSync(process.execPath, [path.join(root, 'scripts', 'in-netns.mjs'), process.execPath, __filename, ...args], { stdio: 'inherit' });
    return r.status ?? 1;
  }
  return runDemo({ json });
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e: unknown) => {
      process.stderr.write(`netplumb: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}\n`);
      process.exit(1);
    },
  );
}
