// The reference CNI plugins (Debian's containernetworking-plugins) at the model level:
// bridge + host-local (+ portmap with --ports) + loopback, run per container by
// bench/model/cni.sh as a runtime runs a conflist.
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runJson, works } from '../lib/util.mjs';

const script = path.join(path.dirname(fileURLToPath(import.meta.url)), 'cni.sh');
const BIN_DIRS = ['/usr/lib/cni', '/opt/cni/bin'];
const BRIDGE = 'cnib0';
// The plugins get a plain PATH (iptables, ip): the one a runtime's service has, and no
// time spent looking through a developer's PATH for every process they start.
const ENV = { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C' };

let bin;
let dir;

const args = (mode, ctx) => [script, mode, ctx.planFile, bin, ctx.netnsDir, dir, path.join(dir, 'results'), ctx.ports ? '1' : '0'];

export default {
  id: 'cni',
  label: 'CNI bridge + host-local',
  how: 'cni.sh: ip netns add; bridge (host-local, isDefaultGateway, ipMasq, hairpinMode) [+ portmap chained, prevResult + runtimeConfig.portMappings]; loopback. DEL in reverse with the cached result, loopback, ip netns del',
  bulkMethod: 'none in CNI: DEL per container (the serial teardown round, until the links are gone)',
  hasBulk: false,
  staticIp: false, // host-local chooses
  masq: 'iptables',
  ports: 'iptables',
  bridge: () => BRIDGE,
  async prepare(ctx) {
    const need = ['bridge', 'host-local', 'loopback', ...(ctx.ports ? ['portmap'] : [])];
    bin = BIN_DIRS.find((d) => need.every((p) => existsSync(path.join(d, p))));
    if (!bin) return `CNI plugins ${need.join(', ')} not found in ${BIN_DIRS.join(' or ')} (apt-get install containernetworking-plugins)`;
    if (!works('iptables', ['--version'])) return 'ipMasq and portmap need iptables (apt-get install iptables)';
    dir = path.join(ctx.runDir, 'cni');
    mkdirSync(path.join(dir, 'results'), { recursive: true });
    const bridge = {
      cniVersion: '1.0.0',
      name: 'bench',
      type: 'bridge',
      bridge: BRIDGE,
      isGateway: true,
      isDefaultGateway: true,
      ipMasq: true,
      hairpinMode: true,
      ipam: {
        type: 'host-local',
        ranges: [[{ subnet: ctx.subnet, gateway: ctx.gateway }]],
        dataDir: path.join(dir, 'ipam'),
      },
    };
    writeFileSync(path.join(dir, 'bridge.json'), JSON.stringify(bridge));
    writeFileSync(path.join(dir, 'loopback.json'), JSON.stringify({ cniVersion: '1.0.0', name: 'lo', type: 'loopback' }));
    return undefined;
  },
  async attach(ctx) {
    return { times: (await runJson('bash', args('attach', ctx), { env: ENV })).times };
  },
  async teardown(ctx) {
    return { times: (await runJson('bash', args('teardown', ctx), { env: ENV })).times };
  },
  // host-local keeps one file per leased address (and last_reserved_ip, lock).
  verifyAttached(containers) {
    const leases = readdirSync(path.join(dir, 'ipam', 'bench')).filter((f) => /^\d+\.\d+\.\d+\.\d+$/.test(f));
    if (leases.length !== containers.length) throw new Error(`verify: host-local holds ${leases.length} leases, expected ${containers.length}`);
  },
  verifyDetached() {
    const leases = readdirSync(path.join(dir, 'ipam', 'bench')).filter((f) => /^\d+\.\d+\.\d+\.\d+$/.test(f));
    if (leases.length) throw new Error(`verify: host-local still holds ${leases.length} leases after teardown (${leases[0]})`);
  },
};
