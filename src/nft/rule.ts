// A rule vocabulary in nft's words: selectors (ip.daddr, meta.l4proto, ct.state...) with
// matchers (eq, neq, in, vmap...), and statements (accept, jump, counter, dnat,
// masquerade...). A rule is a list of them, compiled to expressions the way nft
// compiles the same text: same registers, same protocol dependencies (`meta nfproto
// ipv4` before `ip daddr` in an inet table, once per rule), prefixes loaded as their
// significant bytes. Raw expressions can be mixed in anywhere.
import type { TypeofPart } from '../binding';
import { parsePrefix } from '../ip';
import type { CtKey, Family, FibFlag, MetaKey, NatFlag, PayloadBase } from './constants';
import { REG32_00, REG_1, REG_VERDICT } from './constants';
import { datatype, type Datatype, type DatatypeName, encodeValue, pad4, type Scalar } from './datatypes';
import type { Expr, Verdict } from './expr';

export type { TypeofPart };

/** Where compilation stands within one rule. */
export interface CompileContext {
  readonly family: Family;
  /** Protocol dependencies already checked by this rule. */
  readonly deps: Set<string>;
  /** Ids of sets created in the same transaction (NFTA_LOOKUP_SET_ID). */
  readonly setIds: ReadonlyMap<string, number>;
}

/** A piece of a rule that compiles to expressions. */
export interface Statement {
  readonly kind: 'statement';
  /** nft's text for it, for messages. */
  readonly text: string;
  compile(ctx: CompileContext): Expr[];
}

/** One item of a rule: a statement from this vocabulary or a raw expression. */
export type RuleItem = Statement | Expr;

type Load =
  | { kind: 'payload'; base: PayloadBase; offset: number; len: number }
  | { kind: 'meta'; key: MetaKey }
  | { kind: 'ct'; key: CtKey }
  | { kind: 'fib'; flags: FibFlag[] };

type Dep = 'ipv4' | 'ipv6' | 'tcp' | 'udp';

function statement(text: string, compile: (ctx: CompileContext) => Expr[]): Statement {
  return { kind: 'statement', text, compile };
}

function loadExpr(l: Load, dreg: number, len?: number): Expr {
  switch (l.kind) {
    case 'payload': return { type: 'payload', base: l.base, offset: l.offset, len: len ?? l.len, dreg };
    case 'meta': return { type: 'meta', key: l.key, dreg };
    case 'ct': return { type: 'ct', key: l.key, dreg };
    case 'fib': return { type: 'fib', flags: l.flags, result: 'type', dreg };
  }
}

function depExprs(dep: Dep, ctx: CompileContext): Expr[] {
  if (ctx.deps.has(dep)) return [];
  ctx.deps.add(dep);
  if (dep === 'ipv4' || dep === 'ipv6') {
    const want = dep === 'ipv4' ? 'ip' : 'ip6';
    if (ctx.family === want) return [];
    if (ctx.family === 'inet') {
      return [
        { type: 'meta', key: 'nfproto', dreg: REG_1 },
        { type: 'cmp', sreg: REG_1, op: 'eq', data: Buffer.from([dep === 'ipv4' ? 2 : 10]) },
      ];
    }
    if (ctx.family === 'bridge' || ctx.family === 'netdev') {
      return [
        { type: 'meta', key: 'protocol', dreg: REG_1 },
        { type: 'cmp', sreg: REG_1, op: 'eq', data: Buffer.from(dep === 'ipv4' ? [0x08, 0x00] : [0x86, 0xdd]) },
      ];
    }
    throw new TypeError(`${want} matches are not possible in a ${ctx.family} table`);
  }
  return [
    { type: 'meta', key: 'l4proto', dreg: REG_1 },
    { type: 'cmp', sreg: REG_1, op: 'eq', data: Buffer.from([dep === 'tcp' ? 6 : 17]) },
  ];
}

