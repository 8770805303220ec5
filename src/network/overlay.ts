// Overlay networks: VXLAN across hosts, one host's half. Each host (each Networks
// controller) holds the same overlay (same VNI, same subnet) as:
//
//   container ─ veth ─┐
//   container ─ veth ─┼─ bridge ov-… (no address) ── vxlan vx-… ══ UDP 4789 over the underlay link ══ peer VTEPs
//
// The VXLAN device has learning off and proxy on; nothing is learned and no miss is
// reported (no l2miss/l3miss handlers): the control plane, whatever it is, tells each
// host what to know, and this module turns it into two kinds of kernel entries:
//
//   peer VTEP        fdb append 00:00:00:00:00:00 dst VTEP self permanent    (dev vx-…)
//                    Broadcast, multicast and unknown unicast are sent to every peer.
//   remote endpoint  fdb replace MAC dst VTEP self permanent                 (dev vx-…)
//                    neigh replace IP lladdr MAC nud permanent               (dev vx-…)
//
// Why the neighbour entries sit on the VXLAN device: with `proxy` the device answers
// every ARP request the bridge floods to it from its own neighbour table (the kernel's
// arp_reduce) and never sends ARP across the underlay; that is where a container's ARP
// gets its answer without touching the container's own cache, and since the bridge has
// no address the host never routes through these entries (Docker's overlay and flannel
// do the same). An address with no entry gets no answer.
//
// Several remote addresses may share a MAC on one VTEP: the FDB entry is kept while any
// of them is known (reference-counted per VTEP and MAC). A MAC seen again on another
// VTEP follows its latest report (replace semantics). Everything is persisted with the
// network, and reopening the controller makes the kernel match it again.
import { native } from '../binding';
import { call, NetlinkError } from '../errors';
import { fdbRequest } from '../fdb';
import { DevResolver, neighbourRequest, resolveRequest, type PendingNeighRequest } from '../neighbours';
import type { Netns } from '../netns';
import type { LinkSpec } from '../spec';
import { checkInt, checkMac, checkObject } from '../validate';
import {
  checkLabels, checkMtu, checkNoLink, checkOptions, checkSubnetFree, findLink, ifnameOr, subnetPool,
  type CreatedNetwork, type NetworkBase,
} from './drivers';
import { AddressInUseError, contains, normalizeIp, parseIp, type AddressPool } from './ipam';
import type { EndpointInfo, NetworkInfo, OverlayInfo, OverlayNetworkOptions, RemoteEndpoint } from './types';

/** IANA's VXLAN port. */
export const VXLAN_PORT = 4789;
const ZERO_MAC = '00:00:00:00:00:00';
/** Owner of remote endpoints' addresses in the local pool: never handed out here. */
const REMOTE_OWNER = 'remote';
// Neighbour table sizes for large overlays, raised (never lowered) where the namespace
// exports them: a namespace owned by another user namespace does not (nothing to do there).
const GC_THRESH: [string, number][] = [
  ['net.ipv4.neigh.default.gc_thresh1', 8192],
  ['net.ipv4.neigh.default.gc_thresh2', 32768],
  ['net.ipv4.neigh.default.gc_thresh3', 65536],
];

/** Overlay options, validated; the pool holds subnet, gateway and range. */
export interface CheckedOverlay {
  pool: AddressPool;
  ipRange?: string;
  vni: number;
  local: string;
  device: string;
  dstport: number;
  mtu?: number;
  bridge?: string;
  vxlan?: string;
  labels: Record<string, string>;
}

