// The native boundary: the one place that loads the addon, and the type of every function
// it exports, with the shape of every value that crosses (in the manner of node-usb's
// typed bindings). Nothing else calls node-gyp-build; nothing crosses as `object` or
// `any`.
//
// The native side reads every argument strictly (native/ops/reader.h): a value of the
// wrong type, or a key it does not take, is a TypeError naming the entry point and the
// key. NATIVE_ENTRY_POINTS below lists each entry point's parameters; the loader checks
// the addon exports exactly those functions, and test/native-boundary.test.ts calls every
// one of them with wrong arguments, so an entry point cannot be added on one side only.
//
// Decoded objects (links, addresses, routes...) are the public types of ./types; the
// native-only shapes are here.
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import type {
  Address, AddrGenMode, BridgeOptions, BridgePortOptions, ConntrackEntry, IpvlanOptions, Link, MacvlanOptions, Route,
  VlanOptions, VxlanOptions,
} from './types';

/** Opaque namespace handle owned by the native side (an nsfs fd plus sockets). */
export interface NativeHandle {
  readonly __brand: 'NativeHandle';
}

/** Opaque gate of a namespace being made ahead of its batches (rtnlCreateBegin). */
export interface NativeGate {
  readonly __brand: 'NativeGate';
}

/** Opaque monitor handle (a netlink socket watched by a uv_poll_t). */
export interface NativeMonitor {
  readonly __brand: 'NativeMonitor';
}

// ---- rtnetlink steps (rtnlBatch and friends; native/ops/rtnl_steps.cc) ----

/** What every link takes, a veth peer included. */
export interface NativeLinkCommon {
  name?: string;
  index?: number;
  mtu?: number;
  txqlen?: number;
  group?: number;
  numTxQueues?: number;
  numRxQueues?: number;
  alias?: string;
  mac?: string;
  up?: boolean;
  netns?: NativeHandle;
}

// The options of a link kind as they cross: the public shapes of ./types, but with names
// already turned into numbers where the wire has a number.

/** IFLA_INFO_DATA of a bridge; timers in seconds. */
export type NativeBridgeOptions = BridgeOptions;

/** IFLA_INFO_DATA of a vxlan; `device` an ifindex on the wire (see NativeLinkStep's `L`). */
export type NativeVxlanOptions<L = number> = Omit<VxlanOptions, 'device'> & { device?: L };

/** IFLA_INFO_SLAVE_DATA of a bridge port; state as BR_STATE_*. */
export type NativeBridgePortOptions = Omit<BridgePortOptions, 'state'> & { state?: number };

/**
 * A link created (linkAdd) or changed (linkSet). `L` is how other links are referred to:
 * an ifindex on the wire; src/spec.ts builds steps whose references may still be names.
 */
export interface NativeLinkStep<L = number> extends Omit<NativeLinkCommon, 'index'> {
  op: 'linkAdd' | 'linkSet';
  index?: L;
  /** linkSet: the new IFLA_IFNAME. */
  rename?: string;
  master?: L;
  link?: L;
  addrGenMode?: AddrGenMode;
  /** IPV4_DEVCONF names to u32 values. */
  ipv4Conf?: Record<string, number>;
  kind?: string;
  peer?: NativeLinkCommon;
  bridge?: NativeBridgeOptions;
  vxlan?: NativeVxlanOptions<L>;
  macvlan?: MacvlanOptions;
  vlan?: VlanOptions;
  ipvlan?: IpvlanOptions;
  infoData?: Buffer;
  bridgePort?: NativeBridgePortOptions;
  /** NLM_F_ECHO: the kernel sends the created link back. */
  echo?: boolean;
}

/** RTM_DELLINK by index or name, or every link of a group. */
export interface NativeLinkDeleteStep {
  op: 'linkDel';
  index?: number;
  name?: string;
  group?: number;
}

/** RTM_NEWADDR / RTM_DELADDR; scope as RT_SCOPE_*, flags as IFA_F_*. */
export interface NativeAddressStep<L = number> {
  op: 'addrAdd' | 'addrReplace' | 'addrDel';
  index: L;
  address: string;
  prefixlen: number;
  peer?: string;
  broadcast?: string;
  label?: string;
  scope?: number;
  flags?: number;
  validLifetime?: number;
  preferredLifetime?: number;
  metric?: number;
}

