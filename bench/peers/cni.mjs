// The reference CNI bridge plugin with host-local IPAM (Debian's
// containernetworking-plugins), invoked per container as a runtime does (cni.sh).
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runJson, works } from '../lib/util.mjs';

const script = path.join(path.dirname(fileURLToPath(import.meta.url)), 'cni.sh');
const BIN_DIRS = ['/usr/lib/cni', '/opt/cni/bin'];
const PLUGINS = ['bridge', 'host-local', 'loopback'];
const PORTMAP = 'portmap';

let bin;
let confs;

const args = (mode, ctx) => [script, mode, ctx.planFile, bin, ctx.netnsDir, ...confs, String(ctx.ports ? ctx.portBase : 0)];

export default {
  id: 'cni',
  label: 'CNI bridge + host-local',
  scope: 'full',
  ipam: true, // host-local picks the addresses
  bulkMethod: 'DEL per container (CNI has no bulk operation)',
  ports: { how: 'iptables', method: 'the portmap plugin chained after bridge (runtimeConfig.portMappings, iptables)' },
  async prepare(ctx) {
    const need = ctx.ports ? [...PLUGINS, PORTMAP] : PLUGINS;
    bin = BIN_DIRS.find((d) => need.every((p) => existsSync(path.join(d, p))));
    if (!bin) return `CNI plugins ${need.join(', ')} not found in ${BIN_DIRS.join(' or ')} (apt-get install containernetworking-plugins)`;
    if (ctx.ports && !works('iptables-save', ['--version'])) return 'the portmap plugin needs iptables (apt-get install iptables)';
    const dir = path.join(ctx.runDir, 'cni');
    mkdirSync(dir, { recursive: true });
    const bridge = {
      cniVersion: '1.0.0',
      name: 'bench',
      type: 'bridge',
      bridge: ctx.bridge,
      isDefaultGateway: true,
      ipam: { type: 'host-local', subnet: ctx.subnet, gateway: ctx.gateway, dataDir: path.join(dir, 'ipam') },
    };
    const loopback = { cniVersion: '1.0.0', name: 'lo', type: 'loopback' };
    confs = [path.join(dir, 'bridge.json'), path.join(dir, 'loopback.json')];
    writeFileSync(confs[0], JSON.stringify(bridge));
    writeFileSync(confs[1], JSON.stringify(loopback));
    return undefined;
  },
  async attach(ctx) {
    return (await runJson('bash', args('attach', ctx))).times;
  },
  async teardown(ctx) {
    return (await runJson('bash', args('teardown', ctx))).times;
  },
  async bulkTeardown(ctx) {
    return runJson('bash', args('bulk', ctx));
  },
};
