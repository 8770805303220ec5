// The one place that loads the native addon. Everything else imports `native` from
// here and gets typed functions; nothing else calls node-gyp-build.
import * as path from 'node:path';
import nodeGypBuild from 'node-gyp-build';
import type { ConntrackEntry } from './conntrack';
import type { Address, Link as NativeLink, Route } from './types';

/** Opaque namespace handle owned by the native side (an nsfs fd plus sockets). */
export interface NativeHandle {
  readonly __brand: 'NativeHandle';
}

export interface NativeLinkFilter {
  master?: number;
  kind?: string;
}

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

/** Opaque monitor handle (a netlink socket watched by a uv_poll_t). */
export interface NativeMonitor {
  readonly __brand: 'NativeMonitor';
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

/** What the monitor's poll callback hands over: decoded events, resyncs and errors. */
export type NativeMonitorEvent =
  | { type: 'new' | 'delete'; kind: string; value: unknown }
  | { type: 'resync'; reason: string; detail?: string }
  | { type: 'error'; errno: number; detail: string };

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

export interface NativeBinding {
  nsCreate(dir: string, name: string | null): Promise<NativeHandle>;
  nsPending(): NativeHandle;
  nsOpen(path: string): NativeHandle;
  nsBindSync(h: NativeHandle, dir: string, name: string): NativeHandle;
  nsCurrent(): NativeHandle;
  nsDelete(dir: string, name: string): Promise<void>;
  nsList(dir: string): Promise<string[]>;
  nsClose(h: NativeHandle): void;
  nsInfo(h: NativeHandle): { dev: number; ino: number; fd: number };
  nsSocketStats(h: NativeHandle): { sends: number; receives: number; portId: number };

  linkGet(h: NativeHandle, nameOrIndex: string | number): Promise<NativeLink>;
  linkGetSync(h: NativeHandle, nameOrIndex: string | number): NativeLink;
  linkList(h: NativeHandle, filter?: NativeLinkFilter): Promise<NativeLink[]>;

  rtnlBatch(h: NativeHandle, steps: object[]): Promise<{ error?: Error; link?: NativeLink }[]>;
  rtnlSequence(batches: [NativeHandle, object[]][]): Promise<{ error?: Error; link?: NativeLink }[][]>;
  rtnlCreateSequence(dir: string, name: string, pending: NativeHandle, batches: [NativeHandle, object[]][]): Promise<{ error?: Error; link?: NativeLink }[][]>;
  addrList(h: NativeHandle, family: number, index: number): Promise<Address[]>;
  routeList(h: NativeHandle, filter: { family?: number; table?: number; protocol?: number; type?: number; oif?: number }): Promise<Route[]>;
  routeGet(h: NativeHandle, query: { dst: string; src?: string; oif?: number; mark?: number }): Promise<Route>;

  neighApply(h: NativeHandle, requests: NativeNeighRequest[], rollback: boolean, ignoreMissing?: boolean): Promise<number>;
  neighGet(h: NativeHandle, request: NativeNeighRequest): Promise<NativeNeighTable>;
  neighList(h: NativeHandle, filter: NativeNeighFilter): Promise<NativeNeighTable>;
  neighListSync(h: NativeHandle, filter: NativeNeighFilter): NativeNeighTable;
  neighFlush(h: NativeHandle, filter: NativeNeighFilter, includePermanent: boolean): Promise<number>;
  encodeNeigh(request: NativeNeighRequest): Buffer;
  encodeNeighDump(filter: NativeNeighFilter): Buffer;
  decodeNeighs(buf: Buffer): NativeNeighTable;

  sysctlGet(h: NativeHandle, rel: string): Promise<string>;
  sysctlSet(h: NativeHandle, rel: string, value: string): Promise<void>;

  monitorOpen(h: NativeHandle, groups: number, receiveBuffer: number, cb: (events: NativeMonitorEvent[]) => void): NativeMonitor;
  monitorRef(m: NativeMonitor, on: boolean): void;
  monitorClose(m: NativeMonitor): void;

  encodeLinkGet(nameOrIndex: string | number, family?: number, extMask?: number): Buffer;
  encodeLinkDump(filter?: NativeLinkFilter & { family?: number; extMask?: number; index?: number }): Buffer;
  decodeLinks(buf: Buffer): NativeLink[];
  encodeRtnlSteps(steps: object[]): Buffer;

  rtnlRaw(h: NativeHandle, messages: Buffer): Promise<NativeRawStep[]>;

  // nftables (objects are the shapes src/nft builds and reads; see src/nft/nft.ts)
  nftCommit(h: NativeHandle, ops: object[], generation?: number): Promise<{ handles: number[] }>;
  nftCommitSync(h: NativeHandle, ops: object[], generation?: number): { handles: number[] };
  nftGeneration(h: NativeHandle): Promise<number>;
  nftListTables(h: NativeHandle, family: number): Promise<object[]>;
  nftListRules(h: NativeHandle, family: number, table: string, chain?: string): Promise<object[]>;
  nftListSets(h: NativeHandle, family: number, table: string, set?: string): Promise<object[]>;
  nftListSetsSync(h: NativeHandle, family: number, table: string, set?: string): object[];
  nftListElements(h: NativeHandle, family: number, table: string, set: string): Promise<object[]>;
  nftDumpTable(h: NativeHandle, family: number, table: string): Promise<{
    generation: number; table: object; chains: object[]; sets: object[]; rules: object[];
  }>;
  nftEncodeBatch(ops: object[], generation?: number): Buffer;
  nftDecodeExprs(buf: Buffer): ({ type: string } & Record<string, unknown>)[];
  nftDecodeMessages(buf: Buffer): { type: number; flags: number; msg?: string; object?: Record<string, unknown> }[];

  ctList(h: NativeHandle, filter: NativeCtFilter): Promise<NativeCtEntry[]>;
  ctDelete(h: NativeHandle, filter: NativeCtFilter): Promise<number>;

  /** @internal Undocumented diagnostics for scripts/soak.mjs: glibc mallinfo2() (all arenas), in bytes. */
  _debugMallocInfo(): Partial<NativeMallocInfo>;
  /** @internal malloc_trim(0); true if memory went back to the kernel. */
  _debugMallocTrim(): boolean;
}

/** @internal glibc's mallinfo2 fields (bytes): arena from sbrk, in use, free, mmapped, trimmable top. */
export interface NativeMallocInfo {
  arena: number;
  ordblks: number;
  hblks: number;
  hblkhd: number;
  uordblks: number;
  fordblks: number;
  keepcost: number;
}

/** One step of rtnlRaw: `error` is a native error object (see errors.ts fromNative). */
export interface NativeRawStep {
  error?: Error;
  replies: Buffer[];
  dumpInterrupted?: true;
}

// dist/binding.js and src/binding.ts both sit one level below the package root.
export const native = nodeGypBuild(path.join(__dirname, '..')) as NativeBinding;
