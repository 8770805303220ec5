// Helpers of the DNS tests: processes started in a namespace (resolvers, a fake upstream),
// dig as a container runs it, and a shell that keeps a container's private mount
// namespace (its /etc/hosts and /etc/resolv.conf bind-mounted, as a runtime does) alive
// across the test, so that what a running container sees can be asked again later.
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import type { Netns } from '../src';
import { nsenterArgs } from './helpers';
import { exec } from './traffic';

/** The repository root (dist/ and test/fixtures/ are under it). */
export const ROOT = path.resolve(__dirname, '..');

/** A process started in a namespace; stop() kills it by its pid (ip netns exec execs the command, so the pid is its own). */
export class Proc {
  readonly child: ChildProcessWithoutNullStreams;
  out = '';
  err = '';
  exited: Promise<number | null>;

  constructor(ns: Netns | string, cmd: string[]) {
    const name = typeof ns === 'string' ? ns : ns.name!;
    this.child = spawn('nsenter', nsenterArgs(name, cmd), { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stdout.on('data', (d: Buffer) => (this.out += d.toString()));
    this.child.stderr.on('data', (d: Buffer) => (this.err += d.toString()));
    this.exited = new Promise((resolve) => this.child.on('exit', (code) => resolve(code)));
  }

  /** Waits (10 s at most) until stdout matches. */
  async waitFor(re: RegExp, ms = 10_000): Promise<void> {
    const end = Date.now() + ms;
    while (!re.test(this.out)) {
      if (this.child.exitCode !== null) throw new Error(`process exited (${this.child.exitCode}) before ${re}: ${this.err}`);
      if (Date.now() > end) throw new Error(`timed out waiting for ${re}; stdout: ${this.out}; stderr: ${this.err}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  /** Sends a signal by pid and waits for the exit; returns the exit code (null when killed by the signal). */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    if (this.child.exitCode === null && this.child.signalCode === null) process.kill(this.child.pid!, signal);
    return this.exited;
  }
}

/** What dig saw. */
export interface Dig {
  /** The RCODE ('NOERROR', 'NXDOMAIN', ...) or 'TIMEOUT' when nothing answered. */
  status: string;
  flags: string[];
  /** Answer records: [name, ttl, class, type, data]. */
  answers: string[][];
  out: string;
}

/** dig from inside a namespace, one try of `timeSec` seconds, at `server` (port 53 unless given). */
export async function dig(ns: Netns, server: string, args: string[], opts: { port?: number; timeSec?: number } = {}): Promise<Dig> {
  const r = await exec(ns, ['dig', '+tries=1', `+time=${opts.timeSec ?? 2}`, '-p', String(opts.port ?? 53), `@${server}`, '+noall', '+comments', '+answer', ...args]);
  const out = r.stdout;
  const status = /status: ([A-Z]+)/.exec(out)?.[1] ?? (/timed out|no servers could be reached/.test(out + r.stderr) ? 'TIMEOUT' : `ERROR ${out}${r.stderr}`);
  const flags = (/;; flags: ([a-z ]*);/.exec(out)?.[1] ?? '').trim().split(/\s+/).filter(Boolean);
  const answers = out.split('\n').filter((l) => l.trim() !== '' && !l.startsWith(';')).map((l) => l.trim().split(/\s+/));
  return { status, flags, answers, out };
}

/**
 * dig, asked again (every 50 ms, 20 times at most) until `ok` holds: for a name the
 * resolver learns from another process's commit (it follows the state within 100 ms;
 * until it has bound a new network's gateway a query meets a closed port or nothing, and
 * until it has read the container the name goes upstream). Returns the last answer.
 */
export async function digUntil(ns: Netns, server: string, args: string[], ok: (d: Dig) => boolean): Promise<Dig> {
  let r = await dig(ns, server, args);
  for (let i = 0; i < 20 && !ok(r); i++) {
    await new Promise((res) => setTimeout(res, 50));
    r = await dig(ns, server, args, { timeSec: 1 });
  }
  return r;
}

const nsswitch = new Set<string>();

/**
 * A shell inside a container's namespace and a private mount namespace of its own, with
 * files bind-mounted as a runtime mounts them (hosts on /etc/hosts, resolv.conf on
 * /etc/resolv.conf, an nsswitch.conf saying `hosts: files dns`, or `files` alone
 * without a resolv.conf), kept running: each
 * run() is a command in the same, long-lived mount namespace.
 */
export class ContainerShell {
  readonly #p: Proc;
  #queue: Promise<unknown> = Promise.resolve();

  private constructor(p: Proc) {
    this.#p = p;
  }

  static async start(ns: Netns, mounts: { hosts?: string; resolvConf?: string }): Promise<ContainerShell> {
    // Without a resolv.conf of ours, the hosts file alone (the machine's nameserver is
    // unreachable from a container: every miss would wait out its timeout).
    const nss = `/run/np-dns-nsswitch-${mounts.resolvConf ? 'dns' : 'files'}-${process.pid}.conf`;
    if (!nsswitch.has(nss)) {
      writeFileSync(nss, mounts.resolvConf ? 'hosts: files dns\n' : 'hosts: files\n');
      nsswitch.add(nss);
    }
    const binds = [`mount --bind ${nss} /etc/nsswitch.conf`];
    if (mounts.hosts) binds.push(`mount --bind ${mounts.hosts} /etc/hosts`);
    if (mounts.resolvConf) binds.push(`mount --bind ${mounts.resolvConf} /etc/resolv.conf`);
    const script = `set -e; ${binds.join('; ')}; set +e; echo mounted; while IFS= read -r line; do sh -c "$line" 2>&1; echo "__END__ $?"; done`;
    const p = new Proc(ns, ['unshare', '--mount', '--propagation', 'private', 'sh', '-c', script]);
    await p.waitFor(/mounted\n/);
    p.out = '';
    return new ContainerShell(p);
  }

  /** Runs a command (bounded by `timeout 5`) in the running container; its output and status. */
  run(cmd: string): Promise<{ status: number; out: string }> {
    const next = this.#queue.then(async () => {
      this.#p.out = '';
      this.#p.child.stdin.write(`timeout 5 ${cmd}\n`);
      await this.#p.waitFor(/__END__ \d+\n/, 8000);
      const m = /([\s\S]*)__END__ (\d+)\n/.exec(this.#p.out)!;
      return { status: Number(m[2]), out: m[1]! };
    });
    this.#queue = next.catch(() => undefined);
    return next;
  }

  async stop(): Promise<void> {
    this.#p.child.stdin.end();
    await this.#p.stop();
  }
}

/**
 * Asks `name` from inside `ns` in a loop (a small node querier: one UDP query at a time,
 * the next 2 ms after each answer, each answer's line stamped with the time it came),
 * started before a change so that the change can be timed: first() says when (ms after
 * t0) an answer first satisfied `until`. (A loop of dig processes measured dig's own
 * start-up as much as the resolver: 50 ms and more a round on a loaded machine.)
 */
export class DigLoop {
  readonly #p: Proc;

  private constructor(p: Proc) {
    this.#p = p;
  }

  static async start(ns: Netns, server: string, name: string, port = 53): Promise<DigLoop> {
    const script = `
      const dgram = require('node:dgram');
      const packet = require(${JSON.stringify(path.join(ROOT, 'node_modules', 'dns-packet'))});
      const s = dgram.createSocket('udp4');
      let id = 0, timer;
      const ask = () => {
        id = (id + 1) & 0xffff;
        s.send(packet.encode({ type: 'query', id, flags: packet.RECURSION_DESIRED, questions: [{ type: 'A', name: ${JSON.stringify(name)} }] }), ${port}, ${JSON.stringify(server)});
        timer = setTimeout(() => { console.log(Date.now() + ' status: TIMEOUT'); ask(); }, 500);
      };
      s.on('message', (m) => {
        const r = packet.decode(m);
        if (r.id !== id) return;
        clearTimeout(timer);
        console.log(Date.now() + ' status: ' + r.rcode);
        setTimeout(ask, 2);
      });
      ask();`;
    const p = new Proc(ns, [process.execPath, '-e', script]);
    await p.waitFor(/status: [A-Z]+\n[\s\S]*status: [A-Z]+\n/);
    return new DigLoop(p);
  }

  async first(t0: number, until: (status: string) => boolean, ms = 5000): Promise<number> {
    const end = Date.now() + ms;
    try {
      for (;;) {
        const hit = this.#p.out.split('\n').map((l) => /^(\d+) status: ([A-Z]+)/.exec(l)).find((m) => m && Number(m[1]) >= t0 && until(m[2]!));
        if (hit) return Number(hit[1]) - t0;
        if (this.#p.child.exitCode !== null || Date.now() > end) throw new Error(`no answer matched: ${this.#p.out.slice(-500)}`);
        await new Promise((r) => setTimeout(r, 5));
      }
    } finally {
      await this.#p.stop('SIGKILL');
    }
  }
}
