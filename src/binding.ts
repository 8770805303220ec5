// The one place that loads the native addon. Everything else imports `native` from
// here and gets typed functions; nothing else calls node-gyp-build.
import * as path from 'node:path';
import nodeGypBuild from 'node-gyp-build';
import type { Link as NativeLink } from './types';

/** Opaque namespace handle owned by the native side (an nsfs fd plus sockets). */
export interface NativeHandle {
  readonly __brand: 'NativeHandle';
}

export interface NativeLinkFilter {
  master?: number;
  kind?: string;
}

export interface NativeBinding {
  nsCreate(dir: string, name: string | null): Promise<NativeHandle>;
  nsOpen(path: string): NativeHandle;
  nsCurrent(): NativeHandle;
  nsDelete(dir: string, name: string): Promise<void>;
  nsList(dir: string): Promise<string[]>;
  nsClose(h: NativeHandle): void;
  nsInfo(h: NativeHandle): { dev: number; ino: number; fd: number };
  nsSocketStats(h: NativeHandle): { sends: number; receives: number; portId: number };

  linkGet(h: NativeHandle, nameOrIndex: string | number): Promise<NativeLink>;
  linkList(h: NativeHandle, filter?: NativeLinkFilter): Promise<NativeLink[]>;

  encodeLinkGet(nameOrIndex: string | number, family?: number, extMask?: number): Buffer;
  encodeLinkDump(filter?: NativeLinkFilter & { family?: number; extMask?: number }): Buffer;
  decodeLinks(buf: Buffer): NativeLink[];

  // nftables (objects are the shapes src/nft builds and reads; see src/nft/nft.ts)
  nftCommit(h: NativeHandle, ops: object[], generation?: number): Promise<{ handles: number[] }>;
  nftGeneration(h: NativeHandle): Promise<number>;
  nftListTables(h: NativeHandle, family: number): Promise<object[]>;
  nftListRules(h: NativeHandle, family: number, table: string, chain?: string): Promise<object[]>;
  nftListSets(h: NativeHandle, family: number, table: string, set?: string): Promise<object[]>;
  nftListElements(h: NativeHandle, family: number, table: string, set: string): Promise<object[]>;
  nftDumpTable(h: NativeHandle, family: number, table: string): Promise<{
    generation: number; table: object; chains: object[]; sets: object[]; rules: object[];
  }>;
  nftEncodeBatch(ops: object[], generation?: number): Buffer;
  nftDecodeExprs(buf: Buffer): ({ type: string } & Record<string, unknown>)[];
  nftDecodeMessages(buf: Buffer): { type: number; flags: number; msg?: string; object?: Record<string, unknown> }[];
}

// dist/binding.js and src/binding.ts both sit one level below the package root.
export const native = nodeGypBuild(path.join(__dirname, '..')) as NativeBinding;
