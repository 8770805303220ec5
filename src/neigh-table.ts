// Neighbour and FDB entries from the native NeighTable (native/rtnl/neigh.h): u32 rows
// and one string of formatted addresses, turned into Neighbour and FdbEntry objects
// here, where V8 builds them at JIT speed (a dozen N-API calls per object cost ten
// times more). The columns and the names of states and flags are the one table's
// (src/constants.ts, native/constants.h).
import type { NativeNeighTable } from './binding';
import { ADDRESS_FAMILIES, NEIGH_COLUMNS as C, NEIGH_PRESENT as P, NEIGHBOUR_FLAGS, NEIGHBOUR_STATES } from './constants';
import type { FdbEntry, FdbState, Neighbour, NeighbourFlag, NeighbourState } from './types';

const COLS = C.count;
const HEAD = C.head, IFINDEX = C.ifindex, PRESENT = C.present, DST_LEN = C.dstLen, LLADDR_LEN = C.lladdrLen,
  PROBES = C.probes, MASTER = C.master, LINK_NETNSID = C.linkNetnsid, PROTOCOL = C.protocol, VLAN = C.vlan,
  PORT = C.port, VNI = C.vni, SRC_VNI = C.srcVni, VIA = C.via, NH_ID = C.nhId, CONFIRMED = C.confirmed,
  USED = C.used, UPDATED = C.updated, REFCNT = C.refcnt;
const HAS_DST = P.dst, HAS_LLADDR = P.lladdr, HAS_PROBES = P.probes, HAS_MASTER = P.master,
  HAS_LINK_NETNSID = P.linkNetnsid, HAS_PROTOCOL = P.protocol, HAS_VLAN = P.vlan, HAS_PORT = P.port, HAS_VNI = P.vni,
  HAS_SRC_VNI = P.srcVni, HAS_VIA = P.via, HAS_NH_ID = P.nhId, HAS_CACHEINFO = P.cacheinfo;

const AF_INET6 = ADDRESS_FAMILIES.inet6;
const AF_BRIDGE = ADDRESS_FAMILIES.bridge;
const { permanent: NUD_PERMANENT, noarp: NUD_NOARP, stale: NUD_STALE } = NEIGHBOUR_STATES;

// NUD_* as `ip neigh` names them, strongest first: one state per entry (NOARP and
// PERMANENT win).
const NUD = (Object.entries(NEIGHBOUR_STATES) as [NeighbourState, number][]).filter(([, bit]) => bit !== 0);
function nudName(s: number): NeighbourState {
  for (const [name, bit] of NUD) if (s & bit) return name;
  return 'none';
}

// FDB states as `bridge fdb` names them.
function fdbState(s: number): FdbState {
  return s & NUD_PERMANENT ? 'permanent' : s & NUD_NOARP ? 'static' : s & NUD_STALE ? 'stale' : 'dynamic';
}

// NTF_* as `ip -j neigh` / `bridge -j fdb` name them, in bit order.
const NTF = (Object.entries(NEIGHBOUR_FLAGS) as [NeighbourFlag, number][]).sort((a, b) => a[1] - b[1]);
function ntfNames(f: number): NeighbourFlag[] {
  const out: NeighbourFlag[] = [];
  if (f !== 0) for (const [name, bit] of NTF) if (f & bit) out.push(name);
  return out;
}

// Rows become objects through constructor functions rather than literals: V8 sizes a
// constructor's objects for every property it may assign (slack tracking), so each
// entry is one allocation with its fields inline, where a literal grown key by key
// reallocates its property store several times (five times the garbage, and the
// scavenges that go with it, for a 10,000-entry dump). Their prototype is
// Object.prototype, so what they build are plain objects.
type Row = (cols: Uint32Array, r: number, has: number, dst: string | undefined, mac: string | undefined, tickMs: number) => void;

