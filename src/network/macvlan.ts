// Macvlan networks: each container gets a macvlan child of a parent link of the host,
// with its own MAC on the parent's segment; the segment's router is the containers'
// gateway, and the host itself plays no part in their traffic (in bridge mode the
// children reach each other inside the parent; the parent's own stack cannot reach
// them, as with every macvlan).
//
// The child is created directly inside the container namespace under a temporary name
// and renamed there (attachMacvlan), so none of its names ever exists in the host
// namespace; detach deletes it there, and a namespace that is gone took it with it.
import { attachMacvlan } from '../attach';
import { NetlinkError } from '../errors';
import { Netns } from '../netns';
import { checkOneOf } from '../validate';
import {
  checkLabels, checkMtu, checkOptions, checkSubnetFree, findLink, ifnameOr, nsIdOf, subnetPool,
  type CreatedNetwork, type NetworkBase,
} from './drivers';
import { parseCidr, type AddressPool } from './ipam';
import type { EndpointInfo, MacvlanInfo, MacvlanNetworkOptions, NetworkInfo } from './types';

const MODES: readonly MacvlanInfo['mode'][] = ['bridge', 'private', 'vepa', 'passthru'];

/** Macvlan options, validated; the pool holds subnet, gateway and range. */
export interface CheckedMacvlan {
  pool: AddressPool;
  ipRange?: string;
  parent: string;
  mode: MacvlanInfo['mode'];
  mtu?: number;
  labels: Record<string, string>;
}

/** Validates macvlan options (TypeError / RangeError); nothing is sent. */
export function checkMacvlanOptions(opts: MacvlanNetworkOptions): CheckedMacvlan {
  const o = checkOptions(opts, 'macvlan options');
  if (o.parent === undefined) throw new TypeError('a macvlan network needs parent: the host link its children hang off');
  const out: CheckedMacvlan = {
    pool: subnetPool(o.subnet, o.gateway, o.ipRange),
    parent: ifnameOr(o.parent, 'parent', ''),
    mode: checkOneOf(o.mode, 'mode', MODES) ?? 'bridge',
    labels: checkLabels(o.labels),
  };
  if (o.ipRange !== undefined) out.ipRange = o.ipRange;
  const mtu = checkMtu(o.mtu);
  if (mtu !== undefined) out.mtu = mtu;
  return out;
}

/**
 * Checks the parent (present, not a bridge port, not another macvlan network's, MTU) and
 * the subnet; nothing is created until a container attaches.
 */
export async function createMacvlan(host: Netns, base: NetworkBase, o: CheckedMacvlan, others: readonly NetworkInfo[]): Promise<CreatedNetwork> {
  const subnet = o.pool.subnet.cidr;
  checkSubnetFree(subnet, others);
  const taken = others.find((n) => n.macvlan?.parent === o.parent);
  if (taken) throw new NetlinkError({ errno: 17, op: 'network', detail: `parent ${o.parent} belongs to macvlan network ${taken.name}` });
  const parent = await findLink(host, o.parent);
  if (!parent) throw new NetlinkError({ errno: 19, op: 'network', detail: `parent ${o.parent} does not exist` });
  if (parent.master !== undefined && parent.portKind === 'bridge') {
    // The bridge holds the port's rx handler; macvlan would need it too.
    throw new NetlinkError({ errno: 16, op: 'network', detail: `parent ${o.parent} is a bridge port; the kernel gives a macvlan no bridge port as parent` });
  }
  if (o.mtu !== undefined && parent.mtu !== undefined && o.mtu > parent.mtu) {
    throw new RangeError(`mtu ${o.mtu} is above the MTU of ${o.parent} (${parent.mtu})`);
  }
  const info: NetworkInfo = {
    ...base,
    driver: 'macvlan',
    bridge: '',
    subnet,
    gateway: o.pool.gateway!,
    ...(o.ipRange !== undefined && { ipRange: o.ipRange }),
    mtu: o.mtu ?? parent.mtu ?? 1500,
    masquerade: false,
    icc: true,
    internal: false,
    isDefault: false,
    labels: o.labels,
    macvlan: { parent: o.parent, mode: o.mode },
  };
  return { info, pool: o.pool };
}

