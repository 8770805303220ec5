// The CNI plugin in Node (docs/cni.md), loaded by main.ts: the runtime's call (CNI_* and
// the config on stdin) run by src/cni/plugin.ts. The native executable
// (native/cni/shim.c) execs main.js when no daemon answers, with
// NETPLUMB_CNI_NO_DAEMON=1; run directly, it first tries the daemon itself (as the
// executable does) and works in-process otherwise, opening the config's state directory
// (default /var/lib/netplumb).
import { readFileSync, writeSync } from 'node:fs';
import type { CniCall, CniOutcome } from './plugin';

const DEFAULT_STATE_DIR = '/var/lib/netplumb';

// NETPLUMB_CNI_TRACE=1: where the process's time went, as one JSON line on stderr at the
// end (milliseconds since the process started): what docs/cni.md's numbers break down.
const trace: [string, number][] | undefined = process.env.NETPLUMB_CNI_TRACE === '1' ? [['main', performance.now()]] : undefined;
const started = (globalThis as { netplumbCniStart?: number }).netplumbCniStart;
if (trace && started !== undefined) trace.unshift(['launched', +started.toFixed(2)]);
const mark = (what: string): void => {
  trace?.push([what, +performance.now().toFixed(2)]);
};

// The answer written to the fd itself: process.stdout would load Node's stream modules
// (and net's, on the pipe a runtime reads), a few ms of a process this short. The answer
// is far below a pipe's buffer; EAGAIN (a non-blocking pipe that is full) is waited out.
function writeAll(fd: number, text: string): void {
  const buf = Buffer.from(text);
  for (let off = 0; off < buf.length; ) {
    try {
      off += writeSync(fd, buf, off);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1);
    }
  }
}

function readStdin(): string {
  try {
    return readFileSync(0, 'utf8');
  } catch (e) {
    // No stdin at all (VERSION may come with none).
    if ((e as NodeJS.ErrnoException).code === 'EAGAIN' || (e as NodeJS.ErrnoException).code === 'EOF') return '';
    throw e;
  }
}

async function viaDaemon(call: CniCall): Promise<CniOutcome | undefined> {
  const { NetworksClient, DEFAULT_SOCKET } = await import('../daemon/client');
  const c = new NetworksClient({ socket: process.env.NETPLUMB_SOCKET || DEFAULT_SOCKET });
  try {
    return await c.request<CniOutcome>('POST', '/v1/cni', call);
  } catch (e) {
    if ((e as { code?: string }).code === 'ENOENT' || (e as { code?: string }).code === 'ECONNREFUSED') return undefined;
    throw e;
  } finally {
    c.close();
  }
}

async function main(): Promise<number> {
  const env: CniCall['env'] = {};
  for (const k of ['CNI_COMMAND', 'CNI_CONTAINERID', 'CNI_NETNS', 'CNI_IFNAME', 'CNI_ARGS', 'CNI_PATH'] as const) {
    const v = process.env[k];
    if (v !== undefined) env[k] = v;
  }
  const call: CniCall = { env, stdin: env.CNI_COMMAND === 'VERSION' ? '' : readStdin() };
  mark('stdin read');
  let out = process.env.NETPLUMB_CNI_NO_DAEMON === '1' ? undefined : await viaDaemon(call);
  if (!out) {
    const { runCni } = await import('./plugin');
    mark('plugin loaded');
    out = await runCni(call, {
      dns: false,
      acquire: async (stateDir, owner) => {
        const { Networks } = await import('../network/networks');
        mark('library loaded');
        // A light open: the quick check and the full reconcile are the daemon's (or the
        // next full open's) to do; an ADD whose network's kernel objects are missing runs
        // the full reconcile itself (plugin.ts).
        const networks = await Networks.open({
          stateDir: stateDir ?? DEFAULT_STATE_DIR, ...(owner !== undefined && { owner }), checkState: false, reconcile: 'records',
        });
        mark('state opened');
        return {
          networks,
          release: async () => {
            mark('work done');
            await networks.close();
            mark('closed');
          },
        };
      },
    });
  }
  if (out.stdout !== '') writeAll(1, out.stdout.endsWith('\n') ? out.stdout : `${out.stdout}\n`);
  mark('answered');
  if (trace) writeAll(2, `${JSON.stringify({ netplumbCniTrace: Object.fromEntries(trace) })}\n`);
  return out.exitCode;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    writeAll(1, `${JSON.stringify({ cniVersion: '1.1.0', code: 999, msg: (e as Error).message ?? String(e) })}\n`);
    process.exitCode = 1;
  },
);