/** RTM_NEWROUTE / RTM_DELROUTE; numbers as the kernel's (RT_TABLE_*, RTPROT_*, RT_SCOPE_*, RTN_*). */
export interface NativeRouteStep<L = number> {
  op: 'routeAdd' | 'routeReplace' | 'routeAppend' | 'routeDel';
  family: 4 | 6;
  dst?: string;
  dstLen: number;
  src?: string;
  srcLen?: number;
  gateway?: string;
  prefsrc?: string;
  oif?: L;
  metric?: number;
  table?: number;
  protocol: number;
  scope: number;
  type: number;
  tos?: number;
  onlink?: boolean;
  mtu?: number;
}

/** RTM_NEWNEIGH / RTM_DELNEIGH: `req` as neighApply takes it, its device (and VXLAN `via`) the step's. */
export interface NativeNeighStep<L = number> {
  op: 'neigh';
  req: NativeNeighRequest;
  index: L;
  via?: L;
  /** A delete that finds nothing (ENOENT) is a success. */
  missingOk?: boolean;
}

/** One step of an rtnetlink batch, by `op`. */
export type NativeStep<L = number> = NativeLinkStep<L> | NativeLinkDeleteStep | NativeAddressStep<L> | NativeRouteStep<L> | NativeNeighStep<L>;

/** One step's outcome: a native error (see errors.ts fromNative), or the echoed link. */
export interface NativeStepResult {
  error?: Error;
  link?: Link;
}

/** One step of rtnlRaw: `error` is a native error object (see errors.ts fromNative). */
export interface NativeRawStep {
  error?: Error;
  replies: Buffer[];
  dumpInterrupted?: true;
}

// ---- rtnetlink reads ----

/** RTM_GETLINK dump filter (IFLA_MASTER, IFLA_INFO_KIND). */
export interface NativeLinkFilter {
  master?: number;
  kind?: string;
}

/** The codec's RTM_GETLINK dump: the filter, the header's family and ext mask, and an ifi_index to provoke strict checking. */
export interface NativeLinkDumpRequest extends NativeLinkFilter {
  family?: number;
  extMask?: number;
  index?: number;
}

/** RTM_GETROUTE dump filter; numbers as the kernel's. */
export interface NativeRouteFilter {
  family?: 0 | 4 | 6;
  table?: number;
  protocol?: number;
  type?: number;
  oif?: number;
}

/** RTM_GETROUTE for one destination. */
export interface NativeRouteQuery {
  dst: string;
  src?: string;
  oif?: number;
  iif?: number;
  mark?: number;
}

// ---- neighbours and the FDB (native/ops/neigh_ops.cc) ----

/** One RTM_{NEW,DEL,GET}NEIGH request, validated and with devices resolved to ifindexes. */
export interface NativeNeighRequest {
  op: 'add' | 'replace' | 'append' | 'delete' | 'get';
  family: 'inet' | 'inet6' | 'bridge';
  ifindex: number;
  dst?: string;
  lladdr?: string;
  state?: string;
  self?: boolean;
  master?: boolean;
  proxy?: boolean;
  router?: boolean;
  sticky?: boolean;
  externLearned?: boolean;
  vlan?: number;
  port?: number;
  vni?: number;
  srcVni?: number;
  via?: number;
}

/** RTM_GETNEIGH dump filter. */
export interface NativeNeighFilter {
  family?: 'inet' | 'inet6' | 'bridge';
  ifindex?: number;
  master?: number;
  proxy?: boolean;
}

/** Neighbour/FDB entries as rtnl::NeighTable lays them out (read by src/neigh-table.ts). */
export interface NativeNeighTable {
  /** Fixed-width rows of u32 columns, one row per entry. */
  cols: Uint32Array;
  /** Every row's formatted address and MAC, back to back. */
  text: string;
  /** Milliseconds per USER_HZ tick (NDA_CACHEINFO ages). */
  tickMs: number;
}

// ---- monitor ----

