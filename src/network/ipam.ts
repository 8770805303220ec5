// IP address management for networks, in the shape of Docker's default IPAM: address
// pools per subnet (gateway first, network and broadcast never handed out, lowest free
// address first), subnet picking from default address pools, CIDR arithmetic and the
// MAC Docker derives from an IPv4 address (and one from an IPv6 address when there is no
// IPv4 one). Pure computation: nothing here touches the kernel, and allocation is
// synchronous so callers in one process cannot interleave.
//
// Addresses are bigints internally (one code path for IPv4 and IPv6); a pool never
// materialises its range: it keeps the taken addresses in a map, a cursor below which
// every address has been handed out once, and a min-heap of addresses released below
// the cursor, so allocate/release are O(log n) and a /64 costs what its allocations cost.
import { sha256 } from '../crypto';
import { bitsOf, formatIp, hostMask, type IpFamily, parseIp, parsePrefix } from '../ip';

// Addresses are parsed and formatted by src/ip.ts; re-exported here, where the network
// model's users have always found them.
export { formatIp, normalizeIp, parseIp, type IpFamily, type IpValue } from '../ip';

/** A subnet with its host bits cleared: '172.17.0.0/16' whatever '172.17.5.9/16' said. */
export interface Cidr {
  family: IpFamily;
  /** The network address, canonical text. */
  network: string;
  prefixlen: number;
  /** 'network/prefixlen', canonical. */
  cidr: string;
}

interface Span {
  family: IpFamily;
  prefixlen: number;
  first: bigint;
  last: bigint;
}

function span(cidr: unknown, what: string): Span {
  const p = parsePrefix(cidr, what);
  const mask = hostMask(p.family, p.prefixlen);
  const first = p.value & ~mask;
  return { family: p.family, prefixlen: p.prefixlen, first, last: first | mask };
}

function cidrOf(s: Span): Cidr {
  const network = formatIp(s.first, s.family);
  return { family: s.family, network, prefixlen: s.prefixlen, cidr: `${network}/${s.prefixlen}` };
}

/**
 * Parses 'address/prefixlen' (a bare address is a host prefix) and clears the host bits,
 * as Docker does with a subnet given as '172.17.5.9/16'.
 */
export function parseCidr(cidr: string, what = 'subnet'): Cidr {
  return cidrOf(span(cidr, what));
}

/** True when `outer` (a CIDR) contains `inner` (an address or a CIDR) entirely; false across families. */
export function contains(outer: string, inner: string): boolean {
  const o = span(outer, 'outer');
  const i = span(inner, 'inner');
  return o.family === i.family && o.first <= i.first && i.last <= o.last;
}

/** True when two CIDRs (or addresses) share at least one address; false across families. */
export function overlaps(a: string, b: string): boolean {
  const x = span(a, 'a');
  const y = span(b, 'b');
  return x.family === y.family && x.first <= y.last && y.first <= x.last;
}

/** The n-th address of a subnet counting from its network address (0); negative n counts from the end (-1 is the last). */
export function nthAddress(cidr: string, n: number | bigint): string {
  if (typeof n === 'number' && !Number.isSafeInteger(n)) throw new TypeError(`n must be an integer, got ${n}`);
  if (typeof n !== 'number' && typeof n !== 'bigint') throw new TypeError('n must be a number or bigint');
  const s = span(cidr, 'subnet');
  const i = BigInt(n);
  const v = i >= 0n ? s.first + i : s.last + 1n + i;
  if (v < s.first || v > s.last) throw new RangeError(`${cidrOf(s).cidr} has no address number ${n}`);
  return formatIp(v, s.family);
}

function macText(bytes: readonly (number | bigint)[]): string {
  return bytes.map((b) => b.toString(16).padStart(2, '0')).join(':');
}

/** The MAC Docker gives an endpoint with IPv4 address a.b.c.d: 02:42:a:b:c:d in hex (locally administered, unicast). */
export function macFromIp(ip: string): string {
  const { family, value } = parseIp(ip, 'ip');
  if (family !== 4) throw new TypeError(`macFromIp needs an IPv4 address, got ${ip}`);
  return macText([0x02n, 0x42n, value >> 24n, (value >> 16n) & 0xffn, (value >> 8n) & 0xffn, value & 0xffn]);
}

