// Overlay networks: VXLAN across hosts, one host's half. Each host (each Networks
// controller) holds the same overlay (same VNI, same subnet) as:
//
//   container ─ veth ─┐
//   container ─ veth ─┼─ bridge ov-… (no address) ── vxlan vx-… ══ UDP 4789 over the underlay link ══ peer VTEPs
//
// The VXLAN device has learning off and proxy on; nothing is learned and no miss is
// reported (no l2miss/l3miss handlers): the control plane, whatever it is, tells each
// host what to know, and this module turns it into kernel entries. Every port of the
// bridge (the VXLAN device, each container's veth) has proxy_arp_wifi on.
//
//   peer VTEP        fdb append 00:00:00:00:00:00 dst VTEP self permanent   (dev vx-…)
//                    Broadcast, multicast and unknown unicast are sent to every peer.
//   remote endpoint  fdb replace MAC dst VTEP self permanent                (dev vx-…)   which VTEP
//                    fdb replace MAC master static                          (dev vx-…)   which bridge port
//                    neigh replace IP lladdr MAC nud permanent              (dev ov-…)   what to answer
//   local endpoint   fdb replace MAC master static                          (dev its veth)  in the attach's
//                    neigh replace IP lladdr MAC nud permanent              (dev ov-…)      host batch
//   IPv6             neigh replace IP6 lladdr MAC nud permanent             (dev vx-…)   a remote endpoint's
//
// IPv6 is answered the old way: a neighbour solicitation the bridge floods to the VXLAN
// device is answered from the device's IPv6 neighbour table (neigh_reduce, proxy mode)
// and goes no further; the device keeps IPv6 enabled for that (the table lives on its
// inet6 device) but has no address of its own. (The bridge's answering is IPv4's:
// docs/overlay.md says what IPv6 would need and why it is not done.)
//
// ARP is answered by the bridge (net/bridge/br_arp_nd_proxy.c, br_do_proxy_suppress_arp,
// which br_handle_frame_finish calls for every ARP frame a port receives): for a request
// whose target is in the bridge device's neighbour table, it looks the entry's MAC up in
// the bridge's FDB (br_fdb_find_rcu: the `master` entries above); when that port has
// proxy_arp_wifi it sends the reply itself, straight out of the port the request came in
// on, and marks the request answered, and br_flood (br_forward.c) then skips every
// proxy_arp_wifi port: no other container and not the VXLAN device gets a copy. A
// container's ARP for a known address, local or remote, costs one frame each way. Before,
// the bridge flooded it to every port and the VXLAN device answered from a neighbour
// table of its own: on a 1,000-port bridge the flood filled the per-CPU backlog
// (net.core.netdev_max_backlog) and the answer was dropped (docs/overlay.md).
//
// A request for an address this host was not told about is flooded as before and
// answered by its owner, if it is a container here. It never crosses the underlay: in
// proxy mode the VXLAN device consumes every ARP frame (arp_reduce) and, its own
// neighbour table empty, answers none. Broadcast and multicast flood as before.
// Not used: proxy_arp (on the asking port): such a port is never flooded to at all, so
// broadcasts and requests for unknown addresses would no longer reach the containers;
// neigh_suppress: once any port has it, the bridge also stops flooding gratuitous ARP and
// ARP probes to the containers, and it never answers requests arriving on a port that
// has it (it would answer IPv6 neighbour solicitations for remote endpoints: see
// docs/overlay.md for IPv6). The bridge has no address: the host never routes through
// these neighbour entries.
//
// Several remote addresses may share a MAC on one VTEP: the FDB entries are kept while any
// of them is known (reference-counted per VTEP and MAC). A MAC seen again on another
// VTEP follows its latest report (replace semantics). Peers and remote endpoints are
// records in the store (kinds 'peer' and 'remote', one row each), written before the
// kernel entries they describe; reopening the controller makes the kernel match them.
import { NetlinkError } from '../../errors';
import { fdbRequest } from '../../fdb';
import { applyNeighRequests, neighbourRequest, type PendingNeighRequest } from '../../neighbours';
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

// The ifindexes of each overlay's bridge and VXLAN device, looked up once and kept: attach,
// detach and update() name them without a RTM_GETLINK. Forgotten when reconcile may have
// made the links again, and by a change that finds one stale (ENODEV).
const bridges = new BridgeIndex();
const vxlans = new BridgeIndex((net) => net.overlay!.vxlan);

/** The overlay's two links, by ifindex. */
interface Devs {
  bridge: number;
  vxlan: number;
}