/** What the monitor's poll callback hands over: decoded events, resyncs and errors. */
export type NativeMonitorEvent =
  | { type: 'new' | 'delete'; kind: 'link'; value: Link }
  | { type: 'new' | 'delete'; kind: 'address'; value: Address }
  | { type: 'new' | 'delete'; kind: 'route'; value: Route }
  | { type: 'new' | 'delete'; kind: 'neighbour'; value: NativeNeighTable }
  | { type: 'new' | 'delete'; kind: 'fdb'; value: NativeNeighTable }
  | { type: 'resync'; reason: 'overflow' | 'decode' | 'truncated'; detail?: string }
  | { type: 'error'; errno: number; detail: string };

// ---- conntrack ----

/** A conntrack filter as the native side takes it: family, protocol number, address text, ports. */
export interface NativeCtFilter {
  family?: 4 | 6;
  protocol?: number;
  replySrc?: string;
  replySrcPort?: number;
  origDstPort?: number;
}

/** A decoded conntrack entry: ConntrackEntry with the protocol as its number. */
export type NativeCtEntry = Omit<ConntrackEntry, 'protocol'> & { protocol: number };

// ---- nftables (native/ops/nft_*.cc) ----

/** One value of a data type: a string or a number; an array for a concatenation (or flags). */
export type NativeScalar = string | number;
export type NativeDatum = NativeScalar | NativeScalar[];
/** A verdict as nft_data carries it: NF_ACCEPT, NFT_JUMP... and a chain for jump/goto. */
export interface NativeVerdictData {
  code: number;
  chain?: string;
}
/** An attribute value of an expression: a number, a string, bytes or a verdict. */
export type NativeExprField = number | string | Buffer | NativeVerdictData;
/** An expression: `type` is NFTA_EXPR_NAME, other keys its attributes (native/nft/expr/*.cc); `raw` for one without a table. */
export interface NativeExpr {
  type: string;
  raw?: Buffer;
  [attribute: string]: NativeExprField | undefined;
}
/** What nft's `typeof` records for a key expression: its type (EXPR_*) and attributes. */
export interface TypeofPart {
  etype: number;
  attrs: [number, number][];
}
/** A set element as given: plain values, encoded natively with the set's types. */
export interface NativeElementIn {
  key: NativeDatum;
  value?: NativeDatum | NativeVerdictData;
  timeout?: number;
  comment?: string;
}

interface NativeNftOpHead {
  /** NFT_MSG_*. */
  msg: number;
  /** NLM_F_CREATE, EXCL, APPEND, REPLACE, ECHO (errors name the operation in nft's words from these). */
  nlFlags: number;
  /** NFPROTO_*. */
  family: number;
}

/** One operation of an nftables batch, by `kind`. */
export type NativeNftOp =
  | (NativeNftOpHead & { kind: 'table'; name?: string; handle?: number; flags?: number; comment?: string })
  | (NativeNftOpHead & {
      kind: 'chain'; table: string; name?: string; handle?: number; hook?: { num: number; priority: number; device?: string };
      type?: string; policy?: number; flags?: number; comment?: string;
    })
  | (NativeNftOpHead & { kind: 'rule'; table: string; chain: string; handle?: number; position?: number; exprs?: NativeExpr[]; comment?: string })
  | (NativeNftOpHead & {
      kind: 'set'; table: string; name?: string; handle?: number; flags?: number;
      /** Data type names of the key (one per part of a concatenation). */
      key?: string[];
      /** A map's data: type names, or 'verdict'. */
      data?: string[] | 'verdict';
      keyTypeof?: TypeofPart[]; dataTypeof?: TypeofPart[];
      policy?: number; size?: number; id?: number; timeout?: number; gcInterval?: number; comment?: string;
    })
  | (NativeNftOpHead & { kind: 'elements'; table: string; set: string; setId?: number; elements?: NativeElementIn[] });