/** What the controller's attach passes to the macvlan link step. */
export interface MacvlanLinkOptions {
  ifname: string;
  tmpIfname: string;
  ip: string;
  mac: string;
  defaultRoute: boolean;
}

/**
 * Creates an endpoint's macvlan child inside the container (see attachMacvlan); returns
 * its MAC, which in passthru mode is the parent's (the kernel gives it that one).
 */
export async function attachMacvlanEndpoint(host: Netns, container: Netns, net: NetworkInfo, o: MacvlanLinkOptions): Promise<string> {
  const passthru = net.macvlan!.mode === 'passthru';
  const attach = () => attachMacvlan(host, container, {
    parent: net.macvlan!.parent,
    mode: net.macvlan!.mode,
    tmpIfname: o.tmpIfname,
    ifname: o.ifname,
    address: `${o.ip}/${parseCidr(net.subnet).prefixlen}`,
    ...(o.defaultRoute && { gateway: net.gateway }),
    ...(!passthru && { mac: o.mac }),
    mtu: net.mtu,
  });
  // The MAC follows the address, and an address is free again as soon as its endpoint is
  // forgotten; but a namespace is torn down asynchronously after its last reference goes,
  // and until then its child still holds the MAC on the parent (EADDRINUSE). Wait for
  // that, boundedly: a MAC that stays taken is a real conflict.
  let r: Awaited<ReturnType<typeof attach>> | undefined;
  for (const wait of [25, 50, 100, 200, 400, 800, 0]) {
    try {
      r = await attach();
      break;
    } catch (e) {
      if ((e as NetlinkError).code !== 'EADDRINUSE' || wait === 0) throw e;
      await new Promise((res) => setTimeout(res, wait));
    }
  }
  return passthru ? (await container.links.get(r!.index)).mac ?? o.mac : o.mac;
}

// The endpoint's namespace: the given handle, or its path reopened if it still is the
// same namespace; undefined when it is gone (or was anonymous).
async function endpointNs(ep: EndpointInfo, given?: Netns): Promise<{ ns: Netns; own: boolean } | undefined> {
  if (given && !given.closed) return { ns: given, own: false };
  if (!ep.netnsPath) return undefined;
  const ns = await Netns.open(ep.netnsPath).catch(() => undefined);
  if (!ns) return undefined;
  if (nsIdOf(ns) !== ep.netnsId) {
    ns.close();
    return undefined;
  }
  return { ns, own: true };
}

// The endpoint's child in its namespace: its name, kind and MAC must all still match.
async function childOf(ns: Netns, ep: EndpointInfo): Promise<number | undefined> {
  const l = await findLink(ns, ep.ifname);
  return l && l.kind === 'macvlan' && l.mac === ep.mac ? l.index : undefined;
}

/** Whether the endpoint's child (name, kind and MAC) is in this namespace. */
export async function macvlanChildIn(ns: Netns, ep: EndpointInfo): Promise<boolean> {
  return (await childOf(ns, ep)) !== undefined;
}

/** Deletes an endpoint's child inside its namespace; nothing when the namespace (and so the child) is gone. */
export async function detachMacvlanEndpoint(ep: EndpointInfo, given?: Netns): Promise<void> {
  const h = await endpointNs(ep, given);
  if (!h) return;
  try {
    const index = await childOf(h.ns, ep);
    if (index === undefined) return;
    await h.ns.links.delete(index).catch((e: NetlinkError) => {
      if (e.code !== 'ENODEV') throw e;
    });
  } finally {
    if (h.own) h.ns.close();
  }
}

/**
 * Whether a macvlan endpoint is gone (its namespace, or its child there). An endpoint
 * of an anonymous namespace cannot be looked at after a restart and is kept.
 */
export async function macvlanEndpointGone(ep: EndpointInfo): Promise<boolean> {
  if (!ep.netnsPath) return false;
  const h = await endpointNs(ep);
  if (!h) return true;
  try {
    return (await childOf(h.ns, ep)) === undefined;
  } finally {
    h.ns.close();
  }
}