async function devsOf(ctx: DriverContext, net: NetworkInfo): Promise<Devs> {
  const [bridge, vxlan] = await Promise.all([bridges.get(ctx, net), vxlans.get(ctx, net)]);
  return { bridge, vxlan };
}

function forgetDevs(id: string): void {
  bridges.forget(id);
  vxlans.forget(id);
}

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
    forgetDevs(net.id);
  },

  /**
   * Reconciles an overlay after a restart: links as in ensureLinks, then the VXLAN
   * device's FDB, the bridge's FDB and the bridge's neighbour table made to match the
   * recorded peers, remote endpoints and local endpoints exactly (what is missing added,
   * what nobody asked for deleted). An overlay whose underlay is gone must not keep
   * every other network down: that is a warning.
   */
  async reconcile(ctx, net, endpoints) {
    try {
      await ensureLinks(ctx, net, endpoints);
      forgetDevs(net.id);
      await repairKernel(ctx, net, endpoints);
    } catch (e) {
      ctx.warn(`overlay network ${net.name} not reconciled: ${(e as Error).message}`);
    }
  },

  // The port answers ARP for its container (proxy_arp_wifi) and the bridge knows the
  // container before it sends a frame: its static FDB entry and its neighbour entry go in
  // the host batch, so an attach is still two sendmsg. The FDB entry is a replace: a MAC
  // that lived on another host until now (an address handed out again: MACs follow
  // addresses) had its entry on the VXLAN port, and would have sent the new container's
  // frames back towards the port they came in on (dropped) until it aged out.
  // (The bridge answers ARP: IPv4. An IPv6-only endpoint gets the port flag alone.)
  attach: (ctx, net, ep, target) => attachVethEndpoint(ctx, net, ep, target, bridges, { proxyArpWifi: true, bridgeEntries: ep.ip !== '' }),
  // Down, to the reap group, and the bridge stops answering ARP for the address: one sendmsg.
  detach: async (ctx, net, ep) => quiesceVeth(ctx, ep, await bridges.get(ctx, net).catch(() => undefined)),
  async abort(ctx, net, ep) {
    await deleteVeth(ctx, ep);
    const bridge = await bridges.get(ctx, net).catch(() => undefined);
    if (bridge !== undefined && ep.ip !== '') await ctx.host.neighbours.delete({ dev: bridge, address: ep.ip }).catch(() => undefined);
  },
  alive: async (ctx, _net, ep, links) => vethAlive(ctx, ep, links),
  hostLinks: (net, endpoints) => vethHostLinks([net.bridge, net.overlay!.vxlan], endpoints),
  handle: (ctl, id) => new OverlayNetwork(ctl, id),

  // Peers and remote endpoints from the VXLAN device's FDB (all-zeros entries are peers)
  // and the permanent neighbours whose MAC it sends to a VTEP: the bridge's (local
  // endpoints' MACs are on their veths, not there), or the VXLAN device's own, where
  // versions before the bridge answered ARP kept them.
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
    // A remote endpoint is its MAC: the IPv4 entry (the bridge's; or the VXLAN device's,
    // where versions before the bridge answered ARP kept it) and the IPv6 one (the VXLAN
    // device's) of one MAC are one endpoint.
    const byMac = new Map<string, RemoteRecord>();
    const found: Neighbour[] = [];
    for (const on of [net.bridge, dev]) found.push(...(await ctx.host.neighbours.list({ dev: on, family: 4 }).catch(() => [])));
    found.push(...(await vxlanNeighbours6(ctx, net, dev).catch(() => [])));
    for (const n of found) {
      const vtep = n.mac === undefined ? undefined : vtepOf.get(n.mac);
      if (n.proxy || vtep === undefined || n.state !== 'permanent') continue;
      const r = byMac.get(n.mac!) ?? { ip: '', mac: n.mac!, vtep, at: nextReport() };
      if (n.family === 6) r.ip6 = normalizeIp(n.address);
      else if (r.ip === '') r.ip = n.address;
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
  // The bridge's MAC is set, never taken from its ports: a bridge that takes the lowest
  // of its ports' MACs changes it whenever such a port comes or goes, and a changed
  // address flushes the device's neighbour table, permanent entries too (arp_netdev_event,
  // NETDEV_CHANGEADDR -> neigh_changeaddr): every ARP answer the bridge holds would go.
  // A set address stays (br_stp_recalculate_bridge_id leaves NET_ADDR_SET alone).
  const mac = bridgeMac(net);
  if (!br) {
    b.links.add({
      name: net.bridge, kind: 'bridge', mtu: net.mtu, alias: tag, addrGenMode: 'none', mac,
      bridge: { stp: false, multicastSnooping: false }, up: true,
    });
  } else if (!br.up || br.mac !== mac) {
    b.links.set(net.bridge, { up: true, mac });
  }
  // Every port answers ARP for what is behind it (proxy_arp_wifi: see the top of this
  // file). The kernel takes port options only from a link that is a port already
  // (rtnl_changelink asks the current master), hence a second change after a new master.
  const arp = { proxyArpWifi: true };
  if (!vx) {
    const spec: LinkSpec = {
      name: o.vxlan, kind: 'vxlan', mtu: net.mtu, alias: tag, addrGenMode: 'none', master: net.bridge,
      vxlan: { vni: o.vni, local: o.local, device: o.device, dstport: o.dstport, learning: false, proxy: true },
      bridgePort: arp,
      up: true,
    };
    b.links.add(spec);
  } else if (!br || vx.master !== br.index || !vx.up) {
    b.links.set(o.vxlan, { master: net.bridge, up: true }).links.set(o.vxlan, { bridgePort: arp });
  } else if (vx.bridgePort?.proxyArpWifi !== true) {
    b.links.set(o.vxlan, { bridgePort: arp });
  }
  // Endpoints whose veth lost its master (the bridge was deleted and made again), or was
  // made before its port had proxy_arp_wifi.
  for (const ep of endpoints) {
    const l = links.get(ep.hostIfname);
    if (!l || l.group === ctx.reapGroup) continue;
    if (!br || l.master !== br.index) b.links.set(ep.hostIfname, { master: net.bridge }).links.set(ep.hostIfname, { bridgePort: arp });
    else if (l.bridgePort?.proxyArpWifi !== true) b.links.set(ep.hostIfname, { bridgePort: arp });
  }
  if (b.size > 0) await b.commit();
  for (const [key, want] of [...(net.subnet !== '' ? GC_THRESH(4) : []), ...(net.ipv6Subnet !== undefined ? GC_THRESH(6) : [])]) {
    const now = Number(await host.sysctl.get(key).catch(() => 'NaN'));
    if (Number.isFinite(now) && now < want) await host.sysctl.set({ [key]: want });
  }
}

