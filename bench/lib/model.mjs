// The model-level workload (bench/networks.mjs): who the containers are, and
// independent checks (iproute2, nft, iptables-save) that a peer really did the
// Docker-style work for each container and really undid it. Every peer makes its own
// bridge network on SUBNET; the harness only looks.
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { run, sleep, now, works } from './util.mjs';

export const PREFIX_LEN = 16;
export const SUBNET = `10.89.0.0/${PREFIX_LEN}`;
export const GATEWAY = '10.89.0.1';
export const NETNS_DIR = '/run/netns';
/** Scratch space: state directories, CNI and netavark files, plan files; a tmpfs in the sandbox. */
export const RUN_DIR = '/run/netplumb-bench-model';
/** --ports: container i publishes tcp PORT_BASE + i on every host address to its port 80. */
export const PORT_BASE = 20000;
export const CONTAINER_PORT = 80;

/**
 * N containers: namespace c<i>, host port PORT_BASE + i, and a planned address
 * 10.89.x.y from .2 up for the peers that are given one (netavark, as Podman passes
 * static_ips; attachVeth). netplumb and CNI choose their own (their IPAM).
 */
export function plan(n) {
  if (n > 65000) throw new RangeError('at most 65000 containers fit the /16');
  return Array.from({ length: n }, (_, i) => {
    const k = i + 2;
    const ip = `10.89.${k >> 8}.${k & 255}`;
    return { i, ns: `c${i}`, ip, cidr: `${ip}/${PREFIX_LEN}`, hostPort: PORT_BASE + i };
  });
}

const ipj = (...args) => {
  const out = run('ip', ['-j', ...args]);
  return out.trim() ? JSON.parse(out) : [];
};

/** Bridges of the sandbox namespace (made by the peers' networks). */
function bridges() {
  return new Set(ipj('link', 'show', 'type', 'bridge').map((l) => l.ifname));
}

/** Interfaces other than lo and the given bridges (cheap: /proc/net/dev). */
function strayLinks(keep) {
  return readFileSync('/proc/net/dev', 'utf8')
    .split('\n')
    .slice(2)
    .map((l) => l.split(':')[0].trim())
    .filter((n) => n && n !== 'lo' && !keep.has(n));
}

/**
 * Waits until no link but lo and bridges is left (namespaces deleted by unmounting die
 * in the kernel's background work, their veths with them). Returns the ms it took.
 */
export async function settle(timeoutMs = 300_000) {
  const keep = bridges();
  const t0 = now();
  while (strayLinks(keep).length > 0) {
    if (now() - t0 > timeoutMs) throw new Error(`links still present after ${timeoutMs} ms: ${strayLinks(keep).slice(0, 5).join(' ')}...`);
    await sleep(1);
  }
  return now() - t0;
}

/** Removes whatever a peer left behind (also after a failed run): links, bridges, namespaces, rules, files. */
export async function sweep() {
  const links = strayLinks(new Set());
  if (links.length) {
    run('ip', ['-force', '-batch', '-'], { input: links.map((l) => `link del ${l.split('@')[0]}\n`).join('') });
  }
  if (readdirSync(NETNS_DIR).length) run('ip', ['-all', 'netns', 'delete']);
  // The sandbox's own ruleset: netplumb's table, and what CNI and netavark made through
  // iptables-nft. Nothing else has one here.
  run('nft', ['flush', 'ruleset']);
  rmSync(RUN_DIR, { recursive: true, force: true });
  await settle();
}

/**
 * The sandbox's /run/netns as `ip netns add` leaves it (a shared bind mount on itself),
 * so every peer's namespace mounts cost the same.
 */
export function prepareNetnsDir() {
  run('ip', ['netns', 'add', 'bench-init']);
  run('ip', ['netns', 'delete', 'bench-init']);
}

const inSubnet = (ip) => /^10\.89\.\d+\.\d+$/.test(ip) && ip !== GATEWAY && ip !== '10.89.0.0';