/** The register a part of a concatenation lands in: reg 1, then 4-byte slots after it. */
// The register of a concatenation part at this offset, numbered as nft numbers it: a
// part starting a 16-byte register by that register's number (NFT_REG_1..4), others by
// their 4-byte register (NFT_REG32_xx). Both name the same storage; nft's choice is the
// one its bytes (and so the golden tests) carry, e.g. the part after an IPv6 address.
function concatReg(offsetBytes: number): number {
  const r32 = offsetBytes / 4;
  return r32 % 4 === 0 ? REG_1 + r32 / 4 : REG32_00 + r32;
}

function lookupExpr(set: string, sreg: number, ctx: CompileContext, dreg?: number, invert = false): Expr {
  checkSetName(set);
  const e: Expr = { type: 'lookup', sreg, set };
  if (dreg !== undefined) e.dreg = dreg;
  const id = ctx.setIds.get(set);
  if (id !== undefined) e.setId = id;
  if (invert) e.invert = true;
  return e;
}

function checkSetName(set: unknown): string {
  if (typeof set !== 'string' || set.length === 0 || Buffer.byteLength(set) > 255 || set.startsWith('@')) {
    throw new TypeError(`set name must be 1-255 bytes without a leading '@', got ${JSON.stringify(set)}`);
  }
  return set;
}

/** A key expression that can be matched, looked up in a set, or used as a set's `typeof`. */
export class Selector {
  /** @internal */
  constructor(
    /** nft's text ('ip daddr'). */
    readonly text: string,
    readonly dtype: Datatype,
    /** @internal */ readonly load: Load,
    /** @internal */ readonly dep: Dep | undefined,
    /** What `typeof` records for it. */
    readonly typeofPart: TypeofPart,
  ) {}

  /** @internal */
  loadInto(dreg: number, ctx: CompileContext, len?: number): Expr[] {
    return [...(this.dep ? depExprs(this.dep, ctx) : []), loadExpr(this.load, dreg, len)];
  }

  /** @internal The bytes of a value of this selector's type. */
  encode(value: unknown): Buffer {
    return encodeValue([this.dtype.name], value, this.text);
  }

  private compare(op: 'eq' | 'neq', value: unknown): Statement {
    const text = `${this.text} ${op === 'eq' ? '' : '!= '}${String(value)}`;
    const t = this.dtype;
    // Prefixes: nft loads only the significant bytes, or masks when not byte aligned.
    if ((t.name === 'ipv4_addr' || t.name === 'ipv6_addr') && typeof value === 'string' && value.includes('/')) {
      const { address, prefixlen: bits } = parsePrefix(value, this.text);
      const full = this.encode(address);
      const mask = Buffer.alloc(full.length);
      for (let i = 0; i < bits; i++) mask[i >> 3]! |= 0x80 >> (i & 7);
      const net = Buffer.from(full.map((b, i) => b & mask[i]!));
      if (bits % 8 === 0) {
        const n = bits / 8;
        return statement(text, (ctx) => [...this.loadInto(REG_1, ctx, n), { type: 'cmp', sreg: REG_1, op, data: net.subarray(0, n) }]);
      }
      return statement(text, (ctx) => [
        ...this.loadInto(REG_1, ctx),
        { type: 'bitwise', sreg: REG_1, dreg: REG_1, len: full.length, mask, xor: Buffer.alloc(full.length) },
        { type: 'cmp', sreg: REG_1, op, data: net },
      ]);
    }
    let data: Buffer;
    if (t.name === 'ifname' && typeof value === 'string' && value.endsWith('*')) {
      // iifname "br-*": compare the prefix only.
      data = Buffer.from(value.slice(0, -1));
      if (data.length === 0 || data.length > 15) throw new RangeError(`${this.text}: bad wildcard ${value}`);
    } else {
      data = this.encode(value);
    }
    return statement(text, (ctx) => [...this.loadInto(REG_1, ctx), { type: 'cmp', sreg: REG_1, op, data }]);
  }