// The overlay bridge's own MAC, from the network's id: locally administered (06:, never
// the 02:42: of the containers' MACs), the same on every reconcile.
function bridgeMac(net: NetworkInfo): string {
  return `06:${net.id.slice(0, 10).match(/../g)!.join(':')}`;
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

// The whole desired state (reconcile and sync only: O(records)).
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
  /**
   * MAC -> VTEP for MACs this change reported last (the latest report wins, so no other
   * record can say otherwise): their FDB entry is known without looking at the others.
   */
  latest?: Map<string, string>;
}

// The desired state of just the given keys: what one change costs is bounded by the
// change. Peers and addresses are lookups; a MAC this change did not report last (one
// whose record went, or changed MAC) needs the latest other report of that MAC: one walk
// over the records in memory for the whole change, no kernel request and no allocation
// per record.
function desiredFor(ctx: DriverContext, net: NetworkInfo, keys: Keys): Desired {
  const peers = ctx.store.records<{ vtep: string }>(net.id, PEER);
  const remotes = ctx.store.records<RemoteRecord>(net.id, REMOTE);
  const floods = new Set((keys.vteps ?? []).filter((v) => peers.has(v)));
  const neigh = new Map<string, string>();
  let byIp6: Map<string, RemoteRecord> | undefined;
  for (const ip of keys.ips ?? []) {
    let r = remotes.get(ip);
    if (!r && ip.includes(':')) {
      // Records are keyed by their IPv4 address (IPv6 on an IPv6-only overlay): an IPv6
      // address of a dual-stack endpoint is found by one walk over the records, for the
      // whole change, and only when the change touches one.
      byIp6 ??= new Map([...remotes.values()].filter((x) => x.ip6 !== undefined).map((x) => [x.ip6!, x]));
      r = byIp6.get(ip);
    }
    if (r) neigh.set(ip, r.mac);
  }
  const fdb = new Map<string, string>();
  const open = new Set<string>();
  for (const mac of keys.macs ?? []) {
    const vtep = keys.latest?.get(mac);
    if (vtep !== undefined) fdb.set(mac, vtep);
    else open.add(mac);
  }
  if (open.size > 0) {
    const at = new Map<string, number>();
    for (const r of remotes.values()) {
      if (!open.has(r.mac) || (at.get(r.mac) ?? -1) > r.at) continue;
      at.set(r.mac, r.at);
      fdb.set(r.mac, r.vtep);
    }
  }
  return { floods, fdb, neigh };
}

