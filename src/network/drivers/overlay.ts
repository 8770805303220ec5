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
//                    neigh replace IP6 lladdr MAC nud permanent              (dev vx-…, with IPv6)
//
// Why the neighbour entries sit on the VXLAN device: with `proxy` the device answers
// every ARP request the bridge floods to it from its own neighbour table (the kernel's
// arp_reduce) and never sends ARP across the underlay; that is where a container's ARP
// gets its answer without touching the container's own cache, and since the bridge has
// no address the host never routes through these entries (Docker's overlay and flannel
// do the same). An address with no entry gets no answer. IPv6 is the same with NDP: a
// neighbour solicitation the bridge floods to the device is answered from its IPv6
// neighbour table (neigh_reduce) and goes no further; the device keeps IPv6 enabled for
// that (the table lives on its inet6 device) but has no address of its own.
//
// Several remote addresses may share a MAC on one VTEP: the FDB entry is kept while any
// of them is known (reference-counted per VTEP and MAC). A MAC seen again on another
// VTEP follows its latest report (replace semantics). Peers and remote endpoints are
// records in the store (kinds 'peer' and 'remote', one row each), written before the
// kernel entries they describe; reopening the controller makes the kernel match them.
import { native } from '../../binding';
import { call, NetlinkError } from '../../errors';
import { fdbRequest } from '../../fdb';
import { DevResolver, neighbourRequest, resolveRequest, type PendingNeighRequest } from '../../neighbours';
import type { Netns } from '../../netns';
import type { LinkSpec } from '../../spec';
import type { Neighbour } from '../../types';
import { checkInt, checkMac, checkObject } from '../../validate';
import type { DriverContext, DriverRecord, NetworkDriver } from '../driver';
import { AddressInUseError, contains, normalizeIp, parseIp, type AddressPool } from '../ipam';
import { Network, type NetworkController } from '../network';
import { poolIds, type StoreTx } from '../store';
import type { EndpointInfo, NetworkInfo, OverlayInfo, OverlayNetworkOptions, RemoteEndpoint } from '../types';
import {
  addressInfo, checkLabels, checkMtu, checkNoLink, checkOptions, checkSubnetFree, familyPools, findLink, ifnameOr, networkTag,
} from './common';
import { adoptVeths } from '../rebuild';
import { attachVethEndpoint, BridgeIndex, deleteVeth, quiesceVeth, vethAlive, vethHostLinks } from './veth';

/** IANA's VXLAN port. */
export const VXLAN_PORT = 4789;
const ZERO_MAC = '00:00:00:00:00:00';
/** Owner of remote endpoints' addresses in the local pool: never handed out here. */
const REMOTE_OWNER = 'remote';
// Neighbour table sizes for large overlays, raised (never lowered) where the namespace
// exports them: a namespace owned by another user namespace does not (nothing to do there).
const GC_THRESH = (family: 4 | 6): [string, number][] => [
  [`net.ipv${family}.neigh.default.gc_thresh1`, 8192],
  [`net.ipv${family}.neigh.default.gc_thresh2`, 32768],
  [`net.ipv${family}.neigh.default.gc_thresh3`, 65536],
];

/** Overlay options, validated; the pools hold each family's subnet, gateway and range. */
interface CheckedOverlay {
  pools: { v4?: AddressPool; v6?: AddressPool };
  vni: number;
  local: string;
  device: string;
  dstport: number;
  mtu?: number;
  bridge?: string;
  vxlan?: string;
  labels: Record<string, string>;
}

function checkAddress(v: unknown, what: string): string {
  if (typeof v !== 'string') throw new TypeError(`${what} must be an IP address, got ${typeof v}`);
  parseIp(v, what);
  return v;
}

// Records: one per peer VTEP, one per remote endpoint (with the order of reports, which
// decides where a MAC reported behind two VTEPs goes: the latest report wins).
const PEER = 'peer';
const REMOTE = 'remote';
interface RemoteRecord extends RemoteEndpoint {
  /** Report order. */
  at: number;
}
let reportClock = 0;
function nextReport(): number {
  // Milliseconds with a counter below them: increasing within a process, and ordered
  // across processes by wall clock.
  reportClock = Math.max(reportClock + 1, Date.now() * 1000);
  return reportClock;
}