/**
 * The MAC of an endpoint that has an IPv6 address and no IPv4 one: 02:42 followed by the
 * address's host part (its bits below the subnet's prefix) when that fits in 32 bits,
 * undefined otherwise.
 *
 * Why this is collision-free: within one subnet, two addresses with the same host part
 * are the same address, so two endpoints of a network never get the same MAC this way;
 * and since the pool hands out the lowest free addresses first, every automatically
 * allocated address of a /64 (or any subnet) has a host part below 2^32 until 4 billion
 * addresses are in use. Only an address given explicitly (or an ipv6Range placed high in
 * the subnet) can have a larger host part; such an endpoint gets a random MAC instead
 * (randomMac), which cannot collide with these since its first byte differs. The low bits
 * of the address alone (without the subnet) would not do: fd00::5 and fd00::1:0:0:5 of
 * one /64 share them.
 */
export function macFromIp6(ip6: string, subnet: string): string | undefined {
  const s = span(subnet, 'subnet');
  const { family, value } = parseIp(ip6, 'ip6');
  if (family !== 6 || s.family !== 6) throw new TypeError(`macFromIp6 needs an IPv6 address and subnet, got ${ip6} in ${subnet}`);
  if (value < s.first || value > s.last) throw new AddressNotInPoolError(ip6, cidrOf(s).cidr);
  const host = value - s.first;
  if (host >> 32n !== 0n) return undefined;
  return macText([0x02n, 0x42n, host >> 24n, (host >> 16n) & 0xffn, (host >> 8n) & 0xffn, host & 0xffn]);
}

/**
 * A random locally administered unicast MAC whose first byte is 0x06: never one of the
 * 02:42:... MACs derived from addresses (macFromIp, macFromIp6). What Docker gives
 * IPv6-only endpoints; here only to those whose address has no short host part.
 */
export function randomMac(random: (n: number) => Uint8Array): string {
  const b = random(5);
  return macText([0x06, ...b]);
}

// ---------------------------------------------------------------------------
// Errors

/** Why a reserved address is not available: it is the pool's gateway, on its reserved list, or its network/broadcast address. */
export type ReservedRole = 'gateway' | 'reserved' | 'network' | 'broadcast';

/** The address is already held: by another owner, or reserved by the pool (`reserved` says as what). */
export class AddressInUseError extends Error {
  readonly code = 'EADDRINUSE';
  readonly address: string;
  /** The owner id holding the address, or the reserved role ('gateway', ...). */
  readonly owner: string;
  readonly reserved?: ReservedRole;

  constructor(address: string, subnet: string, owner: string, reserved?: ReservedRole) {
    super(
      reserved
        ? `${address} is ${reserved === 'reserved' ? 'a reserved address' : `the ${reserved} address`} of ${subnet}, never allocated`
        : `${address} in ${subnet} is already allocated to ${JSON.stringify(owner)}`,
    );
    this.name = 'AddressInUseError';
    this.address = address;
    this.owner = owner;
    if (reserved) this.reserved = reserved;
  }
}

/** The address is not in the pool's subnet (or is of the other family). */
export class AddressNotInPoolError extends RangeError {
  readonly code = 'EADDRNOTAVAIL';

  constructor(readonly address: string, readonly subnet: string) {
    super(`${address} is not in ${subnet}`);
    this.name = 'AddressNotInPoolError';
  }
}

/** Every address of the pool's range is taken. */
export class PoolExhaustedError extends Error {
  readonly code = 'ENOSPC';

  constructor(readonly subnet: string, range: string) {
    super(`no free address left in ${range === subnet ? subnet : `${range} (range of ${subnet})`}`);
    this.name = 'PoolExhaustedError';
  }
}

/** No subnet of the address pools avoids every given subnet. */
export class NoSubnetAvailableError extends Error {
  readonly code = 'ENOSPC';

