// The endpoint of the drivers whose containers hang off a bridge of the host (bridge,
// overlay): a veth pair, the host end a port of the network's bridge, the container end
// made directly inside the container's namespace. Shared here so both drivers attach,
// quiesce and reap their endpoints the same way.
import { attachVeth, attachVethBegun, type VethAttachOptions } from '../../attach';
import type { BatchFailure } from '../../batch';
import type { NetlinkError } from '../../errors';
import { parseCidr } from '../ipam';
import type { AttachTarget, DriverContext, HostLinks, KernelAttach } from '../driver';
import type { EndpointInfo, NetworkInfo } from '../types';

/** The alias tag of an endpoint's host-side link: the owner, and the endpoint's whole id. */
export function endpointTag(owner: string, ep: { id: string }): string {
  return `${owner}:ep:${ep.id}`;
}

/**
 * The ifindex of each network's bridge, looked up once and kept: an attach names its
 * master by index and needs no RTM_GETLINK. An attach that finds the index stale (the
 * bridge was deleted and made again by a reconcile) looks it up again and retries.
 */
export class BridgeIndex {
  readonly #index = new Map<string, number>();
  readonly #name: (net: NetworkInfo) => string;

  /** `name`: which link of the network (default its bridge; the overlay keeps its VXLAN device's too). */
  constructor(name: (net: NetworkInfo) => string = (net) => net.bridge) {
    this.#name = name;
  }

