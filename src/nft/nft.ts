// nftables on one namespace: transactions (NFNL_MSG_BATCH_BEGIN ... END, all or nothing)
// and reads that decode every object back, expressions included.
import {
  native, type NativeElementIn, type NativeElementOut, type NativeNftChain, type NativeNftOp, type NativeNftRule,
  type NativeNftSet, type NativeNftTable, type TypeofPart,
} from '../binding';
import { NFT_INET_INGRESS, NFT_SET_POLICIES, NFT_TABLE_FLAGS } from '../constants';
import { call, callSync } from '../errors';
import { handleOf } from '../handle';
import type { Netns } from '../netns';
import { own } from '../validate';
import {
  FAMILIES, type Family, flagNames, HOOKS, type Hook, MSG, nameOf, NLM_F, PRIORITIES, SET_FLAGS, type SetFlag, VERDICTS,
} from './constants';
import { datatype, type DatatypeName, type Scalar } from './datatypes';
import { type Expr, fromNative, toNative, type Verdict, verdictData, verdictFrom } from './expr';
import { Concat, compileRule, type RuleItem, Selector, typeofText } from './rule';

/** A table by family and name. */
export interface TableRef { family: Family; name: string }
/** Table flags (NFT_TABLE_F_*). */
export type TableFlag = 'dormant' | 'owner' | 'persist';
const TABLE_FLAGS: Readonly<Record<TableFlag, number>> = NFT_TABLE_FLAGS;
// Hooks of a netdev table, and of the others (where ingress is NF_INET_INGRESS).
const NETDEV_HOOKS: Partial<Record<Hook, number>> = { ingress: HOOKS.ingress, egress: HOOKS.egress };
const INET_HOOKS: Partial<Record<Hook, number>> = { ...HOOKS, egress: undefined, ingress: NFT_INET_INGRESS.ingress };
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

/** A key or data type as names (one per part of a concatenation), and nft's `typeof` when declared so. */
interface KeyShape { types: DatatypeName[]; typeof?: TypeofPart[] }
function keyShape(k: unknown, what: string): KeyShape {
  if (typeof k === 'string') return { types: [datatype(k).name] };
  if (Array.isArray(k)) {
    if (k.length === 0) throw new TypeError(`${what} needs at least one type`);
    return { types: k.map((t) => datatype(t as string).name) };
  }
  if (k && typeof k === 'object' && 'typeof' in k) {
    const t = (k as { typeof: unknown }).typeof;
    const c = t instanceof Concat ? t : t instanceof Selector ? new Concat([t]) : Array.isArray(t) ? new Concat(t as Selector[]) : null;
    if (!c) throw new TypeError(`${what}.typeof takes selectors (ip.daddr, th.dport...)`);
    for (const p of c.parts) if (p.typeofPart.etype === 0) throw new TypeError(`${p.text} cannot be a set key`);
    return { types: c.types, typeof: c.parts.map((p) => p.typeofPart) };
  }
  throw new TypeError(`${what} must be a data type name, an array of them, or { typeof: selectors }`);
}

/** One kind of native operation. */
type OpOf<K extends NativeNftOp['kind']> = Extract<NativeNftOp, { kind: K }>;

/** What a transaction knows of a set it creates: its id, and whether it maps (to a verdict). */
interface MadeSet { id: number; map: boolean; verdict: boolean }

function elementInfo(e: NativeElementOut): ElementInfo {
  const o: ElementInfo = { key: e.key };
  if (e.value !== undefined) o.value = e.value;
  else if (e.verdict !== undefined) o.value = verdictFrom(e.verdict);
  if (e.timeout !== undefined) o.timeout = e.timeout;
  if (e.expires !== undefined) o.expires = e.expires;
  if (e.comment !== undefined) o.comment = e.comment;
  return o;
}

