// The container attach every runtime does, as two batches in one native call: the
// host side (a veth whose peer is made inside the container namespace, enslaved to a
// bridge, up) in one sendmsg, then the container side (lo up, the interface up, its
// address, the default route) in one sendmsg on the container's socket. attachMacvlan
// is the same with a macvlan child made inside the container instead of a veth pair.
import { Batch, commitBatches, isBegun, reserveIfindex, type PendingNetns } from './batch';
import type { NetlinkError } from './errors';
import { Netns, pendingNetns, type BegunNetns, type NetnsOptions } from './netns';
import { ipFamily, parsePrefix } from './ip';
import { ipv4ConfOf, type LinkRef } from './spec';
import type { Ipv4Conf } from './types';
import { checkIfname, checkIp, checkMac, own } from './validate';

/** What attachVeth builds. */
export interface VethAttachOptions {
  /** Bridge the host end joins (IFLA_MASTER). */
  bridge: LinkRef;
  /** Host-side veth name. */
  hostIfname: string;
  /** Interface name inside the container (default 'eth0'). */
  ifname?: string;
  /** Container address with prefix, '10.0.0.2/24' (IPv4 or IPv6). */
  address: string;
  /** Default route via this gateway (none when absent). */
  gateway?: string;
  /** A second, IPv6 address with prefix (dual stack); needs `ipv6`. */
  address6?: string;
  /** IPv6 default route via this gateway. */
  gateway6?: string;
  /** MAC of the container end. */
  mac?: string;
  /** MTU of both ends. */
  mtu?: number;
  /** IFLA_GROUP of the host end: links of a group can be deleted in one request. */
  group?: number;
  /** IFLA_IFALIAS of the host end (an owner tag). */
  alias?: string;
  /** Hairpin on the bridge port (a container reaching itself through a published port). */
  hairpin?: boolean;
  /** Isolated bridge port (no traffic with other isolated ports: icc off). */
  isolated?: boolean;
  /**
   * IFLA_BRPORT_PROXYARP_WIFI on the host end: the bridge answers ARP requests for
   * addresses whose MAC its FDB places on this port, from the bridge device's neighbour
   * table, and floods no request it answered to this port (BridgePortOptions.proxyArpWifi).
   */
  proxyArpWifi?: boolean;
  /**
   * Makes the container known to the bridge before it sends a frame, in the host batch
   * (no extra sendmsg): a static FDB entry for `mac` on the host end (RTM_NEWNEIGH
   * AF_BRIDGE, NTF_MASTER, NLM_F_REPLACE: an entry for the MAC on another port moves
   * here) and a permanent neighbour `address` -> `mac` on the bridge device (RTM_NEWNEIGH
   * AF_INET, NLM_F_REPLACE), which the bridge answers ARP from when its ports have
   * proxyArpWifi. IPv4 only (an IPv6 entry there would only matter with neigh_suppress,
   * where a local one swallows the solicitations for it); needs `mac`. If the attach
   * fails, the neighbour entry is deleted again (the FDB entry goes with the port).
   */
  bridgeEntries?: boolean;
  /**
   * Keep IPv6 on the container end (default false: no link-local address, DAD or MLD
   * there). The host end, a bridge port, never has IPv6 addresses of its own.
   */
  ipv6?: boolean;
  /** Bring lo up in the container (default true; a NetnsPool namespace already has it). */
  loUp?: boolean;
  /**
   * IPv4 settings of the container end ({ arp_notify: 1 }, ...: /proc/sys/net/ipv4/conf
   * names), in the container batch's existing change of that link (IFLA_INET_CONF), so
   * no sysctl write afterwards. In force before the link comes up: with IPv6 off (the
   * default) they share the message that sets addrGenMode; with `ipv6` they take one
   * more message in the same sendmsg.
   */
  ipv4Conf?: Ipv4Conf;
}

/** What attachVeth made. */
export interface VethAttachResult {
  hostIfname: string;
  ifname: string;
  /** ifindex of the container end, inside the container namespace. */
  peerIndex: number;
}

/**
 * A container namespace for attachVeth to make itself, named as `ip netns add NAME`
 * names it, in the same native call as the attach (see attachVeth).
 */
