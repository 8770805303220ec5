// The floor: bench/floor/floor.c, the same rtnetlink requests with no library, one
// request and one ack at a time. Compiled here with `cc -O2` into a temporary dir.
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { run, runJson, works } from '../lib/util.mjs';

const source = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'floor', 'floor.c');
let binary;

/** Compiles the floor program once per run; returns the binary's path or a reason it cannot. */
export function floorBinary(tmpDir) {
  if (binary) return binary;
  const cc = process.env.CC || 'cc';
  if (!works(cc, ['--version'])) return { reason: `no C compiler (${cc})` };
  const out = path.join(tmpDir, 'floor');
  run(cc, ['-O2', '-Wall', '-o', out, source]);
  binary = out;
  return binary;
}

// The published-port workload: floor.c takes the first host port as a last argument.
const portArg = (ctx) => (ctx.ports ? [String(ctx.portBase)] : []);

const floor = {
  id: 'floor',
  label: 'C floor (raw netlink, 1 req/ack)',
  scope: 'full',
  ports: { how: 'nft', method: 'one hand-built nftables batch (NEWSETELEM dnat4_any + pub4), acks read' },
  async prepare(ctx) {
    const b = floorBinary(ctx.tmpDir);
    return typeof b === 'string' ? undefined : b.reason;
  },
  async attach(ctx) {
    return (await runJson(binary, ['attach', ctx.planFile, ctx.bridge, ctx.gateway, ctx.netnsDir, ...portArg(ctx)])).times;
  },
  async teardown(ctx) {
    return (await runJson(binary, ['teardown', ctx.planFile, ctx.netnsDir, ...portArg(ctx)])).times;
  },
  async bulkTeardown(ctx) {
    return runJson(binary, ['bulk', ctx.planFile, ctx.netnsDir, ...portArg(ctx)]);
  },
  bulkMethod: 'the same RTM_DELLINK + umount/unlink loop, timed as a whole',
  async linkGet(ctx, iterations) {
    return (await runJson(binary, ['linkget', String(iterations)])).times;
  },
};

// The same program sending attachVeth's request set (FLOOR_TUNED=1): what the kernel
// charges for exactly the work netplumb's fast path asks for, with no library around
// it. Not a peer the targets name; it shows how much of netplumb-fast's time is ours.
const tuned = {
  ...floor,
  id: 'floor-tuned',
  label: 'C, attachVeth\'s requests (kernel price)',
  async attach(ctx) {
    const env = { ...process.env, FLOOR_TUNED: '1' };
    return (await runJson(binary, ['attach', ctx.planFile, ctx.bridge, ctx.gateway, ctx.netnsDir, ...portArg(ctx)], { env })).times;
  },
  linkGet: undefined,
};

export default [floor, tuned];
