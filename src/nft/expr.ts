// Raw nftables expressions: the register-level bytecode of a rule, one variant per
// expression kind, with names where the kernel has numbers. Each maps one-to-one onto
// the native expression tables (native/nft/expr/*.cc).
import type { NativeExpr, NativeExprField, NativeVerdictData } from '../binding';
import { NFT_CT_DIRECTIONS, NFT_LIMIT_TYPES, NFT_RANGE_OPS } from '../constants';
import {
  BITWISE_OPS, type BitwiseOp, CMP_OPS, type CmpOp, CT_KEYS, type CtKey, FAMILIES, FIB_FLAGS, FIB_RESULTS,
  type FibFlag, type FibResult, flagNames, META_KEYS, type MetaKey, NAT_FLAGS, NAT_TYPES, type NatFlag, nameOf,
  PAYLOAD_BASES, type PayloadBase, REJECT_TYPES, type RejectType, VERDICTS, type VerdictName,
} from './constants';

/** A verdict: accept, drop, continue, return, or jump/goto a chain (NFTA_DATA_VERDICT). */
export type Verdict =
  | { verdict: Exclude<VerdictName, 'jump' | 'goto'> }
  | { verdict: 'jump' | 'goto'; chain: string };

/** `[ payload load LENb @ BASE header + OFFSET => reg DREG ]` (or a write from SREG). */
export interface PayloadExpr {
  type: 'payload'; base: PayloadBase; offset: number; len: number; dreg?: number; sreg?: number;
  csumType?: number; csumOffset?: number; csumFlags?: number;
}
/** `[ meta load KEY => reg DREG ]` or `[ meta set KEY with reg SREG ]`. */
export interface MetaExpr { type: 'meta'; key: MetaKey; dreg?: number; sreg?: number }
/** `[ cmp OP reg SREG DATA ]`: the rule stops unless it holds. */
export interface CmpExpr { type: 'cmp'; sreg: number; op: CmpOp; data: Buffer }
/** `[ bitwise reg DREG = ( reg SREG & MASK ) ^ XOR ]`, or a shift by DATA. */
export interface BitwiseExpr {
  type: 'bitwise'; sreg: number; dreg: number; len: number; mask?: Buffer; xor?: Buffer; op?: BitwiseOp; data?: Buffer;
}
/** `[ immediate reg DREG DATA ]`: a constant, or (dreg 0) the verdict. */
export interface ImmediateExpr { type: 'immediate'; dreg: number; data: Buffer | Verdict }
/** `[ lookup reg SREG set SET (dreg DREG) ]`: set membership, or a map lookup into DREG (0: verdict map). */
export interface LookupExpr { type: 'lookup'; sreg: number; set: string; dreg?: number; setId?: number; invert?: boolean }
/** `[ nat snat|dnat FAMILY addr_min reg .. proto_min reg .. flags .. ]`. */
export interface NatExpr {
  type: 'nat'; nat: 'snat' | 'dnat'; family: 'ip' | 'ip6'; regAddrMin?: number; regAddrMax?: number;
  regProtoMin?: number; regProtoMax?: number; flags?: NatFlag[];
}
/** `[ masq ]`: source NAT to the outgoing interface's address. */
export interface MasqExpr { type: 'masq'; flags?: NatFlag[]; regProtoMin?: number; regProtoMax?: number }
/** `[ redir ]`: destination NAT to this host. */
export interface RedirExpr { type: 'redir'; regProtoMin?: number; regProtoMax?: number; flags?: NatFlag[] }
/** `[ ct load KEY => reg DREG ]` or `[ ct set KEY with reg SREG ]`. */
export interface CtExpr { type: 'ct'; key: CtKey; dreg?: number; sreg?: number; direction?: 'original' | 'reply' }
/** `[ fib FLAGS RESULT => reg DREG ]`: a route lookup. */
export interface FibExpr { type: 'fib'; flags: FibFlag[]; result: FibResult; dreg: number }
/** `[ counter pkts P bytes B ]`. */
export interface CounterExpr { type: 'counter'; packets?: number; bytes?: number }
/** `[ range eq|neq reg SREG FROM TO ]`. */
export interface RangeExpr { type: 'range'; sreg: number; op: 'eq' | 'neq'; from: Buffer; to: Buffer }
/** `[ limit rate RATE/UNIT burst BURST type packets|bytes ]`. */
export interface LimitExpr { type: 'limit'; rate: number; unit: number; burst: number; limitType: 'packets' | 'bytes'; invert?: boolean }
/** `[ log prefix .. level .. group .. ]`. */
export interface LogExpr { type: 'log'; prefix?: string; group?: number; snaplen?: number; qthreshold?: number; level?: number; flags?: number }
/** `[ reject type T code C ]`. */
export interface RejectExpr { type: 'reject'; rejectType: RejectType; icmpCode?: number }
/** `[ notrack ]`. */
export interface NotrackExpr { type: 'notrack' }
/** An expression netplumb has no table for, kept as raw NFTA_EXPR_DATA bytes. */
export interface UnknownExpr { type: 'unknown'; name: string; raw?: Buffer }

