// netavark (Podman's network stack; Debian 12 ships 1.4) at the model level: `netavark
// setup` / `teardown` per container with the network options JSON on stdin, as Podman
// calls it, driven by bench/model/netavark.sh.
//
// It runs in the benchmark's sandbox as it is (a user + network + mount namespace with
// a tmpfs over /run): it needs CAP_NET_ADMIN and CAP_SYS_ADMIN over the container's
// namespace (to setns into it) and the sandbox's, which the sandbox's root has. Its
// firewall driver is iptables (NETAVARK_FW=iptables, the 1.4 default when firewalld
// is not running), through iptables-nft into the sandbox's own ruleset. Before that
// choice it would ask firewalld over the system D-Bus: the sandbox's /run is a tmpfs,
// so there is no bus socket to reach, and the environment carries no bus address.
// dns_enabled is false, so aardvark-dns is never started.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { run, runJson, works } from '../lib/util.mjs';

const script = path.join(path.dirname(fileURLToPath(import.meta.url)), 'netavark.sh');
const CANDIDATES = ['/usr/lib/podman/netavark', '/usr/libexec/podman/netavark', '/usr/local/libexec/podman/netavark'];
const BRIDGE = 'nvb0';
// A plain PATH (netavark 1.4 runs iptables as a process for every rule it checks or
// adds), the firewall driver named, and nothing that could point at a D-Bus.
const ENV = { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C', NETAVARK_FW: 'iptables' };

let bin;
let dir;

/**
 * The options Podman passes for one container on one network (netavark's
 * NetworkOptions: container_id, container_name, networks{name: PerNetworkOptions},
 * network_info{name: Network}, port_mappings). The network is what `podman network
 * create --subnet` stores: bridge driver, its interface, one subnet with its gateway,
 * no IPv6, not internal, DNS off.
 */
function options(ctx, c, network) {
  return {
    container_id: createHash('sha256').update(c.ns).digest('hex'),
    container_name: c.ns,
    networks: { bench: { interface_name: 'eth0', static_ips: [c.ip] } },
    network_info: { bench: network },
    ...(ctx.ports && { port_mappings: [{ host_ip: '', container_port: ctx.containerPort, host_port: c.hostPort, range: 1, protocol: 'tcp' }] }),
  };
}

function findNetavark() {
  const onPath = works('sh', ['-c', 'command -v netavark']) ? run('sh', ['-c', 'command -v netavark']).trim() : undefined;
  return [...CANDIDATES, onPath].find((p) => p && existsSync(p));
}

export default {
  id: 'netavark',
  label: 'netavark setup/teardown',
  how: 'netavark.sh: ip netns add; netavark --config DIR setup /run/netns/c<i> < options.json (bridge network, static_ips, port_mappings); teardown with the same JSON; ip netns del',
  bulkMethod: 'none: teardown per container (the serial teardown round, until the links are gone)',
  hasBulk: false,
  staticIp: true, // Podman's IPAM chose it; netavark is given it
  masq: 'iptables',
  ports: 'iptables',
  bridge: () => BRIDGE,
  version: undefined,
  async prepare(ctx) {
    bin = findNetavark();
    if (!bin) return `netavark not found (${CANDIDATES.join(', ')}; apt-get install netavark)`;
    if (!works('iptables', ['--version'])) return 'netavark 1.4 firewalls with iptables (apt-get install iptables)';
    this.version = run(bin, ['--version']).trim();
    dir = path.join(ctx.runDir, 'netavark');
    const json = path.join(dir, 'json');
    mkdirSync(path.join(dir, 'config'), { recursive: true });
    mkdirSync(json, { recursive: true });
    const network = {
      name: 'bench',
      id: createHash('sha256').update('netplumb-bench/bench').digest('hex'),
      driver: 'bridge',
      network_interface: BRIDGE,
      subnets: [{ subnet: ctx.subnet, gateway: ctx.gateway }],
      ipv6_enabled: false,
      internal: false,
      dns_enabled: false,
      ipam_options: { driver: 'host-local' },
    };
    // Podman builds these in memory before it starts netavark: written here, untimed.
    for (const c of ctx.containers) writeFileSync(path.join(json, `${c.ns}.json`), JSON.stringify(options(ctx, c, network)));
    return undefined;
  },
  async attach(ctx) {
    return { times: (await runJson('bash', [script, 'attach', ctx.planFile, bin, ctx.netnsDir, path.join(dir, 'config'), path.join(dir, 'json')], { env: ENV })).times };
  },
  async teardown(ctx) {
    return { times: (await runJson('bash', [script, 'teardown', ctx.planFile, bin, ctx.netnsDir, path.join(dir, 'config'), path.join(dir, 'json')], { env: ENV })).times };
  },
};