const bridges = new BridgeIndex();

/** The overlay's state on this host: static configuration plus the peers and remote endpoints of the store. */
function stateOf(ctx: DriverContext, net: NetworkInfo): { o: OverlayInfo; peers: string[]; remotes: RemoteRecord[] } {
  const o = net.overlay!;
  const peers = [...ctx.store.records<{ vtep: string }>(net.id, PEER).values()].map((p) => p.vtep);
  const remotes = [...ctx.store.records<RemoteRecord>(net.id, REMOTE).values()].sort((a, b) => a.at - b.at);
  return { o, peers, remotes };
}

export const overlayDriver: NetworkDriver<CheckedOverlay> = {
  name: 'overlay',
  features: { ports: false, gatewayNetwork: true, create: true, hostLink: true },

  validate(opts) {
    const o = checkOptions(opts as unknown as OverlayNetworkOptions, 'overlay options');
    if (o.vni === undefined) throw new TypeError('an overlay network needs vni');
    const vni = checkInt(o.vni, 'vni', 1, 0xffffff);
    if (o.local === undefined) throw new TypeError("an overlay network needs local: this host's underlay address");
    const local = normalizeIp(checkAddress(o.local, 'local'));
    if (o.device === undefined) throw new TypeError('an overlay network needs device: the underlay link');
    const device = ifnameOr(o.device, 'device', '');
    const out: CheckedOverlay = {
      pools: familyPools(o),
      vni,
      local,
      device,
      dstport: o.dstport === undefined ? VXLAN_PORT : checkInt(o.dstport, 'dstport', 1, 65535),
      labels: checkLabels(o.labels),
    };
    const mtu = checkMtu(o.mtu);
    if (mtu !== undefined) out.mtu = mtu;
    if (o.bridge !== undefined) out.bridge = ifnameOr(o.bridge, 'bridge', '');
    if (o.vxlan !== undefined) out.vxlan = ifnameOr(o.vxlan, 'vxlan', '');
    return out;
  },

  /**
   * Creates an overlay on this host: checks the underlay (device present, `local` one of
   * its addresses, MTU room for the encapsulation), the VNI and subnet against the other
   * networks, then the bridge and the VXLAN device in one batch (undone if it fails).
   */
  async create(ctx, base, o, others) {
    const host = ctx.host;
    const addrs = addressInfo(o.pools);
    const same = others.find((n) => n.overlay?.vni === o.vni);
    if (same) throw new NetlinkError({ errno: 17, op: 'network', detail: `VNI ${o.vni} belongs to network ${same.name}` });
    checkSubnetFree(addrs.subnet, others, addrs.ipv6Subnet);
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
      ...addrs,
      mtu: o.mtu ?? room,
      // Layer 2 only: the bridge has no address, the host neither routes nor filters the
      // overlay, and containers reach the outside through a gateway network.
      masquerade: false,
      icc: true,
      internal: true,
      isDefault: false,
      labels: o.labels,
      overlay: { vni: o.vni, vxlan, device: o.device, local: o.local, dstport: o.dstport },
    };
    try {
      await ensureLinks(ctx, info, []);
    } catch (e) {
      await removeLinks(host, info).catch(() => undefined);
      throw e;
    }
    return { info };
  },

  async remove(ctx, net) {
    await removeLinks(ctx.host, net);
    bridges.forget(net.id);
  },

  /**
   * Reconciles an overlay after a restart: links as in ensureLinks, then the VXLAN
   * device's FDB and neighbour tables made to match the recorded peers and remote
   * endpoints exactly (what is missing added, what nobody asked for deleted). An overlay
   * whose underlay is gone must not keep every other network down: that is a warning.
   */
  async reconcile(ctx, net, endpoints) {
    try {
      await ensureLinks(ctx, net, endpoints);
      bridges.forget(net.id);
      const { o } = stateOf(ctx, net);
      const want = desired(ctx, net);
      const stale: PendingNeighRequest[] = [];
      for (const e of await ctx.host.fdb.list({ dev: o.vxlan })) {
        if (!e.self) continue;
        const keep = e.mac === ZERO_MAC ? e.dst !== undefined && want.floods.has(e.dst) : e.dst !== undefined && want.fdb.get(e.mac) === e.dst;
        if (!keep) stale.push(fdbRequest('delete', { mac: e.mac, dev: o.vxlan, self: true, ...(e.mac === ZERO_MAC && e.dst !== undefined && { dst: e.dst }) }));
      }
      for (const n of await vxlanNeighbours(ctx, net)) {
        if (n.proxy) continue;
        if (want.neigh.get(normalizeIp(n.address)) !== n.mac || n.state !== 'permanent') stale.push(neighbourRequest('delete', { dev: o.vxlan, address: n.address }));
      }
      const keys = { vteps: [...want.floods], macs: [...want.fdb.keys()], ips: [...want.neigh.keys()] };
      await send(ctx.host, [...stale, ...requests(o.vxlan, want, keys)]);
    } catch (e) {
      ctx.warn(`overlay network ${net.name} not reconciled: ${(e as Error).message}`);
    }
  },

  attach: (ctx, net, ep, target) => attachVethEndpoint(ctx, net, ep, target, bridges),
  detach: (ctx, _net, ep) => quiesceVeth(ctx, ep),
  abort: (ctx, _net, ep) => deleteVeth(ctx, ep),
  alive: async (ctx, _net, ep, links) => vethAlive(ctx, ep, links),
  hostLinks: (net, endpoints) => vethHostLinks([net.bridge, net.overlay!.vxlan], endpoints),
  handle: (ctl, id) => new OverlayNetwork(ctl, id),

  // Peers and remote endpoints from the VXLAN device's FDB (all-zeros entries are peers)
  // and its permanent neighbours (each with the VTEP of its MAC's entry).
  async adopt(ctx, net, scan) {
    const dev = net.overlay!.vxlan;
    const records: DriverRecord[] = [];
    const fdb = await ctx.host.fdb.list({ dev }).catch(() => []);
    const vtepOf = new Map<string, string>();
    for (const e of fdb) {
      if (!e.self || e.dst === undefined) continue;
      if (e.mac === ZERO_MAC) records.push({ kind: PEER, key: e.dst, value: { vtep: e.dst } });
      else vtepOf.set(e.mac, e.dst);
    }
    // A remote endpoint is its MAC: the IPv4 and IPv6 entries of one MAC are one endpoint
    // (an overlay gives a container one address of each family).
    const byMac = new Map<string, RemoteRecord>();
    for (const n of await vxlanNeighbours(ctx, net).catch(() => [])) {
      const vtep = n.mac === undefined ? undefined : vtepOf.get(n.mac);
      if (n.proxy || vtep === undefined || n.state !== 'permanent') continue;
      const r = byMac.get(n.mac!) ?? { ip: '', mac: n.mac!, vtep, at: nextReport() };
      if (n.family === 6) r.ip6 = normalizeIp(n.address);
      else r.ip = n.address;
      byMac.set(n.mac!, r);
    }
    for (const r of byMac.values()) records.push({ kind: REMOTE, key: remoteKey(r), value: r });
    return { endpoints: adoptVeths(ctx, net, scan), records };
  },

  fromLegacy(doc) {
    // 0.1.0 kept the peers and remote endpoints in the network document.
    const legacy = doc.overlay as OverlayInfo & { peers?: string[]; remoteEndpoints?: RemoteEndpoint[] };
    const { peers = [], remoteEndpoints = [], ...overlay } = legacy;
    const records: DriverRecord[] = [
      ...peers.map((vtep) => ({ kind: PEER, key: vtep, value: { vtep } })),
      ...remoteEndpoints.map((r) => ({ kind: REMOTE, key: r.ip, value: { ...r, at: nextReport() } })),
    ];
    return { info: { ...(doc as NetworkInfo), overlay }, records };
  },
};