/** One nftables expression. */
export type Expr =
  | PayloadExpr | MetaExpr | CmpExpr | BitwiseExpr | ImmediateExpr | LookupExpr | NatExpr | MasqExpr | RedirExpr
  | CtExpr | FibExpr | CounterExpr | RangeExpr | LimitExpr | LogExpr | RejectExpr | NotrackExpr | UnknownExpr;

/** Data as the native side takes it: bytes (NFTA_DATA_VALUE) or a verdict code and chain (NFTA_DATA_VERDICT). */
type NativeData = Buffer | NativeVerdictData;

function pick<K extends string>(table: Record<K, number>, v: unknown, what: string): number {
  if (typeof v === 'string' && v in table) return table[v as K];
  throw new TypeError(`${what}: unknown value ${JSON.stringify(v)} (one of ${Object.keys(table).join(', ')})`);
}
function reg(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 23) throw new RangeError(`${what} must be a register 0-23, got ${String(v)}`);
  return v;
}
function uint(v: unknown, what: string, max = 0xffffffff): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > max) throw new RangeError(`${what} must be an integer 0-${max}, got ${String(v)}`);
  return v;
}
function buf(v: unknown, what: string): Buffer {
  if (!Buffer.isBuffer(v)) throw new TypeError(`${what} must be a Buffer`);
  if (v.length === 0 || v.length > 64) throw new RangeError(`${what} must be 1-64 bytes`);
  return v;
}
function flagBits<K extends string>(table: Record<K, number>, v: unknown, what: string): number {
  if (!Array.isArray(v)) throw new TypeError(`${what} must be an array`);
  return v.reduce<number>((n, f) => n | pick(table, f, what), 0);
}
function chainName(v: unknown, what: string): string {
  if (typeof v !== 'string' || v.length === 0 || Buffer.byteLength(v) > 255) throw new TypeError(`${what} must be a chain name of 1-255 bytes`);
  return v;
}

export function verdictData(v: Verdict): NativeVerdictData {
  const code = pick(VERDICTS, v.verdict, 'verdict');
  if (v.verdict === 'jump' || v.verdict === 'goto') return { code, chain: chainName(v.chain, 'verdict chain') };
  return { code };
}

export function verdictFrom(d: NativeVerdictData): Verdict {
  const name = nameOf(VERDICTS, d.code);
  if (name === 'jump' || name === 'goto') return { verdict: name, chain: d.chain ?? '' };
  if (typeof name === 'number') throw new RangeError(`unknown verdict code ${d.code}`);
  return { verdict: name };
}