export interface NativeNftTable {
  family: number; name: string; handle: number; flags?: number; use?: number; comment?: string;
}
export interface NativeNftChain {
  family: number; table: string; name: string; handle: number; hook?: { num: number; priority: number; device?: string };
  type?: string; policy?: number; flags?: number; use?: number; comment?: string;
}
export interface NativeNftRule {
  family: number; table: string; chain: string; handle: number; position?: number; exprs: NativeExpr[]; comment?: string;
}
/** A set element as listed: values decoded with the set's types (interval sets: prefixes and ranges). */
export interface NativeElementOut {
  key: NativeDatum;
  value?: NativeDatum;
  verdict?: NativeVerdictData;
  timeout?: number;
  expires?: number;
  comment?: string;
}
export interface NativeNftSet {
  family: number; table: string; name: string; handle: number; flags?: number;
  keyType?: number; keyLen?: number; dataType?: number; dataLen?: number;
  policy?: number; size?: number; gcInterval?: number; timeout?: number;
  /** The key's types by name ('ipv4_addr . inet_service'), when netplumb knows them. */
  key?: string;
  /** A map's data: 'verdict' or type names. */
  data?: string;
  udata?: {
    keyByteorder?: number; dataByteorder?: number; merge?: number; dataInterval?: number;
    keyTypeof?: TypeofPart[]; dataTypeof?: TypeofPart[]; comment?: string;
  };
  elements?: NativeElementOut[];
}
/** A set element as a message carries it (bytes: a message alone does not say its set's types). */
export interface NativeRawElement {
  key: Buffer; keyEnd?: Buffer; data?: Buffer | NativeVerdictData; flags: number; timeout?: number; expiration?: number; comment?: string;
}
/** One decoded nftables message. */
export interface NativeNftMessage {
  type: number;
  flags: number;
  msg?: string;
  object?: NativeNftTable | NativeNftChain | NativeNftRule | NativeNftSet | { family: number; table: string; set: string; elements: NativeRawElement[] };
}
/** A data type netplumb encodes: nft's name and id, its size in a register, the byte order nft records. */
export interface NativeDatatype {
  name: string;
  id: number;
  len: number;
  byteorder: number;
}

// ---- the functions ----

/** Every function the addon exports. */
export interface NativeBinding {
  nsCreate(dir: string, name: string | null): Promise<NativeHandle>;
  nsPending(): NativeHandle;
  nsOpen(path: string): NativeHandle;
  nsBindSync(handle: NativeHandle, dir: string, name: string): NativeHandle;
  nsCurrent(): NativeHandle;
  nsDelete(dir: string, name: string): Promise<void>;
  nsList(dir: string): Promise<string[]>;
  nsClose(handle: NativeHandle): void;
  nsInfo(handle: NativeHandle): { dev: number; ino: number; fd: number };
  nsSocketStats(handle: NativeHandle): { sends: number; receives: number; portId: number };

  linkGet(handle: NativeHandle, link: string | number): Promise<Link>;
  linkGetSync(handle: NativeHandle, link: string | number): Link;
  linkList(handle: NativeHandle, filter: NativeLinkFilter): Promise<Link[]>;
  encodeLinkGet(link: string | number, family?: number, extMask?: number): Buffer;
  encodeLinkDump(filter: NativeLinkDumpRequest): Buffer;
  decodeLinks(buffer: Buffer): Link[];

  rtnlBatch(handle: NativeHandle, steps: NativeStep[]): Promise<NativeStepResult[]>;
  rtnlSequence(batches: [NativeHandle, NativeStep[]][]): Promise<NativeStepResult[][]>;
  rtnlCreateSequence(dir: string, name: string, pending: NativeHandle, batches: [NativeHandle, NativeStep[]][]): Promise<NativeStepResult[][]>;
  /**
   * Starts making the named namespace of a pending handle on the namespace thread; the
   * batches come later through the gate (rtnlGateOpen), and the promise settles as
   * rtnlCreateSequence's once they are sent. rtnlGateAbort withdraws them: the namespace is
   * deleted again and the promise rejects with ECANCELED. A gate dropped unused aborts.
   */
  rtnlCreateBegin(dir: string, name: string, pending: NativeHandle): [Promise<NativeStepResult[][]>, NativeGate];
  rtnlGateOpen(gate: NativeGate, batches: [NativeHandle, NativeStep[]][]): void;
  rtnlGateAbort(gate: NativeGate): void;
  encodeRtnlSteps(steps: NativeStep[]): Buffer;
  rtnlRaw(handle: NativeHandle, messages: Buffer): Promise<NativeRawStep[]>;