// The bridge and the VXLAN device, up, the device (and the endpoints' veths) enslaved;
// whatever is missing is created, in one batch.
async function ensureLinks(ctx: DriverContext, net: NetworkInfo, endpoints: readonly EndpointInfo[]): Promise<void> {
  const host = ctx.host;
  const o = net.overlay!;
  const links = new Map((await host.links.list()).map((l) => [l.name, l]));
  const br = links.get(net.bridge);
  const vx = links.get(o.vxlan);
  if (br && br.kind !== 'bridge') throw new NetlinkError({ errno: 17, op: 'network', detail: `${net.bridge} exists and is not a bridge` });
  if (vx && vx.kind !== 'vxlan') throw new NetlinkError({ errno: 17, op: 'network', detail: `${o.vxlan} exists and is not a VXLAN device` });
  const tag = networkTag(ctx.owner, net);
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
    if (l && l.group !== ctx.reapGroup && (!br || l.master !== br.index)) b.links.set(ep.hostIfname, { master: net.bridge });
  }
  if (b.size > 0) await b.commit();
  for (const [key, want] of [...(net.subnet !== '' ? GC_THRESH(4) : []), ...(net.ipv6Subnet !== undefined ? GC_THRESH(6) : [])]) {
    const now = Number(await host.sysctl.get(key).catch(() => 'NaN'));
    if (Number.isFinite(now) && now < want) await host.sysctl.set(key, want);
  }
}

