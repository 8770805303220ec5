// Rebuilding a state directory from the kernel, for when its database is lost or damaged
// (Networks.rebuild; docs/store.md). Networks come from their durable definition files
// (<stateDir>/networks/<id>.json); endpoints from what the kernel holds: the host-side
// links tagged `<owner>:ep:<id>`, the named namespaces under the netns directory (the
// container side: its name, MAC, addresses and default route), and the owner's
// published-port maps. What the kernel does not hold cannot come back: container names
// and aliases, hosts files, and endpoints of anonymous namespaces (their host links are
// left for gc()).
import { readdirSync, readFileSync, renameSync, existsSync } from 'node:fs';
import * as path from 'node:path';
import { Netns, type NetnsOptions } from '../netns';
import type { Address, Link, Route } from '../types';
import type { DriverContext, DriverRecord } from './driver';
import type { Firewall } from './firewall';
import { contains, normalizeIp } from './ipam';
import { networkFilesDir, DB_FILE } from './store';
import type { EndpointInfo, NetworkInfo, PortMapping, PortProtocol } from './types';

/** A named container namespace as a rebuild saw it. */
export interface ScannedNamespace {
  path: string;
  id: string;
  links: Link[];
  addresses: Address[];
  routes: Route[];
}

/** What a rebuild saw in the kernel, for the drivers to adopt endpoints from. */
export interface RebuildScan {
  /** Links of the host namespace. */
  hostLinks: Link[];
  /** Named namespaces under the netns directory. */
  containers: ScannedNamespace[];
  /** Published ports by container address (from the owner's dnat maps). */
  ports: Map<string, PortMapping[]>;
}

/** What a driver adopts for one network. */
export interface Adopted {
  endpoints: EndpointInfo[];
  records: DriverRecord[];
}

/** What Networks.rebuild did. */
export interface RebuildResult {
  /** Where the old database went (undefined if there was none). */
  movedTo?: string;
  networks: string[];
  /** Endpoint ids rebuilt. */
  endpoints: string[];
  /** Host links tagged as endpoints that could not be matched to a container (gc() removes them). */
  unmatched: string[];
}

/** Sets the database (and its -wal, -shm) aside; returns the new name of the main file. */
export function moveAside(dir: string): string | undefined {
  const file = path.join(dir, DB_FILE);
  if (!existsSync(file)) return undefined;
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const to = `${file}.broken-${stamp}`;
  for (const suffix of ['-wal', '-shm', '']) {
    if (existsSync(file + suffix)) renameSync(file + suffix, to + suffix);
  }
  return to;
}

/** The network definitions of a state directory's durable files. */
export function readNetworkFiles(dir: string): NetworkInfo[] {
  const d = networkFilesDir(dir);
  if (!existsSync(d)) return [];
  return readdirSync(d)
    .filter((n) => /^[0-9a-f]{64}\.json$/.test(n))
    .map((n) => JSON.parse(readFileSync(path.join(d, n), 'utf8')) as NetworkInfo);
}

/** Looks at the kernel once: host links, every named namespace's links, addresses and routes, the published ports. */
export async function scan(host: Netns, firewall: Firewall, netns: NetnsOptions): Promise<RebuildScan> {
  const hostLinks = await host.links.list();
  const containers: ScannedNamespace[] = [];
  for (const name of await Netns.list(netns)) {
    const ns = await Netns.open(name, netns).catch(() => undefined);
    if (!ns) continue;
    try {
      containers.push({
        path: ns.path!,
        id: ns.id,
        links: await ns.links.list(),
        addresses: await ns.addresses.list(),
        // Both families: an IPv6-only endpoint's default route is an IPv6 one.
        routes: await ns.routes.list(),
      });
    } finally {
      ns.close();
    }
  }
  return { hostLinks, containers, ports: await firewall.publishedByAddress() };
}

/**
 * The endpoints of a network whose containers are joined by veths: host links tagged
 * `<owner>:ep:<id>` (by default: enslaved to the network's bridge), each matched to the
 * container end in a named namespace (the link whose IFLA_LINK is the host end's
 * ifindex) with an address in the network's subnet.
 */
