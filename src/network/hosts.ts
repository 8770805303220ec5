// Name resolution for user-defined networks, as hosts-file content: every container
// resolves the names and aliases of every container it shares such a network with.
// Opt-in (AttachOptions.hostsFile): each change concerns every member's file, so the
// writes are coalesced and done off the caller's path (HostsWriter).
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { mkdir, rename, unlink, writeFile } from 'node:fs/promises';
import * as path from 'node:path';

/** One container's view: its own entries first, then its peers', as /etc/hosts lines. */
export function hostsFileContent(self: { ip: string; names: string[] }[], peers: { ip: string; names: string[] }[]): string {
  const lines = [
    '127.0.0.1\tlocalhost',
    '::1\tlocalhost ip6-localhost ip6-loopback',
    'fe00::0\tip6-localnet',
    'ff00::0\tip6-mcastprefix',
    'ff02::1\tip6-allnodes',
    'ff02::2\tip6-allrouters',
  ];
  const seen = new Set<string>();
  for (const e of [...self, ...peers]) {
    const names = e.names.filter((n) => n.length > 0);
    if (names.length === 0) continue;
    const key = `${e.ip} ${names.join(' ')}`;
    if (seen.has(key)) continue;
    seen.add(key);
    lines.push(`${e.ip}\t${names.join(' ')}`);
  }
  return `${lines.join('\n')}\n`;
}

/** Writes a file atomically (temp file in the same directory, then rename). */
export function writeFileAtomic(file: string, content: string): void {
  mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, content, { mode: 0o644 });
  renameSync(tmp, file);
}

/** A DNS-ish name: letters, digits, '-', '_' and '.', 1-253 chars. */
export function checkHostName(n: unknown, what: string): string {
  if (typeof n !== 'string' || !/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,252}$/.test(n)) {
    throw new TypeError(`${what} must be a host name ([A-Za-z0-9_.-], 1-253 chars), got ${JSON.stringify(n)}`);
  }
  return n;
}

/**
 * Rewrites hosts files in the background: a change marks the networks it touches, and
 * one pass (on the next turn of the event loop after the last change) writes the file of
 * each member that has one, once, however many changes came in between.
 */
export class HostsWriter {
  readonly #files: (networks: ReadonlySet<string>) => Iterable<{ netnsId: string; file: string }>;
  readonly #content: (netnsId: string) => string;
  readonly #warn: (message: string) => void;
  readonly #dirty = new Set<string>();
  readonly #gone = new Set<string>();
  #scheduled = false;
  #running: Promise<void> = Promise.resolve();

  /**
   * @param files the hosts files of the members of some networks, with their namespace
   * @param content a namespace's hosts file
   */
  constructor(
    files: (networks: ReadonlySet<string>) => Iterable<{ netnsId: string; file: string }>,
    content: (netnsId: string) => string,
    warn: (message: string) => void,
  ) {
    this.#files = files;
    this.#content = content;
    this.#warn = warn;
  }

  /** The members of these networks need their files rewritten. */
  touch(networks: Iterable<string>): void {
    for (const n of networks) this.#dirty.add(n);
    this.#schedule();
  }

  /** A hosts file no endpoint uses any more: remove it. */
  remove(file: string): void {
    this.#gone.add(file);
    this.#schedule();
  }

  /** Resolves when every change made so far is on disk. */
  async flush(): Promise<void> {
    if (this.#scheduled) {
      this.#scheduled = false;
      this.#running = this.#running.then(() => this.#pass());
    }
    await this.#running;
  }

  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() => {
      if (!this.#scheduled) return;
      this.#scheduled = false;
      this.#running = this.#running.then(() => this.#pass());
    });
  }

  async #pass(): Promise<void> {
    const dirty = new Set(this.#dirty);
    const gone = new Set(this.#gone);
    this.#dirty.clear();
    this.#gone.clear();
    const writes = new Map<string, string>();
    if (dirty.size > 0) for (const f of this.#files(dirty)) writes.set(f.file, f.netnsId);
    for (const file of gone) {
      if (writes.has(file)) continue;
      await unlink(file).catch((e: NodeJS.ErrnoException) => {
        if (e.code !== 'ENOENT') this.#warn(`could not remove hosts file ${file}: ${e.message}`);
      });
    }
    for (const [file, netnsId] of writes) {
      try {
        await mkdir(path.dirname(file), { recursive: true });
        const tmp = `${file}.${process.pid}.tmp`;
        await writeFile(tmp, this.#content(netnsId), { mode: 0o644 });
        await rename(tmp, file);
      } catch (e) {
        this.#warn(`could not write hosts file ${file}: ${(e as Error).message}`);
      }
    }
  }
}