  /** `SEL value` (cmp eq); addresses take a /prefix, interface names a trailing '*'. */
  eq(value: Scalar | Scalar[]): Statement { return this.compare('eq', value); }
  /** `SEL != value` (cmp neq). */
  neq(value: Scalar | Scalar[]): Statement { return this.compare('neq', value); }

  /** `SEL from-to`: two cmps (gte, lte), as nft does. */
  between(from: Scalar, to: Scalar): Statement {
    const a = this.encode(from);
    const b = this.encode(to);
    return statement(`${this.text} ${from}-${to}`, (ctx) => [
      ...this.loadInto(REG_1, ctx),
      { type: 'cmp', sreg: REG_1, op: 'gte', data: a },
      { type: 'cmp', sreg: REG_1, op: 'lte', data: b },
    ]);
  }

  /** `SEL != from-to` (range neq). */
  notBetween(from: Scalar, to: Scalar): Statement {
    const a = this.encode(from);
    const b = this.encode(to);
    return statement(`${this.text} != ${from}-${to}`, (ctx) => [
      ...this.loadInto(REG_1, ctx),
      { type: 'range', sreg: REG_1, op: 'neq', from: a, to: b },
    ]);
  }

  /** For flag types (ct state, ct status): any of the flags is set (`ct state established,related`). */
  any(...flags: string[]): Statement {
    if (this.dtype.name !== 'ct_state' && this.dtype.name !== 'ct_status') throw new TypeError(`${this.text} is not a set of flags`);
    if (flags.length === 0) throw new TypeError(`${this.text}.any() needs at least one flag`);
    const mask = this.encode(flags);
    return statement(`${this.text} ${flags.join(',')}`, (ctx) => [
      ...this.loadInto(REG_1, ctx),
      { type: 'bitwise', sreg: REG_1, dreg: REG_1, len: 4, mask, xor: Buffer.alloc(4) },
      { type: 'cmp', sreg: REG_1, op: 'neq', data: Buffer.alloc(4) },
    ]);
  }

  /** `SEL @set`: membership in a named set. */
  in(set: string): Statement { return concat(this).in(set); }
  /** `SEL != @set`. */
  notIn(set: string): Statement { return concat(this).notIn(set); }
  /** `SEL vmap @map`: the verdict stored for the key. */
  vmap(map: string): Statement { return concat(this).vmap(map); }
  /** The data a map holds for this key, for dnat/snat. */
  map(map: string): MapLookup { return concat(this).map(map); }

  /** `meta mark set V`, `ct mark set V`. */
  set(value: Scalar): Statement {
    if (this.load.kind !== 'meta' && this.load.kind !== 'ct') throw new TypeError(`${this.text} cannot be set`);
    const data = this.encode(value);
    const l = this.load;
    return statement(`${this.text} set ${value}`, () => [
      { type: 'immediate', dreg: REG_1, data },
      l.kind === 'meta' ? { type: 'meta', key: l.key, sreg: REG_1 } : { type: 'ct', key: l.key, sreg: REG_1 },
    ]);
  }
}

/** A map lookup whose data feeds a NAT statement. */
export interface MapLookup {
  readonly key: Concat;
  readonly map: string;
}

/** Selectors joined with ' . ': one key spread over consecutive registers. */
export class Concat {
  readonly parts: readonly Selector[];

  constructor(parts: Selector[]) {
    if (parts.length === 0) throw new TypeError('concat() needs at least one selector');
    for (const p of parts) if (!(p instanceof Selector)) throw new TypeError('concat() takes selectors (ip.daddr, th.dport...)');
    this.parts = parts;
  }

  /** nft's text ('ip daddr . th dport'). */
  get text(): string { return this.parts.map((p) => p.text).join(' . '); }
  /** The concatenated key's data types, one per part. */
  get types(): DatatypeName[] { return this.parts.map((p) => p.dtype.name); }

