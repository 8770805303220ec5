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
      out.push({ ...(m.hostIp && { hostIp: m.hostIp }), protocol: m.protocol ?? 'tcp', hostPort: p, containerPort: m.containerPort + (p - lo) });
    }
  }
  return out;
}
