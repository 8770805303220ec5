// The container-attach workload, shared by every peer: who the containers are (the
// plan), the bridge they attach to, and independent checks (iproute2) that a peer
// really did the work and really undid it.
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { run, sleep, now, works } from './util.mjs';

export const BRIDGE = 'br0';
export const PREFIX_LEN = 16;
export const SUBNET = `10.88.0.0/${PREFIX_LEN}`;
export const GATEWAY = '10.88.0.1';
export const NETNS_DIR = '/run/netns';
/** Scratch space for peers (CNI's host-local data, plan files); a tmpfs in the sandbox. */
export const RUN_DIR = '/run/netplumb-bench';
/** The published-port workload: container i publishes tcp PORT_BASE + i to its port 80. */
export const PORT_BASE = 20000;
export const CONTAINER_PORT = 80;
const DIST = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'dist', 'index.js');

/**
 * N containers: namespace c<i>, host veth veth<i>, address 10.88.x.y/16 from .2 up
 * (the bridge has the gateway, .1).
 */
export function plan(n) {
  if (n > 65000) throw new RangeError('at most 65000 containers fit the /16');
  return Array.from({ length: n }, (_, i) => {
    const k = i + 2;
    const ip = `10.88.${k >> 8}.${k & 255}`;
    return { i, ns: `c${i}`, veth: `veth${i}`, ip, cidr: `${ip}/${PREFIX_LEN}`, hostPort: PORT_BASE + i };
  });
}

/** Writes the plan as text for the peers that are separate programs: "NS VETH CIDR" a line. */
export function writePlan(file, containers) {
  writeFileSync(file, containers.map((c) => `${c.ns} ${c.veth} ${c.cidr}\n`).join(''));
}

const ip = (...args) => run('ip', args);
const ipj = (...args) => {
  const out = run('ip', ['-j', ...args]);
  return out.trim() ? JSON.parse(out) : [];
};

/** Creates the bridge with the gateway address, up, and returns its ifindex. */
export function setupBridge() {
  ip('link', 'add', BRIDGE, 'type', 'bridge');
  ip('addr', 'add', `${GATEWAY}/${PREFIX_LEN}`, 'dev', BRIDGE);
  ip('link', 'set', BRIDGE, 'up');
  return ipj('link', 'show', BRIDGE)[0].ifindex;
}

/** Interfaces of the sandbox's namespace other than lo and the bridge (cheap: /proc/net/dev). */
function strayLinks() {
  return readFileSync('/proc/net/dev', 'utf8')
    .split('\n')
    .slice(2)
    .map((l) => l.split(':')[0].trim())
    .filter((n) => n && n !== 'lo' && n !== BRIDGE);
}

/**
 * Waits until only lo and the bridge are left (namespaces deleted by unmounting die in
 * the background, their veths with them). Returns how long that took in ms.
 */
export async function settle(timeoutMs = 120_000) {
  const t0 = now();
  while (strayLinks().length > 0) {
    if (now() - t0 > timeoutMs) throw new Error(`links still present after ${timeoutMs} ms: ${strayLinks().slice(0, 5).join(' ')}...`);
    await sleep(1);
  }
  return now() - t0;
}

/** Removes whatever a peer left behind (also after a failed run), the bridge included. */
export async function sweep() {
  const links = strayLinks();
  if (links.length) {
    run('ip', ['-force', '-batch', '-'], { input: links.map((l) => `link del ${l.split('@')[0]}\n`).join('') });
  }
  if (readdirSync(NETNS_DIR).length) ip('-all', 'netns', 'delete');
  if (works('ip', ['link', 'show', BRIDGE])) ip('link', 'del', BRIDGE);
  // The published-port workload's tables (ours, and what CNI's portmap made through
  // iptables-nft): the sandbox's own ruleset, nothing else has one.
  run('nft', ['flush', 'ruleset']);
  rmSync(RUN_DIR, { recursive: true, force: true });
  await settle();
}