  addrList(handle: NativeHandle, family: 0 | 4 | 6, index: number): Promise<Address[]>;
  routeList(handle: NativeHandle, filter: NativeRouteFilter): Promise<Route[]>;
  routeGet(handle: NativeHandle, query: NativeRouteQuery): Promise<Route>;

  neighApply(handle: NativeHandle, requests: NativeNeighRequest[], rollback: boolean, ignoreMissing?: boolean): Promise<number>;
  neighGet(handle: NativeHandle, request: NativeNeighRequest): Promise<NativeNeighTable>;
  neighList(handle: NativeHandle, filter: NativeNeighFilter): Promise<NativeNeighTable>;
  neighListSync(handle: NativeHandle, filter: NativeNeighFilter): NativeNeighTable;
  neighFlush(handle: NativeHandle, filter: NativeNeighFilter, includePermanent: boolean): Promise<number>;
  encodeNeigh(request: NativeNeighRequest): Buffer;
  encodeNeighDump(filter: NativeNeighFilter): Buffer;
  decodeNeighs(buffer: Buffer): NativeNeighTable;

  sysctlGet(handle: NativeHandle, key: string): Promise<string>;
  sysctlSet(handle: NativeHandle, key: string, value: string): Promise<void>;

  monitorOpen(handle: NativeHandle, groups: number, receiveBuffer: number, callback: (events: NativeMonitorEvent[]) => void): NativeMonitor;
  monitorRef(monitor: NativeMonitor, on: boolean): void;
  monitorClose(monitor: NativeMonitor): void;

  nftCommit(handle: NativeHandle, ops: NativeNftOp[], generation?: number): Promise<{ handles: number[] }>;
  nftCommitSync(handle: NativeHandle, ops: NativeNftOp[], generation?: number): { handles: number[] };
  nftGeneration(handle: NativeHandle): Promise<number>;
  nftListTables(handle: NativeHandle, family: number): Promise<NativeNftTable[]>;
  nftListRules(handle: NativeHandle, family: number, table: string, chain?: string): Promise<NativeNftRule[]>;
  nftListSets(handle: NativeHandle, family: number, table: string): Promise<NativeNftSet[]>;
  nftGetSet(handle: NativeHandle, family: number, table: string, set: string): Promise<NativeNftSet>;
  nftDumpTable(handle: NativeHandle, family: number, table: string): Promise<{
    generation: number; table: NativeNftTable; chains: NativeNftChain[]; sets: NativeNftSet[]; rules: NativeNftRule[];
  }>;
  nftEncodeBatch(handle: NativeHandle | null, ops: NativeNftOp[], generation?: number): Buffer;
  nftDecodeExprs(buffer: Buffer): NativeExpr[];
  nftDecodeMessages(buffer: Buffer): NativeNftMessage[];
  nftEncodeValue(types: string[], value: NativeDatum, what: string): Buffer;
  nftDatatypes(): NativeDatatype[];

  ctList(handle: NativeHandle, filter: NativeCtFilter): Promise<NativeCtEntry[]>;
  ctDelete(handle: NativeHandle, filter: NativeCtFilter): Promise<number>;
}

/** glibc's mallinfo2 fields (bytes): arena from sbrk, in use, free, mmapped, trimmable top. */
export interface NativeMallocInfo {
  arena: number;
  ordblks: number;
  hblks: number;
  hblkhd: number;
  uordblks: number;
  fordblks: number;
  keepcost: number;
}

/** Allocator diagnostics for scripts/soak.mjs, in builds made with `--netplumb_debug=1` only. */
export interface NativeDebug {
  _debugMallocInfo(): Partial<NativeMallocInfo>;
  /** malloc_trim(0); true if memory went back to the kernel. */
  _debugMallocTrim(): boolean;
}

/**
 * How the native side reads one parameter: a namespace or monitor handle, a primitive, a
 * Buffer, a callback, or an object/array whose keys are `shape` (a type above).
 */
export type NativeParam =
  | {
      name: string;
      /** `link`: a name or an ifindex; `datum`: a string, a number, or an array of them. */
      type: 'handle' | 'monitor' | 'gate' | 'string' | 'number' | 'boolean' | 'buffer' | 'function' | 'link' | 'datum';
      optional?: true;
      nullable?: true;
    }
  | { name: string; type: 'object' | 'array'; shape: NativeShape; optional?: true };

