// A container's hosts file and resolv.conf, as files a runtime bind-mounts on its
// /etc/hosts and /etc/resolv.conf. The content comes from the state (Networks.hostsFor,
// Networks.resolvConfFor); this module writes it: coalesced, off the caller's path, and
// in place, so that a bind mount of the file (which pins its inode) sees every rewrite.
//
// By default a container's hosts file holds localhost and its own names only, as
// Docker's does on user-defined networks: a change rewrites that container's files and
// nothing else. The all-members file (hostsFileScope 'members') concerns every member of
// a network, and is rewritten for each member that keeps one (opt-in).
import { fsPromises, rewriteInPlace } from '../files';

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

/** A DNS-ish name: letters, digits, '-', '_' and '.', 1-253 chars. */
export function checkHostName(n: unknown, what: string): string {
  if (typeof n !== 'string' || !/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,252}$/.test(n)) {
    throw new TypeError(`${what} must be a host name ([A-Za-z0-9_.-], 1-253 chars), got ${JSON.stringify(n)}`);
  }
  return n;
}

/** A file to (re)write, with its content computed when it is written. */
export interface ContainerFile {
  file: string;
  content: () => string;
}

/**
 * Rewrites containers' files in the background: a change marks the namespaces (and, for
 * all-members hosts files, the networks) it touches, and one pass (on the next turn of
 * the event loop after the last change) writes each concerned file once, however many
 * changes came in between, with the content of the state at that moment.
 */
export class HostsWriter {
  readonly #files: (networks: ReadonlySet<string>, netns: ReadonlySet<string>) => Iterable<ContainerFile>;
  readonly #warn: (message: string) => void;
  readonly #dirty = new Set<string>();
  readonly #dirtyNetns = new Set<string>();
  readonly #gone = new Set<string>();
  #scheduled = false;
  #running: Promise<void> = Promise.resolve();

  /**
   * @param files the files of the all-members endpoints of some networks, and every file
   * of some namespaces
   */
  constructor(files: (networks: ReadonlySet<string>, netns: ReadonlySet<string>) => Iterable<ContainerFile>, warn: (message: string) => void) {
    this.#files = files;
    this.#warn = warn;
  }

  /** The all-members files of these networks need rewriting. */
  touch(networks: Iterable<string>): void {
    for (const n of networks) this.#dirty.add(n);
    this.#schedule();
  }

  /** Every file of this container namespace (by identity) needs rewriting. */
  touchNetns(netnsId: string): void {
    this.#dirtyNetns.add(netnsId);
    this.#schedule();
  }

  /** A file no endpoint uses any more: remove it. */
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
    const dirtyNetns = new Set(this.#dirtyNetns);
    const gone = new Set(this.#gone);
    this.#dirty.clear();
    this.#dirtyNetns.clear();
    this.#gone.clear();
    const writes = new Map<string, () => string>();
    if (dirty.size > 0 || dirtyNetns.size > 0) for (const f of this.#files(dirty, dirtyNetns)) writes.set(f.file, f.content);
    for (const file of gone) {
      if (writes.has(file)) continue;
      await fsPromises().unlink(file).catch((e: NodeJS.ErrnoException) => {
        if (e.code !== 'ENOENT') this.#warn(`could not remove ${file}: ${e.message}`);
      });
    }
    for (const [file, content] of writes) {
      try {
        await rewriteInPlace(file, content());
      } catch (e) {
        this.#warn(`could not write ${file}: ${(e as Error).message}`);
      }
    }
  }
}