  constructor(pools: readonly SubnetPoolSpec[]) {
    super(`every subnet of the address pools (${pools.map((p) => `${p.base} as /${p.size}`).join(', ')}) overlaps one in use`);
    this.name = 'NoSubnetAvailableError';
  }
}

// ---------------------------------------------------------------------------
// Address pools

/** A min-heap of bigints (addresses released below a pool's cursor). */
class MinHeap {
  private readonly a: bigint[] = [];

  get size(): number {
    return this.a.length;
  }

  push(v: bigint): void {
    const a = this.a;
    a.push(v);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (a[p]! <= v) break;
      a[i] = a[p]!;
      i = p;
    }
    a[i] = v;
  }

  pop(): bigint | undefined {
    const a = this.a;
    const top = a[0];
    const last = a.pop();
    if (a.length === 0 || last === undefined) return top;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= a.length) break;
      const r = l + 1;
      const c = r < a.length && a[r]! < a[l]! ? r : l;
      if (a[c]! >= last) break;
      a[i] = a[c]!;
      i = c;
    }
    a[i] = last;
    return top;
  }
}

/** Options of an address pool. */
export interface AddressPoolOptions {
  /** The gateway (the bridge's address), reserved; default the first usable address ('.1'); null for none. */
  gateway?: string | null;
  /** Addresses of the subnet never handed out (Docker's --aux-address). */
  reserved?: readonly string[];
  /** A subnet within the subnet that dynamic allocation draws from (Docker's --ip-range). */
  range?: string;
}

/** A pool's persistent form (see AddressPool.toJSON / fromJSON). */
export interface AddressPoolState {
  subnet: string;
  gateway: string | null;
  range?: string;
  reserved: string[];
  /** [address, owner] pairs, sorted by address. */
  allocations: [string, string][];
}

function checkOwner(owner: unknown): string {
  if (typeof owner !== 'string' || owner.length === 0) throw new TypeError(`owner must be a non-empty string, got ${String(owner)}`);
  return owner;
}

/**
 * The addresses of one subnet and who holds them.
 *
 * IPv4: the network and broadcast addresses are never handed out (except on /31 and /32,
 * which have neither, RFC 3021). IPv6: the subnet-router anycast address (the first) is
 * never handed out (except on /127 and /128). Dynamic allocation returns the lowest free
 * address of the range; an address given explicitly may be anywhere in the subnet.
 */
export class AddressPool {
  /** The subnet, host bits cleared. */
  readonly subnet: Cidr;
  /** Where dynamic allocation draws from (the subnet unless a range was given). */
  readonly range: Cidr;
  /** The gateway address, if the pool has one. */
  readonly gateway: string | undefined;
  readonly family: IpFamily;

  private readonly span: Span;
  private readonly usableFirst: bigint;
  private readonly usableLast: bigint;
  private readonly rangeFirst: bigint;
  private readonly rangeLast: bigint;
  private readonly reservedAt = new Map<bigint, ReservedRole>();
  private readonly owners = new Map<bigint, string>();
  private readonly byOwner = new Map<string, Set<bigint>>();
  // Every free address of [rangeFirst, cursor) is in `freed` (which may also hold stale entries).
  private cursor: bigint;
  private readonly freed = new MinHeap();

