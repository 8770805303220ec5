// iproute2 as shell scripts use it: one `ip` process per step (iproute2.sh times the
// steps inside bash, so the harness's own process start is not counted).
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runJson, works } from '../lib/util.mjs';

const script = path.join(path.dirname(fileURLToPath(import.meta.url)), 'iproute2.sh');

export default {
  id: 'iproute2',
  label: 'iproute2 (one ip per step)',
  scope: 'full',
  bulkMethod: '`ip -all netns delete` (veths die with their namespaces)',
  async prepare() {
    return works('bash', ['-c', 'test -n "$EPOCHREALTIME"']) ? undefined : 'needs bash 5 (EPOCHREALTIME)';
  },
  async attach(ctx) {
    return (await runJson('bash', [script, 'attach', ctx.planFile, ctx.bridge, ctx.gateway])).times;
  },
  async teardown(ctx) {
    return (await runJson('bash', [script, 'teardown', ctx.planFile])).times;
  },
  async bulkTeardown(ctx) {
    return runJson('bash', [script, 'bulk', ctx.planFile]);
  },
};