function setInfo(s: NativeNftSet): SetInfo {
  const flags = flagNames(SET_FLAGS, s.flags ?? 0);
  const o: SetInfo = {
    family: familyName(s.family), table: s.table, name: s.name, handle: s.handle, flags,
    key: s.key ?? `type ${s.keyType}`,
  };
  const u = s.udata;
  if (u?.keyTypeof?.length) o.keyTypeof = u.keyTypeof.map(typeofText).join(' . ');
  if ((s.flags ?? 0) & SET_FLAGS.map) {
    o.map = s.data ?? `type ${s.dataType}`;
    if (u?.dataTypeof?.length) o.mapTypeof = u.dataTypeof.map(typeofText).join(' . ');
  }
  if (s.timeout !== undefined) o.timeout = s.timeout;
  if (s.gcInterval !== undefined) o.gcInterval = s.gcInterval;
  if (s.size !== undefined) o.size = s.size;
  if (u?.comment !== undefined) o.comment = u.comment;
  if (s.elements) o.elements = s.elements.map(elementInfo);
  return o;
}

function tableInfo(t: NativeNftTable): TableInfo {
  const o: TableInfo = { family: familyName(t.family), name: t.name, handle: t.handle, flags: flagNames(TABLE_FLAGS, t.flags ?? 0) };
  if (t.use !== undefined) o.use = t.use;
  if (t.comment !== undefined) o.comment = t.comment;
  return o;
}

function chainInfo(c: NativeNftChain): ChainInfo {
  const o: ChainInfo = { family: familyName(c.family), table: c.table, name: c.name, handle: c.handle };
  if (c.type !== undefined) o.type = c.type;
  if (c.hook) {
    const h = nameOf((c.family === FAMILIES.netdev ? NETDEV_HOOKS : INET_HOOKS) as Record<Hook, number>, c.hook.num);
    if (typeof h === 'string') o.hook = h;
    o.priority = c.hook.priority;
    if (c.hook.device) o.device = c.hook.device;
  }
  if (c.policy !== undefined) o.policy = c.policy === VERDICTS.drop ? 'drop' : 'accept';
  if (c.use !== undefined) o.use = c.use;
  if (c.comment !== undefined) o.comment = c.comment;
  return o;
}

function ruleInfo(r: NativeNftRule): RuleInfo {
  const o: RuleInfo = { family: familyName(r.family), table: r.table, chain: r.chain, handle: r.handle, exprs: r.exprs.map(fromNative) };
  if (r.comment !== undefined) o.comment = r.comment;
  return o;
}

/** The batch a transaction's commit() would send, as bytes (codec.encodeNftTransaction). Set in Transaction's static block. */
export let encodeTransaction: (tx: Transaction) => Buffer;

/**
 * One atomic change to the ruleset: collect operations, then commit() sends them as a
 * single NFNL_MSG_BATCH_BEGIN ... END. Verbs are nft's: add (no NLM_F_EXCL: fine if it
 * exists), create (NLM_F_EXCL), insert, replace, delete (ENOENT if missing), destroy
 * (no error if missing).
 */
export class Transaction {
  readonly #ns: Netns;
  readonly #pending: NativeNftOp[] = [];
  // Sets created by this transaction, by family, table and name.
  readonly #sets = new Map<string, MadeSet>();
  readonly #generation: number | undefined;
  #nextSetId = 1;
  #committed = false;

  /** @internal */
  constructor(ns: Netns, generation?: number) {
    this.#ns = ns;
    this.#generation = generation;
  }

  /** Number of operations so far. */
  get size(): number { return this.#pending.length; }

  #push(op: NativeNftOp): number {
    if (this.#committed) throw new Error('transaction already committed');
    this.#pending.push(op);
    return this.#pending.length - 1;
  }

  #table(msg: number, nlFlags: number, ref: TableRef & { handle?: number }, tableSpec?: TableSpec): number {
    const t = own(ref, 'table');
    const spec = tableSpec ? (t as TableSpec) : undefined;
    const family = familyNum(t.family);
    const op: OpOf<'table'> = { kind: 'table', msg, nlFlags, family };
    if (t.handle !== undefined) op.handle = handleNum(t.handle);
    else op.name = objName(t.name, 'table name');
    if (spec?.flags) op.flags = spec.flags.reduce((n, f) => n | (TABLE_FLAGS[f] ?? (() => { throw new TypeError(`unknown table flag ${f}`); })()), 0);
    const c = comment(spec?.comment);
    if (c !== undefined) op.comment = c;
    return this.#push(op);
  }

