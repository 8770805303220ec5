// Published ports: validation, expansion of host-port ranges into single ports, and the
// bindings they make per address family (what one set of nftables elements and one
// store key stand for).
import { own } from '../validate';
import { parseIp, formatIp } from './ipam';
import type { PortMapping, PortProtocol } from './types';

const PROTOCOLS: readonly PortProtocol[] = ['tcp', 'udp', 'sctp'];

/** Validates and normalises port mappings (TypeError / RangeError on bad input). */
export function checkPorts(publish: unknown): PortMapping[] {
  if (publish === undefined) return [];
  if (!Array.isArray(publish)) throw new TypeError('publish must be an array of port mappings');
  return publish.map((input: PortMapping, i) => {
    const what = `publish[${i}]`;
    const p = own(input, what);
    const port = (v: unknown, w: string) => {
      if (typeof v !== 'number' || !Number.isInteger(v)) throw new TypeError(`${w} must be an integer`);
      if (v < 1 || v > 65535) throw new RangeError(`${w} must be in 1..65535, got ${v}`);
      return v;
    };
    const protocol = p.protocol ?? 'tcp';
    if (!PROTOCOLS.includes(protocol)) throw new TypeError(`${what}.protocol must be tcp, udp or sctp`);
    let hostPort: number | [number, number];
    if (Array.isArray(p.hostPort)) {
      const lo = port(p.hostPort[0], `${what}.hostPort[0]`);
      const hi = port(p.hostPort[1], `${what}.hostPort[1]`);
      if (lo > hi) throw new RangeError(`${what}.hostPort range ${lo}-${hi} is reversed`);
      if (port(p.containerPort, `${what}.containerPort`) + (hi - lo) > 65535) throw new RangeError(`${what}: container port range runs past 65535`);
      hostPort = [lo, hi];
    } else {
      hostPort = port(p.hostPort, `${what}.hostPort`);
    }
    const out: PortMapping = { hostPort, containerPort: port(p.containerPort, `${what}.containerPort`), protocol };
    if (p.hostIp !== undefined) out.hostIp = checkHostIp(p.hostIp, `${what}.hostIp`);
    return out;
  });
}

// An address, not a prefix: '10.0.0.0/8' would pass a CIDR parser and reach the nftables
// element encoder half way through an attach. Canonical text, so that one address is
// one store key whatever its spelling.
function checkHostIp(v: unknown, what: string): string {
  const { family, value } = parseIp(v, what);
  if (family === 6 && value >> 32n === 0xffffn) {
    throw new TypeError(`${what}: an IPv4-mapped address never appears on the wire; publish on the IPv4 address`);
  }
  // ::1 is published by the userland proxy (LoopbackProxy), not by NAT: see proxy.ts.
  return formatIp(value, family);
}

/** The address families a container publishes on: those it has an address of. */
export interface PortFamilies {
  v4: boolean;
  v6: boolean;
}


/** TypeError when a mapping's hostIp is of a family the network gives its containers no address of. */
export function checkPortFamilies(publish: readonly PortMapping[], fam: PortFamilies, network: string): void {
  publish.forEach((m, i) => {
    const h = m.hostIp;
    if (h === undefined) return;
    const six = h.includes(':');
    if (six ? !fam.v6 : !fam.v4) {
      throw new TypeError(`publish[${i}].hostIp ${h}: network ${network} gives its containers no IPv${six ? 6 : 4} address to forward it to`);
    }
  });
}

/**
 * One published binding: a host port of one address family (on one host address, or on
 * every local address of the family when hostIp is absent) forwarded to a container
 * port. One binding is one store key and one dnat element, but for ::1, which the kernel
 * cannot NAT (the replies are dropped): that one is served by the LoopbackProxy alone.
 */
export interface PortBinding {
  family: 4 | 6;
  /** A host address of that family; absent: every local address of the family. */
  hostIp?: string;
  protocol: PortProtocol;
  hostPort: number;
  containerPort: number;
}

/**
 * The bindings of an endpoint's published ports: each mapping on each family it names
 * (absent hostIp: every family the endpoint has an address of; '0.0.0.0' IPv4 only, '::'
 * IPv6 only; an address, its family), each host port of a range. An IPv4-only endpoint
 * gets exactly one IPv4 binding per host port, as before IPv6 existed.
 */
