// nftables on one namespace: transactions (NFNL_MSG_BATCH_BEGIN ... END, all or nothing)
// and reads that decode every object back, expressions included.
import { native } from '../binding';
import { call, callSync } from '../errors';
import type { Netns } from '../netns';
import { own } from '../validate';
import {
  DATA_VERDICT, ELEM_INTERVAL_END, FAMILIES, type Family, flagNames, HOOKS, type Hook, MSG, nameOf, NLM_F,
  PRIORITIES, SET_FLAGS, type SetFlag, VERDICTS,
} from './constants';
import { datatype, type DatatypeName, Layout, type Scalar } from './datatypes';
import { type Expr, fromNative, type NativeData, type NativeExpr, toNative, type Verdict, verdictData, verdictFrom } from './expr';
import { Concat, compileRule, type RuleItem, Selector, type TypeofPart, typeofText } from './rule';

/** A table by family and name. */
export interface TableRef { family: Family; name: string }
/** Table flags (NFT_TABLE_F_*). */
export type TableFlag = 'dormant' | 'owner' | 'persist';
const TABLE_FLAGS: Record<TableFlag, number> = { dormant: 1, owner: 2, persist: 4 };
/** A table to create (NFT_MSG_NEWTABLE). */
export interface TableSpec extends TableRef { flags?: TableFlag[]; comment?: string }

/** A chain by table and name. */
export interface ChainRef { family: Family; table: string; name: string }
/** A chain to create (NFT_MSG_NEWCHAIN): regular, or a base chain with type, hook and priority. */
export interface ChainSpec extends ChainRef {
  type?: 'filter' | 'nat' | 'route';
  hook?: Hook;
  /** A number or nft's names: raw, mangle, dstnat, filter, security, srcnat. */
  priority?: number | string;
  policy?: 'accept' | 'drop';
  /** The device of a netdev-family base chain. */
  device?: string;
  comment?: string;
}

/** A rule to add (NFT_MSG_NEWRULE with NLM_F_ECHO, so the kernel tells its handle). */
export interface RuleSpec {
  family: Family; table: string; chain: string;
  /** Statements from the vocabulary and raw expressions, in order. */
  rule: RuleItem[];
  comment?: string;
  /** add: after the rule with this handle; insert: before it. */
  position?: number;
}
/** A rule by handle. */
export interface RuleRef { family: Family; table: string; chain: string; handle: number }

/** A key or data type: a data type, a concatenation of them, or nft's `typeof` of selectors. */
export type KeySpec = DatatypeName | DatatypeName[] | { typeof: Selector | Selector[] | Concat };

/** A set or map to create (NFT_MSG_NEWSET). */
export interface SetSpec {
  family: Family; table: string; name: string;
  key: KeySpec;
  /** Makes it a map: to a verdict, or to data of this type. */
  map?: KeySpec | 'verdict';
  flags?: ('interval' | 'timeout' | 'constant' | 'dynamic')[];
  /** Default element timeout in milliseconds (sets the timeout flag). */
  timeout?: number;
  gcInterval?: number;
  size?: number;
  policy?: 'performance' | 'memory';
  comment?: string;
}
/** A set by table and name. */
export interface SetRef { family: Family; table: string; name: string }

/** A set element: a key (one value per part of a concatenation; prefixes and a-b ranges in interval sets), and for maps a value. */
export interface ElementSpec {
  key: Scalar | Scalar[];
  value?: Scalar | Scalar[] | Verdict;
  /** Milliseconds. */
  timeout?: number;
  comment?: string;
}
/** Elements of one set (NFT_MSG_NEWSETELEM / DELSETELEM / DESTROYSETELEM). */
export interface ElementsSpec { family: Family; table: string; set: string; elements: ElementSpec[] }

/** A table as the kernel lists it. */
export interface TableInfo { family: Family; name: string; handle: number; flags: TableFlag[]; use?: number; comment?: string }
/** A chain as the kernel lists it. */
export interface ChainInfo {
  family: Family; table: string; name: string; handle: number;
  type?: string; hook?: Hook; priority?: number; policy?: 'accept' | 'drop'; device?: string; use?: number; comment?: string;
}
/** A rule as the kernel lists it, its expressions decoded. */
export interface RuleInfo { family: Family; table: string; chain: string; handle: number; exprs: Expr[]; comment?: string }
/** A set element as listed (interval sets: start/end pairs merged back into prefixes and ranges). */
export interface ElementInfo { key: Scalar | Scalar[]; value?: Scalar | Scalar[] | Verdict; timeout?: number; expires?: number; comment?: string }
/** A set or map as the kernel lists it. */
export interface SetInfo {
  family: Family; table: string; name: string; handle: number; flags: SetFlag[];
  /** The key's data type ('ipv4_addr . inet_proto . inet_service'). */
  key: string;
  /** The key's `typeof` ('ip daddr . meta l4proto . th dport'), when declared so. */
  keyTypeof?: string;
  /** For maps: 'verdict' or the data type. */
  map?: string;
  mapTypeof?: string;
  timeout?: number; gcInterval?: number; size?: number; comment?: string;
  elements?: ElementInfo[];
}
/** A whole table read at one ruleset generation. */
export interface TableListing { generation: number; table: TableInfo; chains: ChainInfo[]; sets: SetInfo[]; rules: RuleInfo[] }