/** Validates overlay options (TypeError / RangeError); nothing is sent. */
export function checkOverlayOptions(opts: OverlayNetworkOptions): CheckedOverlay {
  const o = checkOptions(opts, 'overlay options');
  if (o.vni === undefined) throw new TypeError('an overlay network needs vni');
  const vni = checkInt(o.vni, 'vni', 1, 0xffffff);
  if (o.local === undefined) throw new TypeError("an overlay network needs local: this host's underlay address");
  const local = normalizeIp(checkAddress(o.local, 'local'));
  if (o.device === undefined) throw new TypeError('an overlay network needs device: the underlay link');
  const device = ifnameOr(o.device, 'device', '');
  const pool = subnetPool(o.subnet, o.gateway, o.ipRange);
  const out: CheckedOverlay = {
    pool,
    vni,
    local,
    device,
    dstport: o.dstport === undefined ? VXLAN_PORT : checkInt(o.dstport, 'dstport', 1, 65535),
    labels: checkLabels(o.labels),
  };
  if (o.ipRange !== undefined) out.ipRange = o.ipRange;
  const mtu = checkMtu(o.mtu);
  if (mtu !== undefined) out.mtu = mtu;
  if (o.bridge !== undefined) out.bridge = ifnameOr(o.bridge, 'bridge', '');
  if (o.vxlan !== undefined) out.vxlan = ifnameOr(o.vxlan, 'vxlan', '');
  return out;
}

function checkAddress(v: unknown, what: string): string {
  if (typeof v !== 'string') throw new TypeError(`${what} must be an IP address, got ${typeof v}`);
  parseIp(v, what);
  return v;
}

/** The alias tag of a network's links (as the bridge driver tags its bridges). */
function tagOf(owner: string, net: NetworkInfo): string {
  return `${owner}:net:${net.id.slice(0, 12)}`;
}

/**
 * Creates an overlay on this host: checks the underlay (device present, `local` one of
 * its addresses, MTU room for the encapsulation), the VNI and subnet against the other
 * networks, then the bridge and the VXLAN device in one batch (undone if it fails).
 */
export async function createOverlay(
  host: Netns, owner: string, base: NetworkBase, o: CheckedOverlay, others: readonly NetworkInfo[],
): Promise<CreatedNetwork> {
  const subnet = o.pool.subnet.cidr;
  const same = others.find((n) => n.overlay?.vni === o.vni);
  if (same) throw new NetlinkError({ errno: 17, op: 'network', detail: `VNI ${o.vni} belongs to network ${same.name}` });
  checkSubnetFree(subnet, others);
  const underlay = await findLink(host, o.device);
  if (!underlay) throw new NetlinkError({ errno: 19, op: 'network', detail: `underlay device ${o.device} does not exist` });
  const mine = await host.addresses.list({ dev: underlay.index });
  if (!mine.some((a) => normalizeIp(a.address) === o.local)) {
    throw new NetlinkError({ errno: 99, op: 'network', detail: `${o.local} is not an address of ${o.device}` });
  }
  // VXLAN over IPv4 adds 50 bytes (outer IPv4 20, UDP 8, VXLAN 8, inner Ethernet 14); over IPv6, 70.
  const room = (underlay.mtu ?? 1500) - (parseIp(o.local).family === 4 ? 50 : 70);
  if (o.mtu !== undefined && o.mtu > room) {
    throw new RangeError(`mtu ${o.mtu} leaves no room for the VXLAN encapsulation on ${o.device} (MTU ${underlay.mtu}): at most ${room}`);
  }
  const bridge = o.bridge ?? `ov-${base.id.slice(0, 12)}`;
  const vxlan = o.vxlan ?? `vx-${base.id.slice(0, 12)}`;
  if (bridge === vxlan) throw new TypeError('bridge and vxlan must be different names');
  for (const n of others) {
    if ([n.bridge, n.overlay?.vxlan].some((x) => x === bridge || x === vxlan)) {
      throw new NetlinkError({ errno: 17, op: 'network', detail: `${bridge} or ${vxlan} belongs to network ${n.name}` });
    }
  }
  await checkNoLink(host, bridge);
  await checkNoLink(host, vxlan);
  const info: NetworkInfo = {
    ...base,
    driver: 'overlay',
    bridge,
    subnet,
    gateway: o.pool.gateway!,
    ...(o.ipRange !== undefined && { ipRange: o.ipRange }),
    mtu: o.mtu ?? room,
    // Layer 2 only: the bridge has no address, the host neither routes nor filters the
    // overlay, and containers reach the outside through a gateway network.
    masquerade: false,
    icc: true,
    internal: true,
    isDefault: false,
    labels: o.labels,
    overlay: { vni: o.vni, vxlan, device: o.device, local: o.local, dstport: o.dstport, peers: [], remoteEndpoints: [] },
  };
  await ensureLinks(host, owner, info, []);
  return { info, pool: o.pool };
}

