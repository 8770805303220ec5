// nft's data types: the type ids sets are declared with (NFTA_SET_KEY_TYPE), their
// sizes and byte order, and how a typed value becomes the bytes nftables compares.
// Concatenated types pack 6 bits per component: ((a << 6) | b) << 6 | c.
import { checkIfname } from '../validate';

/** A value of a data type: an address, a port or protocol number, a name. */
export type Scalar = string | number;

/** BYTEORDER_HOST_ENDIAN / BYTEORDER_BIG_ENDIAN as nft records them in set userdata. */
export const HOST = 1;
export const BIG = 2;

export interface Datatype {
  readonly name: string;
  readonly id: number;
  /** Bytes the value takes in a register. */
  readonly len: number;
  readonly byteorder: number;
  encode(v: unknown, what: string): Buffer;
  decode(b: Buffer): Scalar;
}

const PROTOS: Record<string, number> = { icmp: 1, igmp: 2, tcp: 6, udp: 17, gre: 47, esp: 50, ah: 51, icmpv6: 58, sctp: 132, udplite: 136 };

function intIn(v: unknown, what: string, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v)) throw new TypeError(`${what} must be an integer, got ${String(v)}`);
  if (v < 0 || v > max) throw new RangeError(`${what} out of range 0-${max}: ${v}`);
  return v;
}

// Small values come from Buffer's shared pool (allocUnsafe, every byte then written):
// a zeroed Buffer.alloc is an ArrayBuffer of its own each time, which a hot path such as
// publishing a port pays for in allocation and GC.
function be(n: number, len: number): Buffer {
  const b = Buffer.allocUnsafe(len);
  b.writeUIntBE(n, 0, len);
  return b;
}
function host32(n: number): Buffer {
  const b = Buffer.allocUnsafe(4);
  b.writeUInt32LE(n >>> 0, 0);
  return b;
}

// Dotted quad -> 4 bytes in one pass (this runs for every address of every element a
// commit encodes): four decimal parts of 1-3 digits, 0-255, no leading zeros, as
// net.isIP(v) === 4 accepts.
export function ipv4Bytes(v: unknown, what: string): Buffer {
  const bad = (): never => { throw new TypeError(`${what} must be an IPv4 address, got ${String(v)}`); };
  if (typeof v !== 'string' || v.length < 7 || v.length > 15) return bad();
  const out = Buffer.allocUnsafe(4);
  let part = 0;
  let val = 0;
  let digits = 0;
  for (let i = 0; i <= v.length; i++) {
    const c = i < v.length ? v.charCodeAt(i) : 46; // '.' closes the last part
    if (c === 46) {
      if (digits === 0 || part > 3) return bad();
      out[part++] = val;
      val = 0;
      digits = 0;
    } else if (c >= 48 && c <= 57) {
      if (digits > 0 && val === 0) return bad(); // a leading zero
      val = val * 10 + (c - 48);
      if (++digits > 3 || val > 255) return bad();
    } else {
      return bad();
    }
  }
  if (part !== 4) return bad();
  return out;
}

/**
 * An IPv6 address's 16 bytes, in one pass (no splitting, no regular expressions: an
 * IPv6 publish encodes three of them). Groups of 1-4 hex digits, one '::' at most, an
 * embedded IPv4 tail; no zone id, no prefix.
 */
export function ipv6Bytes(v: unknown, what: string): Buffer {
  const bad = (): never => {
    throw new TypeError(`${what} must be an IPv6 address, got ${String(v)}`);
  };
  if (typeof v !== 'string' || v.length < 2 || v.length > 45) return bad();
  const g: number[] = [];
  let gap = -1;
  const n = v.length;
  let i = 0;
  if (v.charCodeAt(0) === 58) {
    if (v.charCodeAt(1) !== 58) return bad();
    gap = 0;
    i = 2;
  }
  while (i < n) {
    const start = i;
    let val = 0;
    let digits = 0;
    for (; i < n; i++) {
      const c = v.charCodeAt(i);
      const h = c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : c >= 65 && c <= 70 ? c - 55 : -1;
      if (h < 0) break;
      val = val * 16 + h;
      digits++;
    }
    if (i < n && v.charCodeAt(i) === 46) {
      // The last 32 bits as a dotted quad ('::ffff:192.0.2.1').
      if (g.length > 6) return bad();
      let b4: Buffer;
      try {
        b4 = ipv4Bytes(v.slice(start), what);
      } catch {
        return bad();
      }
      g.push((b4[0]! << 8) | b4[1]!, (b4[2]! << 8) | b4[3]!);
      i = n;
      break;
    }
    if (digits === 0 || digits > 4 || g.length === 8) return bad();
    g.push(val);
    if (i === n) break;
    if (v.charCodeAt(i) !== 58) return bad();
    i++;
    if (i < n && v.charCodeAt(i) === 58) {
      if (gap >= 0) return bad();
      gap = g.length;
      i++;
    } else if (i === n) {
      return bad();
    }
  }
  if (gap < 0 ? g.length !== 8 : g.length > 7) return bad();
  const b = Buffer.alloc(16);
  const tail = gap < 0 ? 0 : g.length - gap;
  for (let k = 0; k < g.length; k++) {
    const at = gap < 0 || k < gap ? k : 8 - tail + (k - gap);
    b[at * 2] = g[k]! >> 8;
    b[at * 2 + 1] = g[k]! & 0xff;
  }
  return b;
}