  constructor(subnet: string, options: AddressPoolOptions = {}) {
    if (typeof options !== 'object' || options === null) throw new TypeError('pool options must be an object');
    this.span = span(subnet, 'subnet');
    this.subnet = cidrOf(this.span);
    this.family = this.span.family;
    const hostBits = bitsOf(this.family) - this.span.prefixlen;
    // Networks too small for a network/broadcast address use every address (RFC 3021 for IPv4).
    const edges = hostBits >= 2;
    this.usableFirst = edges ? this.span.first + 1n : this.span.first;
    this.usableLast = edges && this.family === 4 ? this.span.last - 1n : this.span.last;

    if (options.range !== undefined) {
      const r = span(options.range, 'range');
      if (r.family !== this.family || r.first < this.span.first || r.last > this.span.last) {
        throw new RangeError(`range ${cidrOf(r).cidr} is not within subnet ${this.subnet.cidr}`);
      }
      this.range = cidrOf(r);
      this.rangeFirst = r.first > this.usableFirst ? r.first : this.usableFirst;
      this.rangeLast = r.last < this.usableLast ? r.last : this.usableLast;
    } else {
      this.range = this.subnet;
      this.rangeFirst = this.usableFirst;
      this.rangeLast = this.usableLast;
    }
    this.cursor = this.rangeFirst;

    if (options.gateway === null) {
      this.gateway = undefined;
    } else {
      const gw = options.gateway === undefined ? this.usableFirst : this.usable(options.gateway, 'gateway');
      this.reservedAt.set(gw, 'gateway');
      this.gateway = formatIp(gw, this.family);
    }
    if (options.reserved !== undefined) {
      if (!Array.isArray(options.reserved)) throw new TypeError('reserved must be an array of addresses');
      for (const a of options.reserved) {
        const v = this.inSubnet(a, 'reserved address');
        if (!this.reservedAt.has(v)) this.reservedAt.set(v, 'reserved');
      }
    }
  }

  /** Number of addresses the pool can ever hand out (usable addresses of the subnet less the reserved ones). */
  get capacity(): bigint {
    let reservedUsable = 0n;
    for (const v of this.reservedAt.keys()) if (v >= this.usableFirst && v <= this.usableLast) reservedUsable++;
    return this.usableLast - this.usableFirst + 1n - reservedUsable;
  }

  /** Number of addresses allocated to owners. */
  get allocated(): number {
    return this.owners.size;
  }

  /**
   * Allocates an address to `owner`: `preferred` if given (it must be free and a usable
   * address of the subnet), else the lowest free address of the range.
   * Throws AddressInUseError, AddressNotInPoolError or PoolExhaustedError; nothing changes then.
   */
  allocate(owner: string, preferred?: string): string {
    checkOwner(owner);
    if (preferred !== undefined) {
      const v = this.usable(preferred, 'preferred address');
      const held = this.holder(v);
      if (held) throw this.inUse(v, held.owner, held.reserved);
      this.take(v, owner);
      return formatIp(v, this.family);
    }
    for (let v = this.freed.pop(); v !== undefined; v = this.freed.pop()) {
      if (!this.holder(v)) return this.take(v, owner);
    }
    while (this.cursor <= this.rangeLast) {
      const v = this.cursor++;
      if (!this.holder(v)) return this.take(v, owner);
    }
    throw new PoolExhaustedError(this.subnet.cidr, this.range.cidr);
  }

  /**
   * Records that `owner` holds `address` (reloading state, or an address the kernel shows
   * in use). Idempotent for the same owner; AddressInUseError if someone else holds it.
   */
  claim(address: string, owner: string): string {
    checkOwner(owner);
    const v = this.usable(address, 'address');
    const held = this.holder(v);
    if (held) {
      if (held.owner === owner && !held.reserved) return formatIp(v, this.family);
      throw this.inUse(v, held.owner, held.reserved);
    }
    return this.take(v, owner);
  }

  /**
   * Frees an address. With `owner`, refuses (AddressInUseError) to free an address someone
   * else holds. Returns false when the address was not allocated (release is idempotent).
   */
  release(address: string, owner?: string): boolean {
    if (owner !== undefined) checkOwner(owner);
    const v = this.inSubnet(address, 'address');
    const reserved = this.reservedAt.get(v);
    if (reserved) throw this.inUse(v, reserved, reserved);
    const held = this.owners.get(v);
    if (held === undefined) return false;
    if (owner !== undefined && held !== owner) throw this.inUse(v, held);
    this.owners.delete(v);
    const set = this.byOwner.get(held)!;
    set.delete(v);
    if (set.size === 0) this.byOwner.delete(held);
    if (v >= this.rangeFirst && v < this.cursor) this.freed.push(v);
    return true;
  }

  /** Frees every address `owner` holds; returns them. */
  releaseOwner(owner: string): string[] {
    const out = this.addressesOf(owner);
    for (const a of out) this.release(a, owner);
    return out;
  }