// Deletes the VXLAN device and the bridge (the FDB and neighbour entries go with the device).
async function removeLinks(host: Netns, net: NetworkInfo): Promise<void> {
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

function desired(ctx: DriverContext, net: NetworkInfo): Desired {
  const { peers, remotes } = stateOf(ctx, net);
  const fdb = new Map<string, string>();
  const neigh = new Map<string, string>();
  for (const r of remotes) {
    fdb.delete(r.mac); // re-inserted last: Map order is the order of the latest report
    fdb.set(r.mac, r.vtep);
    if (r.ip !== '') neigh.set(r.ip, r.mac);
    if (r.ip6 !== undefined) neigh.set(r.ip6, r.mac);
  }
  return { floods: new Set(peers), fdb, neigh };
}

interface Keys {
  vteps?: string[];
  macs?: string[];
  ips?: string[];
}

// The requests that make the given keys' entries what the state says: entries that
// should exist are appended or replaced (FDB before neighbour, so an answered ARP has a
// destination), entries that should not are deleted (neighbour before FDB).
function requests(dev: string, want: Desired, keys: Keys): PendingNeighRequest[] {
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

// Records what a control-plane operation changes (in one store transaction, before the
// kernel), then makes the kernel follow for exactly the keys it touched. If the kernel
// refuses, the records go back to what they were and so, as far as possible, do the entries.
async function change(ctx: DriverContext, net: NetworkInfo, mutate: (tx: StoreTx, undo: ((tx: StoreTx) => void)[]) => Keys): Promise<void> {
  const undo: ((tx: StoreTx) => void)[] = [];
  const keys = ctx.write((tx) => mutate(tx, undo));
  const dev = net.overlay!.vxlan;
  try {
    await send(ctx.host, requests(dev, desired(ctx, net), keys));
  } catch (e) {
    ctx.write((tx) => {
      for (let i = undo.length - 1; i >= 0; i--) undo[i]!(tx);
    });
    await send(ctx.host, requests(dev, desired(ctx, net), keys)).catch(() => undefined);
    throw e;
  }
}

// Writes a record, remembering how to put back what was there.
function putRecord(tx: StoreTx, undo: ((tx: StoreTx) => void)[], net: string, kind: string, key: string, value: unknown): void {
  const before = tx.store.records(net, kind).get(key);
  tx.putRecord(net, kind, key, value);
  undo.push((t) => (before === undefined ? t.deleteRecord(net, kind, key) : t.putRecord(net, kind, key, before)));
}

function deleteRecord(tx: StoreTx, undo: ((tx: StoreTx) => void)[], net: string, kind: string, key: string): void {
  const before = tx.store.records(net, kind).get(key);
  if (before === undefined) return;
  tx.deleteRecord(net, kind, key);
  undo.push((t) => t.putRecord(net, kind, key, before));
}

/** A VTEP address: an IP of the underlay's family, not this host's own. */
function checkVtep(o: OverlayInfo, vtep: unknown, what = 'vtep'): string {
  const v = normalizeIp(checkAddress(vtep, what));
  if (parseIp(v).family !== parseIp(o.local).family) throw new TypeError(`${what} ${v} is not of the underlay's address family`);
  if (v === o.local) throw new TypeError(`${what} ${v} is this host's own VTEP`);
  return v;
}

/**
 * Validates a remote endpoint against the network (TypeError / RangeError): an address
 * of each family the network has (ip '' on an IPv6-only overlay; ip6 optional on a
 * dual-stack one, for a container that has none).
 */
function checkRemoteEndpoint(net: NetworkInfo, ep: RemoteEndpoint): RemoteEndpoint {
  const o = net.overlay!;
  const e = checkObject(ep, 'remote endpoint');
  let ip = '';
  if (net.subnet !== '') {
    ip = normalizeIp(checkAddress(e.ip, 'remote endpoint ip'));
    if (!contains(net.subnet, ip)) throw new RangeError(`remote endpoint ip ${ip} is not in ${net.subnet}`);
  } else if (e.ip !== undefined && e.ip !== '') {
    throw new TypeError(`remote endpoint ip: network ${net.name} has no IPv4 (give ip6)`);
  }
  let ip6: string | undefined;
  if (e.ip6 !== undefined) {
    if (net.ipv6Subnet === undefined) throw new TypeError(`remote endpoint ip6: network ${net.name} has no IPv6`);
    ip6 = normalizeIp(checkAddress(e.ip6, 'remote endpoint ip6'));
    if (!contains(net.ipv6Subnet, ip6)) throw new RangeError(`remote endpoint ip6 ${ip6} is not in ${net.ipv6Subnet}`);
  } else if (ip === '') {
    throw new TypeError('remote endpoint ip6 is required on an IPv6-only overlay');
  }
  const mac = checkMac(e.mac, 'remote endpoint mac');
  if (mac === ZERO_MAC || (parseInt(mac.slice(0, 2), 16) & 1) === 1) throw new TypeError(`remote endpoint mac ${mac} must be a unicast address`);
  return { ip, ...(ip6 !== undefined && { ip6 }), mac, vtep: checkVtep(o, e.vtep, 'remote endpoint vtep') };
}

/** A remote endpoint's record key: its IPv4 address, or its IPv6 one on an IPv6-only overlay. */
function remoteKey(r: Pick<RemoteEndpoint, 'ip' | 'ip6'>): string {
  return r.ip !== '' ? r.ip : r.ip6!;
}

/** The VXLAN device's neighbour entries of the network's families. */
async function vxlanNeighbours(ctx: DriverContext, net: NetworkInfo): Promise<Neighbour[]> {
  const dev = net.overlay!.vxlan;
  const out: Neighbour[] = [];
  if (net.subnet !== '') out.push(...(await ctx.host.neighbours.list({ dev, family: 4 })));
  if (net.ipv6Subnet !== undefined) out.push(...(await ctx.host.neighbours.list({ dev, family: 6 })));
  return out;
}

// Holds (or frees) a remote endpoint's addresses in the local pools, so that no local
// container is given one; undo entries put things back.
function holdRemote(tx: StoreTx, undo: ((tx: StoreTx) => void)[], net: NetworkInfo, r: Pick<RemoteEndpoint, 'ip' | 'ip6'>): void {
  const ids = poolIds(net.id);
  for (const [pool, address, subnet] of [[ids.v4, r.ip, net.subnet], [ids.v6, r.ip6, net.ipv6Subnet]] as const) {
    if (address === undefined || address === '') continue;
    const owner = tx.store.pools.get(pool)!.ownerOf(address);
    if (owner !== undefined && owner !== REMOTE_OWNER) throw new AddressInUseError(address, subnet!, owner);
    if (owner === undefined) {
      tx.claim(pool, address, REMOTE_OWNER);
      undo.push((t) => t.release(pool, address));
    }
  }
}

function releaseRemote(tx: StoreTx, undo: ((tx: StoreTx) => void)[], net: NetworkInfo, r: Pick<RemoteEndpoint, 'ip' | 'ip6'>): void {
  const ids = poolIds(net.id);
  for (const [pool, address] of [[ids.v4, r.ip], [ids.v6, r.ip6]] as const) {
    if (address === undefined || address === '') continue;
    if (tx.store.pools.get(pool)?.ownerOf(address) !== REMOTE_OWNER) continue;
    tx.release(pool, address);
    undo.push((t) => t.claim(pool, address, REMOTE_OWNER));
  }
}

/** Adds a peer VTEP: its all-zeros FDB entry (flooding). Idempotent. */
async function addPeer(ctx: DriverContext, net: NetworkInfo, vtepIn: string): Promise<void> {
  const vtep = checkVtep(net.overlay!, vtepIn);
  if (ctx.store.records(net.id, PEER).has(vtep)) return;
  await change(ctx, net, (tx, undo) => {
    putRecord(tx, undo, net.id, PEER, vtep, { vtep });
    return { vteps: [vtep] };
  });
}

/** Removes a peer VTEP: its flood entry and every remote endpoint behind it. Idempotent. */
async function removePeer(ctx: DriverContext, net: NetworkInfo, vtepIn: string): Promise<void> {
  const vtep = checkVtep(net.overlay!, vtepIn);
  const gone = stateOf(ctx, net).remotes.filter((r) => r.vtep === vtep);
  if (!ctx.store.records(net.id, PEER).has(vtep) && gone.length === 0) return;
  await change(ctx, net, (tx, undo) => {
    deleteRecord(tx, undo, net.id, PEER, vtep);
    for (const r of gone) {
      deleteRecord(tx, undo, net.id, REMOTE, remoteKey(r));
      releaseRemote(tx, undo, net, r);
    }
    return { vteps: [vtep], macs: gone.map((r) => r.mac), ips: gone.flatMap(addressesOf) };
  });
}

/**
 * Adds or replaces a remote endpoint: its address is held in the local pool (never
 * handed out here; AddressInUseError if a local container has it), then its FDB entry
 * (MAC -> VTEP) and its permanent neighbour entry (IP -> MAC) on the VXLAN device.
 */
async function addRemoteEndpoint(ctx: DriverContext, net: NetworkInfo, epIn: RemoteEndpoint): Promise<void> {
  const ep = checkRemoteEndpoint(net, epIn);
  const key = remoteKey(ep);
  const old = ctx.store.records<RemoteRecord>(net.id, REMOTE).get(key);
  if (old && old.mac === ep.mac && old.vtep === ep.vtep && old.ip6 === ep.ip6) return;
  await change(ctx, net, (tx, undo) => {
    // An IPv6 address the endpoint had and no longer has is freed (a new one held below).
    if (old?.ip6 !== undefined && old.ip6 !== ep.ip6) releaseRemote(tx, undo, net, { ip: '', ip6: old.ip6 });
    holdRemote(tx, undo, net, ep);
    putRecord(tx, undo, net.id, REMOTE, key, { ...ep, at: nextReport() });
    return { macs: old ? [old.mac, ep.mac] : [ep.mac], ips: [...addressesOf(ep), ...(old ? addressesOf(old) : [])] };
  });
}

/** A remote endpoint's addresses (one per family it has). */
function addressesOf(r: Pick<RemoteEndpoint, 'ip' | 'ip6'>): string[] {
  return [...(r.ip !== '' ? [r.ip] : []), ...(r.ip6 !== undefined ? [r.ip6] : [])];
}

/** Removes a remote endpoint (by either of its addresses): its neighbour entries, and its FDB entry once no other address uses that MAC. Idempotent. */
async function removeRemoteEndpoint(ctx: DriverContext, net: NetworkInfo, ipIn: string): Promise<void> {
  const ip = normalizeIp(checkAddress(ipIn, 'remote endpoint ip'));
  const records = ctx.store.records<RemoteRecord>(net.id, REMOTE);
  const old = records.get(ip) ?? [...records.values()].find((r) => r.ip6 === ip);
  if (!old) return;
  await change(ctx, net, (tx, undo) => {
    deleteRecord(tx, undo, net.id, REMOTE, remoteKey(old));
    releaseRemote(tx, undo, net, old);
    return { macs: [old.mac], ips: addressesOf(old) };
  });
}

/**
 * An overlay network on this host, fed by a control plane of the caller's choosing:
 * peer VTEPs and the endpoints of other hosts. Every change is recorded and reapplied
 * when the controller is opened again. Attach and detach as on any network; with
 * `gatewayNetwork` an overlay container also joins a local bridge network for the outside.
 */
export class OverlayNetwork extends Network {
  /** @internal */
  constructor(ctl: NetworkController, id: string) {
    super(ctl, id);
  }

  /** Floods broadcast and unknown unicast to this VTEP too (RTM_NEWNEIGH AF_BRIDGE, NLM_F_APPEND, 00:00:00:00:00:00 dst vtep). Idempotent. */
  addPeer(vtep: string): Promise<void> {
    return this.controller.driverOp(this.id, (ctx, net) => addPeer(ctx, net, vtep));
  }

  /** Stops flooding to the VTEP and removes every remote endpoint behind it (RTM_DELNEIGH). Idempotent. */
  removePeer(vtep: string): Promise<void> {
    return this.controller.driverOp(this.id, (ctx, net) => removePeer(ctx, net, vtep));
  }

  /**
   * Adds or replaces a remote endpoint: FDB entry MAC -> VTEP (AF_BRIDGE, NLM_F_REPLACE)
   * and a permanent neighbour IP -> MAC (AF_INET, NLM_F_REPLACE) on the VXLAN device,
   * which answers the containers' ARP for it; with `ip6`, one more (AF_INET6), which
   * answers their neighbour solicitations (the NDP proxy). Its addresses are never
   * handed out here.
   */
  addRemoteEndpoint(ep: RemoteEndpoint): Promise<void> {
    return this.controller.driverOp(this.id, (ctx, net) => addRemoteEndpoint(ctx, net, ep));
  }

  /** Removes a remote endpoint (by its IPv4 or IPv6 address): its neighbour entries, and its FDB entry unless another endpoint shares the MAC on that VTEP. Idempotent. */
  removeRemoteEndpoint(ep: string | Pick<RemoteEndpoint, 'ip' | 'ip6'>): Promise<void> {
    const ip = typeof ep === 'object' && ep !== null ? (ep.ip !== '' && ep.ip !== undefined ? ep.ip : ep.ip6!) : ep;
    return this.controller.driverOp(this.id, (ctx, net) => removeRemoteEndpoint(ctx, net, ip));
  }

  /** The peer VTEPs. */
  peers(): string[] {
    return this.controller.records<{ vtep: string }>(this.id, PEER).map((p) => p.vtep);
  }

  /** The remote endpoints, in the order they were (last) reported. */
  remoteEndpoints(): RemoteEndpoint[] {
    return this.controller
      .records<RemoteRecord>(this.id, REMOTE)
      .sort((a, b) => a.at - b.at)
      .map(({ ip, ip6, mac, vtep }) => ({ ip, ...(ip6 !== undefined && { ip6 }), mac, vtep }));
  }
}