/**
 * The sandbox's /run/netns as `ip netns add` leaves it (a shared bind mount on itself),
 * so every peer's namespace mounts cost the same.
 */
export function prepareNetnsDir() {
  ip('netns', 'add', 'bench-init');
  ip('netns', 'delete', 'bench-init');
}

/**
 * Checks with iproute2 that the attach happened: every host veth is a port of the
 * bridge and up; sampled containers have lo and eth0 up, an address in the subnet
 * (the planned one unless the peer's IPAM chose), and the default route. With scope
 * 'host' only the host side (and eth0's existence) is checked.
 */
export function verifyAttached(containers, { scope, ipam }) {
  const ports = ipj('link', 'show', 'master', BRIDGE);
  if (ports.length !== containers.length) throw new Error(`verify: ${ports.length} ports on ${BRIDGE}, expected ${containers.length}`);
  const down = ports.filter((p) => !p.flags.includes('UP'));
  if (down.length) throw new Error(`verify: ${down.length} bridge ports are down (${down[0].ifname})`);
  const names = readdirSync(NETNS_DIR);
  if (names.length !== containers.length) throw new Error(`verify: ${names.length} namespaces in ${NETNS_DIR}, expected ${containers.length}`);
  const sample = [...new Set([0, containers.length >> 1, containers.length - 1])].map((i) => containers[i]);
  for (const c of sample) {
    const links = ipj('-n', c.ns, 'link');
    const eth0 = links.find((l) => l.ifname === 'eth0');
    if (!eth0) throw new Error(`verify: no eth0 in ${c.ns}`);
    if (scope === 'host') continue;
    const lo = links.find((l) => l.ifname === 'lo');
    if (!lo.flags.includes('UP')) throw new Error(`verify: lo is down in ${c.ns}`);
    if (!eth0.flags.includes('UP')) throw new Error(`verify: eth0 is down in ${c.ns}`);
    const addrs = ipj('-n', c.ns, '-4', 'addr', 'show', 'dev', 'eth0').flatMap((a) => a.addr_info);
    const want = ipam ? (a) => a.local.startsWith('10.88.') && a.prefixlen === PREFIX_LEN : (a) => a.local === c.ip && a.prefixlen === PREFIX_LEN;
    if (!addrs.some(want)) throw new Error(`verify: ${c.ns} eth0 has ${addrs.map((a) => `${a.local}/${a.prefixlen}`).join(',') || 'no address'}, expected ${ipam ? SUBNET : c.cidr}`);
    const routes = ipj('-n', c.ns, 'route', 'show', 'default');
    if (!routes.some((r) => r.gateway === GATEWAY && r.dev === 'eth0')) throw new Error(`verify: ${c.ns} has no default route via ${GATEWAY}`);
  }
}

/**
 * Makes the ruleset skeleton of the published-port workload, untimed, as the bridge is
 * made untimed: the base of netplumb's layout and no network, as Firewall.ensureBase
 * makes it (src/network/firewall.ts holds the one description of the layout).
 */
export async function loadPortsSkeleton() {
  const np = createRequire(import.meta.url)(DIST);
  const host = await np.Netns.current();
  try {
    await new np.Firewall(host, 'netplumb').ensureBase();
  } finally {
    host.close();
  }
}