// The bridge and the VXLAN device, up, the device (and the endpoints' veths) enslaved;
// whatever is missing is created, in one batch.
async function ensureLinks(host: Netns, owner: string, net: NetworkInfo, endpoints: readonly EndpointInfo[]): Promise<void> {
  const o = net.overlay!;
  const links = new Map((await host.links.list()).map((l) => [l.name, l]));
  const br = links.get(net.bridge);
  const vx = links.get(o.vxlan);
  if (br && br.kind !== 'bridge') throw new NetlinkError({ errno: 17, op: 'network', detail: `${net.bridge} exists and is not a bridge` });
  if (vx && vx.kind !== 'vxlan') throw new NetlinkError({ errno: 17, op: 'network', detail: `${o.vxlan} exists and is not a VXLAN device` });
  const tag = tagOf(owner, net);
  const b = host.batch();
  if (!br) {
    b.links.add({
      name: net.bridge, kind: 'bridge', mtu: net.mtu, alias: tag, addrGenMode: 'none',
      bridge: { stp: false, multicastSnooping: false }, up: true,
    });
  } else if (!br.up) {
    b.links.set(net.bridge, { up: true });
  }
  if (!vx) {
    const spec: LinkSpec = {
      name: o.vxlan, kind: 'vxlan', mtu: net.mtu, alias: tag, addrGenMode: 'none', master: net.bridge,
      vxlan: { vni: o.vni, local: o.local, device: o.device, dstport: o.dstport, learning: false, proxy: true },
      up: true,
    };
    b.links.add(spec);
  } else if (!br || vx.master !== br.index || !vx.up) {
    b.links.set(o.vxlan, { master: net.bridge, up: true });
  }
  // Endpoints whose veth lost its master (the bridge was deleted and made again).
  for (const ep of endpoints) {
    const l = links.get(ep.hostIfname);
    if (l && (!br || l.master !== br.index)) b.links.set(ep.hostIfname, { master: net.bridge });
  }
  if (b.size > 0) await b.commit();
  for (const [key, want] of GC_THRESH) {
    const now = Number(await host.sysctl.get(key).catch(() => 'NaN'));
    if (Number.isFinite(now) && now < want) await host.sysctl.set(key, want);
  }
}

/**
 * Reconciles an overlay after a restart: links as in ensureLinks, then the VXLAN
 * device's FDB and neighbour tables made to match the persisted peers and remote
 * endpoints exactly (what is missing added, what nobody asked for deleted).
 */
export async function ensureOverlay(host: Netns, owner: string, net: NetworkInfo, endpoints: readonly EndpointInfo[]): Promise<void> {
  await ensureLinks(host, owner, net, endpoints);
  const o = net.overlay!;
  const want = desired(o);
  const stale: PendingNeighRequest[] = [];
  for (const e of await host.fdb.list({ dev: o.vxlan })) {
    if (!e.self) continue;
    const keep = e.mac === ZERO_MAC ? e.dst !== undefined && want.floods.has(e.dst) : e.dst !== undefined && want.fdb.get(e.mac) === e.dst;
    if (!keep) stale.push(fdbRequest('delete', { mac: e.mac, dev: o.vxlan, self: true, ...(e.mac === ZERO_MAC && e.dst !== undefined && { dst: e.dst }) }));
  }
  for (const n of await host.neighbours.list({ dev: o.vxlan, family: 4 })) {
    if (n.proxy) continue;
    if (want.neigh.get(n.address) !== n.mac || n.state !== 'permanent') stale.push(neighbourRequest('delete', { dev: o.vxlan, address: n.address }));
  }
  const keys = { vteps: [...want.floods], macs: [...want.fdb.keys()], ips: [...want.neigh.keys()] };
  await send(host, [...stale, ...requests(o, keys)]);
}

/** Deletes an overlay's VXLAN device and bridge (the entries go with the device). */
export async function removeOverlay(host: Netns, net: NetworkInfo): Promise<void> {
  for (const name of [net.overlay!.vxlan, net.bridge]) {
    await host.links.delete(name).catch((e: NetlinkError) => {
      if (e.code !== 'ENODEV') throw e;
    });
  }
}