  /** add table (NFT_MSG_NEWTABLE). */
  addTable(t: TableSpec): number { return this.#table(MSG.NEWTABLE, NLM_F.CREATE, t, t); }
  /** create table: EEXIST if it exists (NLM_F_EXCL). */
  createTable(t: TableSpec): number { return this.#table(MSG.NEWTABLE, NLM_F.CREATE | NLM_F.EXCL, t, t); }
  /** delete table, with everything in it (NFT_MSG_DELTABLE). */
  deleteTable(t: TableRef | { family: Family; handle: number; name?: undefined }): number {
    return this.#table(MSG.DELTABLE, 0, t as TableRef);
  }
  /** destroy table: delete, no error if missing (NFT_MSG_DESTROYTABLE). */
  destroyTable(t: TableRef): number { return this.#table(MSG.DESTROYTABLE, 0, t); }

  #chain(msg: number, nlFlags: number, ref: ChainSpec | (Omit<ChainRef, 'name'> & { name?: string; handle?: number })): number {
    const c = own(ref, 'chain');
    const family = familyNum(c.family);
    const op: OpOf<'chain'> = { kind: 'chain', msg, nlFlags, family, table: objName(c.table, 'table') };
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
      const num = (family === FAMILIES.netdev ? NETDEV_HOOKS : INET_HOOKS)[s.hook];
      if (num === undefined) throw new TypeError(`a ${s.family} table has no ${s.hook} hook`);
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
  addChain(c: ChainSpec): number { return this.#chain(MSG.NEWCHAIN, NLM_F.CREATE, c); }
  /** create chain: EEXIST if it exists. */
  createChain(c: ChainSpec): number { return this.#chain(MSG.NEWCHAIN, NLM_F.CREATE | NLM_F.EXCL, c); }
  /** delete chain (must be empty and unreferenced). */
  deleteChain(c: ChainRef): number { return this.#chain(MSG.DELCHAIN, 0, { family: c.family, table: c.table, name: c.name }); }
  /** destroy chain: no error if missing. */
  destroyChain(c: ChainRef): number { return this.#chain(MSG.DESTROYCHAIN, 0, { family: c.family, table: c.table, name: c.name }); }

  #rule(nlFlags: number, spec: RuleSpec & { handle?: number }): number {
    const r = own(spec, 'rule');
    const family = familyNum(r.family);
    const exprs = compileRule(r.rule, r.family, this.#setIds(r.family, r.table)).map(toNative);
    if (exprs.length === 0) throw new TypeError('a rule needs at least one statement or expression');
    const op: OpOf<'rule'> = {
      kind: 'rule', msg: MSG.NEWRULE, nlFlags: nlFlags | NLM_F.ECHO, family, table: objName(r.table, 'table'),
      chain: objName(r.chain, 'chain'), exprs,
    };
    if (r.position !== undefined) op.position = handleNum(r.position, 'position');
    if (r.handle !== undefined) op.handle = handleNum(r.handle);
    const c = comment(r.comment);
    if (c !== undefined) op.comment = c;
    return this.#push(op);
  }

  /** add rule: append (or place after `position`); commit() returns its handle. */
  addRule(r: RuleSpec): number { return this.#rule(NLM_F.CREATE | NLM_F.APPEND, r); }
  /** insert rule: prepend (or place before `position`). */
  insertRule(r: RuleSpec): number { return this.#rule(NLM_F.CREATE, r); }
  /** replace rule: the rule with `handle` becomes this one (NLM_F_REPLACE). */
  replaceRule(r: RuleSpec & { handle: number }): number {
    handleNum(r.handle);
    return this.#rule(NLM_F.REPLACE, r);
  }
  #delRule(msg: number, ref: RuleRef): number {
    const r = own(ref, 'rule');
    return this.#push({
      kind: 'rule', msg, nlFlags: 0, family: familyNum(r.family), table: objName(r.table, 'table'),
      chain: objName(r.chain, 'chain'), handle: handleNum(r.handle),
    });
  }
  /** delete rule by handle (NFT_MSG_DELRULE). */
  deleteRule(r: RuleRef): number { return this.#delRule(MSG.DELRULE, r); }
  /** destroy rule: no error if missing. */
  destroyRule(r: RuleRef): number { return this.#delRule(MSG.DESTROYRULE, r); }

  #setIds(family: Family, table: string): Map<string, number> {
    const m = new Map<string, number>();
    for (const [k, v] of this.#sets) {
      const [f, t, n] = k.split('\0') as [string, string, string];
      if (f === family && t === table && v.id !== undefined) m.set(n, v.id);
    }
    return m;
  }

  #set(nlFlags: number, spec: SetSpec): number {
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
    if ((flags & SET_FLAGS.interval) && key.types.length > 1) throw new RangeError('interval sets with concatenated keys are not supported yet');
    const id = this.#nextSetId++;
    // Types by name: the native side declares them as nft does (ids, lengths, byte
    // orders in userdata) and encodes the elements with them.
    const op: OpOf<'set'> = {
      kind: 'set', msg: MSG.NEWSET, nlFlags, family, table, name, key: key.types, id, flags,
    };
    if (key.typeof) op.keyTypeof = key.typeof;
    if (s.map !== undefined) {
      if (s.map === 'verdict') {
        op.data = 'verdict';
      } else {
        const d = keyShape(s.map, 'map');
        op.data = d.types;
        if (d.typeof) op.dataTypeof = d.typeof;
      }
    }
    op.comment = comment(s.comment);
    if (s.timeout !== undefined) op.timeout = ms(s.timeout, 'timeout');
    if (s.gcInterval !== undefined) op.gcInterval = ms(s.gcInterval, 'gcInterval');
    if (s.size !== undefined) op.size = handleNum(s.size, 'size');
    if (s.policy !== undefined) {
      if (s.policy !== 'memory' && s.policy !== 'performance') throw new TypeError('policy must be performance or memory');
      op.policy = NFT_SET_POLICIES[s.policy];
    }
    this.#sets.set(`${s.family}\0${table}\0${name}`, { id, map: s.map !== undefined, verdict: s.map === 'verdict' });
    return this.#push(op);
  }

  /** add set / add map (NFT_MSG_NEWSET). */
  addSet(s: SetSpec): number { return this.#set(NLM_F.CREATE, s); }
  /** create set: EEXIST if it exists. */
  createSet(s: SetSpec): number { return this.#set(NLM_F.CREATE | NLM_F.EXCL, s); }
  #delSet(msg: number, ref: SetRef): number {
    const s = own(ref, 'set');
    this.#sets.delete(`${s.family}\0${s.table}\0${s.name}`);
    return this.#push({ kind: 'set', msg, nlFlags: 0, family: familyNum(s.family), table: objName(s.table, 'table'), name: objName(s.name, 'set name') });
  }
  /** delete set (NFT_MSG_DELSET). */
  deleteSet(s: SetRef): number { return this.#delSet(MSG.DELSET, s); }
  /** destroy set: no error if missing. */
  destroySet(s: SetRef): number { return this.#delSet(MSG.DESTROYSET, s); }

  #elements(msg: number, nlFlags: number, spec: ElementsSpec, remove: boolean): number {
    if (this.#committed) throw new Error('transaction already committed');
    const e = own(spec, 'elements');
    const family = familyNum(e.family);
    const table = objName(e.table, 'table');
    const set = objName(e.set, 'set');
    if (!Array.isArray(e.elements) || e.elements.length === 0) throw new TypeError('elements must be a non-empty array');
    // The values go to native code as they are, checked there against the set's types
    // (its own creation in this transaction, or the set in the kernel); what can be
    // checked without them is checked here, each element read once.
    const made = this.#sets.get(`${e.family}\0${table}\0${set}`);
    const elements = e.elements.map((el, i): NativeElementIn => {
      if (!el || typeof el !== 'object') throw new TypeError('each element needs a key');
      const o = own(el, 'element');
      if (o.key === undefined) throw new TypeError('each element needs a key');
      if (o.timeout !== undefined) ms(o.timeout, 'element timeout');
      comment(o.comment);
      const v = o.value;
      if (made && !remove) {
        const what = `${set} element ${i}`;
        if (made.map && v === undefined) throw new TypeError(`${what}: a map element needs a value`);
        if (made.verdict && !isVerdict(v)) throw new TypeError(`${what}: the value must be a verdict ({ verdict: 'jump', chain })`);
        if (!made.map && v !== undefined) throw new TypeError(`${what}: ${set} is a set, not a map; elements take no value`);
      }
      if (isVerdict(v)) (o as NativeElementIn).value = verdictData(v);
      return o as NativeElementIn;
    });
    const op: OpOf<'elements'> = { kind: 'elements', msg, nlFlags, family, table, set, elements };
    if (made) op.setId = made.id;
    return this.#push(op);
  }

  /** add element: fine if present (NFT_MSG_NEWSETELEM). */
  addElements(e: ElementsSpec): number { return this.#elements(MSG.NEWSETELEM, NLM_F.CREATE, e, false); }
  /** create element: EEXIST if present (NLM_F_EXCL). */
  createElements(e: ElementsSpec): number { return this.#elements(MSG.NEWSETELEM, NLM_F.CREATE | NLM_F.EXCL, e, false); }
  /** delete element: ENOENT if missing (NFT_MSG_DELSETELEM). */
  deleteElements(e: ElementsSpec): number { return this.#elements(MSG.DELSETELEM, 0, e, true); }
  /** destroy element: no error if missing (NFT_MSG_DESTROYSETELEM). */
  destroyElements(e: ElementsSpec): number { return this.#elements(MSG.DESTROYSETELEM, 0, e, true); }

  static {
    encodeTransaction = (tx) => callSync(() => native.nftEncodeBatch(handleOf(tx.#ns), tx.#pending, tx.#generation));
  }

  /**
   * Sends everything as one batch. All or nothing: on failure nothing changed and the
   * NetlinkError's `step` is the index of the failing operation (its `op` the message,
   * its text the operation). With a generation, ERESTART if the ruleset changed since.
   * An element value that does not fit its set's types is a TypeError or RangeError,
   * and nothing is sent.
   */
  async commit(): Promise<CommitResult> {
    this.#committed = true;
    return committed(await call(native.nftCommit(handleOf(this.#ns), this.#pending, this.#generation)));
  }

  /**
   * commit() on the calling thread: the same batch and the same all-or-nothing errors,
   * sent and acked on the namespace's netfilter socket without the hop to the libuv pool
   * (which costs more than a small batch). It blocks the event loop meanwhile (tens of
   * microseconds for a few elements; longer if another commit holds the socket or the
   * kernel's nftables mutex): for latency-critical small changes such as publishing a
   * port, not for building a ruleset. A set this transaction does not create and the
   * namespace's socket has not seen yet is looked up first (NFT_MSG_GETSET), on the
   * calling thread too.
   */
  commitSync(): CommitResult {
    this.#committed = true;
    return committed(callSync(() => native.nftCommitSync(handleOf(this.#ns), this.#pending, this.#generation)));
  }
}

function isVerdict(v: unknown): v is Verdict {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && 'verdict' in v;
}

function committed(r: { handles: number[] }): CommitResult {
  return { handles: r.handles.map((h) => (h ? h : undefined)) };
}

/** nftables in one namespace (NETLINK_NETFILTER). */
export class Nft {
  readonly #ns: Netns;

  /** @internal */
  constructor(ns: Netns) {
    this.#ns = ns;
  }

  /** A new transaction; with `generation`, commit() fails (ERESTART) if the ruleset moved on since. */
  transaction(opts: { generation?: number } = {}): Transaction {
    if (opts.generation !== undefined && (!Number.isInteger(opts.generation) || opts.generation <= 0 || opts.generation > 0xffffffff)) {
      throw new RangeError('generation must be a positive 32-bit integer');
    }
    return new Transaction(this.#ns, opts.generation);
  }

  /** The ruleset generation (NFT_MSG_GETGEN); it changes with every commit by anyone. */
  async generation(): Promise<number> {
    return call(native.nftGeneration(handleOf(this.#ns)));
  }

  /** Tables, of one family or all (NFT_MSG_GETTABLE dump). */
  async listTables(filter?: { family?: Family }): Promise<TableInfo[]>;
  /** @deprecated Give an object: `listTables({ family })`. The positional form goes in netplumb 0.3. */
  async listTables(family: Family): Promise<TableInfo[]>;
  async listTables(filter: { family?: Family } | Family = {}): Promise<TableInfo[]> {
    const family = typeof filter === 'string' ? filter : own(filter, 'filter').family;
    const f = family === undefined ? 0 : familyNum(family);
    return (await call(native.nftListTables(handleOf(this.#ns), f))).map(tableInfo);
  }

  /** A whole table: chains, sets with their elements, rules with their expressions, read at one generation. */
  async listTable(table: TableRef): Promise<TableListing>;
  /** @deprecated Give one object: `listTable({ family, name })`. The positional form goes in netplumb 0.3. */
  async listTable(family: Family, name: string): Promise<TableListing>;
  async listTable(a: TableRef | Family, name?: string): Promise<TableListing> {
    const t = typeof a === 'string' ? { family: a, name: name as string } : own(a, 'table');
    const d = await call(native.nftDumpTable(handleOf(this.#ns), familyNum(t.family), objName(t.name, 'table')));
    return {
      generation: d.generation,
      table: tableInfo(d.table),
      chains: d.chains.map(chainInfo),
      sets: d.sets.map(setInfo),
      rules: d.rules.map(ruleInfo),
    };
  }

  /** Rules of a table, or of one chain (NFT_MSG_GETRULE dump). */
  async listRules(of: { family: Family; table: string; chain?: string }): Promise<RuleInfo[]>;
  /** @deprecated Give one object: `listRules({ family, table, chain })`. The positional form goes in netplumb 0.3. */
  async listRules(family: Family, table: string, chain?: string): Promise<RuleInfo[]>;
  async listRules(a: { family: Family; table: string; chain?: string } | Family, table?: string, chain?: string): Promise<RuleInfo[]> {
    const r = typeof a === 'string' ? { family: a, table: table as string, chain } : own(a, 'rules');
    const c = r.chain === undefined ? undefined : objName(r.chain, 'chain');
    return (await call(native.nftListRules(handleOf(this.#ns), familyNum(r.family), objName(r.table, 'table'), c))).map(ruleInfo);
  }

  /** One set or map with its elements (NFT_MSG_GETSET, NFT_MSG_GETSETELEM dump), decoded with its types. ENOENT if there is none. */
  async getSet(set: SetRef): Promise<SetInfo>;
  /** @deprecated Give one object: `getSet({ family, table, name })`. The positional form goes in netplumb 0.3. */
  async getSet(family: Family, table: string, name: string): Promise<SetInfo>;
  async getSet(a: SetRef | Family, table?: string, name?: string): Promise<SetInfo> {
    const r = typeof a === 'string' ? { family: a, table: table as string, name: name as string } : own(a, 'set');
    return setInfo(await call(native.nftGetSet(handleOf(this.#ns), familyNum(r.family), objName(r.table, 'table'), objName(r.name, 'set'))));
  }

}