/** Published ports as DNAT rules in iptables (CNI's portmap, netavark): host port -> "ip:port". */
function iptablesPorts() {
  const dnat = new Map();
  for (const line of run('iptables-save', ['-t', 'nat']).split('\n')) {
    // portmap and netavark alike: "... --dport 20000 -j DNAT --to-destination 10.89.0.2:80".
    if (!/-j DNAT\b/.test(line)) continue;
    const port = /--dport (\d+)/.exec(line)?.[1];
    const to = /--to-destination (\S+)/.exec(line)?.[1];
    if (port && to) dnat.set(Number(port), to);
  }
  return dnat;
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

/** Whether traffic from `ip` leaving through another interface is masqueraded, the peer's way. */
function masqueraded(how, ip) {
  if (how === 'nft') {
    // netplumb: the network's snat chain, "oifname != BRIDGE ip saddr SUBNET masquerade".
    const text = run('nft', ['list', 'table', 'inet', 'netplumb']);
    return text.split('\n').some((l) => l.includes(`ip saddr ${SUBNET}`) && /\bmasquerade\b/.test(l));
  }
  // iptables: a POSTROUTING rule for the subnet (netavark) or the container's /32 (CNI's
  // ipMasq) jumping to a chain that masquerades.
  const lines = run('iptables-save', ['-t', 'nat']).split('\n');
  const masqChains = new Set(lines.filter((l) => /-j MASQUERADE\b/.test(l)).map((l) => l.split(' ')[1]));
  return lines.some((l) => {
    const m = /^-A POSTROUTING -s (\S+) .*-j (\S+)/.exec(l);
    return m && (m[1] === SUBNET || m[1] === `${ip}/32`) && (masqChains.has(m[2]) || m[2] === 'MASQUERADE');
  });
}

/**
 * Checks that the attach round did the work: N namespaces; N ports on the peer's
 * bridge, all up; in the first, middle and last container lo and eth0 up, an address in
 * the subnet (the planned one when the peer was given it), the default route via the
 * gateway; masquerading for that address (unless the peer is the primitive reference);
 * with ports, all N host ports DNATed to an address in the subnet, the sampled ones to
 * their container's actual address, port 80. Returns the sampled addresses.
 */
export function verifyAttached(peer, containers, { ports }) {
  const names = new Set(readdirSync(NETNS_DIR));
  const missing = containers.filter((c) => !names.has(c.ns));
  if (missing.length || names.size !== containers.length) {
    throw new Error(`verify: ${names.size} namespaces in ${NETNS_DIR}, expected ${containers.length}${missing.length ? ` (no ${missing[0].ns})` : ''}`);
  }
  const bridge = peer.bridge();
  const brPorts = ipj('link', 'show', 'master', bridge);
  if (brPorts.length !== containers.length) throw new Error(`verify: ${brPorts.length} ports on ${bridge}, expected ${containers.length}`);
  const down = brPorts.filter((p) => !p.flags.includes('UP'));
  if (down.length) throw new Error(`verify: ${down.length} ports of ${bridge} are down (${down[0].ifname})`);
  const sample = [...new Set([0, containers.length >> 1, containers.length - 1])].map((i) => containers[i]);
  const actual = new Map();
  for (const c of sample) {
    const links = ipj('-n', c.ns, 'link');
    const eth0 = links.find((l) => l.ifname === 'eth0');
    const lo = links.find((l) => l.ifname === 'lo');
    if (!eth0) throw new Error(`verify: no eth0 in ${c.ns}`);
    if (!lo?.flags.includes('UP')) throw new Error(`verify: lo is down in ${c.ns}`);
    if (!eth0.flags.includes('UP')) throw new Error(`verify: eth0 is down in ${c.ns}`);
    const addrs = ipj('-n', c.ns, '-4', 'addr', 'show', 'dev', 'eth0').flatMap((a) => a.addr_info);
    const mine = addrs.find((a) => (peer.staticIp ? a.local === c.ip : inSubnet(a.local)) && a.prefixlen === PREFIX_LEN);
    if (!mine) {
      throw new Error(`verify: ${c.ns} eth0 has ${addrs.map((a) => `${a.local}/${a.prefixlen}`).join(',') || 'no address'}, expected ${peer.staticIp ? c.cidr : `one in ${SUBNET}`}`);
    }
    actual.set(c.ns, mine.local);
    const routes = ipj('-n', c.ns, 'route', 'show', 'default');
    if (!routes.some((r) => r.gateway === GATEWAY && r.dev === 'eth0')) throw new Error(`verify: ${c.ns} has no default route via ${GATEWAY} dev eth0`);
    if (peer.masq && !masqueraded(peer.masq, mine.local)) throw new Error(`verify: no masquerade (${peer.masq}) for ${mine.local} (${c.ns})`);
  }
  if (ports) {
    const { dnat, pub } = peer.ports === 'nft' ? nftPorts() : { dnat: iptablesPorts(), pub: undefined };
    if (dnat.size !== containers.length) throw new Error(`verify: ${dnat.size} published ports (${peer.ports}), expected ${containers.length}`);
    for (const c of containers) {
      const to = dnat.get(c.hostPort);
      if (!to) throw new Error(`verify: port ${c.hostPort} (${c.ns}) is not published`);
      const [ip, port] = to.split(':');
      if (!inSubnet(ip) || port !== String(CONTAINER_PORT)) throw new Error(`verify: port ${c.hostPort} goes to ${to}, expected an address in ${SUBNET}, port ${CONTAINER_PORT}`);
      if (actual.has(c.ns) && ip !== actual.get(c.ns)) throw new Error(`verify: port ${c.hostPort} goes to ${ip}, but ${c.ns} has ${actual.get(c.ns)}`);
      if (pub && !pub.has(`${ip}/${CONTAINER_PORT}`)) throw new Error(`verify: no pub4 element for ${to}`);
    }
  }
  peer.verifyAttached?.(containers);
  return actual;
}

/**
 * Container addresses (not the network's own .0 and .1, not a subnet) and published
 * host ports still named anywhere in a ruleset listing: what a teardown must leave none of.
 */
function leftovers(text, hostPorts) {
  const out = [];
  for (const m of text.matchAll(/\b10\.89\.(\d+)\.(\d+)(?:\/(\d+))?/g)) {
    if (m[3] !== undefined && Number(m[3]) < 32) continue;
    if (m[1] === '0' && (m[2] === '0' || m[2] === '1')) continue;
    out.push(m[0]);
  }
  for (const m of text.matchAll(/dport (\d+)\b/g)) if (hostPorts.has(Number(m[1]))) out.push(`dport ${m[1]}`);
  return out;
}

/**
 * Checks that a teardown left nothing: no link but lo and bridges, no namespace, no
 * rule or set element naming a container address or a published port (nft's whole
 * ruleset, iptables-nft's included, and iptables-save for rules nft cannot print), and
 * whatever the peer's own state must have dropped (netplumb's endpoints, host-local's leases).
 */
export function verifyDetached(peer, containers) {
  const left = strayLinks(bridges());
  if (left.length) throw new Error(`verify: ${left.length} links left after teardown (${left[0]})`);
  const names = readdirSync(NETNS_DIR);
  if (names.length) throw new Error(`verify: ${names.length} namespaces left after teardown (${names[0]})`);
  const hostPorts = new Set(containers.map((c) => c.hostPort));
  const texts = [run('nft', ['list', 'ruleset'], { maxBuffer: 1 << 30 })];
  if (works('iptables-save', ['--version'])) texts.push(run('iptables-save', [], { maxBuffer: 1 << 30 }));
  for (const t of texts) {
    const l = leftovers(t, hostPorts);
    if (l.length) throw new Error(`verify: ${l.length} rule references left after teardown (${l.slice(0, 3).join(', ')})`);
  }
  peer.verifyDetached?.(containers);
}
