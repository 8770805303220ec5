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
 * The address pool of an IPv4 subnet with its gateway and range, validated (TypeError,
 * RangeError, AddressNotInPoolError) before anything is created.
 */
export function subnetPool(subnet: unknown, gateway: unknown, ipRange: unknown): AddressPool {
  if (subnet === undefined) throw new TypeError('subnet is required');
  const s = parseCidr(subnet as string, 'subnet');
  if (s.family !== 4) throw new TypeError('subnet must be IPv4');
  if (gateway !== undefined && typeof gateway !== 'string') throw new TypeError('gateway must be an IPv4 address');
  if (ipRange !== undefined) {
    if (typeof ipRange !== 'string') throw new TypeError('ipRange must be a CIDR');
    if (!contains(s.cidr, ipRange)) throw new RangeError(`ipRange ${ipRange} is not inside ${s.cidr}`);
  }
  return new AddressPool(s.cidr, { ...(gateway !== undefined && { gateway }), ...(ipRange !== undefined && { range: ipRange }) });
}

/** EEXIST unless the subnet overlaps none of the other networks'. */
export function checkSubnetFree(subnet: string, others: readonly NetworkInfo[]): void {
  const clash = others.find((n) => overlaps(n.subnet, subnet));
  if (clash) throw new NetlinkError({ errno: 17, op: 'network', detail: `subnet ${subnet} overlaps network ${clash.name} (${clash.subnet})` });
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