const nftSet = (kind, name) => {
  const out = JSON.parse(run('nft', ['-j', 'list', kind, 'inet', 'netplumb', name], { maxBuffer: 1 << 30 }));
  return out.nftables.find((o) => o[kind])?.[kind].elem ?? [];
};
/** Published ports in netplumb's layout: host port -> "ip:port" (dnat4_any), and pub4's "ip/port". */
function nftPorts() {
  const dnat = new Map();
  for (const e of nftSet('map', 'dnat4_any')) {
    const [[proto, port], [ip, cport]] = [e[0].concat, e[1].concat];
    if (proto === 'tcp') dnat.set(port, `${ip}:${cport}`);
  }
  const pub = new Set(nftSet('set', 'pub4').map((e) => `${e.concat[0]}/${e.concat[2]}`));
  return { dnat, pub };
}
/** Published ports as CNI's portmap makes them (iptables): host port -> "ip:port" of its DNAT rules. */
function iptablesPorts() {
  const dnat = new Map();
  for (const line of run('iptables-save', ['-t', 'nat']).split('\n')) {
    const m = /--dport (\d+) -j DNAT --to-destination (\S+)/.exec(line);
    if (m) dnat.set(Number(m[1]), m[2]);
  }
  return { dnat, pub: undefined };
}

/**
 * Checks that every container's port is published (how: 'nft' in netplumb's layout,
 * 'iptables' as CNI's portmap does it): N DNAT entries, each host port to its
 * container's port 80 (the planned address unless the peer's IPAM chose), and for nft
 * the pub4 element that lets the traffic through.
 */
export function verifyPorts(containers, { how, ipam }) {
  const { dnat, pub } = how === 'iptables' ? iptablesPorts() : nftPorts();
  if (dnat.size !== containers.length) throw new Error(`verify: ${dnat.size} published ports (${how}), expected ${containers.length}`);
  for (const c of containers) {
    const to = dnat.get(c.hostPort);
    if (!to) throw new Error(`verify: port ${c.hostPort} (${c.ns}) is not published`);
    if (ipam ? !to.startsWith('10.88.') || !to.endsWith(`:${CONTAINER_PORT}`) : to !== `${c.ip}:${CONTAINER_PORT}`) {
      throw new Error(`verify: port ${c.hostPort} goes to ${to}, expected ${ipam ? `10.88.x.y:${CONTAINER_PORT}` : `${c.ip}:${CONTAINER_PORT}`}`);
    }
    if (pub && !pub.has(`${to.split(':')[0]}/${CONTAINER_PORT}`)) throw new Error(`verify: no pub4 element for ${to}`);
  }
  if (pub && pub.size !== containers.length) throw new Error(`verify: ${pub.size} pub4 elements, expected ${containers.length}`);
}

/** Checks that a teardown unpublished every port. */
export function verifyPortsGone({ how }) {
  const { dnat, pub } = how === 'iptables' ? iptablesPorts() : nftPorts();
  if (dnat.size) throw new Error(`verify: ${dnat.size} ports still published after teardown (${[...dnat.keys()][0]})`);
  if (pub?.size) throw new Error(`verify: ${pub.size} pub4 elements left after teardown`);
}

/** Checks that a teardown left no veth and no namespace behind. */
export function verifyDetached() {
  const left = strayLinks();
  if (left.length) throw new Error(`verify: ${left.length} links left after teardown (${left[0]})`);
  const names = readdirSync(NETNS_DIR);
  if (names.length) throw new Error(`verify: ${names.length} namespaces left after teardown (${names[0]})`);
}

function pkgVersion(pkg) {
  try {
    return run('dpkg-query', ['-W', '-f', '${Version}', pkg]).trim() || undefined;
  } catch {
    return undefined;
  }
}

/** What the numbers were measured on. */
export function machine() {
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  const model = /^model name\s*:\s*(.*)$/m.exec(cpuinfo)?.[1] ?? os.cpus()[0]?.model ?? 'unknown';
  let iproute2;
  try {
    iproute2 = run('ip', ['-V']).trim();
  } catch {
    iproute2 = undefined;
  }
  return {
    nproc: os.availableParallelism(),
    cpu: model,
    kernel: os.release(),
    node: process.version,
    iproute2,
    pyroute2: pkgVersion('python3-pyroute2'),
    cniPlugins: pkgVersion('containernetworking-plugins'),
    date: new Date().toISOString(),
  };
}