  /** @internal Loads every part (dependencies first) and returns the expressions. */
  loadAll(ctx: CompileContext): Expr[] {
    const deps: Expr[] = [];
    for (const p of this.parts) if (p.dep) deps.push(...depExprs(p.dep, ctx));
    const loads: Expr[] = [];
    let off = 0;
    for (const p of this.parts) {
      loads.push(loadExpr(p.load, concatReg(off)));
      off += pad4(p.dtype.len);
    }
    return [...deps, ...loads];
  }

  /** `A . B @set`: membership in a named set (a lookup expression). */
  in(set: string): Statement {
    return statement(`${this.text} @${set}`, (ctx) => [...this.loadAll(ctx), lookupExpr(set, REG_1, ctx)]);
  }
  /** `A . B != @set`. */
  notIn(set: string): Statement {
    return statement(`${this.text} != @${set}`, (ctx) => [...this.loadAll(ctx), lookupExpr(set, REG_1, ctx, undefined, true)]);
  }
  /** `A . B vmap @map`: the verdict stored for the key. */
  vmap(map: string): Statement {
    return statement(`${this.text} vmap @${map}`, (ctx) => [...this.loadAll(ctx), lookupExpr(map, REG_1, ctx, REG_VERDICT)]);
  }
  /** The data a map holds for this key, for dnat/snat. */
  map(map: string): MapLookup {
    checkSetName(map);
    return { key: this, map };
  }
}

/** `a . b . c`: a concatenated key. */
export function concat(...parts: Selector[]): Concat {
  return new Concat(parts);
}

// ---- selectors ----

// nft's ids for `typeof`: EXPR_PAYLOAD 7 with (protocol description, template field),
// EXPR_META 9 with the key.
const PROTO_TH = 11, PROTO_IP = 12, PROTO_IP6 = 13, PROTO_TCP = 8, PROTO_UDP = 6;
const payloadTypeof = (desc: number, field: number): TypeofPart => ({ etype: 7, attrs: [[0, desc], [1, field]] });
const metaTypeof = (key: number): TypeofPart => ({ etype: 9, attrs: [[0, key]] });
const ctTypeof = (key: number): TypeofPart => ({ etype: 12, attrs: [[0, key], [1, 255], [2, 0]] });

function payload(text: string, type: string, base: PayloadBase, offset: number, len: number, dep: Dep | undefined, t: TypeofPart): Selector {
  return new Selector(text, datatype(type), { kind: 'payload', base, offset, len }, dep, t);
}
function metaSel(text: string, type: string, key: MetaKey, n: number): Selector {
  return new Selector(text, datatype(type), { kind: 'meta', key }, undefined, metaTypeof(n));
}
function ctSel(text: string, type: string, key: CtKey, n: number): Selector {
  return new Selector(text, datatype(type), { kind: 'ct', key }, undefined, ctTypeof(n));
}