  /** True when the address is held: allocated to an owner, or reserved (gateway, reserved list). */
  has(address: string): boolean {
    const { family, value } = parseIp(address);
    return family === this.family && (this.owners.has(value) || this.reservedAt.has(value));
  }

  /** The owner holding an address, if it is allocated. */
  ownerOf(address: string): string | undefined {
    const { family, value } = parseIp(address);
    return family === this.family ? this.owners.get(value) : undefined;
  }

  /** The addresses `owner` holds, lowest first. */
  addressesOf(owner: string): string[] {
    const set = this.byOwner.get(owner);
    if (!set) return [];
    return [...set].sort((a, b) => (a < b ? -1 : 1)).map((v) => formatIp(v, this.family));
  }

  /** Every allocation as [address, owner], lowest address first. */
  allocations(): [string, string][] {
    return [...this.owners]
      .sort((a, b) => (a[0] < b[0] ? -1 : 1))
      .map(([v, o]) => [formatIp(v, this.family), o]);
  }

  /** The pool's persistent form: configuration and allocations, plain JSON. */
  toJSON(): AddressPoolState {
    const reserved = [...this.reservedAt]
      .filter(([, role]) => role === 'reserved')
      .map(([v]) => v)
      .sort((a, b) => (a < b ? -1 : 1))
      .map((v) => formatIp(v, this.family));
    const out: AddressPoolState = { subnet: this.subnet.cidr, gateway: this.gateway ?? null, reserved, allocations: this.allocations() };
    if (this.range !== this.subnet) out.range = this.range.cidr;
    return out;
  }

  /** Rebuilds a pool from toJSON()'s output; a state that allocates an address twice throws AddressInUseError. */
  static fromJSON(state: AddressPoolState): AddressPool {
    if (typeof state !== 'object' || state === null) throw new TypeError('pool state must be an object');
    if (!Array.isArray(state.allocations)) throw new TypeError('pool state: allocations must be an array');
    const opts: AddressPoolOptions = { gateway: state.gateway, reserved: state.reserved ?? [] };
    if (state.range !== undefined) opts.range = state.range;
    const pool = new AddressPool(state.subnet, opts);
    for (const entry of state.allocations) {
      if (!Array.isArray(entry) || entry.length !== 2) throw new TypeError('pool state: each allocation must be [address, owner]');
      pool.claim(entry[0], entry[1]);
    }
    return pool;
  }

  private take(v: bigint, owner: string): string {
    this.owners.set(v, owner);
    let set = this.byOwner.get(owner);
    if (!set) this.byOwner.set(owner, (set = new Set()));
    set.add(v);
    return formatIp(v, this.family);
  }

  private holder(v: bigint): { owner: string; reserved?: ReservedRole } | undefined {
    const r = this.reservedAt.get(v);
    if (r) return { owner: r, reserved: r };
    const o = this.owners.get(v);
    return o === undefined ? undefined : { owner: o };
  }

  private inUse(v: bigint, owner: string, reserved?: ReservedRole): AddressInUseError {
    return new AddressInUseError(formatIp(v, this.family), this.subnet.cidr, owner, reserved);
  }

  /** The value of an address of the subnet (any, including network/broadcast). */
  private inSubnet(address: unknown, what: string): bigint {
    const { family, value } = parseIp(address, what);
    if (family !== this.family || value < this.span.first || value > this.span.last) {
      throw new AddressNotInPoolError(String(address), this.subnet.cidr);
    }
    return value;
  }

  /** The value of an address that may be handed out: in the subnet, not its network/broadcast address. */
  private usable(address: unknown, what: string): bigint {
    const v = this.inSubnet(address, what);
    if (v < this.usableFirst) throw this.inUse(v, 'network', 'network');
    if (v > this.usableLast) throw this.inUse(v, 'broadcast', 'broadcast');
    return v;
  }
}

// ---------------------------------------------------------------------------
// Subnet picking

/** An address pool for new networks: subnets of prefix length `size` carved from `base` (Docker's default-address-pools). */
export interface SubnetPoolSpec {
  base: string;
  size: number;
}

