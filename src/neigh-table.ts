// Neighbour and FDB entries from the native NeighTable (native/rtnl/neigh.h): u32 rows
// and one string of formatted addresses, turned into Neighbour and FdbEntry objects
// here, where V8 builds them at JIT speed (a dozen N-API calls per object cost ten
// times more). The column order below is the C++ enum's.
import type { NativeNeighTable } from './binding';
import type { FdbEntry, FdbState, Neighbour, NeighbourFlag, NeighbourState } from './types';

const COLS = 19;
const HEAD = 0, IFINDEX = 1, PRESENT = 2, DST_LEN = 3, LLADDR_LEN = 4, PROBES = 5, MASTER = 6,
  LINK_NETNSID = 7, PROTOCOL = 8, VLAN = 9, PORT = 10, VNI = 11, SRC_VNI = 12, VIA = 13, NH_ID = 14,
  CONFIRMED = 15, USED = 16, UPDATED = 17, REFCNT = 18;
const HAS_DST = 1, HAS_LLADDR = 2, HAS_PROBES = 4, HAS_MASTER = 8, HAS_LINK_NETNSID = 16,
  HAS_PROTOCOL = 32, HAS_VLAN = 64, HAS_PORT = 128, HAS_VNI = 256, HAS_SRC_VNI = 512, HAS_VIA = 1024,
  HAS_NH_ID = 2048, HAS_CACHEINFO = 4096;

const AF_INET6 = 10;
const AF_BRIDGE = 7;

// NUD_* as `ip neigh` names them; one state per entry (NOARP and PERMANENT win).
const NUD: readonly [number, NeighbourState][] = [
  [0x80, 'permanent'], [0x40, 'noarp'], [0x02, 'reachable'], [0x04, 'stale'], [0x08, 'delay'],
  [0x10, 'probe'], [0x20, 'failed'], [0x01, 'incomplete'],
];
function nudName(s: number): NeighbourState {
  for (const [bit, name] of NUD) if (s & bit) return name;
  return 'none';
}

// FDB states as `bridge fdb` names them.
function fdbState(s: number): FdbState {
  return s & 0x80 ? 'permanent' : s & 0x40 ? 'static' : s & 0x04 ? 'stale' : 'dynamic';
}

// NTF_* as `ip -j neigh` / `bridge -j fdb` name them, in bit order.
const NTF: readonly [number, NeighbourFlag][] = [
  [0x01, 'use'], [0x02, 'self'], [0x04, 'master'], [0x08, 'proxy'], [0x10, 'extern_learn'],
  [0x20, 'offload'], [0x40, 'sticky'], [0x80, 'router'],
];
function ntfNames(f: number): NeighbourFlag[] {
  const out: NeighbourFlag[] = [];
  if (f !== 0) for (const [bit, name] of NTF) if (f & bit) out.push(name);
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
  this.proxy = (flags & 0x08) !== 0;
  this.router = (flags & 0x80) !== 0;
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
  this.self = (head & (0x02 << 8)) !== 0;
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