/** What commit() returns. */
export interface CommitResult {
  /** Per operation, in order: the handle of an added rule, else undefined. */
  handles: (number | undefined)[];
}

// ---- native shapes ----

interface NativeOp {
  kind: 'table' | 'chain' | 'rule' | 'set' | 'elements';
  msg: number; nlFlags: number; what: string; family: number;
  [k: string]: unknown;
}
interface NativeSet {
  family: number; table: string; name: string; handle: number; flags?: number; keyType?: number; keyLen?: number;
  dataType?: number; dataLen?: number; timeout?: number; gcInterval?: number; size?: number; policy?: number;
  udata?: { keyByteorder?: number; dataByteorder?: number; keyTypeof?: TypeofPart[]; dataTypeof?: TypeofPart[]; dataInterval?: number; comment?: string };
  elements?: NativeElem[];
}
interface NativeElem { key: Buffer; keyEnd?: Buffer; data?: NativeData; flags: number; timeout?: number; expiration?: number; comment?: string }
interface NativeTable { family: number; name: string; handle: number; flags?: number; use?: number; comment?: string }
interface NativeChain {
  family: number; table: string; name: string; handle: number; hook?: { num: number; priority: number; device?: string };
  type?: string; policy?: number; use?: number; comment?: string;
}
interface NativeRule { family: number; table: string; chain: string; handle: number; exprs: NativeExpr[]; comment?: string }

// ---- validation ----

function familyNum(f: unknown): number {
  if (typeof f !== 'string' || !(f in FAMILIES)) throw new TypeError(`family must be one of ${Object.keys(FAMILIES).join(', ')}, got ${String(f)}`);
  return FAMILIES[f as Family];
}
function familyName(n: number): Family {
  const f = nameOf(FAMILIES, n);
  if (typeof f === 'number') throw new RangeError(`unknown nfproto ${n}`);
  return f;
}
function objName(v: unknown, what: string): string {
  // A UTF-16 unit is at most 3 UTF-8 bytes: short names skip the byte count.
  if (typeof v !== 'string' || v.length === 0 || (v.length > 85 && Buffer.byteLength(v) > 255) || v.includes('\0')) {
    throw new TypeError(`${what} must be a name of 1-255 bytes, got ${JSON.stringify(v)}`);
  }
  return v;
}
function handleNum(v: unknown, what = 'handle'): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v <= 0) throw new RangeError(`${what} must be a positive integer, got ${String(v)}`);
  return v;
}
function comment(v: unknown): string | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || Buffer.byteLength(v) > 128) throw new TypeError('comment must be a string of at most 128 bytes');
  return v;
}
function ms(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v <= 0) throw new RangeError(`${what} must be a positive number of milliseconds`);
  return v;
}

interface KeyShape { layout: Layout; typeof?: TypeofPart[] }
function keyShape(k: unknown, what: string): KeyShape {
  if (typeof k === 'string') return { layout: new Layout([datatype(k)]) };
  if (Array.isArray(k)) {
    if (k.length === 0) throw new TypeError(`${what} needs at least one type`);
    return { layout: new Layout(k.map((t) => datatype(t as string))) };
  }
  if (k && typeof k === 'object' && 'typeof' in k) {
    const t = (k as { typeof: unknown }).typeof;
    const c = t instanceof Concat ? t : t instanceof Selector ? new Concat([t]) : Array.isArray(t) ? new Concat(t as Selector[]) : null;
    if (!c) throw new TypeError(`${what}.typeof takes selectors (ip.daddr, th.dport...)`);
    for (const p of c.parts) if (p.typeofPart.etype === 0) throw new TypeError(`${p.text} cannot be a set key`);
    return { layout: c.layout, typeof: c.parts.map((p) => p.typeofPart) };
  }
  throw new TypeError(`${what} must be a data type name, an array of them, or { typeof: selectors }`);
}

/** How to encode a set's elements. */
interface SetShape { key: Layout; data?: Layout | 'verdict'; interval: boolean; id?: number }

function shapeOf(s: NativeSet): SetShape {
  const key = Layout.fromId(s.keyType ?? 0);
  if (!key) throw new RangeError(`set ${s.name}: key type ${s.keyType} is not one netplumb can encode`);
  let data: Layout | 'verdict' | undefined;
  if (s.dataType !== undefined && ((s.flags ?? 0) & SET_FLAGS.map)) {
    data = s.dataType === DATA_VERDICT ? 'verdict' : Layout.fromId(s.dataType);
    if (!data) throw new RangeError(`set ${s.name}: data type ${s.dataType} is not one netplumb can encode`);
  }
  return { key, data, interval: ((s.flags ?? 0) & SET_FLAGS.interval) !== 0 };
}

function increment(b: Buffer): Buffer | null {
  const out = Buffer.from(b);
  for (let i = out.length - 1; i >= 0; i--) {
    if (out[i]! < 255) { out[i]!++; return out; }
    out[i] = 0;
  }
  return null; // wrapped: the range runs to the end of the type
}