/** IPv4 header fields (`ip saddr`, `ip daddr`, `ip protocol`). */
export const ip = {
  saddr: payload('ip saddr', 'ipv4_addr', 'network', 12, 4, 'ipv4', payloadTypeof(PROTO_IP, 11)),
  daddr: payload('ip daddr', 'ipv4_addr', 'network', 16, 4, 'ipv4', payloadTypeof(PROTO_IP, 12)),
  protocol: payload('ip protocol', 'inet_proto', 'network', 9, 1, 'ipv4', payloadTypeof(PROTO_IP, 9)),
};
/** IPv6 header fields. */
export const ip6 = {
  saddr: payload('ip6 saddr', 'ipv6_addr', 'network', 8, 16, 'ipv6', payloadTypeof(PROTO_IP6, 8)),
  daddr: payload('ip6 daddr', 'ipv6_addr', 'network', 24, 16, 'ipv6', payloadTypeof(PROTO_IP6, 9)),
  nexthdr: payload('ip6 nexthdr', 'inet_proto', 'network', 6, 1, 'ipv6', payloadTypeof(PROTO_IP6, 6)),
};
/** Any transport header's ports (`th sport`, `th dport`), no protocol check. */
export const th = {
  sport: payload('th sport', 'inet_service', 'transport', 0, 2, undefined, payloadTypeof(PROTO_TH, 1)),
  dport: payload('th dport', 'inet_service', 'transport', 2, 2, undefined, payloadTypeof(PROTO_TH, 2)),
};
/** TCP ports (checks `meta l4proto tcp` first). */
export const tcp = {
  sport: payload('tcp sport', 'inet_service', 'transport', 0, 2, 'tcp', payloadTypeof(PROTO_TCP, 1)),
  dport: payload('tcp dport', 'inet_service', 'transport', 2, 2, 'tcp', payloadTypeof(PROTO_TCP, 2)),
};
/** UDP ports (checks `meta l4proto udp` first). */
export const udp = {
  sport: payload('udp sport', 'inet_service', 'transport', 0, 2, 'udp', payloadTypeof(PROTO_UDP, 1)),
  dport: payload('udp dport', 'inet_service', 'transport', 2, 2, 'udp', payloadTypeof(PROTO_UDP, 2)),
};
/** Packet metadata (`meta l4proto`, `iifname`...). */
export const meta = {
  iifname: metaSel('iifname', 'ifname', 'iifname', 6),
  oifname: metaSel('oifname', 'ifname', 'oifname', 7),
  iif: metaSel('iif', 'iface_index', 'iif', 4),
  oif: metaSel('oif', 'iface_index', 'oif', 5),
  l4proto: metaSel('meta l4proto', 'inet_proto', 'l4proto', 16),
  nfproto: metaSel('meta nfproto', 'nf_proto', 'nfproto', 15),
  mark: metaSel('meta mark', 'mark', 'mark', 3),
};
/** `iifname`: the input interface name. */
export const iifname = meta.iifname;
/** `oifname`: the output interface name. */
export const oifname = meta.oifname;
/** Connection tracking (`ct state`, `ct status`, `ct mark`). */
export const ct = {
  state: ctSel('ct state', 'ct_state', 'state', 0),
  status: ctSel('ct status', 'ct_status', 'status', 2),
  mark: ctSel('ct mark', 'mark', 'mark', 3),
};
/** Route lookups: `fib daddr type`, `fib saddr type`. */
export const fib = {
  daddrType: new Selector('fib daddr type', datatype('fib_addrtype'), { kind: 'fib', flags: ['daddr'] }, undefined, { etype: 0, attrs: [] }),
  saddrType: new Selector('fib saddr type', datatype('fib_addrtype'), { kind: 'fib', flags: ['saddr'] }, undefined, { etype: 0, attrs: [] }),
};

/** Every selector, for naming `typeof` parts read back from the kernel. */
export const SELECTORS: Selector[] = [
  ...Object.values(ip), ...Object.values(ip6), ...Object.values(th), ...Object.values(tcp), ...Object.values(udp),
  ...Object.values(meta), ...Object.values(ct),
];

export function typeofText(p: TypeofPart): string {
  const s = SELECTORS.find((x) => x.typeofPart.etype === p.etype &&
    x.typeofPart.attrs.every(([k, v], i) => p.attrs[i]?.[0] === k && p.attrs[i]?.[1] === v) && (p.etype !== 12 || p.attrs[0]?.[1] === x.typeofPart.attrs[0]?.[1]));
  return s ? s.text : `expr${p.etype}(${p.attrs.map(([k, v]) => `${k}=${v}`).join(',')})`;
}

// ---- statements ----

function verdictStmt(v: Verdict): Statement {
  return statement('chain' in v ? `${v.verdict} ${v.chain}` : v.verdict, () => [{ type: 'immediate', dreg: REG_VERDICT, data: v }]);
}