// The requests that make the given keys' entries what the state says: entries that
// should exist are appended or replaced (FDB before neighbour, so an answered ARP has a
// destination), entries that should not are deleted (neighbour before FDB). A remote MAC
// has two FDB entries on the VXLAN port: the device's own (self: to which VTEP) and the
// bridge's (master, static: behind which port, for the bridge's ARP answer); a remote
// IPv4 address one neighbour entry, on the bridge; a remote IPv6 address one, on the
// VXLAN device (its NDP proxy).
function requests(devs: Devs, want: Desired, keys: Keys): PendingNeighRequest[] {
  const { vxlan: dev, bridge } = devs;
  const put: PendingNeighRequest[] = [];
  const drop: PendingNeighRequest[] = [];
  const dropFdb: PendingNeighRequest[] = [];
  for (const vtep of new Set(keys.vteps ?? [])) {
    if (want.floods.has(vtep)) put.push(fdbRequest('append', { mac: ZERO_MAC, dev, dst: vtep, self: true, state: 'permanent' }));
    else dropFdb.push(fdbRequest('delete', { mac: ZERO_MAC, dev, dst: vtep, self: true }));
  }
  for (const mac of new Set(keys.macs ?? [])) {
    const vtep = want.fdb.get(mac);
    if (vtep !== undefined) {
      put.push(fdbRequest('replace', { mac, dev, dst: vtep, self: true, state: 'permanent' }));
      put.push(fdbRequest('replace', { mac, dev, master: true, state: 'static' }));
    } else {
      // The bridge deletes a master entry only where it points at this port (ENOENT
      // otherwise: the MAC moved to a local veth, whose entry stays).
      dropFdb.push(fdbRequest('delete', { mac, dev, self: true }), fdbRequest('delete', { mac, dev, master: true }));
    }
  }
  for (const ip of new Set(keys.ips ?? [])) {
    const mac = want.neigh.get(ip);
    const on = ip.includes(':') ? dev : bridge;
    if (mac !== undefined) put.push(neighbourRequest('replace', { dev: on, address: ip, mac, state: 'permanent' }));
    else drop.push(neighbourRequest('delete', { dev: on, address: ip }));
  }
  return [...put, ...drop, ...dropFdb];
}

// One RTM_NEWNEIGH/RTM_DELNEIGH per entry, as few sendmsg as the socket allows; a
// delete that finds nothing is fine. Devices are ifindexes: no lookup.
async function send(host: Netns, reqs: PendingNeighRequest[]): Promise<void> {
  await applyNeighRequests(host, reqs, { ignoreMissing: true });
}

// send() on the overlay's links by their kept ifindexes; if one is stale (ENODEV: the link
// was made again behind this process's back), looked up afresh and sent once more.
async function sendOn(ctx: DriverContext, net: NetworkInfo, build: (devs: Devs) => PendingNeighRequest[]): Promise<void> {
  try {
    await send(ctx.host, build(await devsOf(ctx, net)));
  } catch (e) {
    if ((e as NetlinkError).code !== 'ENODEV') throw e;
    forgetDevs(net.id);
    await send(ctx.host, build(await devsOf(ctx, net)));
  }
}