/** [start, end] (inclusive) of a prefix, a range 'a-b', or a single value, as key bytes. */
function intervalOf(layout: Layout, v: unknown, what: string): [Buffer, Buffer] {
  const t = layout.parts[0]!;
  if (typeof v === 'string' && v.includes('/') && (t.name === 'ipv4_addr' || t.name === 'ipv6_addr')) {
    const [a, l] = v.split('/') as [string, string];
    const bits = Number(l);
    const addr = t.encode(a, what);
    if (!/^\d+$/.test(l) || bits > addr.length * 8) throw new RangeError(`${what}: bad prefix ${v}`);
    const start = Buffer.from(addr), end = Buffer.from(addr);
    for (let i = bits; i < addr.length * 8; i++) {
      start[i >> 3]! &= ~(0x80 >> (i & 7));
      end[i >> 3]! |= 0x80 >> (i & 7);
    }
    if (!start.equals(addr)) throw new RangeError(`${what}: ${v} has host bits set`);
    return [start, end];
  }
  if (typeof v === 'string' && /^[^-]+-[^-]+$/.test(v) && t.name !== 'ifname') {
    const [a, b] = v.split('-') as [string, string];
    const conv = (x: string): unknown => (t.name === 'inet_service' || t.name === 'mark' ? Number(x) : x);
    const s = layout.encode(conv(a), what), e = layout.encode(conv(b), what);
    if (Buffer.compare(s, e) > 0) throw new RangeError(`${what}: range ${v} runs backwards`);
    return [s, e];
  }
  const k = layout.encode(v, what);
  return [k, k];
}

function prefixLen(start: Buffer, last: Buffer): number | null {
  let bits = start.length * 8;
  for (let i = start.length * 8 - 1; i >= 0; i--) {
    const m = 0x80 >> (i & 7);
    const s = start[i >> 3]! & m, e = last[i >> 3]! & m;
    if (s === 0 && e !== 0) bits = i;
    else break;
  }
  for (let i = 0; i < bits; i++) {
    const m = 0x80 >> (i & 7);
    if ((start[i >> 3]! & m) !== (last[i >> 3]! & m)) return null;
  }
  return bits;
}

function decrement(b: Buffer): Buffer {
  const out = Buffer.from(b);
  for (let i = out.length - 1; i >= 0; i--) {
    if (out[i]! > 0) { out[i]!--; return out; }
    out[i] = 255;
  }
  return out;
}

function decodeElements(shape: SetShape, elems: NativeElem[]): ElementInfo[] {
  const value = (e: NativeElem): ElementInfo['value'] => {
    if (!e.data) return undefined;
    if (!Buffer.isBuffer(e.data)) return verdictFrom(e.data);
    return shape.data instanceof Layout ? shape.data.decode(e.data) : undefined;
  };
  const info = (key: ElementInfo['key'], e: NativeElem): ElementInfo => {
    const o: ElementInfo = { key };
    const v = value(e);
    if (v !== undefined) o.value = v;
    if (e.timeout !== undefined) o.timeout = e.timeout;
    if (e.expiration !== undefined) o.expires = e.expiration;
    if (e.comment !== undefined) o.comment = e.comment;
    return o;
  };
  if (!shape.interval || shape.key.concat) return elems.map((e) => info(shape.key.decode(e.key), e));
  const sorted = [...elems].sort((a, b) => Buffer.compare(a.key, b.key) || (a.flags & ELEM_INTERVAL_END) - (b.flags & ELEM_INTERVAL_END));
  const out: ElementInfo[] = [];
  for (let i = 0; i < sorted.length; i++) {
    const e = sorted[i]!;
    if (e.flags & ELEM_INTERVAL_END) continue; // a lone end (nft marks the gap before the first range so)
    const next = sorted[i + 1];
    const last = next && next.flags & ELEM_INTERVAL_END ? decrement(next.key) : Buffer.alloc(e.key.length, 0xff);
    const t = shape.key.parts[0]!;
    let key: Scalar;
    const plen = prefixLen(e.key, last);
    if (last.equals(e.key)) key = t.decode(e.key);
    else if (plen !== null && (t.name === 'ipv4_addr' || t.name === 'ipv6_addr')) key = `${t.decode(e.key)}/${plen}`;
    else key = `${t.decode(e.key)}-${t.decode(last)}`;
    out.push(info(key, e));
  }
  return out;
}

function setInfo(s: NativeSet): SetInfo {
  const flags = flagNames(SET_FLAGS, s.flags ?? 0);
  const key = Layout.fromId(s.keyType ?? 0);
  const o: SetInfo = {
    family: familyName(s.family), table: s.table, name: s.name, handle: s.handle, flags,
    key: key?.name ?? `type ${s.keyType}`,
  };
  const u = s.udata;
  if (u?.keyTypeof?.length) o.keyTypeof = u.keyTypeof.map(typeofText).join(' . ');
  if ((s.flags ?? 0) & SET_FLAGS.map) {
    o.map = s.dataType === DATA_VERDICT ? 'verdict' : Layout.fromId(s.dataType ?? 0)?.name ?? `type ${s.dataType}`;
    if (u?.dataTypeof?.length) o.mapTypeof = u.dataTypeof.map(typeofText).join(' . ');
  }
  if (s.timeout !== undefined) o.timeout = s.timeout;
  if (s.gcInterval !== undefined) o.gcInterval = s.gcInterval;
  if (s.size !== undefined) o.size = s.size;
  if (u?.comment !== undefined) o.comment = u.comment;
  if (s.elements) {
    try {
      o.elements = decodeElements(shapeOf(s), s.elements);
    } catch {
      o.elements = s.elements.map((e) => ({ key: e.key.toString('hex') }));
    }
  }
  return o;
}

