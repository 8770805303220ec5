// Published ports: validation and expansion of host-port ranges into single ports.
import { isIP } from 'node:net';
import { checkIp, own } from '../validate';
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
    if (p.hostIp !== undefined && p.hostIp !== '0.0.0.0') {
      // An address, not a prefix: '10.0.0.0/8' would pass a CIDR parser and reach the
      // nftables element encoder half way through an attach.
      const ip = checkIp(p.hostIp, `${what}.hostIp`);
      if (isIP(ip) !== 4) throw new TypeError(`${what}.hostIp: IPv6 publishing is not supported yet`);
      out.hostIp = ip;
    }
    return out;
  });
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

/** The store's key of a published host port: `protocol/hostIp/hostPort`, `*` for every address. */
export function portKey(p: { protocol: string; hostIp?: string; hostPort: number }): string {
  return `${p.protocol}/${p.hostIp ?? '*'}/${p.hostPort}`;
}

/**
 * Conntrack filters that catch the flows DNATed to an endpoint's published UDP and SCTP
 * ports (reply source = the container's address and port). TCP needs none: its stale
 * entries die with the connection, while a UDP flow refreshes its entry for as long as
 * it keeps sending. A protocol with many container ports (a range) gets one filter
 * without a port: every flow of it into the departing container, one dump instead of
 * one per port.
 */
export function conntrackFilters(ep: { ip: string; publish: PortMapping[] }): { protocol: 'udp' | 'sctp'; replySrc: string; replySrcPort?: number }[] {
  const ports = new Map<'udp' | 'sctp', Set<number>>();
  for (const p of expandPorts(ep.publish)) {
    if (p.protocol === 'tcp') continue;
    const set = ports.get(p.protocol) ?? new Set<number>();
    set.add(p.containerPort);
    ports.set(p.protocol, set);
  }
  const out: { protocol: 'udp' | 'sctp'; replySrc: string; replySrcPort?: number }[] = [];
  for (const [protocol, set] of ports) {
    if (set.size > 8) out.push({ protocol, replySrc: ep.ip });
    else for (const port of set) out.push({ protocol, replySrc: ep.ip, replySrcPort: port });
  }
  return out;
}