export interface NewNetns extends NetnsOptions {
  /** Name under the netns directory (EEXIST if taken). */
  create: string;
}

/**
 * Attaches a container namespace to a bridge: two sendmsg calls in all, in one native
 * call. The container end gets an ifindex chosen here so that its address and route go
 * out with it without a lookup; both ends get one TX and one RX queue. A failure undoes
 * what was made (deleting the host end removes the pair).
 *
 * Given `{ create: name }` instead of a Netns, the same native call first makes the
 * namespace (as Netns.create(name) would) on the namespace thread and sends both batches
 * from there: one hand-off between threads each way for the whole container, instead of
 * two calls. The result then carries the new `netns`; if anything fails, the namespace
 * is removed again (an EEXIST name is left alone: it is someone else's).
 */
export async function attachVeth(host: Netns, container: Netns, opts: VethAttachOptions): Promise<VethAttachResult>;
export async function attachVeth(host: Netns, container: NewNetns, opts: VethAttachOptions): Promise<VethAttachResult & { netns: Netns }>;
export async function attachVeth(host: Netns, container: Netns | NewNetns, opts: VethAttachOptions): Promise<VethAttachResult & { netns?: Netns }> {
  return attachVethTo(host, container, opts);
}

/**
 * attachVeth into a namespace whose making has begun (a driver's
 * `AttachTarget.create.begun`): its batches go to the operation making it, so the
 * namespace and the container's interface come from one native operation, as with
 * `create`. If this throws, the namespace is gone again (an EEXIST name aside, as for
 * `create`). A begun namespace takes one attach: a second is a TypeError.
 */
export async function attachVethBegun(host: Netns, container: BegunNetns, opts: VethAttachOptions): Promise<VethAttachResult & { netns: Netns }> {
  if (typeof container !== 'object' || container === null || !isBegun(container)) {
    throw new TypeError('attachVethBegun takes a begun namespace (AttachTarget.create.begun)');
  }
  // Its namespace is someone's already (or withdrawn): nothing here may touch it.
  if (container.used) throw new TypeError(`the begun namespace ${JSON.stringify(container.name)} was given its batches or withdrawn already`);
  return attachVethTo(host, container, opts) as Promise<VethAttachResult & { netns: Netns }>;
}

async function attachVethTo(host: Netns, container: Netns | NewNetns | BegunNetns, opts: VethAttachOptions): Promise<VethAttachResult & { netns?: Netns }> {
  try {
    return await attachVethOnce(host, container, opts);
  } catch (e) {
    // EEXIST on the first step (the veth) when no link has its name: another process
    // requested the same ifindex in this namespace. Once more with fresh numbers (a
    // begun namespace was deleted again: made anew, as for `create`).
    if ((e as NetlinkError).code !== 'EEXIST' || (e as NetlinkError).step !== 0) throw e;
    const named = await host.links.get(opts.hostIfname).then(() => true, () => false);
    if (named) throw e;
    return attachVethOnce(host, isBegun(container) ? { create: container.name, netnsDir: container.dir } : container, opts);
  }
}