/** The object and array shapes that cross, by the name of their type. */
export type NativeShape =
  | 'NativeLinkFilter' | 'NativeLinkDumpRequest' | 'NativeStep[]' | 'NativeBatches' | 'NativeRouteFilter' | 'NativeRouteQuery'
  | 'NativeNeighRequest' | 'NativeNeighRequest[]' | 'NativeNeighFilter' | 'NativeNftOp[]' | 'NativeCtFilter' | 'string[]';

const h = { name: 'handle', type: 'handle' } as const;
const fam = { name: 'family', type: 'number' } as const;
const table = { name: 'table', type: 'string' } as const;
const obj = (name: string, shape: NativeShape) => ({ name, type: 'object', shape }) as const;
const arr = (name: string, shape: NativeShape) => ({ name, type: 'array', shape }) as const;

/**
 * Each entry point's parameters, in order, as the native side names them in errors.
 * Typed by NativeBinding's keys: an entry point missing here does not compile, and one
 * the addon exports that is missing makes the loader throw.
 */
export const NATIVE_ENTRY_POINTS: { readonly [K in keyof NativeBinding]: readonly NativeParam[] } = {
  nsCreate: [{ name: 'dir', type: 'string' }, { name: 'name', type: 'string', nullable: true }],
  nsPending: [],
  nsOpen: [{ name: 'path', type: 'string' }],
  nsBindSync: [h, { name: 'dir', type: 'string' }, { name: 'name', type: 'string' }],
  nsCurrent: [],
  nsDelete: [{ name: 'dir', type: 'string' }, { name: 'name', type: 'string' }],
  nsList: [{ name: 'dir', type: 'string' }],
  nsClose: [h],
  nsInfo: [h],
  nsSocketStats: [h],

  linkGet: [h, { name: 'link', type: 'link' }],
  linkGetSync: [h, { name: 'link', type: 'link' }],
  linkList: [h, obj('filter', 'NativeLinkFilter')],
  encodeLinkGet: [{ name: 'link', type: 'link' }, { name: 'family', type: 'number', optional: true }, { name: 'extMask', type: 'number', optional: true }],
  encodeLinkDump: [obj('filter', 'NativeLinkDumpRequest')],
  decodeLinks: [{ name: 'buffer', type: 'buffer' }],

  rtnlBatch: [h, arr('steps', 'NativeStep[]')],
  rtnlSequence: [arr('batches', 'NativeBatches')],
  rtnlCreateSequence: [{ name: 'dir', type: 'string' }, { name: 'name', type: 'string' }, { name: 'pending', type: 'handle' }, arr('batches', 'NativeBatches')],
  rtnlCreateBegin: [{ name: 'dir', type: 'string' }, { name: 'name', type: 'string' }, { name: 'pending', type: 'handle' }],
  rtnlGateOpen: [{ name: 'gate', type: 'gate' }, arr('batches', 'NativeBatches')],
  rtnlGateAbort: [{ name: 'gate', type: 'gate' }],
  encodeRtnlSteps: [arr('steps', 'NativeStep[]')],
  rtnlRaw: [h, { name: 'messages', type: 'buffer' }],

  addrList: [h, fam, { name: 'index', type: 'number' }],
  routeList: [h, obj('filter', 'NativeRouteFilter')],
  routeGet: [h, obj('query', 'NativeRouteQuery')],

  neighApply: [h, arr('requests', 'NativeNeighRequest[]'), { name: 'rollback', type: 'boolean' }, { name: 'ignoreMissing', type: 'boolean', optional: true }],
  neighGet: [h, obj('request', 'NativeNeighRequest')],
  neighList: [h, obj('filter', 'NativeNeighFilter')],
  neighListSync: [h, obj('filter', 'NativeNeighFilter')],
  neighFlush: [h, obj('filter', 'NativeNeighFilter'), { name: 'includePermanent', type: 'boolean' }],
  encodeNeigh: [obj('request', 'NativeNeighRequest')],
  encodeNeighDump: [obj('filter', 'NativeNeighFilter')],
  decodeNeighs: [{ name: 'buffer', type: 'buffer' }],

  sysctlGet: [h, { name: 'key', type: 'string' }],
  sysctlSet: [h, { name: 'key', type: 'string' }, { name: 'value', type: 'string' }],

  monitorOpen: [h, { name: 'groups', type: 'number' }, { name: 'receiveBuffer', type: 'number' }, { name: 'callback', type: 'function' }],
  monitorRef: [{ name: 'monitor', type: 'monitor' }, { name: 'on', type: 'boolean' }],
  monitorClose: [{ name: 'monitor', type: 'monitor' }],

  nftCommit: [h, arr('ops', 'NativeNftOp[]'), { name: 'generation', type: 'number', optional: true }],
  nftCommitSync: [h, arr('ops', 'NativeNftOp[]'), { name: 'generation', type: 'number', optional: true }],
  nftGeneration: [h],
  nftListTables: [h, fam],
  nftListRules: [h, fam, table, { name: 'chain', type: 'string', optional: true }],
  nftListSets: [h, fam, table],
  nftGetSet: [h, fam, table, { name: 'set', type: 'string' }],
  nftDumpTable: [h, fam, table],
  nftEncodeBatch: [{ name: 'handle', type: 'handle', nullable: true }, arr('ops', 'NativeNftOp[]'), { name: 'generation', type: 'number', optional: true }],
  nftDecodeExprs: [{ name: 'buffer', type: 'buffer' }],
  nftDecodeMessages: [{ name: 'buffer', type: 'buffer' }],
  nftEncodeValue: [arr('types', 'string[]'), { name: 'value', type: 'datum' }, { name: 'what', type: 'string' }],
  nftDatatypes: [],

  ctList: [h, obj('filter', 'NativeCtFilter')],
  ctDelete: [h, obj('filter', 'NativeCtFilter')],
};