const NeighbourObject = function (this: Record<string, unknown>, cols, r, has, dst, mac, tickMs) {
  const head = cols[r + HEAD]!;
  const flags = (head >>> 8) & 0xff;
  this.family = (head & 0xff) === AF_INET6 ? 6 : 4;
  if (dst !== undefined) this.address = dst;
  if (mac !== undefined) this.mac = mac;
  this.state = nudName(head >>> 16);
  this.proxy = (flags & NEIGHBOUR_FLAGS.proxy) !== 0;
  this.router = (flags & NEIGHBOUR_FLAGS.router) !== 0;
  if (has & HAS_PROBES) this.probes = cols[r + PROBES];
  common(this, cols, r, has, tickMs);
} as Row;
NeighbourObject.prototype = Object.prototype;

const FdbObject = function (this: Record<string, unknown>, cols, r, has, dst, mac, tickMs) {
  const head = cols[r + HEAD]!;
  if (mac !== undefined) this.mac = mac;
  if (dst !== undefined) this.dst = dst;
  if (has & HAS_VLAN) this.vlan = cols[r + VLAN];
  if (has & HAS_PORT) this.port = cols[r + PORT];
  if (has & HAS_VNI) this.vni = cols[r + VNI];
  if (has & HAS_SRC_VNI) this.srcVni = cols[r + SRC_VNI];
  if (has & HAS_VIA && cols[r + VIA] !== 0) this.via = cols[r + VIA];
  if (has & HAS_NH_ID) this.nhid = cols[r + NH_ID];
  this.state = fdbState(head >>> 16);
  this.self = (head & (NEIGHBOUR_FLAGS.self << 8)) !== 0;
  common(this, cols, r, has, tickMs);
} as Row;
FdbObject.prototype = Object.prototype;

// The fields both kinds end with, in this order.
function common(o: Record<string, unknown>, cols: Uint32Array, r: number, has: number, tickMs: number): void {
  const head = cols[r + HEAD]!;
  o.ifindex = cols[r + IFINDEX]! | 0;
  o.flags = ntfNames((head >>> 8) & 0xff);
  o.ndmState = head >>> 16;
  if (has & HAS_MASTER) o.master = cols[r + MASTER];
  if (has & HAS_LINK_NETNSID) o.linkNetnsId = cols[r + LINK_NETNSID]! | 0;
  if (has & HAS_PROTOCOL) o.protocol = cols[r + PROTOCOL];
  if (has & HAS_CACHEINFO) {
    o.cacheinfo = {
      confirmedMs: cols[r + CONFIRMED]! * tickMs,
      usedMs: cols[r + USED]! * tickMs,
      updatedMs: cols[r + UPDATED]! * tickMs,
      refcnt: cols[r + REFCNT],
    };
  }
}

type Ctor<T> = new (...args: Parameters<Row>) => T;
const newNeighbour = NeighbourObject as unknown as Ctor<Neighbour>;
const newFdb = FdbObject as unknown as Ctor<FdbEntry>;

/**
 * The entries of a NeighTable: Neighbour for AF_INET/AF_INET6 rows, FdbEntry for
 * AF_BRIDGE rows. Addresses are slices of the table's one string; V8 may keep that
 * string alive as long as any of them lives (about 30 bytes per entry of the dump).
 */
export function neighTableEntries(t: NativeNeighTable): (Neighbour | FdbEntry)[] {
  const { cols, text, tickMs } = t;
  const n = cols.length / COLS;
  const out = new Array<Neighbour | FdbEntry>(n);
  let pos = 0;
  for (let i = 0, r = 0; i < n; i++, r += COLS) {
    const has = cols[r + PRESENT]!;
    let dst: string | undefined;
    let mac: string | undefined;
    if (has & HAS_DST) dst = text.slice(pos, (pos += cols[r + DST_LEN]!));
    if (has & HAS_LLADDR) mac = text.slice(pos, (pos += cols[r + LLADDR_LEN]!));
    out[i] = (cols[r + HEAD]! & 0xff) === AF_BRIDGE
      ? new newFdb(cols, r, has, dst, mac, tickMs)
      : new newNeighbour(cols, r, has, dst, mac, tickMs);
  }
  return out;
}