async function attachVethOnce(host: Netns, container: Netns | NewNetns | BegunNetns, opts: VethAttachOptions): Promise<VethAttachResult & { netns?: Netns }> {
  const begun = isBegun(container) ? container : undefined;
  let o: VethAttachOptions;
  let side: ReturnType<typeof containerSide>;
  let entries: ReturnType<typeof bridgeEntriesOf>;
  let creating: (PendingNetns & { made(): boolean }) | undefined;
  try {
    o = own(opts, 'attachVeth options');
    side = containerSide(o);
    entries = bridgeEntriesOf(o);
    creating = begun ?? (container instanceof Netns ? undefined : newNetns(container as NewNetns));
  } catch (e) {
    // Refused before anything was sent: a begun namespace is withdrawn.
    await begun?.abort();
    throw e;
  }
  const target = creating ? creating.netns : (container as Netns);
  try {
    const peerIndex = reserveIfindex();
    const h = host.batch().links.add({
      name: o.hostIfname,
      // veth honours the peer's requested ifindex only when the host end requests one too.
      index: reserveIfindex(),
      kind: 'veth',
      master: o.bridge,
      ...(o.mtu !== undefined && { mtu: o.mtu }),
      ...(o.group !== undefined && { group: o.group }),
      ...(o.alias !== undefined && { alias: o.alias }),
      numTxQueues: 1,
      numRxQueues: 1,
      // A bridge port: it carries the containers' IPv6 but never needs an address of its
      // own, so no link-local address, DAD or MLD on it whatever the container does.
      addrGenMode: 'none',
      ...((o.hairpin || o.isolated || o.proxyArpWifi) && {
        bridgePort: { ...(o.hairpin && { hairpin: true }), ...(o.isolated && { isolated: true }), ...(o.proxyArpWifi && { proxyArpWifi: true }) },
      }),
      up: true,
      peer: {
        name: side.ifname,
        netns: target,
        index: peerIndex,
        ...(o.mac !== undefined && { mac: o.mac }),
        ...(o.mtu !== undefined && { mtu: o.mtu }),
        numTxQueues: 1,
        numRxQueues: 1,
      },
    });
    // The FDB entry names the host end made just above (by its requested ifindex).
    if (entries) {
      h.fdb.replace({ mac: entries.mac, dev: o.hostIfname, master: true, state: 'static' });
      h.neighbours.replace({ dev: o.bridge, address: entries.address, mac: entries.mac });
    }
    const c = side.batch(target, peerIndex);
    // On failure the host side is undone too: deleting the host end takes the pair.
    await commitBatches([h, c], {}, creating);
    const made = { hostIfname: o.hostIfname, ifname: side.ifname, peerIndex };
    return creating ? { ...made, netns: target } : made;
  } catch (e) {
    // The kernel goes on with a batch's later messages after a failed one: the neighbour
    // entry may be there whatever failed. The address is this attach's: nobody else's entry.
    if (entries) await host.neighbours.delete({ dev: o.bridge, address: entries.address }).catch(() => undefined);
    if (begun && !begun.used) {
      // Failed before the batches were given: withdrawn (deleted once made).
      await begun.abort();
    } else if (creating) {
      // Made, then a step failed: remove it. Never made (EEXIST, a bad name...): the
      // handle is still waiting, and the name, if taken, is someone else's.
      if (creating.made()) await Netns.delete(creating.name, { netnsDir: creating.dir }).catch(() => undefined);
      target.close();
    }
    throw e;
  }
}

// The address and MAC of bridgeEntries, checked (TypeError).
function bridgeEntriesOf(o: VethAttachOptions): { address: string; mac: string } | undefined {
  if (o.bridgeEntries === undefined || o.bridgeEntries === false) return undefined;
  if (o.bridgeEntries !== true) throw new TypeError('bridgeEntries must be a boolean');
  if (o.mac === undefined) throw new TypeError('bridgeEntries needs mac');
  const addr = parsePrefix(o.address, 'address');
  if (addr.family !== 4) throw new TypeError('bridgeEntries is for an IPv4 address');
  return { address: addr.address, mac: checkMac(o.mac, 'mac') };
}

function newNetns(c: NewNetns): ReturnType<typeof pendingNetns> {
  if (typeof c !== 'object' || c === null) throw new TypeError('container must be a Netns or { create: name }');
  const o = own(c, 'container');
  if (typeof o.create !== 'string') throw new TypeError('container.create must be a namespace name');
  return pendingNetns(o.create, o.netnsDir === undefined ? {} : { netnsDir: o.netnsDir });
}

/** What the container end of an attach gets: its name, address, routes (attachVeth and attachMacvlan). */
export type ContainerSideOptions = Pick<
  VethAttachOptions, 'ifname' | 'address' | 'gateway' | 'address6' | 'gateway6' | 'ipv6' | 'loUp' | 'ipv4Conf'
>;