export function portBindings(publish: readonly PortMapping[], has4: boolean, has6: boolean): PortBinding[] {
  const out: PortBinding[] = [];
  for (const m of publish) {
    const [lo, hi] = Array.isArray(m.hostPort) ? m.hostPort : [m.hostPort, m.hostPort];
    const protocol = m.protocol ?? 'tcp';
    const h = m.hostIp;
    let on4 = has4;
    let on6 = has6;
    let addr: string | undefined;
    if (h === '0.0.0.0') on6 = false;
    else if (h === '::') on4 = false;
    else if (h !== undefined) {
      addr = h;
      if (h.includes(':')) on4 = false;
      else on6 = false;
    }
    for (let p = lo; p <= hi; p++) {
      const containerPort = m.containerPort + (p - lo);
      if (on4) out.push(addr === undefined ? { family: 4, protocol, hostPort: p, containerPort } : { family: 4, hostIp: addr, protocol, hostPort: p, containerPort });
      if (on6) out.push(addr === undefined ? { family: 6, protocol, hostPort: p, containerPort } : { family: 6, hostIp: addr, protocol, hostPort: p, containerPort });
    }
  }
  return out;
}

/** Every (hostIp, protocol, hostPort, containerPort) a mapping publishes. */
export function expandPorts(maps: PortMapping[]): { hostIp?: string; protocol: PortProtocol; hostPort: number; containerPort: number }[] {
  const out = [];
  for (const m of maps) {
    const [lo, hi] = Array.isArray(m.hostPort) ? m.hostPort : [m.hostPort, m.hostPort];
    for (let p = lo; p <= hi; p++) {
      const protocol = m.protocol ?? 'tcp';
      const containerPort = m.containerPort + (p - lo);
      out.push(m.hostIp ? { hostIp: m.hostIp, protocol, hostPort: p, containerPort } : { protocol, hostPort: p, containerPort });
    }
  }
  return out;
}

/**
 * The store's key of a published host port: `protocol/hostIp/hostPort`, with `*` for
 * every IPv4 address (the key IPv4 has always had) and `::` for every IPv6 address.
 */
export function portKey(p: { protocol: string; hostIp?: string; hostPort: number; family?: 4 | 6 }): string {
  return `${p.protocol}/${p.hostIp ?? (p.family === 6 ? '::' : '*')}/${p.hostPort}`;
}

/**
 * Conntrack filters that catch the flows DNATed to an endpoint's published UDP and SCTP
 * ports (reply source = the container's address and port). TCP needs none: its stale
 * entries die with the connection, while a UDP flow refreshes its entry for as long as
 * it keeps sending. A protocol with many container ports (a range) gets one filter
 * without a port: every flow of it into the departing container, one dump instead of
 * one per port.
 */
export function conntrackFilters(ep: { ip: string; ip6?: string; publish: PortMapping[] }): { protocol: 'udp' | 'sctp'; replySrc: string; replySrcPort?: number }[] {
  // Per container address (IPv4, IPv6) and protocol: the container ports.
  const ports = new Map<string, { replySrc: string; protocol: 'udp' | 'sctp'; set: Set<number> }>();
  for (const p of portBindings(ep.publish, ep.ip !== '', ep.ip6 !== undefined)) {
    if (p.protocol === 'tcp') continue;
    const replySrc = p.family === 6 ? ep.ip6! : ep.ip;
    const k = `${replySrc}/${p.protocol}`;
    let e = ports.get(k);
    if (!e) ports.set(k, (e = { replySrc, protocol: p.protocol, set: new Set<number>() }));
    e.set.add(p.containerPort);
  }
  const out: { protocol: 'udp' | 'sctp'; replySrc: string; replySrcPort?: number }[] = [];
  for (const { replySrc, protocol, set } of ports.values()) {
    if (set.size > 8) out.push({ protocol, replySrc });
    else for (const port of set) out.push({ protocol, replySrc, replySrcPort: port });
  }
  return out;
}

/** Whether a binding is served by the userland proxy only (no nftables element): ::1. */
export function proxiedOnly(b: Pick<PortBinding, 'hostIp'>): boolean {
  return b.hostIp === '::1';
}