/** The entry points a debug build adds (native/ops/debug_ops.cc). */
export const NATIVE_DEBUG_ENTRY_POINTS: { readonly [K in keyof NativeDebug]: readonly NativeParam[] } = {
  _debugMallocInfo: [],
  _debugMallocTrim: [],
};

function load(): { native: NativeBinding; debug: NativeDebug | undefined } {
  // dist/binding.js and src/binding.ts sit one level below the package root; the CNI
  // plugin's bundle (dist/cni/run.bundle.js) carries this code one level deeper.
  const root = [path.join(__dirname, '..'), path.join(__dirname, '..', '..')].find((d) => existsSync(path.join(d, 'package.json')))!;
  // This machine's own build, where node-gyp-build would look first, loaded without it
  // (finding it costs a short-lived process ~1.5 ms); otherwise the prebuild for this
  // platform, as node-gyp-build picks it (PREBUILDS_ONLY=1 skips the build).
  const own = path.join(root, 'build', 'Release', 'netplumb.node');
  const addon = (
    !process.env.PREBUILDS_ONLY && existsSync(own) ? require(own) : (require('node-gyp-build') as (dir: string) => unknown)(root)
  ) as Record<string, unknown>;
  const expected = new Set(Object.keys(NATIVE_ENTRY_POINTS));
  const debugNames = Object.keys(NATIVE_DEBUG_ENTRY_POINTS);
  const missing = [...expected].filter((k) => typeof addon[k] !== 'function');
  const unexpected = Object.keys(addon).filter((k) => !expected.has(k) && !debugNames.includes(k));
  if (missing.length || unexpected.length) {
    throw new Error(
      `the native addon under ${root} does not match this netplumb (missing: ${missing.join(', ') || 'none'}; ` +
        `unexpected: ${unexpected.join(', ') || 'none'}): rebuild it with npm run build:native`,
    );
  }
  const debug = debugNames.every((k) => typeof addon[k] === 'function') ? (addon as unknown as NativeDebug) : undefined;
  return { native: addon as unknown as NativeBinding, debug };
}

const loaded = load();

/** The addon's functions. */
export const native: NativeBinding = loaded.native;

/** The allocator diagnostics, when the addon was built with them (`--netplumb_debug=1`). */
export const nativeDebug: NativeDebug | undefined = loaded.debug;
