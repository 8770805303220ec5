// Shared test helpers: independent views of kernel state (iproute2) and unique names.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { Netns } from '../src';

let counter = 0;

/** A name unique across the test processes sharing the sandbox (fits IFNAMSIZ when short). */
export function uniq(prefix: string): string {
  counter += 1;
  return `${prefix}${process.pid % 100000}x${counter}`;
}

/** Runs a command and returns stdout; throws with stderr on failure. */
export function run(cmd: string, args: string[], input?: string): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', input, stdio: ['pipe', 'pipe', 'pipe'] });
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    throw new Error(`${cmd} ${args.join(' ')} failed: ${err.stderr || err.message}`);
  }
}

/** Runs a command, returning status and output without throwing. */
export function tryRun(cmd: string, args: string[]): { status: number; stdout: string; stderr: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  return { status: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

/** `ip -j [-d] [-n NS] ARGS...`, parsed. */
export function ipj<T = Record<string, unknown>[]>(ns: string | null, ...args: string[]): T {
  const pre = ns ? ['-n', ns] : [];
  const out = run('ip', ['-j', '-d', ...pre, ...args]);
  return (out.trim() ? JSON.parse(out) : []) as T;
}

/** `ip [-n NS] ARGS...` */
export function ip(ns: string | null, ...args: string[]): string {
  return run('ip', [...(ns ? ['-n', ns] : []), ...args]);
}

/**
 * How much slower this run is than a plain one: scripts/asan-test.sh sets
 * NETPLUMB_SANITIZED=1 (ASan and UBSan make the addon and node several times slower).
 */
export const SLOWDOWN = process.env.NETPLUMB_SANITIZED === '1' ? 5 : 1;

/**
 * `nsenter`'s arguments to run CMD in the named namespace NAME. nsenter keeps the
 * environment, which `ip netns exec` does not under scripts/asan-test.sh (its `ip` runs
 * through a wrapper that drops LD_PRELOAD, and a node child must load the sanitized
 * addon): how the tests start every node process inside a namespace.
 */
export function nsenterArgs(name: string, cmd: string[]): string[] {
  return [`--net=/run/netns/${name}`, ...cmd];
}

/** Number of open file descriptors of this process. */
export function fdCount(): number {
  return readdirSync('/proc/self/fd').length;
}

/** Creates named namespaces for a test and deletes them (and closes handles) afterwards. */
export class Scope {
  readonly handles: Netns[] = [];
  readonly names: string[] = [];

  async ns(prefix = 'np'): Promise<Netns> {
    const name = uniq(prefix);
    const h = await Netns.create(name);
    this.handles.push(h);
    this.names.push(name);
    return h;
  }

  async cleanup(): Promise<void> {
    for (const h of this.handles) h.close();
    for (const n of this.names) {
      await Netns.delete(n).catch(() => undefined);
    }
    this.handles.length = 0;
    this.names.length = 0;
  }
}

/** One echo request from inside a named namespace, one second to answer; up to `tries` tries (the first may wait for ARP). */
export async function ping(ns: Netns, addr: string, tries = 3): Promise<void> {
  let last = '';
  for (let i = 0; i < tries; i++) {
    const r = await new Promise<{ code: number | null; out: string }>((resolve) => {
      const p = spawn('ip', ['netns', 'exec', ns.name!, 'ping', '-n', '-q', '-c1', '-W1', addr], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      p.stdout.on('data', (d: Buffer) => (out += d.toString()));
      p.stderr.on('data', (d: Buffer) => (out += d.toString()));
      p.on('close', (code) => resolve({ code, out }));
    });
    if (r.code === 0) return;
    last = r.out;
  }
  throw new Error(`ping ${addr} from ${ns.name} failed: ${last}`);
}

/** True when addr answers one echo request from inside ns within a second. */
export async function answers(ns: Netns, addr: string): Promise<boolean> {
  return ping(ns, addr, 1).then(() => true, () => false);
}
