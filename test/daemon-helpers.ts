// Helpers of the daemon and CNI tests: the daemon as its own process (`netplumb daemon`
// from dist/, inside a named host namespace through `ip netns exec`), its JSON log lines
// collected, and the CNI plugin executable run as a runtime runs it.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { nsenterArgs } from './helpers';

export const ROOT = path.resolve(__dirname, '..');
export const CLI = path.join(ROOT, 'dist', 'cli.js');
/** The plugin executable as `npm run build` leaves it (docs/cni.md). */
export const PLUGIN = path.join(ROOT, 'dist', 'cni', 'netplumb');

export interface RunningDaemon {
  proc: ChildProcess;
  logs: Record<string, unknown>[];
  socket: string;
  /** Resolves with the exit code (or the signal's name). */
  exited: Promise<number | string>;
  stop(signal?: NodeJS.Signals): Promise<number | string>;
}

/**
 * Starts `netplumb daemon` in named namespace `host`; resolves once it listens. Entered
 * with nsenter --net, not `ip netns exec`: the daemon must share the test's mount
 * namespace, as a real one shares the host's, or the namespaces it names (`create`)
 * would be bind mounts only it sees, gone with it.
 */
export async function startDaemon(host: string, stateDir: string, socket: string, extra: string[] = []): Promise<RunningDaemon> {
  const proc = spawn('nsenter', nsenterArgs(host, [process.execPath, CLI, 'daemon', '--state-dir', stateDir, '--socket', socket, ...extra]), {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const logs: Record<string, unknown>[] = [];
  let rest = '';
  let stderr = '';
  const exited = new Promise<number | string>((resolve) => proc.once('exit', (code, sig) => resolve(code ?? sig ?? -1)));
  const ready = new Promise<void>((resolve, reject) => {
    proc.stderr!.on('data', (c: Buffer) => {
      stderr += c.toString();
      rest += c.toString();
      const lines = rest.split('\n');
      rest = lines.pop()!;
      for (const l of lines) {
        try {
          const rec = JSON.parse(l) as Record<string, unknown>;
          logs.push(rec);
          if (rec.msg === 'listening') resolve();
        } catch {
          // not a log line (a crash's stack)
        }
      }
    });
    void exited.then((c) => reject(new Error(`daemon exited (${c}) before listening: ${stderr}`)));
    setTimeout(() => reject(new Error(`daemon not listening after 20 s: ${stderr}`)), 20_000).unref();
  });
  await ready;
  return {
    proc, logs, socket, exited,
    stop: async (signal: NodeJS.Signals = 'SIGTERM') => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
      return exited;
    },
  };
}

/** A raw HTTP request over the socket (for what a typed client would never send). */
export function rawRequest(socket: string, method: string, p: string, body?: string | Buffer, headers: Record<string, string> = {}): Promise<{ status: number; body: string; headers: http.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath: socket, method, path: p, headers: { ...(body !== undefined && { 'content-length': String(Buffer.byteLength(body)) }), ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString(), headers: res.headers }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

export interface CniRun {
  code: number;
  stdout: string;
  stderr: string;
  json: Record<string, unknown> | undefined;
  ms: number;
}

/**
 * Runs the plugin as a runtime does: CNI_* in the environment, the config on stdin, from
 * inside namespace `host` (where the networks live). `socket` points it at a daemon
 * (NETPLUMB_SOCKET); a socket path where nothing listens makes it work in-process.
 */
export function cni(host: string, env: Record<string, string>, conf: unknown, socket: string): Promise<CniRun> {
  const stdin = typeof conf === 'string' ? conf : JSON.stringify(conf);
  const t0 = performance.now();
  return new Promise((resolve) => {
    const p = execFile('nsenter', [`--net=/run/netns/${host}`, PLUGIN], {
      encoding: 'utf8',
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin', CNI_PATH: '/opt/cni/bin', NETPLUMB_SOCKET: socket, NETPLUMB_NODE: process.execPath,
        // Under scripts/asan-test.sh the executable is built with the shared ASan runtime,
        // which the preload provides (as it does for node).
        ...Object.fromEntries(['LD_PRELOAD', 'ASAN_OPTIONS', 'UBSAN_OPTIONS', 'LSAN_OPTIONS'].filter((k) => process.env[k] !== undefined).map((k) => [k, process.env[k]!])),
        ...env,
      },
    }, (err, stdout, stderr) => {
      let json: Record<string, unknown> | undefined;
      try {
        json = stdout.trim() ? (JSON.parse(stdout) as Record<string, unknown>) : undefined;
      } catch {
        json = undefined;
      }
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr, json, ms: performance.now() - t0 });
    });
    // VERSION exits without reading its stdin (pkg/skel ignores it too): the write may
    // meet a closed pipe, which a runtime ignores as well (Go's os/exec skips EPIPE).
    p.stdin!.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code !== 'EPIPE') throw e;
    });
    p.stdin!.end(stdin);
  });
}

/** Whether the plugin executable has been built (npm run build). */
export const havePlugin = existsSync(PLUGIN);

/** Waits until `check` returns true (every 20 ms, `ms` at most); returns the time it took, or throws. */
export async function until(check: () => boolean | Promise<boolean>, ms: number, what: string): Promise<number> {
  const t0 = performance.now();
  while (performance.now() - t0 < ms) {
    if (await check()) return performance.now() - t0;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`${what}: not within ${ms} ms`);
}
