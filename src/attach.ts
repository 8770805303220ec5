// The container attach every runtime does, as two batches in one native call: the
// host side (a veth whose peer is made inside the container namespace, enslaved to a
// bridge, up) in one sendmsg, then the container side (lo up, the interface up, its
// address, the default route) in one sendmsg on the container's socket.
import { Batch, reserveIfindex } from './batch';
import type { Netns } from './netns';
import { parseCidr, type LinkRef } from './spec';
import { checkIfname, checkIp, own } from './validate';

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
  /** Keep IPv6 on both ends (default false: no link-local address, DAD or MLD). */
  ipv6?: boolean;
  /** Bring lo up in the container (default true; a NetnsPool namespace already has it). */
  loUp?: boolean;
}

/** What attachVeth made. */
export interface VethAttachResult {
  hostIfname: string;
  ifname: string;
  /** ifindex of the container end, inside the container namespace. */
  peerIndex: number;
}

/**
 * Attaches a container namespace to a bridge: two sendmsg calls in all, in one native
 * call. The container end gets an ifindex chosen here so that its address and route go
 * out with it without a lookup; both ends get one TX and one RX queue. A failure undoes
 * what was made (deleting the host end removes the pair).
 */
export async function attachVeth(host: Netns, container: Netns, opts: VethAttachOptions): Promise<VethAttachResult> {
  const o = own(opts, 'attachVeth options');
  const ifname = checkIfname(o.ifname ?? 'eth0', 'ifname');
  const addr = parseCidr(o.address, 'address');
  if (o.gateway !== undefined && checkIp(o.gateway, 'gateway') && (o.gateway.includes(':') ? 6 : 4) !== addr.family) {
    throw new TypeError('gateway family does not match address');
  }
  const noV6 = !o.ipv6;
  const addr6 = o.address6 === undefined ? undefined : parseCidr(o.address6, 'address6');
  if (addr6 && (addr6.family !== 6 || noV6)) throw new TypeError('address6 must be an IPv6 CIDR, with ipv6: true');
  if (o.gateway6 !== undefined && (!addr6 || checkIp(o.gateway6, 'gateway6').indexOf(':') < 0)) throw new TypeError('gateway6 needs address6 and must be IPv6');
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
    ...(noV6 && { addrGenMode: 'none' as const }),
    ...((o.hairpin || o.isolated) && { bridgePort: { ...(o.hairpin && { hairpin: true }), ...(o.isolated && { isolated: true }) } }),
    up: true,
    peer: {
      name: ifname,
      netns: container,
      index: peerIndex,
      ...(o.mac !== undefined && { mac: o.mac }),
      ...(o.mtu !== undefined && { mtu: o.mtu }),
      numTxQueues: 1,
      numRxQueues: 1,
    },
  });
  const c = container.batch();
  if (o.loUp ?? true) c.links.set('lo', { up: true });
  c.links.set(peerIndex, { ...(noV6 && { addrGenMode: 'none' as const }), up: true });
  c.addresses.add(peerIndex, `${addr.address}/${addr.prefixlen}`, addr.family === 6 ? { nodad: true } : {});
  if (addr6) c.addresses.add(peerIndex, `${addr6.address}/${addr6.prefixlen}`, { nodad: true });
  if (o.gateway !== undefined) c.routes.add({ dst: addr.family === 6 ? 'default6' : 'default', gateway: o.gateway, dev: peerIndex });
  if (o.gateway6 !== undefined) c.routes.add({ dst: 'default6', gateway: o.gateway6, dev: peerIndex });
  // On failure commitAll undoes the host side too: deleting the host end takes the pair.
  await Batch.commitAll([h, c]);
  return { hostIfname: o.hostIfname, ifname, peerIndex };
}
