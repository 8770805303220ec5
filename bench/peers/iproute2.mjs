// iproute2 as shell scripts use it: one `ip` process per step (iproute2.sh times the
// steps inside bash, so the harness's own process start is not counted).
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runJson, works } from '../lib/util.mjs';

const script = path.join(path.dirname(fileURLToPath(import.meta.url)), 'iproute2.sh');

// The first host port of the published-port workload, 0 for none.
const ports = (ctx) => String(ctx.ports ? ctx.portBase : 0);

export default {
  id: 'iproute2',
  label: 'iproute2 (one ip per step)',
  scope: 'full',
  bulkMethod: '`ip -all netns delete` (veths die with their namespaces)',
  ports: { how: 'nft', method: 'one `nft add element` process (dnat4_any + pub4), `nft delete element` to unpublish' },
  async prepare() {
    return works('bash', ['-c', 'test -n "$EPOCHREALTIME"']) ? undefined : 'needs bash 5 (EPOCHREALTIME)';
  },
  async attach(ctx) {
    return (await runJson('bash', [script, 'attach', ctx.planFile, ctx.bridge, ctx.gateway, ports(ctx)])).times;
  },
  async teardown(ctx) {
    return (await runJson('bash', [script, 'teardown', ctx.planFile, ports(ctx)])).times;
  },
  async bulkTeardown(ctx) {
    return runJson('bash', [script, 'bulk', ctx.planFile, ports(ctx)]);
  },
};