/** Checks a raw expression and turns it into the native shape. */
export function toNative(e: Expr): NativeExpr {
  if (typeof e !== 'object' || e === null) throw new TypeError('an expression must be an object');
  const opt = (o: NativeExpr, k: string, v: unknown, f: (v: unknown, w: string) => NativeExprField): void => {
    if (v !== undefined) o[k] = f(v, `${e.type}.${k}`);
  };
  const o: NativeExpr = { type: e.type };
  switch (e.type) {
    case 'payload':
      o.base = pick(PAYLOAD_BASES, e.base, 'payload.base');
      o.offset = uint(e.offset, 'payload.offset', 0xffff);
      o.len = uint(e.len, 'payload.len', 64);
      opt(o, 'dreg', e.dreg, reg); opt(o, 'sreg', e.sreg, reg);
      opt(o, 'csumType', e.csumType, uint); opt(o, 'csumOffset', e.csumOffset, uint); opt(o, 'csumFlags', e.csumFlags, uint);
      return o;
    case 'meta':
      o.key = pick(META_KEYS, e.key, 'meta.key');
      opt(o, 'dreg', e.dreg, reg); opt(o, 'sreg', e.sreg, reg);
      return o;
    case 'cmp':
      return { type: 'cmp', sreg: reg(e.sreg, 'cmp.sreg'), op: pick(CMP_OPS, e.op, 'cmp.op'), data: buf(e.data, 'cmp.data') };
    case 'bitwise':
      o.sreg = reg(e.sreg, 'bitwise.sreg'); o.dreg = reg(e.dreg, 'bitwise.dreg');
      if (e.op !== undefined) o.op = pick(BITWISE_OPS, e.op, 'bitwise.op');
      o.len = uint(e.len, 'bitwise.len', 64);
      opt(o, 'mask', e.mask, buf); opt(o, 'xor', e.xor, buf); opt(o, 'data', e.data, buf);
      return o;
    case 'immediate':
      return { type: 'immediate', dreg: reg(e.dreg, 'immediate.dreg'), data: Buffer.isBuffer(e.data) ? buf(e.data, 'immediate.data') : verdictData(e.data) };
    case 'lookup':
      o.sreg = reg(e.sreg, 'lookup.sreg');
      opt(o, 'dreg', e.dreg, reg);
      o.set = chainName(e.set, 'lookup.set');
      opt(o, 'setId', e.setId, uint);
      if (e.invert) o.flags = 1;
      return o;
    case 'nat':
      o.natType = pick(NAT_TYPES, e.nat, 'nat.nat');
      o.family = e.family === 'ip' ? FAMILIES.ip : e.family === 'ip6' ? FAMILIES.ip6 : pick({}, e.family, 'nat.family');
      opt(o, 'regAddrMin', e.regAddrMin, reg); opt(o, 'regAddrMax', e.regAddrMax, reg);
      opt(o, 'regProtoMin', e.regProtoMin, reg); opt(o, 'regProtoMax', e.regProtoMax, reg);
      if (e.flags?.length) o.flags = flagBits(NAT_FLAGS, e.flags, 'nat.flags');
      return o;
    case 'masq':
    case 'redir':
      if (e.flags?.length) o.flags = flagBits(NAT_FLAGS, e.flags, `${e.type}.flags`);
      opt(o, 'regProtoMin', e.regProtoMin, reg); opt(o, 'regProtoMax', e.regProtoMax, reg);
      return o;
    case 'ct':
      o.key = pick(CT_KEYS, e.key, 'ct.key');
      opt(o, 'dreg', e.dreg, reg); opt(o, 'sreg', e.sreg, reg);
      if (e.direction !== undefined) o.direction = pick(NFT_CT_DIRECTIONS, e.direction, 'ct.direction');
      return o;
    case 'fib':
      return { type: 'fib', flags: flagBits(FIB_FLAGS, e.flags, 'fib.flags'), result: pick(FIB_RESULTS, e.result, 'fib.result'), dreg: reg(e.dreg, 'fib.dreg') };
    case 'counter':
      opt(o, 'bytes', e.bytes, (v, w) => uint(v, w, Number.MAX_SAFE_INTEGER));
      opt(o, 'packets', e.packets, (v, w) => uint(v, w, Number.MAX_SAFE_INTEGER));
      return o;
    case 'range':
      return { type: 'range', sreg: reg(e.sreg, 'range.sreg'), op: pick(NFT_RANGE_OPS, e.op, 'range.op'), from: buf(e.from, 'range.from'), to: buf(e.to, 'range.to') };
    case 'limit':
      return {
        type: 'limit', rate: uint(e.rate, 'limit.rate', Number.MAX_SAFE_INTEGER), unit: uint(e.unit, 'limit.unit', Number.MAX_SAFE_INTEGER),
        burst: uint(e.burst, 'limit.burst'), limitType: pick(NFT_LIMIT_TYPES, e.limitType, 'limit.limitType'), flags: e.invert ? 1 : 0,
      };
    case 'log':
      if (e.prefix !== undefined) {
        if (typeof e.prefix !== 'string' || Buffer.byteLength(e.prefix) > 127) throw new TypeError('log.prefix must be a string of at most 127 bytes');
        o.prefix = e.prefix;
      }
      opt(o, 'group', e.group, (v, w) => uint(v, w, 0xffff)); opt(o, 'snaplen', e.snaplen, uint);
      opt(o, 'qthreshold', e.qthreshold, (v, w) => uint(v, w, 0xffff)); opt(o, 'level', e.level, (v, w) => uint(v, w, 8));
      opt(o, 'flags', e.flags, uint);
      return o;
    case 'reject':
      o.rejectType = pick(REJECT_TYPES, e.rejectType, 'reject.rejectType');
      opt(o, 'icmpCode', e.icmpCode, (v, w) => uint(v, w, 255));
      return o;
    case 'notrack':
      return o;
    case 'unknown':
      if (typeof e.name !== 'string' || !e.name) throw new TypeError('unknown.name must be the expression name');
      return { type: e.name, raw: e.raw ?? Buffer.alloc(0) };
    default:
      throw new TypeError(`unknown expression type ${JSON.stringify((e as { type: unknown }).type)}`);
  }
}