export function adoptVeths(ctx: DriverContext, net: NetworkInfo, s: RebuildScan, owns?: (host: Link) => boolean): EndpointInfo[] {
  const bridge = s.hostLinks.find((l) => l.name === net.bridge);
  const mine = owns ?? ((l: Link) => bridge !== undefined && l.master === bridge.index);
  const prefix = `${ctx.owner}:ep:`;
  const out: EndpointInfo[] = [];
  for (const host of s.hostLinks) {
    if (!mine(host) || !host.alias?.startsWith(prefix) || host.group === ctx.reapGroup) continue;
    const id = host.alias.slice(prefix.length);
    if (!/^[0-9a-f]{64}$/.test(id)) continue;
    for (const c of s.containers) {
      const link = c.links.find((l) => l.kind === 'veth' && l.link === host.index && l.linkNetnsId !== undefined);
      if (!link) continue;
      const ep = endpointFrom(id, net, host.name, link, c, s.ports);
      if (ep) out.push(ep);
      break;
    }
  }
  return out;
}

/** An endpoint from a container-side link: its addresses in the network's subnets, its default route. */
export function endpointFrom(
  id: string, net: NetworkInfo, hostIfname: string, link: Link, c: ScannedNamespace, ports: Map<string, PortMapping[]>,
): EndpointInfo | undefined {
  const inSubnet = (a: Address, cidr: string | undefined): boolean => cidr !== undefined && cidr !== '' && contains(cidr, a.address);
  const addrs = c.addresses.filter((a) => a.index === link.index);
  const v4 = addrs.find((a) => a.family === 4 && inSubnet(a, net.subnet));
  const v6 = addrs.find((a) => a.family === 6 && inSubnet(a, net.ipv6Subnet));
  // The network's primary family must be there: IPv4, or IPv6 on an IPv6-only network.
  if (net.subnet !== '' ? !v4 : !v6) return undefined;
  const ip6 = v6 ? normalizeIp(v6.address) : undefined;
  return {
    id,
    network: net.id,
    aliases: [],
    ifname: link.name,
    hostIfname,
    ip: v4?.address ?? '',
    ...(ip6 !== undefined && { ip6 }),
    mac: link.mac ?? '',
    publish: mergePorts(v4 ? (ports.get(v4.address) ?? []) : [], ip6 !== undefined ? (ports.get(ip6) ?? []) : [], v4 !== undefined, ip6 !== undefined),
    netnsPath: c.path,
    netnsId: c.id,
    defaultRoute: c.routes.some((r) => r.dst === 'default' && r.oif === link.index && r.family === (v4 ? 4 : 6)),
  };
}

/**
 * An endpoint's published ports from the bindings the maps hold for each of its
 * addresses (Firewall.publishedByAddress: hostIp '0.0.0.0' / '::' for every address of a
 * family): a port bound on every address of each family the endpoint has is one mapping
 * without hostIp, as attach stored it; one bound on every address of one family only
 * keeps '0.0.0.0' or '::'.
 */
export function mergePorts(v4: PortMapping[], v6: PortMapping[], has4: boolean, has6: boolean): PortMapping[] {
  const key = (m: PortMapping) => `${m.protocol}/${String(m.hostPort)}/${m.containerPort}`;
  const any6 = new Set(v6.filter((m) => m.hostIp === '::').map(key));
  const any4 = new Set(v4.filter((m) => m.hostIp === '0.0.0.0').map(key));
  const out: PortMapping[] = [];
  const strip = ({ hostIp: _h, ...m }: PortMapping): PortMapping => m;
  for (const m of v4) {
    if (m.hostIp !== '0.0.0.0') out.push(m);
    else if (!has6 || any6.has(key(m))) out.push(strip(m));
    else out.push(m);
  }
  for (const m of v6) {
    if (m.hostIp !== '::') out.push(m);
    else if (!has4) out.push(strip(m));
    else if (!any4.has(key(m))) out.push(m);
  }
  return out;
}

/** Published-port elements to mappings: one per host port. */
export function portMapping(protocol: PortProtocol, hostPort: number, containerPort: number, hostIp?: string): PortMapping {
  return { hostPort, containerPort, protocol, ...(hostIp !== undefined && { hostIp }) };
}