/** `accept`. */
export function accept(): Statement { return verdictStmt({ verdict: 'accept' }); }
/** `drop`. */
export function drop(): Statement { return verdictStmt({ verdict: 'drop' }); }
/** `jump CHAIN`: run CHAIN, then come back. */
export function jump(chain: string): Statement { return verdictStmt({ verdict: 'jump', chain: checkSetName(chain) }); }
/** `goto CHAIN`: run CHAIN, never come back. */
export function goto(chain: string): Statement { return verdictStmt({ verdict: 'goto', chain: checkSetName(chain) }); }
/** Verdicts whose names are JavaScript keywords: `verdict.return()`, `verdict.continue()`. */
export const verdict = {
  accept, drop, jump, goto,
  return: (): Statement => verdictStmt({ verdict: 'return' }),
  continue: (): Statement => verdictStmt({ verdict: 'continue' }),
};

/** `counter`. */
export function counter(): Statement {
  return statement('counter', () => [{ type: 'counter' }]);
}

/** `notrack`. */
export function notrack(): Statement {
  return statement('notrack', () => [{ type: 'notrack' }]);
}

/** NAT options shared by masquerade, snat and dnat. */
export interface NatOptions {
  random?: boolean;
  fullyRandom?: boolean;
  persistent?: boolean;
}

function natFlags(o: NatOptions | undefined): NatFlag[] {
  const f: NatFlag[] = [];
  if (o?.random) f.push('random');
  if (o?.persistent) f.push('persistent');
  if (o?.fullyRandom) f.push('fully-random');
  return f;
}

function portBytes(p: unknown): Buffer {
  return encodeValue(['inet_service'], p, 'port');
}

/** `masquerade [to :port[-port]] [random|persistent|fully-random]`. */
export function masquerade(o: NatOptions & { port?: number | [number, number] } = {}): Statement {
  const flags = natFlags(o);
  return statement('masquerade', () => {
    const e: Expr[] = [];
    const m: Expr = { type: 'masq' };
    if (o.port !== undefined) {
      const [lo, hi] = Array.isArray(o.port) ? o.port : [o.port, undefined];
      e.push({ type: 'immediate', dreg: REG_1, data: portBytes(lo) });
      m.regProtoMin = REG_1;
      if (hi !== undefined) {
        e.push({ type: 'immediate', dreg: 2, data: portBytes(hi) });
        m.regProtoMax = 2;
      }
      flags.unshift('proto-specified');
    }
    if (flags.length) m.flags = flags;
    return [...e, m];
  });
}

/** `redirect [to :port]`. */
export function redirect(o: NatOptions & { port?: number } = {}): Statement {
  const flags = natFlags(o);
  return statement('redirect', () => {
    const e: Expr[] = [];
    const r: Expr = { type: 'redir' };
    if (o.port !== undefined) {
      e.push({ type: 'immediate', dreg: REG_1, data: portBytes(o.port) });
      r.regProtoMin = REG_1;
      flags.unshift('proto-specified');
    }
    if (flags.length) r.flags = flags;
    return [...e, r];
  });
}

/** Where snat/dnat translate to: a fixed address (and port), or the data of a map. */
export type NatTarget = NatOptions & { family: 'ip' | 'ip6' } & (
  | { addr: string; port?: number | [number, number] }
  | { map: MapLookup; withPort?: boolean }
);