  async get(ctx: DriverContext, net: NetworkInfo): Promise<number> {
    const known = this.#index.get(net.id);
    if (known !== undefined) return known;
    const l = await ctx.host.links.get(this.#name(net));
    this.#index.set(net.id, l.index);
    return l.index;
  }

  forget(id: string): void {
    this.#index.delete(id);
  }
}

/**
 * The container side's addresses and routes for attachVeth and attachMacvlan: the IPv4
 * address (and the IPv6 one as address6) on a network with IPv4, the IPv6 address alone
 * on an IPv6-only one; default routes through the gateways when the endpoint has the
 * default route and the network a way out. IPv6 stays off on the link (no link-local
 * address, DAD or MLD) unless the network has it.
 */
export function containerAddresses(net: NetworkInfo, ep: EndpointInfo): Pick<VethAttachOptions, 'address' | 'gateway' | 'address6' | 'gateway6' | 'ipv6' | 'ipv4Conf'> {
  const route = ep.defaultRoute && !net.internal;
  const v6 = ep.ip6 !== undefined && net.ipv6Subnet !== undefined ? `${ep.ip6}/${parseCidr(net.ipv6Subnet).prefixlen}` : undefined;
  const gw6 = route && v6 !== undefined && net.ipv6Gateway !== undefined ? net.ipv6Gateway : undefined;
  if (ep.ip === '') return { address: v6!, ...(gw6 !== undefined && { gateway: gw6 }), ipv6: true };
  return {
    address: `${ep.ip}/${parseCidr(net.subnet).prefixlen}`,
    ...(route && { gateway: net.gateway }),
    ...(v6 !== undefined && { address6: v6 }),
    ...(gw6 !== undefined && { gateway6: gw6 }),
    ipv6: v6 !== undefined,
    // Announce the container's address when its interface comes up, as Docker does: in
    // the container batch's existing message, no extra request.
    ipv4Conf: { arp_notify: 1 },
  };
}

/** What a driver adds to the host side of a veth endpoint (the overlay: its ARP answers). */
export type VethExtras = Pick<VethAttachOptions, 'proxyArpWifi' | 'bridgeEntries'>;

/** Makes a veth endpoint: one native call, two sendmsg (see attachVeth). */
export async function attachVethEndpoint(
  ctx: DriverContext, net: NetworkInfo, ep: EndpointInfo, target: AttachTarget, bridges: BridgeIndex, extras: VethExtras = {},
): Promise<KernelAttach> {
  const opts = (bridge: number): VethAttachOptions => ({
    bridge,
    hostIfname: ep.hostIfname,
    ifname: ep.ifname,
    ...containerAddresses(net, ep),
    mac: ep.mac,
    mtu: net.mtu,
    alias: endpointTag(ctx.owner, ep),
    // Hairpin lets a container reach itself through its own published port; without
    // ports there is nothing to come back on the same bridge port.
    hairpin: ep.publish.length > 0,
    isolated: !net.icc,
    ...extras,
  });
  const once = async (bridge: number): Promise<KernelAttach> => {
    if (target.create) {
      const { name, netnsDir, begun } = target.create;
      // Begun (Networks made it while recording the attach): the first try gives it its
      // batches; a retry (a stale bridge index) makes the namespace afresh.
      if (begun && !begun.used) return { netns: (await attachVethBegun(ctx.host, begun, opts(bridge))).netns };
      const r = await attachVeth(ctx.host, { create: name, ...(netnsDir !== undefined && { netnsDir }) }, opts(bridge));
      return { netns: r.netns };
    }
    await attachVeth(ctx.host, target.netns!, opts(bridge));
    return {};
  };
  const index = await bridges.get(ctx, net);
  try {
    return await once(index);
  } catch (e) {
    // A stale bridge index (the bridge was made again): the kernel finds no such master.
    const code = (e as NetlinkError).code;
    if (code !== 'ENODEV' && code !== 'EINVAL') throw e;
    bridges.forget(net.id);
    const fresh = await bridges.get(ctx, net).catch(() => index);
    if (fresh === index) throw e;
    return once(fresh);
  }
}

/**
 * Makes a veth endpoint unreachable in one RTM_NEWLINK on the host end: down (the bridge
 * disables the port: nothing is forwarded to or from it) and moved into the reap group,
 * which the controller deletes in bulk. A host end that is gone already is fine.
 *
 * `bridge` (the overlay's): also forget the endpoint's address in the bridge device's
 * neighbour table (the entry attach's bridgeEntries made), in the same sendmsg. An entry
 * or a bridge that is not there is fine too.
 */
export async function quiesceVeth(ctx: DriverContext, ep: EndpointInfo, bridge?: number): Promise<boolean> {
  const b = ctx.host.batch().links.set(ep.hostIfname, { group: ctx.reapGroup, up: false });
  // The bridge's answer for its IPv4 address (bridgeEntries): an IPv6-only endpoint has none.
  if (bridge !== undefined && ep.ip !== '') b.neighbours.delete({ dev: bridge, address: ep.ip }, { missingOk: true });
  return b.commit({ rollback: false }).then(
    () => true,
    (e: NetlinkError & { batch?: BatchFailure }) => {
      const [link, neigh] = e.batch?.errors ?? [e];
      if (link && link.code !== 'ENODEV') throw link;
      if (neigh && neigh.code !== 'ENODEV') throw neigh;
      return link === undefined;
    },
  );
}

/** Deletes a veth endpoint's host end, if it exists (the pair goes with it). */
export async function deleteVeth(ctx: DriverContext, ep: EndpointInfo): Promise<void> {
  if (ep.hostIfname === '') return;
  await ctx.host.links.delete(ep.hostIfname).catch((e: NetlinkError) => {
    if (e.code !== 'ENODEV') throw e;
  });
}

/** Whether a veth endpoint's host end exists and is not waiting to be reaped. */
export function vethAlive(ctx: DriverContext, ep: EndpointInfo, links: HostLinks): boolean {
  const l = links.get(ep.hostIfname);
  return l !== undefined && l.group !== ctx.reapGroup;
}

/** Host links of a network whose endpoints are veths: its own links and the endpoints' host ends. */
export function vethHostLinks(own: string[], endpoints: readonly EndpointInfo[]): string[] {
  return [...own, ...endpoints.map((e) => e.hostIfname).filter((n) => n !== '')];
}