function tableInfo(t: NativeTable): TableInfo {
  const o: TableInfo = { family: familyName(t.family), name: t.name, handle: t.handle, flags: flagNames(TABLE_FLAGS, t.flags ?? 0) };
  if (t.use !== undefined) o.use = t.use;
  if (t.comment !== undefined) o.comment = t.comment;
  return o;
}

function chainInfo(c: NativeChain): ChainInfo {
  const o: ChainInfo = { family: familyName(c.family), table: c.table, name: c.name, handle: c.handle };
  if (c.type !== undefined) o.type = c.type;
  if (c.hook) {
    const table: Partial<Record<Hook, number>> = c.family === FAMILIES.netdev ? { ingress: 0, egress: 1 } : { prerouting: 0, input: 1, forward: 2, output: 3, postrouting: 4, ingress: 5 };
    const h = nameOf(table as Record<Hook, number>, c.hook.num);
    if (typeof h === 'string') o.hook = h;
    o.priority = c.hook.priority;
    if (c.hook.device) o.device = c.hook.device;
  }
  if (c.policy !== undefined) o.policy = c.policy === VERDICTS.drop ? 'drop' : 'accept';
  if (c.use !== undefined) o.use = c.use;
  if (c.comment !== undefined) o.comment = c.comment;
  return o;
}

function ruleInfo(r: NativeRule): RuleInfo {
  const o: RuleInfo = { family: familyName(r.family), table: r.table, chain: r.chain, handle: r.handle, exprs: r.exprs.map(fromNative) };
  if (r.comment !== undefined) o.comment = r.comment;
  return o;
}

type Pending =
  | { op: NativeOp }
  | { elements: { family: number; fam: Family; table: string; set: string; elements: ElementSpec[]; msg: number; nlFlags: number; what: string; remove: boolean } };

/**
 * One atomic change to the ruleset: collect operations, then commit() sends them as a
 * single NFNL_MSG_BATCH_BEGIN ... END. Verbs are nft's: add (no NLM_F_EXCL: fine if it
 * exists), create (NLM_F_EXCL), insert, replace, delete (ENOENT if missing), destroy
 * (no error if missing).
 */
export class Transaction {
  readonly #nft: Nft;
  readonly #pending: Pending[] = [];
  readonly #sets = new Map<string, SetShape>();
  readonly #generation: number | undefined;
  #nextSetId = 1;
  #committed = false;

  /** @internal */
  constructor(nft: Nft, generation?: number) {
    this.#nft = nft;
    this.#generation = generation;
  }

  /** Number of operations so far. */
  get size(): number { return this.#pending.length; }

  #push(op: NativeOp): number {
    if (this.#committed) throw new Error('transaction already committed');
    this.#pending.push({ op });
    return this.#pending.length - 1;
  }

  #table(verb: string, msg: number, nlFlags: number, ref: TableRef & { handle?: number }, tableSpec?: TableSpec): number {
    const t = own(ref, 'table');
    const spec = tableSpec ? (t as TableSpec) : undefined;
    const family = familyNum(t.family);
    const op: NativeOp = { kind: 'table', msg, nlFlags, family, what: `${verb} table ${t.family} ${t.name ?? ''}`.trim() };
    if (t.handle !== undefined) op.handle = handleNum(t.handle);
    else op.name = objName(t.name, 'table name');
    if (spec?.flags) op.flags = spec.flags.reduce((n, f) => n | (TABLE_FLAGS[f] ?? (() => { throw new TypeError(`unknown table flag ${f}`); })()), 0);
    const c = comment(spec?.comment);
    if (c !== undefined) op.comment = c;
    return this.#push(op);
  }