/** Docker's default address pools: 172.17-172.31 as /16s, then 192.168.0.0/16 as /20s. */
export const DEFAULT_ADDRESS_POOLS: readonly SubnetPoolSpec[] = Object.freeze([
  { base: '172.17.0.0/16', size: 16 },
  { base: '172.18.0.0/16', size: 16 },
  { base: '172.19.0.0/16', size: 16 },
  { base: '172.20.0.0/14', size: 16 },
  { base: '172.24.0.0/14', size: 16 },
  { base: '172.28.0.0/14', size: 16 },
  { base: '192.168.0.0/16', size: 20 },
]);

/**
 * The default pool of IPv6 subnets: /64s of a unique local /48 (RFC 4193) whose 40-bit
 * global id is the first 40 bits of SHA-256 of `seed`, so one host (seeded with its
 * machine id and the owner) keeps its prefix across restarts and two hosts almost
 * surely differ, as RFC 4193 asks of a pseudo-random global id. Docker does the same
 * with a random fdxx:xxxx:xxxx::/48.
 */
export function ulaPools(seed: string): SubnetPoolSpec[] {
  const h = sha256(seed);
  const g = (i: number) => ((h[i]! << 8) | h[i + 1]!).toString(16);
  return [{ base: `${(0xfd00 | h[0]!).toString(16)}:${g(1)}:${g(3)}::/48`, size: 64 }];
}

/** What pickSubnet chooses from and what it must not overlap. */
export interface PickSubnetOptions {
  /** Pools tried in order; default DEFAULT_ADDRESS_POOLS. */
  pools?: readonly SubnetPoolSpec[];
  /** Subnets (or addresses) in use: routed on the host, or held by other networks. */
  avoid?: readonly string[];
}

/**
 * The first subnet of the pools (in order, lowest address first within a pool) that
 * overlaps none of `avoid`. Subnets to avoid of the other family are ignored.
 * Cost: O(a log a) for a subnets to avoid, however large the pools.
 */
export function pickSubnet(options: PickSubnetOptions = {}): string {
  const pools = options.pools ?? DEFAULT_ADDRESS_POOLS;
  if (!Array.isArray(pools)) throw new TypeError('pools must be an array');
  const avoid = options.avoid ?? [];
  if (!Array.isArray(avoid)) throw new TypeError('avoid must be an array of CIDRs');
  const taken = avoid.map((a: unknown) => span(a, 'avoided subnet'));
  const merged: Record<IpFamily, { first: bigint; last: bigint }[]> = { 4: [], 6: [] };
  for (const fam of [4, 6] as const) {
    const list = taken.filter((s) => s.family === fam).sort((a, b) => (a.first < b.first ? -1 : a.first > b.first ? 1 : 0));
    const out = merged[fam];
    for (const s of list) {
      const top = out[out.length - 1];
      if (top && s.first <= top.last + 1n) {
        if (s.last > top.last) top.last = s.last;
      } else {
        out.push({ first: s.first, last: s.last });
      }
    }
  }
  for (const pool of pools) {
    if (typeof pool !== 'object' || pool === null) throw new TypeError('each pool must be { base, size }');
    const base = span(pool.base, 'pool base');
    const size = pool.size;
    if (!Number.isInteger(size) || size < base.prefixlen || size > bitsOf(base.family)) {
      throw new RangeError(`pool ${cidrOf(base).cidr}: size must be a prefix length from ${base.prefixlen} to ${bitsOf(base.family)}, got ${size}`);
    }
    const step = 1n << BigInt(bitsOf(base.family) - size);
    const busy = merged[base.family];
    // Walk the disjoint, sorted busy intervals alongside the candidates, jumping past each.
    let i = 0;
    let cand = base.first;
    while (cand + step - 1n <= base.last) {
      const last = cand + step - 1n;
      while (i < busy.length && busy[i]!.last < cand) i++;
      const b = busy[i];
      if (!b || b.first > last) return cidrOf({ family: base.family, prefixlen: size, first: cand, last }).cidr;
      // Next candidate: the first aligned subnet after this busy interval.
      cand = ((b.last - base.first) / step + 1n) * step + base.first;
    }
  }
  throw new NoSubnetAvailableError(pools);
}