function nat(kind: 'snat' | 'dnat', t: NatTarget): Statement {
  if (t.family !== 'ip' && t.family !== 'ip6') throw new TypeError(`${kind}: family must be 'ip' or 'ip6'`);
  const addrType = datatype(t.family === 'ip' ? 'ipv4_addr' : 'ipv6_addr');
  const flags = natFlags(t);
  if ('map' in t) {
    const { key, map } = t.map;
    return statement(`${kind} ${t.family} to ${key.text} map @${map}`, (ctx) => {
      const n: Expr = { type: 'nat', nat: kind, family: t.family, regAddrMin: REG_1 };
      if (t.withPort) n.regProtoMin = concatReg(pad4(addrType.len));
      if (flags.length) n.flags = flags;
      return [...key.loadAll(ctx), lookupExpr(map, REG_1, ctx, REG_1), n];
    });
  }
  const addr = encodeValue([addrType.name], t.addr, `${kind} address`);
  return statement(`${kind} ${t.family} to ${t.addr}`, () => {
    const e: Expr[] = [{ type: 'immediate', dreg: REG_1, data: addr }];
    const n: Expr = { type: 'nat', nat: kind, family: t.family, regAddrMin: REG_1 };
    const f = [...flags];
    if (t.port !== undefined) {
      const [lo, hi] = Array.isArray(t.port) ? t.port : [t.port, undefined];
      e.push({ type: 'immediate', dreg: 2, data: portBytes(lo) });
      n.regProtoMin = 2;
      if (hi !== undefined) {
        e.push({ type: 'immediate', dreg: 3, data: portBytes(hi) });
        n.regProtoMax = 3;
      }
      f.unshift('proto-specified');
    }
    if (f.length) n.flags = f;
    return [...e, n];
  });
}

/** `dnat ip to ADDR[:PORT]` or `dnat ip to KEY map @MAP`. */
export function dnat(t: NatTarget): Statement { return nat('dnat', t); }
/** `snat ip to ADDR[:PORT]` or from a map. */
export function snat(t: NatTarget): Statement { return nat('snat', t); }

/** `reject [with tcp reset]`: ICMP port unreachable (icmpx in inet tables), or a TCP reset. */
export function reject(o: { with?: 'tcp-reset' | 'icmp' | 'icmpx'; code?: number } = {}): Statement {
  return statement(o.with === 'tcp-reset' ? 'reject with tcp reset' : 'reject', (ctx) => {
    if (o.with === 'tcp-reset') return [...depExprs('tcp', ctx), { type: 'reject', rejectType: 'tcp-reset', icmpCode: 0 }];
    const kind = o.with ?? (ctx.family === 'ip' || ctx.family === 'ip6' ? 'icmp' : 'icmpx');
    const code = o.code ?? (kind === 'icmpx' ? 1 : ctx.family === 'ip6' ? 4 : 3);
    return [{ type: 'reject', rejectType: kind, icmpCode: code }];
  });
}

/** `log [prefix P] [level L | group G]`. */
export function log(o: { prefix?: string; level?: number; group?: number } = {}): Statement {
  return statement('log', () => {
    const e: Expr = { type: 'log' };
    if (o.prefix !== undefined) e.prefix = o.prefix;
    if (o.group !== undefined) e.group = o.group;
    if (o.level !== undefined) e.level = o.level;
    return [e];
  });
}

/** `limit rate N/UNIT [burst B packets]`. */
export function limit(o: { rate: number; per: 'second' | 'minute' | 'hour' | 'day'; burst?: number }): Statement {
  const unit = { second: 1, minute: 60, hour: 3600, day: 86400 }[o.per];
  if (!unit) throw new TypeError('limit.per must be second, minute, hour or day');
  return statement(`limit rate ${o.rate}/${o.per}`, () => [
    { type: 'limit', rate: o.rate, unit, burst: o.burst ?? 5, limitType: 'packets' },
  ]);
}

/** Compiles rule items to expressions for a table of `family`. */
export function compileRule(items: readonly RuleItem[], family: Family, setIds: ReadonlyMap<string, number> = new Map()): Expr[] {
  if (!Array.isArray(items)) throw new TypeError('a rule is an array of statements and expressions');
  const ctx: CompileContext = { family, deps: new Set(), setIds };
  const out: Expr[] = [];
  for (const it of items) {
    if (it && typeof it === 'object' && (it as Statement).kind === 'statement') out.push(...(it as Statement).compile(ctx));
    else out.push(it as Expr);
  }
  return out;
}

