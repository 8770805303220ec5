// pyroute2 (Debian's python3-pyroute2) in one Python process doing the whole loop
// (pyroute2_bench.py times it inside Python; interpreter start-up is not counted).
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runJson, works } from '../lib/util.mjs';

const script = path.join(path.dirname(fileURLToPath(import.meta.url)), 'pyroute2_bench.py');
// Debian's package installs for the system interpreter, which another python3 earlier
// in PATH (pyenv, a venv) would not see.
const python = process.env.PYTHON || (existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3');

// The first host port of the published-port workload, 0 for none.
const ports = (ctx) => String(ctx.ports ? ctx.portBase : 0);

export default {
  id: 'pyroute2',
  label: 'pyroute2 (one Python process)',
  scope: 'full',
  bulkMethod: 'netns.remove of every namespace (veths die with them)',
  // pyroute2 0.7.2's NFTables API cannot add a set element (tables, chains, rules only).
  ports: { how: 'nft', method: 'an `nft add element` subprocess (pyroute2 0.7 NFTables has no set elements)' },
  async prepare() {
    return works(python, ['-c', 'import pyroute2']) ? undefined : `${python} cannot import pyroute2 (apt-get install python3-pyroute2)`;
  },
  async attach(ctx) {
    return (await runJson(python, [script, 'attach', ctx.planFile, ctx.bridge, ctx.gateway, ports(ctx)])).times;
  },
  async teardown(ctx) {
    return (await runJson(python, [script, 'teardown', ctx.planFile, ports(ctx)])).times;
  },
  async bulkTeardown(ctx) {
    return runJson(python, [script, 'bulk', ctx.planFile, ports(ctx)]);
  },
};
