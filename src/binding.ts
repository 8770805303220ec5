// The one place that loads the native addon. Everything else imports `native` from
// here and gets typed functions; nothing else calls node-gyp-build.
import * as path from 'node:path';
import nodeGypBuild from 'node-gyp-build';
import type { Address, Link as NativeLink, Route } from './types';

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
  nsBind(h: NativeHandle, dir: string, name: string): Promise<void>;
  nsCurrent(): NativeHandle;
  nsDelete(dir: string, name: string): Promise<void>;
  nsList(dir: string): Promise<string[]>;
  nsClose(h: NativeHandle): void;
  nsInfo(h: NativeHandle): { dev: number; ino: number; fd: number };
  nsSocketStats(h: NativeHandle): { sends: number; receives: number; portId: number };

  linkGet(h: NativeHandle, nameOrIndex: string | number): Promise<NativeLink>;
  linkList(h: NativeHandle, filter?: NativeLinkFilter): Promise<NativeLink[]>;

  rtnlBatch(h: NativeHandle, steps: object[]): Promise<{ error?: Error; link?: NativeLink }[]>;
  addrList(h: NativeHandle, family: number, index: number): Promise<Address[]>;
  routeList(h: NativeHandle, filter: { family?: number; table?: number; protocol?: number; type?: number; oif?: number }): Promise<Route[]>;
  routeGet(h: NativeHandle, query: { dst: string; src?: string; oif?: number; mark?: number }): Promise<Route>;

  encodeLinkGet(nameOrIndex: string | number, family?: number, extMask?: number): Buffer;
  encodeLinkDump(filter?: NativeLinkFilter & { family?: number; extMask?: number; index?: number }): Buffer;
  decodeLinks(buf: Buffer): NativeLink[];

  rtnlRaw(h: NativeHandle, messages: Buffer): Promise<NativeRawStep[]>;
}

/** One step of rtnlRaw: `error` is a native error object (see errors.ts fromNative). */
export interface NativeRawStep {
  error?: Error;
  replies: Buffer[];
  dumpInterrupted?: true;
}

// dist/binding.js and src/binding.ts both sit one level below the package root.
export const native = nodeGypBuild(path.join(__dirname, '..')) as NativeBinding;