// --- the control plane --------------------------------------------------------

interface Desired {
  floods: Set<string>;
  /** MAC -> VTEP: the latest report wins. */
  fdb: Map<string, string>;
  /** IP -> MAC. */
  neigh: Map<string, string>;
}

function desired(o: OverlayInfo): Desired {
  const fdb = new Map<string, string>();
  const neigh = new Map<string, string>();
  for (const r of o.remoteEndpoints) {
    fdb.delete(r.mac); // re-inserted last: Map order is the order of the latest report
    fdb.set(r.mac, r.vtep);
    neigh.set(r.ip, r.mac);
  }
  return { floods: new Set(o.peers), fdb, neigh };
}

interface Keys {
  vteps?: string[];
  macs?: string[];
  ips?: string[];
}

// The requests that make the given keys' entries what the state says: entries that
// should exist are appended or replaced (FDB before neighbour, so an answered ARP has a
// destination), entries that should not are deleted (neighbour before FDB).
function requests(o: OverlayInfo, keys: Keys): PendingNeighRequest[] {
  const want = desired(o);
  const dev = o.vxlan;
  const put: PendingNeighRequest[] = [];
  const drop: PendingNeighRequest[] = [];
  const dropFdb: PendingNeighRequest[] = [];
  for (const vtep of new Set(keys.vteps ?? [])) {
    if (want.floods.has(vtep)) put.push(fdbRequest('append', { mac: ZERO_MAC, dev, dst: vtep, self: true, state: 'permanent' }));
    else dropFdb.push(fdbRequest('delete', { mac: ZERO_MAC, dev, dst: vtep, self: true }));
  }
  for (const mac of new Set(keys.macs ?? [])) {
    const vtep = want.fdb.get(mac);
    if (vtep !== undefined) put.push(fdbRequest('replace', { mac, dev, dst: vtep, self: true, state: 'permanent' }));
    else dropFdb.push(fdbRequest('delete', { mac, dev, self: true }));
  }
  for (const ip of new Set(keys.ips ?? [])) {
    const mac = want.neigh.get(ip);
    if (mac !== undefined) put.push(neighbourRequest('replace', { dev, address: ip, mac, state: 'permanent' }));
    else drop.push(neighbourRequest('delete', { dev, address: ip }));
  }
  return [...put, ...drop, ...dropFdb];
}

// One RTM_NEWNEIGH/RTM_DELNEIGH per entry, as few sendmsg as the socket allows; a
// delete that finds nothing is fine.
async function send(host: Netns, reqs: PendingNeighRequest[]): Promise<void> {
  if (reqs.length === 0) return;
  const devs = new DevResolver(host);
  const resolved = await Promise.all(reqs.map((r) => resolveRequest(r, devs)));
  await call(native.neighApply(host.handle(), resolved, false, true));
}

// Changes the persisted lists and makes the kernel follow; if the kernel refuses, the
// lists go back to what they were and so, as far as possible, do the entries.
async function change(host: Netns, o: OverlayInfo, mutate: (o: OverlayInfo) => Keys): Promise<void> {
  const before = { peers: [...o.peers], remoteEndpoints: o.remoteEndpoints.map((r) => ({ ...r })) };
  const keys = mutate(o);
  try {
    await send(host, requests(o, keys));
  } catch (e) {
    o.peers = before.peers;
    o.remoteEndpoints = before.remoteEndpoints;
    await send(host, requests(o, keys)).catch(() => undefined);
    throw e;
  }
}

/** A VTEP address: an IP of the underlay's family, not this host's own. */
export function checkVtep(o: OverlayInfo, vtep: unknown, what = 'vtep'): string {
  const v = normalizeIp(checkAddress(vtep, what));
  if (parseIp(v).family !== parseIp(o.local).family) throw new TypeError(`${what} ${v} is not of the underlay's address family`);
  if (v === o.local) throw new TypeError(`${what} ${v} is this host's own VTEP`);
  return v;
}