function ipv6String(b: Buffer): string {
  const g: number[] = [];
  for (let i = 0; i < 16; i += 2) g.push(b.readUInt16BE(i));
  // Longest run of zeros becomes '::' (RFC 5952).
  let best = -1, bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen && j - i > 1) { best = i; bestLen = j - i; }
    i = j;
  }
  const hex = g.map((x) => x.toString(16));
  if (best < 0) return hex.join(':');
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`;
}

function bitmask(name: string, id: number, bits: Record<string, number>): Datatype {
  return {
    name, id, len: 4, byteorder: HOST,
    encode(v, what) {
      const list = Array.isArray(v) ? v : [v];
      let n = 0;
      for (const x of list) {
        if (typeof x === 'number') n |= intIn(x, what, 0xffffffff);
        else if (typeof x === 'string' && x in bits) n |= bits[x]!;
        else throw new TypeError(`${what}: unknown ${name} ${JSON.stringify(x)} (one of ${Object.keys(bits).join(', ')})`);
      }
      return host32(n);
    },
    decode(b) {
      const n = b.readUInt32LE(0);
      const names = Object.entries(bits).filter(([, v]) => (n & v) === v).map(([k]) => k);
      return names.length === 1 ? names[0]! : n;
    },
  };
}

export const CT_STATES: Record<string, number> = { invalid: 1, established: 2, related: 4, new: 8, untracked: 64 };
export const CT_STATUS: Record<string, number> = {
  expected: 1, 'seen-reply': 2, assured: 4, confirmed: 8, snat: 16, dnat: 32, dying: 512,
};
export const FIB_ADDRTYPES: Record<string, number> = {
  unspec: 0, unicast: 1, local: 2, broadcast: 3, anycast: 4, multicast: 5, blackhole: 6, unreachable: 7, prohibit: 8,
};

const TYPES: Datatype[] = [
  {
    name: 'verdict', id: 1, len: 0, byteorder: 0,
    encode() { throw new TypeError('verdicts are not encoded as bytes'); },
    decode() { return 0; },
  },
  {
    name: 'nf_proto', id: 2, len: 1, byteorder: HOST,
    encode(v, what) {
      if (v === 'ipv4') return Buffer.from([2]);
      if (v === 'ipv6') return Buffer.from([10]);
      return Buffer.from([intIn(v, what, 255)]);
    },
    decode(b) { return b[0] === 2 ? 'ipv4' : b[0] === 10 ? 'ipv6' : b[0]!; },
  },
  {
    name: 'ipv4_addr', id: 7, len: 4, byteorder: BIG,
    encode: ipv4Bytes,
    decode(b) { return [...b.subarray(0, 4)].join('.'); },
  },
  {
    name: 'ipv6_addr', id: 8, len: 16, byteorder: BIG,
    encode: ipv6Bytes,
    decode(b) { return ipv6String(b); },
  },
  {
    name: 'ether_addr', id: 9, len: 6, byteorder: BIG,
    encode(v, what) {
      if (typeof v !== 'string' || !/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/i.test(v)) throw new TypeError(`${what} must be a MAC address`);
      return Buffer.from(v.split(':').map((x) => parseInt(x, 16)));
    },
    decode(b) { return [...b.subarray(0, 6)].map((x) => x.toString(16).padStart(2, '0')).join(':'); },
  },
  {
    name: 'ether_type', id: 10, len: 2, byteorder: HOST,
    encode(v, what) {
      const n = v === 'ip' ? 0x0800 : v === 'ip6' ? 0x86dd : v === 'arp' ? 0x0806 : intIn(v, what, 0xffff);
      return be(n, 2);
    },
    decode(b) { const n = b.readUInt16BE(0); return n === 0x0800 ? 'ip' : n === 0x86dd ? 'ip6' : n === 0x0806 ? 'arp' : n; },
  },
  {
    name: 'inet_proto', id: 12, len: 1, byteorder: BIG,
    encode(v, what) {
      if (typeof v === 'string' && v in PROTOS) return Buffer.from([PROTOS[v]!]);
      return Buffer.from([intIn(v, what, 255)]);
    },
    decode(b) { return Object.entries(PROTOS).find(([, n]) => n === b[0])?.[0] ?? b[0]!; },
  },
  {
    name: 'inet_service', id: 13, len: 2, byteorder: BIG,
    encode(v, what) { return be(intIn(v, what, 65535), 2); },
    decode(b) { return b.readUInt16BE(0); },
  },
  {
    name: 'mark', id: 19, len: 4, byteorder: HOST,
    encode(v, what) { return host32(intIn(v, what, 0xffffffff)); },
    decode(b) { return b.readUInt32LE(0); },
  },
  {
    name: 'iface_index', id: 20, len: 4, byteorder: HOST,
    encode(v, what) { return host32(intIn(v, what, 0x7fffffff)); },
    decode(b) { return b.readUInt32LE(0); },
  },
  bitmask('ct_state', 26, CT_STATES),
  bitmask('ct_status', 28, CT_STATUS),
  {
    name: 'fib_addrtype', id: 38, len: 4, byteorder: HOST,
    encode(v, what) {
      if (typeof v === 'string' && v in FIB_ADDRTYPES) return host32(FIB_ADDRTYPES[v]!);
      return host32(intIn(v, what, 255));
    },
    decode(b) { const n = b.readUInt32LE(0); return Object.entries(FIB_ADDRTYPES).find(([, x]) => x === n)?.[0] ?? n; },
  },
  {
    name: 'ifname', id: 41, len: 16, byteorder: HOST,
    encode(v, what) {
      const b = Buffer.alloc(16);
      b.write(checkIfname(v, what));
      return b;
    },
    decode(b) { const s = b.toString('utf8'); const z = s.indexOf('\0'); return z < 0 ? s : s.slice(0, z); },
  },
];

const BY_NAME = new Map(TYPES.map((t) => [t.name, t]));
const BY_ID = new Map(TYPES.map((t) => [t.id, t]));

/** Names of the data types netplumb can encode. */
export type DatatypeName =
  | 'ipv4_addr' | 'ipv6_addr' | 'ether_addr' | 'ether_type' | 'inet_proto' | 'inet_service' | 'mark'
  | 'iface_index' | 'ct_state' | 'ct_status' | 'fib_addrtype' | 'ifname' | 'nf_proto';

export function datatype(name: string): Datatype {
  const t = BY_NAME.get(name);
  if (!t || t.name === 'verdict') throw new TypeError(`unknown data type ${JSON.stringify(name)} (one of ${[...BY_NAME.keys()].filter((k) => k !== 'verdict').join(', ')})`);
  return t;
}

export function datatypeById(id: number): Datatype | undefined {
  return BY_ID.get(id);
}

/** A key or data layout: one type, or a concatenation. */
export class Layout {
  /** A concatenation (more than one part). */
  readonly concat: boolean;
  /** NFTA_SET_KEY_TYPE / DATA_TYPE. */
  readonly id: number;
  /** NFTA_SET_KEY_LEN: each part of a concatenation takes whole 4-byte registers. */
  readonly len: number;

  // Computed once: encode() runs for every element of every commit.
  constructor(readonly parts: readonly Datatype[]) {
    this.concat = parts.length > 1;
    this.id = parts.reduce((acc, t) => acc * 64 + t.id, 0);
    this.len = this.concat ? parts.reduce((n, t) => n + pad4(t.len), 0) : parts[0]!.len;
  }

  /** What nft records as the byte order: that of the type, none for a concatenation. */
  get byteorder(): number { return this.concat ? 0 : this.parts[0]!.byteorder; }
  get name(): string { return this.parts.map((t) => t.name).join(' . '); }

  /** The bytes of a value: one scalar, or one per part of a concatenation. */
  encode(v: unknown, what: string): Buffer {
    if (!this.concat) return this.parts[0]!.encode(v, what);
    if (!Array.isArray(v) || v.length !== this.parts.length) {
      throw new TypeError(`${what} must be an array of ${this.parts.length} values (${this.name})`);
    }
    // Each part in whole 4-byte registers, zero padded, in one pooled buffer.
    const out = Buffer.allocUnsafe(this.len).fill(0);
    let off = 0;
    for (let i = 0; i < this.parts.length; i++) {
      const t = this.parts[i]!;
      t.encode(v[i], `${what}[${i}]`).copy(out, off);
      off += pad4(t.len);
    }
    return out;
  }

  decode(b: Buffer): Scalar | Scalar[] {
    if (!this.concat) return this.parts[0]!.decode(b);
    const out: Scalar[] = [];
    let off = 0;
    for (const t of this.parts) {
      out.push(t.decode(b.subarray(off, off + t.len)));
      off += pad4(t.len);
    }
    return out;
  }

  /** The layout of a set key or data type id (and its length, to tell single types). */
  static fromId(id: number): Layout | undefined {
    const parts: Datatype[] = [];
    for (let n = id; n > 0; n = Math.floor(n / 64)) {
      const t = datatypeById(n % 64);
      if (!t) return undefined;
      parts.unshift(t);
    }
    return parts.length ? new Layout(parts) : undefined;
  }
}

export function pad4(n: number): number {
  return (n + 3) & ~3;
}