// Validates the container side and returns the builder of its batch: lo up, the link
// (renamed first when asked) with its addrGenMode, IPv4 settings and up, addresses,
// default routes.
function containerSide(o: ContainerSideOptions): { ifname: string; batch: (c: Netns, index: number, renameFrom?: boolean) => Batch } {
  const ifname = checkIfname(o.ifname ?? 'eth0', 'ifname');
  const addr = parsePrefix(o.address, 'address');
  if (o.gateway !== undefined && ipFamily(checkIp(o.gateway, 'gateway')) !== addr.family) {
    throw new TypeError('gateway family does not match address');
  }
  const noV6 = !o.ipv6;
  const addr6 = o.address6 === undefined ? undefined : parsePrefix(o.address6, 'address6');
  if (addr6 && (addr6.family !== 6 || noV6)) throw new TypeError('address6 must be an IPv6 CIDR, with ipv6: true');
  if (o.gateway6 !== undefined && (!addr6 || ipFamily(checkIp(o.gateway6, 'gateway6')) !== 6)) throw new TypeError('gateway6 needs address6 and must be IPv6');
  const ipv4Conf = ipv4ConfOf(o.ipv4Conf, 'ipv4Conf') as Ipv4Conf | undefined;
  const batch = (container: Netns, index: number, rename = false): Batch => {
    const c = container.batch();
    if (o.loUp ?? true) c.links.set('lo', { up: true });
    // A rename and IFF_UP in one RTM_NEWLINK: the kernel renames before it changes flags.
    // addrGenMode and ipv4Conf (one IFLA_AF_SPEC) go in a message just before it.
    c.links.set(index, { ...(rename && { name: ifname }), ...(noV6 && { addrGenMode: 'none' as const }), ...(ipv4Conf && { ipv4Conf }), up: true });
    c.addresses.add({ dev: index, address: `${addr.address}/${addr.prefixlen}`, ...(addr.family === 6 && { nodad: true }) });
    if (addr6) c.addresses.add({ dev: index, address: `${addr6.address}/${addr6.prefixlen}`, nodad: true });
    if (o.gateway !== undefined) c.routes.add({ dst: addr.family === 6 ? 'default6' : 'default', gateway: o.gateway, dev: index });
    if (o.gateway6 !== undefined) c.routes.add({ dst: 'default6', gateway: o.gateway6, dev: index });
    return c;
  };
  return { ifname, batch };
}

/** What attachMacvlan builds. */
export interface MacvlanAttachOptions extends ContainerSideOptions {
  /** The parent link in the host namespace (IFLA_LINK). */
  parent: LinkRef;
  /** IFLA_MACVLAN_MODE (default 'bridge'). */
  mode?: 'bridge' | 'private' | 'vepa' | 'passthru';
  /** Name the link is created under inside the container before it is renamed to `ifname`. */
  tmpIfname: string;
  /** MAC of the child. */
  mac?: string;
  /** MTU of the child (at most the parent's). */
  mtu?: number;
}

/** What attachMacvlan made. */
export interface MacvlanAttachResult {
  ifname: string;
  /** ifindex of the child, inside the container namespace. */
  index: number;
}

/**
 * Attaches a container namespace to a parent link through a macvlan child, in two
 * sendmsg calls: the child is created directly inside the container namespace
 * (RTM_NEWLINK with IFLA_NET_NS_FD) under a temporary name, so no name of it ever exists
 * in the host namespace; then, in the container, it is renamed to `ifname` and brought up
 * with its address and default route. A failure deletes the child inside the container.
 */
export async function attachMacvlan(host: Netns, container: Netns, o: MacvlanAttachOptions): Promise<MacvlanAttachResult> {
  if (typeof o !== 'object' || o === null) throw new TypeError('attachMacvlan options must be an object');
  const side = containerSide(o);
  checkIfname(o.tmpIfname, 'tmpIfname');
  const index = reserveIfindex();
  const h = host.batch().links.add({
    name: o.tmpIfname,
    index,
    kind: 'macvlan',
    parent: o.parent,
    macvlan: { mode: o.mode ?? 'bridge' },
    netns: container,
    ...(o.mac !== undefined && { mac: o.mac }),
    ...(o.mtu !== undefined && { mtu: o.mtu }),
    numTxQueues: 1,
    numRxQueues: 1,
  });
  const c = side.batch(container, index, true);
  try {
    await Batch.commitAll([h, c]);
  } catch (e) {
    // commitAll cannot undo a link made in another namespace: delete it there.
    await container.links.delete(index).catch(() => undefined);
    throw e;
  }
  return { ifname: side.ifname, index };
}
