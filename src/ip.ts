// IP addresses and prefixes in their text forms: the one parser of them in src/ (native
// code has its own, native/rtnl/ip.cc, for what crosses the boundary). Addresses are
// bigints here, one code path for IPv4 and IPv6; no zone ids ('fe80::1%eth0' names an
// interface, not an address).

/** 4 for IPv4, 6 for IPv6. */
export type IpFamily = 4 | 6;

/** A parsed address: its family and its value as an unsigned integer. */
export interface IpValue {
  family: IpFamily;
  value: bigint;
}

/** 'address/prefixlen' as given (host bits kept: an interface's address), parsed. */
export interface Prefix {
  family: IpFamily;
  /** The address part, as given. */
  address: string;
  value: bigint;
  prefixlen: number;
}

const V4_OCTET = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;
const V6_GROUP = /^[0-9a-fA-F]{1,4}$/;

/** Bits in an address of the family. */
export function bitsOf(family: IpFamily): number {
  return family === 4 ? 32 : 128;
}

function parseV4(s: string): bigint | undefined {
  const parts = s.split('.');
  if (parts.length !== 4) return undefined;
  let v = 0n;
  for (const p of parts) {
    // Decimal only, no leading zeros: '010' is octal to inet_aton and decimal to others.
    if (!V4_OCTET.test(p)) return undefined;
    v = (v << 8n) | BigInt(p);
  }
  return v;
}

function parseV6(s: string): bigint | undefined {
  if (s.includes('%')) return undefined;
  let text = s;
  const lastColon = text.lastIndexOf(':');
  if (text.includes('.', lastColon)) {
    const tail4 = parseV4(text.slice(lastColon + 1));
    if (tail4 === undefined) return undefined;
    text = `${text.slice(0, lastColon + 1)}${(tail4 >> 16n).toString(16)}:${(tail4 & 0xffffn).toString(16)}`;
  }
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const split = (h: string): string[] | undefined => {
    if (h === '') return [];
    const g = h.split(':');
    return g.every((x) => V6_GROUP.test(x)) ? g : undefined;
  };
  const head = split(halves[0]!);
  const tail = halves.length === 2 ? split(halves[1]!) : [];
  if (!head || !tail) return undefined;
  const given = head.length + tail.length;
  if (halves.length === 2 ? given > 7 : given !== 8) return undefined;
  const groups = [...head, ...Array<string>(8 - given).fill('0'), ...tail];
  let v = 0n;
  for (const g of groups) v = (v << 16n) | BigInt(`0x${g}`);
  return v;
}

/** An address's family and value, or undefined if it is not one. */
export function tryParseIp(addr: unknown): IpValue | undefined {
  if (typeof addr !== 'string') return undefined;
  const v4 = parseV4(addr);
  if (v4 !== undefined) return { family: 4, value: v4 };
  if (addr.includes(':')) {
    const v6 = parseV6(addr);
    if (v6 !== undefined) return { family: 6, value: v6 };
  }
  return undefined;
}

/** Parses an IPv4 or IPv6 address (no prefix, no zone); TypeError otherwise. */
export function parseIp(addr: unknown, what = 'address'): IpValue {
  const ip = tryParseIp(addr);
  if (!ip) throw new TypeError(`${what} must be an IPv4 or IPv6 address, got ${JSON.stringify(addr) ?? String(addr)}`);
  return ip;
}

/** 4 or 6 for an address, 0 for anything else. */
export function ipFamily(addr: unknown): 0 | IpFamily {
  return tryParseIp(addr)?.family ?? 0;
}

/** Canonical text of an address value: dotted quad, or RFC 5952 IPv6 (lower case, longest zero run as '::'). */
export function formatIp(value: bigint, family: IpFamily): string {
  if (value < 0n || value >> BigInt(bitsOf(family)) !== 0n) throw new RangeError(`${value} is not an IPv${family} address value`);
  if (family === 4) {
    return [24n, 16n, 8n, 0n].map((s) => String((value >> s) & 0xffn)).join('.');
  }
  // IPv4-mapped addresses keep their dotted tail (RFC 5952 section 5).
  if (value >> 32n === 0xffffn) return `::ffff:${formatIp(value & 0xffffffffn, 4)}`;
  const groups: number[] = [];
  for (let i = 7; i >= 0; i--) groups.push(Number((value >> BigInt(i * 16)) & 0xffffn));
  let best = -1;
  let bestLen = 1; // a single zero group is not compressed
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (best < 0) return hex.join(':');
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`;
}

/** The canonical text of an address ('::0001' becomes '::1'); TypeError if it is not one. */
export function normalizeIp(addr: string): string {
  const { family, value } = parseIp(addr);
  return formatIp(value, family);
}

/**
 * Parses 'address/prefixlen' (a bare address is a host prefix, /32 or /128), keeping the
 * address as given. TypeError for what is not one, RangeError for a length over the
 * family's bits.
 */
export function parsePrefix(v: unknown, what = 'CIDR'): Prefix {
  if (typeof v !== 'string') throw new TypeError(`${what} must be a string like 10.0.0.1/24, got ${typeof v}`);
  const slash = v.indexOf('/');
  const address = slash < 0 ? v : v.slice(0, slash);
  const ip = tryParseIp(address);
  if (!ip) throw new TypeError(`${what} ${JSON.stringify(v)} is not an address/prefix`);
  const max = bitsOf(ip.family);
  let prefixlen = max;
  if (slash >= 0) {
    const p = v.slice(slash + 1);
    if (!/^\d{1,3}$/.test(p)) throw new TypeError(`${what} ${JSON.stringify(v)} has a malformed prefix length`);
    prefixlen = Number(p);
    if (prefixlen > max) throw new RangeError(`${what} ${JSON.stringify(v)}: prefix length over ${max}`);
  }
  return { family: ip.family, address, value: ip.value, prefixlen };
}

/** The host-bits mask of a prefix length. */
export function hostMask(family: IpFamily, prefixlen: number): bigint {
  return (1n << BigInt(bitsOf(family) - prefixlen)) - 1n;
}