// Records what a control-plane operation changes (in one store transaction, before the
// kernel), then makes the kernel follow for exactly the keys it touched. If the kernel
// refuses, the records go back to what they were and so, as far as possible, do the entries.
async function change(ctx: DriverContext, net: NetworkInfo, mutate: (tx: StoreTx, undo: ((tx: StoreTx) => void)[]) => Keys): Promise<void> {
  const undo: ((tx: StoreTx) => void)[] = [];
  const keys = ctx.write((tx) => mutate(tx, undo));
  try {
    await sendOn(ctx, net, (devs) => requests(devs, desiredFor(ctx, net, keys), keys));
  } catch (e) {
    ctx.write((tx) => {
      for (let i = undo.length - 1; i >= 0; i--) undo[i]!(tx);
    });
    const back = { ...keys, latest: undefined };
    await sendOn(ctx, net, (devs) => requests(devs, desiredFor(ctx, net, back), back)).catch(() => undefined);
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

/** A remote endpoint's addresses (one per family it has). */
function addressesOf(r: Pick<RemoteEndpoint, 'ip' | 'ip6'>): string[] {
  return [...(r.ip !== '' ? [r.ip] : []), ...(r.ip6 !== undefined ? [r.ip6] : [])];
}

/** The VXLAN device's IPv6 neighbour entries (remote endpoints' NDP answers), when the network has IPv6. */
async function vxlanNeighbours6(ctx: DriverContext, net: NetworkInfo, vxlan: number | string): Promise<Neighbour[]> {
  return net.ipv6Subnet !== undefined ? ctx.host.neighbours.list({ dev: vxlan, family: 6 }) : [];
}

// An address of the endpoint that a local container holds, as the error to report.
function localHolder(tx: StoreTx, net: NetworkInfo, r: Pick<RemoteEndpoint, 'ip' | 'ip6'>): AddressInUseError | undefined {
  const ids = poolIds(net.id);
  for (const [pool, address, subnet] of [[ids.v4, r.ip, net.subnet], [ids.v6, r.ip6, net.ipv6Subnet]] as const) {
    if (address === undefined || address === '') continue;
    const owner = tx.store.pools.get(pool)?.ownerOf(address);
    if (owner !== undefined && owner !== REMOTE_OWNER) return new AddressInUseError(address, subnet!, owner);
  }
  return undefined;
}

// Holds a remote endpoint's addresses in the local pools, so that no local container is
// given one (localHolder checked first); undo entries put things back.
function holdRemote(tx: StoreTx, undo: ((tx: StoreTx) => void)[], net: NetworkInfo, r: Pick<RemoteEndpoint, 'ip' | 'ip6'>): void {
  const ids = poolIds(net.id);
  for (const [pool, address] of [[ids.v4, r.ip], [ids.v6, r.ip6]] as const) {
    if (address === undefined || address === '' || tx.store.pools.get(pool)?.ownerOf(address) === REMOTE_OWNER) continue;
    tx.claim(pool, address, REMOTE_OWNER);
    undo.push((t) => t.release(pool, address));
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

/** Changes to an overlay's view of the other hosts, applied together (OverlayNetwork.update). */
export interface OverlayUpdate {
  /** Peer VTEPs to flood to. */
  addPeers?: string[];
  /** Peer VTEPs to forget, with every remote endpoint behind them. */
  removePeers?: string[];
  /** Remote endpoints to add or replace. */
  addEndpoints?: RemoteEndpoint[];
  /** Remote endpoints to remove, by either of their addresses. */
  removeEndpoints?: string[];
}

/** What update() and sync() did not apply, and why (the rest was applied). */
export interface OverlayUpdateResult {
  rejected: { item: string | RemoteEndpoint; error: Error }[];
}

// Every change to peers and remote endpoints, one at a time or in bulk, goes through
// here: validated, recorded in one store transaction, then one netlink batch holding
// exactly the entries whose keys it touched. Removals before additions, so an address
// removed and added again with another MAC ends with the new one. Items that fail
// validation or hit a local address go to `rejected` (strict: thrown, nothing applied).
async function applyUpdate(ctx: DriverContext, net: NetworkInfo, u: OverlayUpdate, strict: boolean): Promise<OverlayUpdateResult> {
  const o = net.overlay!;
  const rejected: OverlayUpdateResult['rejected'] = [];
  function checked<I, O>(items: I[] | undefined, check: (i: I) => O): O[] {
    const out: O[] = [];
    for (const i of items ?? []) {
      try {
        out.push(check(i));
      } catch (e) {
        if (strict) throw e;
        rejected.push({ item: i as string | RemoteEndpoint, error: e as Error });
      }
    }
    return out;
  }
  if (typeof u !== 'object' || u === null) throw new TypeError('an overlay update must be an object');
  const removePeers = checked(u.removePeers, (v) => checkVtep(o, v));
  const addPeers = checked(u.addPeers, (v) => checkVtep(o, v));
  const removeEndpoints = checked(u.removeEndpoints, (ip) => normalizeIp(checkAddress(ip, 'remote endpoint ip')));
  const addEndpoints = checked(u.addEndpoints, (e) => checkRemoteEndpoint(net, e));

  // Nothing to record or program: no store transaction, no netlink message.
  const peers = ctx.store.records<{ vtep: string }>(net.id, PEER);
  const remotes = ctx.store.records<RemoteRecord>(net.id, REMOTE);
  const gonePeers = new Set(removePeers);
  const dropPeers = new Set(removePeers.filter((v) => peers.has(v)));
  if (gonePeers.size > 0) for (const r of remotes.values()) if (gonePeers.has(r.vtep)) dropPeers.add(r.vtep);
  const newPeers = addPeers.filter((v) => !peers.has(v));
  // Removals name an endpoint by either address; records are keyed by remoteKey.
  let byIp6: Map<string, string> | undefined;
  const keyOf = (ip: string): string | undefined => {
    if (remotes.has(ip)) return ip;
    if (!ip.includes(':')) return undefined;
    byIp6 ??= new Map([...remotes.entries()].filter(([, r]) => r.ip6 !== undefined).map(([k, r]) => [r.ip6!, k]));
    return byIp6.get(ip);
  };
  const dropEps = removeEndpoints.map(keyOf).filter((k): k is string => k !== undefined);
  // One report per endpoint (the last), so a MAC this change reports last stays reported.
  const lastByKey = new Map(addEndpoints.map((e) => [remoteKey(e), e]));
  const newEps = [...lastByKey.values()].filter((e) => {
    const old = remotes.get(remoteKey(e));
    return !old || old.mac !== e.mac || old.vtep !== e.vtep || old.ip6 !== e.ip6;
  });
  if (dropPeers.size + newPeers.length + dropEps.length + newEps.length === 0) return { rejected };

  await change(ctx, net, (tx, undo) => {
    const keys: Required<Keys> = { vteps: [], macs: [], ips: [], latest: new Map() };
    const recs = tx.store.records<RemoteRecord>(net.id, REMOTE);
    const forget = (key: string): void => {
      const old = recs.get(key);
      if (!old) return;
      deleteRecord(tx, undo, net.id, REMOTE, key);
      releaseRemote(tx, undo, net, old);
      keys.macs.push(old.mac);
      keys.ips.push(...addressesOf(old));
    };
    if (dropPeers.size > 0) {
      for (const [key, r] of [...recs.entries()]) if (dropPeers.has(r.vtep)) forget(key);
      for (const vtep of dropPeers) {
        deleteRecord(tx, undo, net.id, PEER, vtep);
        keys.vteps.push(vtep);
      }
    }
    for (const ip of dropEps) forget(ip);
    for (const vtep of newPeers) {
      putRecord(tx, undo, net.id, PEER, vtep, { vtep });
      keys.vteps.push(vtep);
    }
    for (const ep of newEps) {
      const key = remoteKey(ep);
      const old = recs.get(key);
      const held = localHolder(tx, net, ep);
      if (held) {
        if (strict) throw held;
        rejected.push({ item: ep, error: held });
        continue;
      }
      // An IPv6 address the endpoint had and no longer has is freed; the new ones held.
      if (old?.ip6 !== undefined && old.ip6 !== ep.ip6) releaseRemote(tx, undo, net, { ip: '', ip6: old.ip6 });
      holdRemote(tx, undo, net, ep);
      putRecord(tx, undo, net.id, REMOTE, key, { ...ep, at: nextReport() });
      if (old) {
        keys.macs.push(old.mac);
        keys.ips.push(...addressesOf(old));
      }
      keys.macs.push(ep.mac);
      keys.latest.delete(ep.mac); // re-inserted: the last report of a MAC in this change wins
      keys.latest.set(ep.mac, ep.vtep);
      keys.ips.push(...addressesOf(ep));
    }
    return keys;
  });
  return { rejected };
}

// What the kernel must hold for the whole overlay, against what it holds: the bridge's
// FDB (one dump, with the VXLAN device's own table) and the bridge's neighbour table, and
// one batch of requests for exactly the entries that differ (missing ones added, stray or
// wrong ones deleted). Local endpoints' entries (the static FDB entry on the veth, the
// neighbour entry) are made good only when `locals` is given (reconcile, at open, with no
// attach or detach in flight here); a sync leaves them to attach and detach and never
// takes them for strays. The VXLAN device's own neighbour table, where versions before
// the bridge answered ARP kept the remote addresses, is emptied (IPv4).
async function repairKernel(ctx: DriverContext, net: NetworkInfo, locals?: readonly EndpointInfo[]): Promise<number> {
  const devs = await devsOf(ctx, net);
  const { vxlan: vx, bridge } = devs;
  const want = desired(ctx, net);
  const fixes: PendingNeighRequest[] = [];
  // Local endpoints whose veth is on the bridge (not waiting to be reaped): MAC -> port, IP -> MAC.
  const localPort = new Map<string, number>();
  const localNeigh = new Map<string, string>();
  if (locals) {
    const links = new Map((await ctx.host.links.list()).map((l) => [l.name, l]));
    for (const ep of locals) {
      const l = links.get(ep.hostIfname);
      if (!l || l.group === ctx.reapGroup || l.master !== bridge) continue;
      localPort.set(ep.mac, l.index);
      if (ep.ip !== '') localNeigh.set(ep.ip, ep.mac);
    }
  }
  const leaveAlone = new Set<string>();
  if (!locals) for (const e of ctx.store.endpointsOf(net.id)) if (e.phase !== 'detaching') leaveAlone.add(e.info.ip);

  const fdbHas = new Map<string, string>();
  const floodHas = new Set<string>();
  const portHas = new Set<string>();
  const localHas = new Set<string>();
  for (const e of await ctx.host.fdb.list({ bridge })) {
    // The bridge's entries carry NDA_MASTER; the VXLAN device's own, NTF_SELF.
    const ofBridge = !e.self && e.master === bridge;
    if (e.ifindex === vx && e.self) {
      if (e.mac === ZERO_MAC) {
        if (e.dst !== undefined && want.floods.has(e.dst) && e.state === 'permanent') floodHas.add(e.dst);
        else fixes.push(fdbRequest('delete', { mac: e.mac, dev: vx, self: true, ...(e.dst !== undefined && { dst: e.dst }) }));
      } else if (e.dst !== undefined && want.fdb.get(e.mac) === e.dst && e.state === 'permanent') {
        fdbHas.set(e.mac, e.dst);
      } else if (!want.fdb.has(e.mac)) {
        fixes.push(fdbRequest('delete', { mac: e.mac, dev: vx, self: true }));
      }
    } else if (e.ifindex === vx && ofBridge) {
      // Static entries are ours; learned ones (dynamic) are the bridge's own business.
      if (e.state === 'static' && want.fdb.has(e.mac)) portHas.add(e.mac);
      else if (e.state === 'static' && !want.fdb.has(e.mac) && !localPort.has(e.mac)) fixes.push(fdbRequest('delete', { mac: e.mac, dev: vx, master: true }));
    } else if (ofBridge && e.state === 'static' && localPort.get(e.mac) === e.ifindex) {
      localHas.add(e.mac);
    }
  }
  const neighHas = new Set<string>();
  const localNeighHas = new Set<string>();
  for (const n of await ctx.host.neighbours.list({ dev: bridge, family: 4 })) {
    if (n.address.includes(':')) continue;
    if (n.proxy) continue;
    const right = (mac: string | undefined): boolean => mac !== undefined && n.mac === mac && n.state === 'permanent';
    if (want.neigh.has(n.address)) {
      if (right(want.neigh.get(n.address))) neighHas.add(n.address);
    } else if (localNeigh.has(n.address)) {
      if (right(localNeigh.get(n.address))) localNeighHas.add(n.address);
    } else if (!leaveAlone.has(n.address)) {
      fixes.push(neighbourRequest('delete', { dev: bridge, address: n.address }));
    }
  }
  for (const n of await ctx.host.neighbours.list({ dev: vx, family: 4 })) {
    if (!n.proxy) fixes.push(neighbourRequest('delete', { dev: vx, address: n.address }));
  }
  // IPv6: the VXLAN device's own table answers (its NDP proxy).
  for (const n of await vxlanNeighbours6(ctx, net, vx)) {
    if (n.proxy) continue;
    const address = normalizeIp(n.address);
    if (want.neigh.get(address) === n.mac && n.state === 'permanent') neighHas.add(address);
    else if (!want.neigh.has(address)) fixes.push(neighbourRequest('delete', { dev: vx, address: n.address }));
  }
  const keys = {
    vteps: [...want.floods].filter((v) => !floodHas.has(v)),
    macs: [...want.fdb.keys()].filter((m) => !fdbHas.has(m) || !portHas.has(m)),
    ips: [...want.neigh.keys()].filter((ip) => !neighHas.has(ip)),
  };
  const local: PendingNeighRequest[] = [];
  for (const [mac, port] of localPort) if (!localHas.has(mac)) local.push(fdbRequest('replace', { mac, dev: port, master: true, state: 'static' }));
  for (const [ip, mac] of localNeigh) if (!localNeighHas.has(ip)) local.push(neighbourRequest('replace', { dev: bridge, address: ip, mac, state: 'permanent' }));
  // Deletions first here: a stray entry is gone before a right one takes its key.
  const reqs = [...fixes, ...requests(devs, want, keys), ...local];
  await send(ctx.host, reqs);
  return reqs.length;
}

/** The whole view of the other hosts (OverlayNetwork.sync). */
export interface OverlayState {
  peers: string[];
  endpoints: RemoteEndpoint[];
}

// Makes the records exactly `state` (one update holding the difference), then the kernel
// exactly the records (repairKernel). For a control plane's resync: after a restart, a
// lost watch, a reconnect.
async function syncState(ctx: DriverContext, net: NetworkInfo, state: OverlayState): Promise<OverlayUpdateResult & { kernelFixes: number }> {
  if (typeof state !== 'object' || state === null || !Array.isArray(state.peers) || !Array.isArray(state.endpoints)) {
    throw new TypeError('an overlay state is { peers: string[], endpoints: RemoteEndpoint[] }');
  }
  const wantPeers = new Set<string>();
  for (const p of state.peers) {
    try {
      wantPeers.add(normalizeIp(checkAddress(p, 'vtep')));
    } catch {
      /* rejected by the update below */
    }
  }
  const wantEps = new Set<string>();
  for (const e of state.endpoints) {
    try {
      wantEps.add(remoteKey(checkRemoteEndpoint(net, e)));
    } catch {
      /* rejected by the update below */
    }
  }
  const peers = ctx.store.records<{ vtep: string }>(net.id, PEER);
  const remotes = ctx.store.records<RemoteRecord>(net.id, REMOTE);
  const result = await applyUpdate(ctx, net, {
    removePeers: [...peers.keys()].filter((v) => !wantPeers.has(v)),
    removeEndpoints: [...remotes.keys()].filter((key) => !wantEps.has(key)),
    addPeers: state.peers,
    addEndpoints: state.endpoints,
  }, false);
  return { ...result, kernelFixes: await repairKernel(ctx, net) };
}

const strictly = (ctx: DriverContext, net: NetworkInfo, u: OverlayUpdate): Promise<void> => applyUpdate(ctx, net, u, true).then(() => undefined);

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
    return this.controller.driverOp(this.id, (ctx, net) => strictly(ctx, net, { addPeers: [vtep] }));
  }

  /** Stops flooding to the VTEP and removes every remote endpoint behind it (RTM_DELNEIGH). Idempotent. */
  removePeer(vtep: string): Promise<void> {
    return this.controller.driverOp(this.id, (ctx, net) => strictly(ctx, net, { removePeers: [vtep] }));
  }

  /**
   * Adds or replaces a remote endpoint: FDB entry MAC -> VTEP (AF_BRIDGE, NLM_F_REPLACE)
   * and a permanent neighbour IP -> MAC (AF_INET, NLM_F_REPLACE) on the VXLAN device,
   * which answers the containers' ARP for it. Its address is never handed out here.
   */
  addRemoteEndpoint(ep: RemoteEndpoint): Promise<void> {
    return this.controller.driverOp(this.id, (ctx, net) => strictly(ctx, net, { addEndpoints: [ep] }));
  }

  /** Removes a remote endpoint (by IP): its neighbour entry, and its FDB entry unless another address shares the MAC on that VTEP. Idempotent. */
  removeRemoteEndpoint(ep: string | Pick<RemoteEndpoint, 'ip' | 'ip6'>): Promise<void> {
    const ip = typeof ep === 'object' && ep !== null ? (ep.ip !== '' && ep.ip !== undefined ? ep.ip : ep.ip6!) : ep;
    return this.controller.driverOp(this.id, (ctx, net) => strictly(ctx, net, { removeEndpoints: [ip] }));
  }

  /**
   * Applies many changes at once: one store transaction and one netlink batch holding
   * one request per entry it changes (the path addPeer and the others take, one item at
   * a time). Items that are invalid or collide with a local address are returned in
   * `rejected`; the rest is applied.
   */
  update(changes: OverlayUpdate): Promise<OverlayUpdateResult> {
    return this.controller.driverOp(this.id, (ctx, net) => applyUpdate(ctx, net, changes, false));
  }

  /**
   * Makes the peers and remote endpoints exactly `state` (a control plane's full list,
   * after a restart or a lost watch): the difference applied as by update(), then the
   * VXLAN device's FDB and neighbour tables dumped and every entry that differs from the
   * records fixed (`kernelFixes` requests).
   */
  sync(state: OverlayState): Promise<OverlayUpdateResult & { kernelFixes: number }> {
    return this.controller.driverOp(this.id, (ctx, net) => syncState(ctx, net, state));
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
