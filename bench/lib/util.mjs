// Small helpers shared by the runner and the peers: running commands, timing, stats.
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as os from 'node:os';

/** Milliseconds from a monotonic clock. */
export const now = () => performance.now();

/** Milliseconds since the epoch, sub-millisecond: comparable with times other programs report. */
export const wallNow = () => performance.timeOrigin + performance.now();

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Runs a command to completion; throws with its stderr on failure. Returns stdout. */
export function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 256 << 20, ...opts });
  if (r.error) throw new Error(`${cmd}: ${r.error.message}`);
  if (r.status !== 0) {
    throw new Error(`${cmd} ${args.join(' ')} exited ${r.status ?? r.signal}: ${(r.stderr || r.stdout || '').trim().slice(-2000)}`);
  }
  return r.stdout;
}

/** Whether a command runs and exits 0 (quietly). */
export function works(cmd, args) {
  const r = spawnSync(cmd, args, { stdio: 'ignore' });
  return !r.error && r.status === 0;
}

/**
 * Runs a peer program that prints one JSON object on stdout (its own timings), without
 * blocking the event loop; rejects with its stderr if it fails.
 */
export function runJson(cmd, args, opts = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...opts });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d) => { out += d; });
    child.stderr.setEncoding('utf8').on('data', (d) => { err += d; });
    child.on('error', (e) => reject(new Error(`${cmd}: ${e.message}`)));
    child.on('close', (code, signal) => {
      if (code !== 0) {
        reject(new Error(`${cmd} ${args.join(' ')} exited ${code ?? signal}: ${err.trim().slice(-2000)}`));
        return;
      }
      try {
        resolve(JSON.parse(out));
      } catch {
        reject(new Error(`${cmd} printed no JSON: ${out.slice(0, 200)} ${err.trim().slice(-500)}`));
      }
    });
  });
}

/** Nearest-rank quantile of sorted values. */
function quantile(sorted, q) {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil(q * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

/** count, total, mean, min, median, p99 and max of a list of milliseconds. */
export function summarize(times) {
  const sorted = [...times].sort((a, b) => a - b);
  const total = times.reduce((a, b) => a + b, 0);
  return {
    count: times.length,
    total,
    mean: times.length ? total / times.length : NaN,
    min: sorted[0] ?? NaN,
    median: quantile(sorted, 0.5),
    p99: quantile(sorted, 0.99),
    max: sorted[sorted.length - 1] ?? NaN,
  };
}

/**
 * The machine's CPU counters now, from /proc/stat's first line: `busy` (user, nice,
 * system, irq, softirq, steal) and `total` (those and idle, iowait), in clock ticks,
 * every CPU and every task (kernel workers too), and the wall time they were read at.
 */
export function cpuStat() {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1, 9).map(Number);
  const [user, nice, system, idle, iowait, irq, softirq, steal] = f;
  return { busy: user + nice + system + irq + softirq + steal, total: user + nice + system + idle + iowait + irq + softirq + steal, at: now() };
}

/**
 * What the machine's CPUs did between two cpuStat()s: the busy share of all of them
 * (0..1) and the CPU time that is, in ms (share x wall x CPUs). The counters tick at
 * USER_HZ (100 a second per CPU), so a window shorter than a second is coarse.
 */
export function cpuBetween(a, b) {
  const share = b.total === a.total ? 0 : (b.busy - a.busy) / (b.total - a.total);
  const cpus = os.cpus().length; // the CPUs /proc/stat counts
  return { share, cpus, busyMs: share * (b.at - a.at) * cpus };
}

// Busy share of all CPUs over `ms`.
async function busyShare(ms) {
  const a = cpuStat();
  await sleep(ms);
  return cpuBetween(a, cpuStat()).share;
}

/**
 * Waits until the machine is quiet: at least minMs, then until three 100 ms windows in
 * a row keep the CPUs under 10% busy (the kernel has finished the previous peer's
 * background work, such as destroying its namespaces), or maxMs. Returns the ms waited.
 */
export async function quiesce(minMs, maxMs) {
  const t0 = now();
  await sleep(minMs);
  let quiet = 0;
  while (quiet < 3 && now() - t0 < maxMs) {
    quiet = (await busyShare(100)) < 0.1 ? quiet + 1 : 0;
  }
  return now() - t0;
}
