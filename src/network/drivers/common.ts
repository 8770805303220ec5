// What the drivers share: option checks, the clash checks against the controller's
// other networks, and link lookups that tell "missing" from errors.
import { NetlinkError } from '../../errors';
import type { Netns } from '../../netns';
import type { Link } from '../../types';
import { checkIfname } from '../../validate';
import { AddressPool, contains, overlaps, parseCidr } from '../ipam';
import type { NetworkInfo } from '../types';

/** An options object (TypeError otherwise). */
export function checkOptions<T extends object>(o: T, what: string): T {
  if (typeof o !== 'object' || o === null || Array.isArray(o)) throw new TypeError(`${what} must be an object`);
  return o;
}

/** Labels: strings to strings. */
export function checkLabels(labels: unknown): Record<string, string> {
  if (labels === undefined) return {};
  if (typeof labels !== 'object' || labels === null || Object.values(labels).some((v) => typeof v !== 'string')) {
    throw new TypeError('labels must map strings to strings');
  }
  return { ...(labels as Record<string, string>) };
}

/** An optional MTU in 68..65535. */
export function checkMtu(mtu: unknown): number | undefined {
  if (mtu === undefined) return undefined;
  if (typeof mtu !== 'number' || !Number.isInteger(mtu) || mtu < 68 || mtu > 65535) {
    throw new RangeError(`mtu must be an integer in 68..65535, got ${String(mtu)}`);
  }
  return mtu;
}

/**
 * The address pool of a subnet of one family with its gateway and range, validated
 * (TypeError, RangeError, AddressNotInPoolError) before anything is created. `names`
 * are the option names, for the errors.
 */
export function subnetPool(
  subnet: unknown, gateway: unknown, ipRange: unknown, family: 4 | 6 = 4,
  names: [string, string, string] = family === 4 ? ['subnet', 'gateway', 'ipRange'] : ['ipv6Subnet', 'ipv6Gateway', 'ipv6Range'],
): AddressPool {
  const [sn, gn, rn] = names;
  if (subnet === undefined) throw new TypeError(`${sn} is required`);
  const s = parseCidr(subnet as string, sn);
  if (s.family !== family) throw new TypeError(`${sn} must be IPv${family}`);
  if (gateway !== undefined && typeof gateway !== 'string') throw new TypeError(`${gn} must be an IPv${family} address`);
  if (ipRange !== undefined) {
    if (typeof ipRange !== 'string') throw new TypeError(`${rn} must be a CIDR`);
    if (!contains(s.cidr, ipRange)) throw new RangeError(`${rn} ${ipRange} is not inside ${s.cidr}`);
  }
  return new AddressPool(s.cidr, { ...(gateway !== undefined && { gateway }), ...(ipRange !== undefined && { range: ipRange }) });
}

/** The pools of a network's two families as options give them: IPv4, IPv6 or both (TypeError for neither). */
export function familyPools(o: {
  subnet?: unknown; gateway?: unknown; ipRange?: unknown; ipv6Subnet?: unknown; ipv6Gateway?: unknown; ipv6Range?: unknown;
}): { v4?: AddressPool; v6?: AddressPool } {
  if (o.subnet === undefined && o.ipv6Subnet === undefined) throw new TypeError('subnet (IPv4) or ipv6Subnet is required');
  if (o.subnet === undefined && (o.gateway !== undefined || o.ipRange !== undefined)) throw new TypeError('gateway and ipRange need subnet');
  if (o.ipv6Subnet === undefined && (o.ipv6Gateway !== undefined || o.ipv6Range !== undefined)) throw new TypeError('ipv6Gateway and ipv6Range need ipv6Subnet');
  return {
    ...(o.subnet !== undefined && { v4: subnetPool(o.subnet, o.gateway, o.ipRange) }),
    ...(o.ipv6Subnet !== undefined && { v6: subnetPool(o.ipv6Subnet, o.ipv6Gateway, o.ipv6Range, 6) }),
  };
}

/** The NetworkInfo address fields of familyPools' pools ('' subnet and gateway without IPv4). */
export function addressInfo(p: { v4?: AddressPool; v6?: AddressPool }): Pick<NetworkInfo, 'subnet' | 'gateway' | 'ipRange' | 'ipv6Subnet' | 'ipv6Gateway' | 'ipv6Range'> {
  return {
    subnet: p.v4?.subnet.cidr ?? '',
    gateway: p.v4?.gateway ?? '',
    ...(p.v4 && p.v4.range !== p.v4.subnet && { ipRange: p.v4.range.cidr }),
    ...(p.v6 && { ipv6Subnet: p.v6.subnet.cidr, ipv6Gateway: p.v6.gateway! }),
    ...(p.v6 && p.v6.range !== p.v6.subnet && { ipv6Range: p.v6.range.cidr }),
  };
}

/** EEXIST unless the subnets (IPv4 and IPv6, either may be absent) overlap none of the other networks'. */
export function checkSubnetFree(subnet: string | undefined, others: readonly NetworkInfo[], ipv6Subnet?: string): void {
  for (const n of others) {
    if (subnet && n.subnet !== '' && overlaps(n.subnet, subnet)) {
      throw new NetlinkError({ errno: 17, op: 'network', detail: `subnet ${subnet} overlaps network ${n.name} (${n.subnet})` });
    }
    if (ipv6Subnet && n.ipv6Subnet !== undefined && overlaps(n.ipv6Subnet, ipv6Subnet)) {
      throw new NetlinkError({ errno: 17, op: 'network', detail: `ipv6Subnet ${ipv6Subnet} overlaps network ${n.name} (${n.ipv6Subnet})` });
    }
  }
}

/** An optional interface name, or the default. */
export function ifnameOr(v: unknown, what: string, dflt: string): string {
  return v === undefined ? dflt : checkIfname(v, what);
}

/** A link by name, or undefined when there is none (ENODEV); other errors propagate. */
export async function findLink(ns: Netns, name: string): Promise<Link | undefined> {
  return ns.links.get(name).catch((e: NetlinkError) => {
    if (e.code === 'ENODEV') return undefined;
    throw e;
  });
}

/** EEXIST when a link of that name exists already (a new network's links must be its own). */
export async function checkNoLink(ns: Netns, name: string): Promise<void> {
  if (await findLink(ns, name)) throw new NetlinkError({ errno: 17, op: 'network', detail: `a link named ${name} exists already` });
}

/** The alias tag of a network's links: `${owner}:net:<first 12 hex digits of its id>`. */
export function networkTag(owner: string, net: { id: string }): string {
  return `${owner}:net:${net.id.slice(0, 12)}`;
}