  /** add table (NFT_MSG_NEWTABLE). */
  addTable(t: TableSpec): number { return this.#table('add', MSG.NEWTABLE, NLM_F.CREATE, t, t); }
  /** create table: EEXIST if it exists (NLM_F_EXCL). */
  createTable(t: TableSpec): number { return this.#table('create', MSG.NEWTABLE, NLM_F.CREATE | NLM_F.EXCL, t, t); }
  /** delete table, with everything in it (NFT_MSG_DELTABLE). */
  deleteTable(t: TableRef | { family: Family; handle: number; name?: undefined }): number {
    return this.#table('delete', MSG.DELTABLE, 0, t as TableRef);
  }
  /** destroy table: delete, no error if missing (NFT_MSG_DESTROYTABLE). */
  destroyTable(t: TableRef): number { return this.#table('destroy', MSG.DESTROYTABLE, 0, t); }

  #chain(verb: string, msg: number, nlFlags: number, ref: ChainSpec | (Omit<ChainRef, 'name'> & { name?: string; handle?: number })): number {
    const c = own(ref, 'chain');
    const family = familyNum(c.family);
    const op: NativeOp = { kind: 'chain', msg, nlFlags, family, table: objName(c.table, 'table'), what: `${verb} chain ${c.family} ${c.table} ${c.name ?? ''}`.trim() };
    if ('handle' in c && c.handle !== undefined) op.handle = handleNum(c.handle);
    else op.name = objName(c.name, 'chain name');
    const s = c as ChainSpec;
    if (s.hook !== undefined || s.type !== undefined || s.priority !== undefined || s.policy !== undefined) {
      if (s.hook === undefined || !(s.hook in HOOKS)) throw new TypeError(`a base chain needs a hook (${Object.keys(HOOKS).join(', ')})`);
      const type = s.type ?? 'filter';
      if (!['filter', 'nat', 'route'].includes(type)) throw new TypeError(`chain type must be filter, nat or route`);
      let prio: number;
      if (typeof s.priority === 'number' && Number.isInteger(s.priority)) prio = s.priority;
      else if (typeof s.priority === 'string' && s.priority in PRIORITIES) prio = PRIORITIES[s.priority]!;
      else if (s.priority === undefined) prio = 0;
      else throw new TypeError(`priority must be an integer or one of ${Object.keys(PRIORITIES).join(', ')}`);
      if (prio < -0x80000000 || prio > 0x7fffffff) throw new RangeError('priority out of range');
      // ingress/egress are netdev hooks 0/1; inet has ingress as NF_INET_INGRESS (5).
      const num = family === FAMILIES.netdev ? (s.hook === 'egress' ? 1 : 0) : s.hook === 'ingress' ? 5 : HOOKS[s.hook];
      const hook: { num: number; priority: number; device?: string } = { num, priority: prio };
      if (family === FAMILIES.netdev) {
        if (s.device === undefined) throw new TypeError('a netdev base chain needs a device');
      }
      if (s.device !== undefined) hook.device = objName(s.device, 'device');
      op.hook = hook;
      op.type = type;
      op.policy = s.policy === 'drop' ? VERDICTS.drop : VERDICTS.accept;
      if (s.policy !== undefined && s.policy !== 'drop' && s.policy !== 'accept') throw new TypeError('policy must be accept or drop');
    }
    const cm = comment(s.comment);
    if (cm !== undefined) op.comment = cm;
    return this.#push(op);
  }

  /** add chain: a regular chain, or a base chain when hook is given (NFT_MSG_NEWCHAIN). */
  addChain(c: ChainSpec): number { return this.#chain('add', MSG.NEWCHAIN, NLM_F.CREATE, c); }
  /** create chain: EEXIST if it exists. */
  createChain(c: ChainSpec): number { return this.#chain('create', MSG.NEWCHAIN, NLM_F.CREATE | NLM_F.EXCL, c); }
  /** delete chain (must be empty and unreferenced). */
  deleteChain(c: ChainRef): number { return this.#chain('delete', MSG.DELCHAIN, 0, { family: c.family, table: c.table, name: c.name }); }
  /** destroy chain: no error if missing. */
  destroyChain(c: ChainRef): number { return this.#chain('destroy', MSG.DESTROYCHAIN, 0, { family: c.family, table: c.table, name: c.name }); }

  #rule(verb: string, nlFlags: number, spec: RuleSpec & { handle?: number }): number {
    const r = own(spec, 'rule');
    const family = familyNum(r.family);
    const exprs = compileRule(r.rule, r.family, this.#setIds(r.family, r.table)).map(toNative);
    if (exprs.length === 0) throw new TypeError('a rule needs at least one statement or expression');
    const op: NativeOp = {
      kind: 'rule', msg: MSG.NEWRULE, nlFlags: nlFlags | NLM_F.ECHO, family, table: objName(r.table, 'table'),
      chain: objName(r.chain, 'chain'), exprs, what: `${verb} rule ${r.family} ${r.table} ${r.chain}`,
    };
    if (r.position !== undefined) op.position = handleNum(r.position, 'position');
    if (r.handle !== undefined) op.handle = handleNum(r.handle);
    const c = comment(r.comment);
    if (c !== undefined) op.comment = c;
    return this.#push(op);
  }

  /** add rule: append (or place after `position`); commit() returns its handle. */
  addRule(r: RuleSpec): number { return this.#rule('add', NLM_F.CREATE | NLM_F.APPEND, r); }
  /** insert rule: prepend (or place before `position`). */
  insertRule(r: RuleSpec): number { return this.#rule('insert', NLM_F.CREATE, r); }
  /** replace rule: the rule with `handle` becomes this one (NLM_F_REPLACE). */
  replaceRule(r: RuleSpec & { handle: number }): number {
    handleNum(r.handle);
    return this.#rule('replace', NLM_F.REPLACE, r);
  }
  #delRule(verb: string, msg: number, ref: RuleRef): number {
    const r = own(ref, 'rule');
    return this.#push({
      kind: 'rule', msg, nlFlags: 0, family: familyNum(r.family), table: objName(r.table, 'table'),
      chain: objName(r.chain, 'chain'), handle: handleNum(r.handle), what: `${verb} rule ${r.family} ${r.table} ${r.chain} handle ${r.handle}`,
    });
  }
  /** delete rule by handle (NFT_MSG_DELRULE). */
  deleteRule(r: RuleRef): number { return this.#delRule('delete', MSG.DELRULE, r); }
  /** destroy rule: no error if missing. */
  destroyRule(r: RuleRef): number { return this.#delRule('destroy', MSG.DESTROYRULE, r); }

  #setIds(family: Family, table: string): Map<string, number> {
    const m = new Map<string, number>();
    for (const [k, v] of this.#sets) {
      const [f, t, n] = k.split('\0') as [string, string, string];
      if (f === family && t === table && v.id !== undefined) m.set(n, v.id);
    }
    return m;
  }

  #set(verb: string, nlFlags: number, spec: SetSpec): number {
    const s = own(spec, 'set');
    const family = familyNum(s.family);
    const table = objName(s.table, 'table');
    const name = objName(s.name, 'set name');
    const key = keyShape(s.key, 'key');
    let flags = 0;
    for (const f of s.flags ?? []) {
      if (!['interval', 'timeout', 'constant', 'dynamic'].includes(f)) throw new TypeError(`unknown set flag ${f}`);
      flags |= SET_FLAGS[f as SetFlag];
    }
    if (s.timeout !== undefined) flags |= SET_FLAGS.timeout;
    if ((flags & SET_FLAGS.interval) && key.layout.concat) throw new RangeError('interval sets with concatenated keys are not supported yet');
    const id = this.#nextSetId++;
    const op: NativeOp = {
      kind: 'set', msg: MSG.NEWSET, nlFlags, family, table, name, keyType: key.layout.id, keyLen: key.layout.len, id,
      what: `${verb} ${s.map ? 'map' : 'set'} ${s.family} ${table} ${name}`,
    };
    const udata: Record<string, unknown> = { keyByteorder: key.layout.byteorder };
    let data: Layout | 'verdict' | undefined;
    if (s.map !== undefined) {
      flags |= SET_FLAGS.map;
      if (s.map === 'verdict') {
        data = 'verdict';
        op.dataType = DATA_VERDICT;
        op.dataLen = 0;
        udata.dataByteorder = 0;
      } else {
        const d = keyShape(s.map, 'map');
        data = d.layout;
        op.dataType = d.layout.id;
        op.dataLen = d.layout.len;
        udata.dataByteorder = d.layout.byteorder;
        if (d.typeof) udata.dataTypeof = d.typeof;
      }
      udata.dataInterval = 0;
    }
    if (key.typeof) udata.keyTypeof = key.typeof;
    const c = comment(s.comment);
    if (c !== undefined) udata.comment = c;
    op.udata = udata;
    op.flags = flags;
    if (s.timeout !== undefined) op.timeout = ms(s.timeout, 'timeout');
    if (s.gcInterval !== undefined) op.gcInterval = ms(s.gcInterval, 'gcInterval');
    if (s.size !== undefined) op.size = handleNum(s.size, 'size');
    if (s.policy !== undefined) op.policy = s.policy === 'memory' ? 1 : s.policy === 'performance' ? 0 : (() => { throw new TypeError('policy must be performance or memory'); })();
    this.#sets.set(`${s.family}\0${table}\0${name}`, { key: key.layout, data, interval: (flags & SET_FLAGS.interval) !== 0, id });
    return this.#push(op);
  }

  /** add set / add map (NFT_MSG_NEWSET). */
  addSet(s: SetSpec): number { return this.#set('add', NLM_F.CREATE, s); }
  /** create set: EEXIST if it exists. */
  createSet(s: SetSpec): number { return this.#set('create', NLM_F.CREATE | NLM_F.EXCL, s); }
  #delSet(verb: string, msg: number, ref: SetRef): number {
    const s = own(ref, 'set');
    this.#sets.delete(`${s.family}\0${s.table}\0${s.name}`);
    return this.#push({ kind: 'set', msg, nlFlags: 0, family: familyNum(s.family), table: objName(s.table, 'table'), name: objName(s.name, 'set name'), what: `${verb} set ${s.family} ${s.table} ${s.name}` });
  }
  /** delete set (NFT_MSG_DELSET). */
  deleteSet(s: SetRef): number { return this.#delSet('delete', MSG.DELSET, s); }
  /** destroy set: no error if missing. */
  destroySet(s: SetRef): number { return this.#delSet('destroy', MSG.DESTROYSET, s); }

  #elements(verb: string, msg: number, nlFlags: number, spec: ElementsSpec, remove: boolean): number {
    if (this.#committed) throw new Error('transaction already committed');
    const e = own(spec, 'elements');
    const family = familyNum(e.family);
    if (!Array.isArray(e.elements) || e.elements.length === 0) throw new TypeError('elements must be a non-empty array');
    // Each element read once, here: what is checked is what is encoded at commit.
    const elements = e.elements.map((el) => {
      if (!el || typeof el !== 'object') throw new TypeError('each element needs a key');
      const o = own(el, 'element');
      if (o.key === undefined) throw new TypeError('each element needs a key');
      if (o.timeout !== undefined) ms(o.timeout, 'element timeout');
      comment(o.comment);
      return o;
    });
    this.#pending.push({
      elements: { family, fam: e.family, table: objName(e.table, 'table'), set: objName(e.set, 'set'), elements, msg, nlFlags, what: `${verb} element ${e.family} ${e.table} ${e.set}`, remove },
    });
    // Sets made in this transaction: check the values now.
    const shape = this.#sets.get(`${e.family}\0${e.table}\0${e.set}`);
    if (shape) encodeElements(shape, elements, remove, `${e.set}`);
    return this.#pending.length - 1;
  }

  /** add element: fine if present (NFT_MSG_NEWSETELEM). */
  addElements(e: ElementsSpec): number { return this.#elements('add', MSG.NEWSETELEM, NLM_F.CREATE, e, false); }
  /** create element: EEXIST if present (NLM_F_EXCL). */
  createElements(e: ElementsSpec): number { return this.#elements('create', MSG.NEWSETELEM, NLM_F.CREATE | NLM_F.EXCL, e, false); }
  /** delete element: ENOENT if missing (NFT_MSG_DELSETELEM). */
  deleteElements(e: ElementsSpec): number { return this.#elements('delete', MSG.DELSETELEM, 0, e, true); }
  /** destroy element: no error if missing (NFT_MSG_DESTROYSETELEM). */
  destroyElements(e: ElementsSpec): number { return this.#elements('destroy', MSG.DESTROYSETELEM, 0, e, true); }

  // Sets whose elements this transaction encodes and did not create itself.
  #foreignSets(): { family: Family; table: string; set: string }[] {
    const out = [];
    for (const p of this.#pending) {
      if (!('elements' in p)) continue;
      const family = p.elements.fam;
      if (!this.#sets.has(`${family}\0${p.elements.table}\0${p.elements.set}`)) out.push({ family, table: p.elements.table, set: p.elements.set });
    }
    return out;
  }

  // The native operations, element values encoded with the shapes of the sets
  // (created here, else looked up by `shape`, which has them cached by now).
  #ops(shape: (family: Family, table: string, set: string) => SetShape): NativeOp[] {
    return this.#pending.map((p) => {
      if ('op' in p) return p.op;
      const e = p.elements;
      const fam = e.fam;
      const local = this.#sets.get(`${fam}\0${e.table}\0${e.set}`);
      const elements = encodeElements(local ?? shape(fam, e.table, e.set), e.elements, e.remove, e.set);
      const packed = packElements(elements);
      const op: NativeOp = {
        kind: 'elements', msg: e.msg, nlFlags: e.nlFlags, family: e.family, table: e.table, set: e.set, what: e.what,
        ...(packed ? { packed } : { elements }),
      };
      if (local?.id !== undefined) op.setId = local.id;
      return op;
    });
  }

  /** @internal The native operations, element values encoded (fetching unknown sets' types). */
  async build(): Promise<NativeOp[]> {
    const shapes = new Map<string, SetShape>();
    for (const { family, table, set } of this.#foreignSets()) shapes.set(`${family}\0${table}\0${set}`, await this.#nft.setShape(family, table, set));
    return this.#ops((f, t, n) => shapes.get(`${f}\0${t}\0${n}`)!);
  }

  /**
   * Sends everything as one batch. All or nothing: on failure nothing changed and the
   * NetlinkError's `step` is the index of the failing operation (its `op` the message,
   * its text the operation). With a generation, ERESTART if the ruleset changed since.
   */
  async commit(): Promise<CommitResult> {
    const ops = await this.build();
    this.#committed = true;
    try {
      return committed(await call(native.nftCommit(this.#nft.ns.handle(), ops, this.#generation)));
    } catch (e) {
      this.#nft.forgetSets();
      throw e;
    }
  }

  /**
   * commit() on the calling thread: the same batch and the same all-or-nothing errors,
   * sent and acked on the namespace's netfilter socket without the hop to the libuv pool
   * (which costs more than a small batch). It blocks the event loop meanwhile (tens of
   * microseconds for a few elements; longer if another commit holds the socket or the
   * kernel's nftables mutex): for latency-critical small changes such as publishing a
   * port, not for building a ruleset. A set not created in this transaction and not yet
   * seen by this Nft is looked up first, on the calling thread too.
   */
  commitSync(): CommitResult {
    const ops = this.#ops((f, t, n) => this.#nft.setShapeSync(f, t, n));
    this.#committed = true;
    try {
      return committed(callSync(() => native.nftCommitSync(this.#nft.ns.handle(), ops, this.#generation)));
    } catch (e) {
      this.#nft.forgetSets();
      throw e;
    }
  }
}

function committed(r: { handles: number[] }): CommitResult {
  return { handles: r.handles.map((h) => (h ? h : undefined)) };
}

// Elements with only bytes (key, key end, data) and flags travel to native code packed
// into one Buffer (see unpack_elems in native/ops/nft_ops.cc: u32 flags, u16 lengths of
// key, key end and data, then the bytes), one N-API read for all of them; any other
// element (a verdict, a timeout, a comment) sends the whole list as objects.
function packElements(elements: Record<string, unknown>[]): Buffer | undefined {
  let len = 0;
  for (const el of elements) {
    for (const k in el) if (k !== 'key' && k !== 'keyEnd' && k !== 'data' && k !== 'flags') return undefined;
    const { key, keyEnd, data } = el as { key: Buffer; keyEnd?: Buffer; data?: unknown };
    if (data !== undefined && !Buffer.isBuffer(data)) return undefined;
    len += 10 + key.length + (keyEnd?.length ?? 0) + ((data as Buffer | undefined)?.length ?? 0);
  }
  const out = Buffer.allocUnsafe(len);
  let off = 0;
  for (const el of elements) {
    const { key, keyEnd, data, flags } = el as { key: Buffer; keyEnd?: Buffer; data?: Buffer; flags?: number };
    off = out.writeUInt32LE(flags ?? 0, off);
    off = out.writeUInt16LE(key.length, off);
    off = out.writeUInt16LE(keyEnd?.length ?? 0, off);
    off = out.writeUInt16LE(data?.length ?? 0, off);
    off += key.copy(out, off);
    if (keyEnd) off += keyEnd.copy(out, off);
    if (data) off += data.copy(out, off);
  }
  return out;
}

function encodeElements(shape: SetShape, elements: ElementSpec[], remove: boolean, set: string): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  elements.forEach((el, i) => {
    const what = `${set} element ${i}`;
    const extra: Record<string, unknown> = {};
    if (!remove) {
      if (shape.data !== undefined) {
        if (el.value === undefined) throw new TypeError(`${what}: a map element needs a value`);
        if (shape.data === 'verdict') {
          const v = el.value as Verdict;
          if (!v || typeof v !== 'object' || !('verdict' in v)) throw new TypeError(`${what}: the value must be a verdict ({ verdict: 'jump', chain })`);
          extra.data = verdictData(v);
        } else {
          extra.data = shape.data.encode(el.value, `${what} value`);
        }
      } else if (el.value !== undefined) {
        throw new TypeError(`${what}: ${set} is a set, not a map; elements take no value`);
      }
      if (el.timeout !== undefined) extra.timeout = el.timeout;
      if (el.comment !== undefined) extra.comment = el.comment;
    }
    if (shape.interval) {
      // nft's interval encoding: the start carries the data, the first key after the
      // range closes it (NFT_SET_ELEM_INTERVAL_END).
      const [start, last] = intervalOf(shape.key, el.key, `${what} key`);
      out.push({ key: start, ...extra });
      const end = increment(last);
      if (end) out.push({ key: end, flags: ELEM_INTERVAL_END });
    } else {
      out.push({ key: shape.key.encode(el.key, `${what} key`), ...extra });
    }
  });
  return out;
}

/** nftables in one namespace (NETLINK_NETFILTER). */
export class Nft {
  /** @internal */
  readonly ns: Netns;
  readonly #shapes = new Map<string, SetShape>();

  /** @internal */
  constructor(ns: Netns) {
    this.ns = ns;
  }

  /** A new transaction; with `generation`, commit() fails (ERESTART) if the ruleset moved on since. */
  transaction(opts: { generation?: number } = {}): Transaction {
    if (opts.generation !== undefined && (!Number.isInteger(opts.generation) || opts.generation <= 0 || opts.generation > 0xffffffff)) {
      throw new RangeError('generation must be a positive 32-bit integer');
    }
    return new Transaction(this, opts.generation);
  }

  /** The ruleset generation (NFT_MSG_GETGEN); it changes with every commit by anyone. */
  async generation(): Promise<number> {
    return call(native.nftGeneration(this.ns.handle()));
  }

  /** Tables, of one family or all (NFT_MSG_GETTABLE dump). */
  async listTables(family?: Family): Promise<TableInfo[]> {
    const f = family === undefined ? 0 : familyNum(family);
    return (await call(native.nftListTables(this.ns.handle(), f))).map((t) => tableInfo(t as NativeTable));
  }

  /** A whole table: chains, sets with their elements, rules with their expressions, read at one generation. */
  async listTable(family: Family, name: string): Promise<TableListing> {
    const d = await call(native.nftDumpTable(this.ns.handle(), familyNum(family), objName(name, 'table')));
    return {
      generation: d.generation,
      table: tableInfo(d.table as NativeTable),
      chains: (d.chains as NativeChain[]).map(chainInfo),
      sets: (d.sets as NativeSet[]).map(setInfo),
      rules: (d.rules as NativeRule[]).map(ruleInfo),
    };
  }

  /** Rules of a table, or of one chain (NFT_MSG_GETRULE dump). */
  async listRules(family: Family, table: string, chain?: string): Promise<RuleInfo[]> {
    const rules = await call(native.nftListRules(this.ns.handle(), familyNum(family), objName(table, 'table'), chain === undefined ? undefined : objName(chain, 'chain')));
    return (rules as NativeRule[]).map(ruleInfo);
  }

  /** One set or map with its elements (NFT_MSG_GETSET, NFT_MSG_GETSETELEM dump). */
  async getSet(family: Family, table: string, name: string): Promise<SetInfo> {
    const h = this.ns.handle();
    const [s] = (await call(native.nftListSets(h, familyNum(family), objName(table, 'table'), objName(name, 'set')))) as NativeSet[];
    if (!s) throw new RangeError(`no set ${name}`);
    s.elements = (await call(native.nftListElements(h, familyNum(family), table, name))) as NativeElem[];
    return setInfo(s);
  }

  /** @internal How to encode elements of an existing set; cached until a commit fails. */
  async setShape(family: Family, table: string, name: string): Promise<SetShape> {
    const cached = this.#shapes.get(`${family}\0${table}\0${name}`);
    if (cached) return cached;
    return this.#remember(family, table, name, await call(native.nftListSets(this.ns.handle(), familyNum(family), table, name)));
  }

  /** @internal setShape() on the calling thread. */
  setShapeSync(family: Family, table: string, name: string): SetShape {
    const cached = this.#shapes.get(`${family}\0${table}\0${name}`);
    if (cached) return cached;
    return this.#remember(family, table, name, callSync(() => native.nftListSetsSync(this.ns.handle(), familyNum(family), table, name)));
  }

  #remember(family: Family, table: string, name: string, sets: object[]): SetShape {
    const [s] = sets as NativeSet[];
    if (!s) throw new RangeError(`no set ${name} in table ${family} ${table}`);
    const shape = shapeOf(s);
    this.#shapes.set(`${family}\0${table}\0${name}`, shape);
    return shape;
  }

  /** @internal */
  forgetSets(): void {
    this.#shapes.clear();
  }
}