/** Shapes a decoded native expression. */
export function fromNative(n: NativeExpr): Expr {
  const num = (k: string): number | undefined => (typeof n[k] === 'number' ? (n[k] as number) : undefined);
  const set = <T extends object>(o: T, k: string, v: unknown): void => {
    if (v !== undefined) (o as Record<string, unknown>)[k] = v;
  };
  const natFlags = (): NatFlag[] | undefined => {
    const f = num('flags');
    return f ? flagNames(NAT_FLAGS, f) : undefined;
  };
  if ('raw' in n) return { type: 'unknown', name: n.type, ...(Buffer.isBuffer(n.raw) ? { raw: n.raw } : {}) };
  switch (n.type) {
    case 'payload': {
      const o: PayloadExpr = { type: 'payload', base: nameOf(PAYLOAD_BASES, num('base')!) as PayloadBase, offset: num('offset')!, len: num('len')! };
      for (const k of ['dreg', 'sreg', 'csumType', 'csumOffset', 'csumFlags']) set(o, k, num(k));
      return o;
    }
    case 'meta': {
      const o: MetaExpr = { type: 'meta', key: nameOf(META_KEYS, num('key')!) as MetaKey };
      set(o, 'dreg', num('dreg')); set(o, 'sreg', num('sreg'));
      return o;
    }
    case 'cmp':
      return { type: 'cmp', sreg: num('sreg')!, op: nameOf(CMP_OPS, num('op')!) as CmpOp, data: n.data as Buffer };
    case 'bitwise': {
      const o: BitwiseExpr = { type: 'bitwise', sreg: num('sreg')!, dreg: num('dreg')!, len: num('len')! };
      if (num('op') !== undefined) o.op = nameOf(BITWISE_OPS, num('op')!) as BitwiseOp;
      set(o, 'mask', n.mask); set(o, 'xor', n.xor); set(o, 'data', n.data);
      return o;
    }
    case 'immediate': {
      const d = n.data as NativeData;
      return { type: 'immediate', dreg: num('dreg')!, data: Buffer.isBuffer(d) ? d : verdictFrom(d) };
    }
    case 'lookup': {
      const o: LookupExpr = { type: 'lookup', sreg: num('sreg')!, set: n.set as string };
      set(o, 'dreg', num('dreg')); set(o, 'setId', num('setId'));
      if ((num('flags') ?? 0) & 1) o.invert = true;
      return o;
    }
    case 'nat': {
      const o: NatExpr = { type: 'nat', nat: num('natType') === 0 ? 'snat' : 'dnat', family: num('family') === FAMILIES.ip6 ? 'ip6' : 'ip' };
      for (const k of ['regAddrMin', 'regAddrMax', 'regProtoMin', 'regProtoMax']) set(o, k, num(k));
      set(o, 'flags', natFlags());
      return o;
    }
    case 'masq':
    case 'redir': {
      const o: MasqExpr | RedirExpr = { type: n.type };
      set(o, 'flags', natFlags()); set(o, 'regProtoMin', num('regProtoMin')); set(o, 'regProtoMax', num('regProtoMax'));
      return o;
    }
    case 'ct': {
      const o: CtExpr = { type: 'ct', key: nameOf(CT_KEYS, num('key')!) as CtKey };
      set(o, 'dreg', num('dreg')); set(o, 'sreg', num('sreg'));
      if (num('direction') !== undefined) o.direction = num('direction') === NFT_CT_DIRECTIONS.original ? 'original' : 'reply';
      return o;
    }
    case 'fib':
      return { type: 'fib', flags: flagNames(FIB_FLAGS, num('flags') ?? 0), result: nameOf(FIB_RESULTS, num('result')!) as FibResult, dreg: num('dreg')! };
    case 'counter': {
      const o: CounterExpr = { type: 'counter' };
      set(o, 'packets', num('packets')); set(o, 'bytes', num('bytes'));
      return o;
    }
    case 'range':
      return { type: 'range', sreg: num('sreg')!, op: num('op') === NFT_RANGE_OPS.neq ? 'neq' : 'eq', from: n.from as Buffer, to: n.to as Buffer };
    case 'limit': {
      const o: LimitExpr = { type: 'limit', rate: num('rate')!, unit: num('unit')!, burst: num('burst') ?? 0, limitType: num('limitType') === NFT_LIMIT_TYPES.bytes ? 'bytes' : 'packets' };
      if ((num('flags') ?? 0) & 1) o.invert = true;
      return o;
    }
    case 'log': {
      const o: LogExpr = { type: 'log' };
      set(o, 'prefix', n.prefix);
      for (const k of ['group', 'snaplen', 'qthreshold', 'level', 'flags']) set(o, k, num(k));
      return o;
    }
    case 'reject': {
      const o: RejectExpr = { type: 'reject', rejectType: nameOf(REJECT_TYPES, num('rejectType') ?? 0) as RejectType };
      set(o, 'icmpCode', num('icmpCode'));
      return o;
    }
    case 'notrack':
      return { type: 'notrack' };
    default:
      return { type: 'unknown', name: n.type };
  }
}