/** Adds a peer VTEP: its all-zeros FDB entry (flooding). Idempotent. */
export async function addPeer(host: Netns, net: NetworkInfo, vtepIn: string): Promise<void> {
  const o = net.overlay!;
  const vtep = checkVtep(o, vtepIn);
  if (o.peers.includes(vtep)) return;
  await change(host, o, (s) => {
    s.peers.push(vtep);
    return { vteps: [vtep] };
  });
}

/** Removes a peer VTEP: its flood entry and every remote endpoint behind it. Idempotent. */
export async function removePeer(host: Netns, net: NetworkInfo, pool: AddressPool, vtepIn: string): Promise<void> {
  const o = net.overlay!;
  const vtep = checkVtep(o, vtepIn);
  const gone = o.remoteEndpoints.filter((r) => r.vtep === vtep);
  if (!o.peers.includes(vtep) && gone.length === 0) return;
  await change(host, o, (s) => {
    s.peers = s.peers.filter((p) => p !== vtep);
    s.remoteEndpoints = s.remoteEndpoints.filter((r) => r.vtep !== vtep);
    return { vteps: [vtep], macs: gone.map((r) => r.mac), ips: gone.map((r) => r.ip) };
  });
  for (const r of gone) pool.release(r.ip, REMOTE_OWNER);
}

/** Validates a remote endpoint against the network (TypeError / RangeError). */
export function checkRemoteEndpoint(net: NetworkInfo, ep: RemoteEndpoint): RemoteEndpoint {
  const o = net.overlay!;
  const e = checkObject(ep, 'remote endpoint');
  const ip = normalizeIp(checkAddress(e.ip, 'remote endpoint ip'));
  if (!contains(net.subnet, ip)) throw new RangeError(`remote endpoint ip ${ip} is not in ${net.subnet}`);
  const mac = checkMac(e.mac, 'remote endpoint mac');
  if (mac === ZERO_MAC || (parseInt(mac.slice(0, 2), 16) & 1) === 1) throw new TypeError(`remote endpoint mac ${mac} must be a unicast address`);
  return { ip, mac, vtep: checkVtep(o, e.vtep, 'remote endpoint vtep') };
}

/**
 * Adds or replaces a remote endpoint: its address is held in the local pool (never
 * handed out here; AddressInUseError if a local container has it), then its FDB entry
 * (MAC -> VTEP) and its permanent neighbour entry (IP -> MAC) on the VXLAN device.
 */
export async function addRemoteEndpoint(host: Netns, net: NetworkInfo, pool: AddressPool, epIn: RemoteEndpoint): Promise<void> {
  const o = net.overlay!;
  const ep = checkRemoteEndpoint(net, epIn);
  const old = o.remoteEndpoints.find((r) => r.ip === ep.ip);
  if (old && old.mac === ep.mac && old.vtep === ep.vtep) return;
  const owner = pool.ownerOf(ep.ip);
  if (owner !== undefined && owner !== REMOTE_OWNER) throw new AddressInUseError(ep.ip, net.subnet, owner);
  const claimed = owner === undefined;
  pool.claim(ep.ip, REMOTE_OWNER);
  try {
    await change(host, o, (s) => {
      s.remoteEndpoints = [...s.remoteEndpoints.filter((r) => r.ip !== ep.ip), ep];
      return { macs: old ? [old.mac, ep.mac] : [ep.mac], ips: [ep.ip] };
    });
  } catch (e) {
    if (claimed) pool.release(ep.ip, REMOTE_OWNER);
    throw e;
  }
}

/** Removes a remote endpoint (by IP): its neighbour entry, and its FDB entry once no other address uses that MAC. Idempotent. */
export async function removeRemoteEndpoint(host: Netns, net: NetworkInfo, pool: AddressPool, ipIn: string): Promise<void> {
  const o = net.overlay!;
  const ip = normalizeIp(checkAddress(ipIn, 'remote endpoint ip'));
  const old = o.remoteEndpoints.find((r) => r.ip === ip);
  if (!old) return;
  await change(host, o, (s) => {
    s.remoteEndpoints = s.remoteEndpoints.filter((r) => r.ip !== ip);
    return { macs: [old.mac], ips: [ip] };
  });
  pool.release(ip, REMOTE_OWNER);
}
