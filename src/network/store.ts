// Persisted state under a state directory: one JSON file per key, written atomically
// (temp file in the same directory, fsync, rename, fsync the directory), and a
// cross-process lock so read-modify-write cycles of different processes never interleave.
//
// File names: '<key>.json' holds a value; '.<name>.tmp-<token>' is a file being written;
// '.lock' is the lock; '.lock.break-<token>' marks a lock being broken. A token is
// '<pidns>-<pid>-<starttime>-<nonce>': enough to tell, without reading the file, whether
// the process that made it is still alive (a recycled pid has another start time).

import { AsyncLocalStorage } from 'node:async_hooks';
import { createHash, randomBytes } from 'node:crypto';
import { constants as C, promises as fsp, readFileSync, readlinkSync } from 'node:fs';
import * as path from 'node:path';

const FORMAT = 'netplumb-state';
const LOCK = '.lock';
const KEY_RE = /^[A-Za-z0-9][A-Za-z0-9_.@-]{0,127}$/;
const TMP_RE = /^\.(.+)\.tmp-(\d+-\d+-\d+-[0-9a-f]+)$/;
const BREAK_PREFIX = `${LOCK}.break-`;

/** A state file that exists but cannot be trusted: not JSON, truncated, checksum or key mismatch. */
export class StateCorruptError extends Error {
  readonly code = 'ESTATECORRUPT';
  readonly path: string;

  constructor(file: string, why: string) {
    super(`state file ${file} is corrupt: ${why}`);
    this.name = 'StateCorruptError';
    this.path = file;
  }
}

/** A state file written with a schema version this code does not read. */
export class StateSchemaError extends Error {
  readonly code = 'ESTATESCHEMA';
  readonly path: string;
  readonly found: number;
  readonly expected: number;

  constructor(file: string, found: number, expected: number) {
    super(
      `state file ${file} has schema ${found}, this code reads schema ${expected}` +
        (found > expected ? ' (written by a newer version)' : ' (no migration given)'),
    );
    this.name = 'StateSchemaError';
    this.path = file;
    this.found = found;
    this.expected = expected;
  }
}

/** The state lock stayed held by a live process for longer than the timeout. */
export class LockTimeoutError extends Error {
  readonly code = 'ELOCKTIMEOUT';
  readonly path: string;
  /** Pid recorded by the holder, when the lock file could be read. */
  readonly holderPid?: number;

  constructor(file: string, timeoutMs: number, holderPid?: number) {
    super(`state lock ${file} still held${holderPid !== undefined ? ` by pid ${holderPid}` : ''} after ${timeoutMs} ms`);
    this.name = 'LockTimeoutError';
    this.path = file;
    if (holderPid !== undefined) this.holderPid = holderPid;
  }
}

/** Options of a state store. */
export interface StateStoreOptions {
  /** Schema version written into every file and required when loading (default 1). */
  schema?: number;
  /** Upgrades a value written with an older schema; without it such a file is a StateSchemaError. */
  migrate?: (key: string, fromSchema: number, data: unknown) => unknown;
  /** How long withLock waits for a live holder before LockTimeoutError (default 10 s). */
  lockTimeoutMs?: number;
}

/** The envelope around each value on disk. */
interface Envelope {
  format: typeof FORMAT;
  schema: number;
  key: string;
  /** sha256 of JSON.stringify(data): catches a file edited or damaged into other valid JSON. */
  sha256: string;
  data: unknown;
}

// --- process identity -------------------------------------------------------

/** Field 22 of /proc/<pid>/stat (start time in clock ticks since boot), or undefined if there is no such process. */
function startTime(pid: number | 'self'): string | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // comm (field 2) may hold spaces and parentheses: count fields after the last ')'.
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // rest[0] is field 3 (state); a zombie has exited and holds nothing.
  if (rest[0] === 'Z' || rest[0] === 'X') return undefined;
  return rest[19];
}

function pidNamespace(): string {
  try {
    return /\[(\d+)\]/.exec(readlinkSync('/proc/self/ns/pid'))?.[1] ?? '0';
  } catch {
    return '0';
  }
}

const SELF_PIDNS = pidNamespace();
const SELF_START = startTime('self') ?? '0';

function newToken(): string {
  return `${SELF_PIDNS}-${process.pid}-${SELF_START}-${randomBytes(6).toString('hex')}`;
}

/** Whether the process that made `token` may still be running (true when it cannot be told). */
function tokenAlive(token: string): boolean {
  const [ns, pidText, start] = token.split('-');
  if (ns !== SELF_PIDNS) return true; // another pid namespace: its pids mean nothing here
  const pid = Number(pidText);
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  if (pid === process.pid) return start === SELF_START;
  const now = startTime(pid);
  if (now === undefined) {
    // No /proc entry: dead, unless /proc is not mounted at all.
    if (SELF_START !== '0') return false;
    try {
      process.kill(pid, 0);
      return true;
    } catch (e) {
      return (e as NodeJS.ErrnoException).code === 'EPERM';
    }
  }
  return start === '0' || now === start;
}

function isCode(e: unknown, ...codes: string[]): boolean {
  return codes.includes((e as NodeJS.ErrnoException | undefined)?.code ?? '');
}

async function fsyncDir(dir: string): Promise<void> {
  const fh = await fsp.open(dir, C.O_RDONLY | C.O_DIRECTORY);
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function checksum(json: string): string {
  return createHash('sha256').update(json).digest('hex');
}

function checkKey(key: unknown): string {
  if (typeof key !== 'string' || !KEY_RE.test(key) || key.endsWith('.json')) {
    throw new TypeError(`state key must be 1-128 characters of [A-Za-z0-9_.@-] starting with a letter or digit, got ${JSON.stringify(key)}`);
  }
  return key;
}

// --- the store ----------------------------------------------------------------

/**
 * JSON values persisted under a directory, one file per key, with atomic replacement and
 * a cross-process lock. Values are plain JSON (what JSON.stringify keeps).
 */
export class StateStore {
  readonly dir: string;
  readonly schema: number;
  private readonly migrate: StateStoreOptions['migrate'];
  private readonly lockTimeoutMs: number;
  private readonly held = new AsyncLocalStorage<true>();
  // Callers of withLock in this process queue here before contending for the file lock.
  private queue: Promise<void> = Promise.resolve();

  private constructor(dir: string, options: StateStoreOptions) {
    this.dir = dir;
    this.schema = options.schema ?? 1;
    if (!Number.isInteger(this.schema) || this.schema < 1) throw new RangeError(`schema must be a positive integer, got ${this.schema}`);
    this.migrate = options.migrate;
    this.lockTimeoutMs = options.lockTimeoutMs ?? 10_000;
    if (!Number.isFinite(this.lockTimeoutMs) || this.lockTimeoutMs < 0) throw new RangeError('lockTimeoutMs must be a non-negative number');
  }

  /**
   * Opens (creating, mode 0700) a state directory and removes what dead processes left:
   * temp files of interrupted writes and markers of interrupted lock breaks.
   */
  static async open(dir: string, options: StateStoreOptions = {}): Promise<StateStore> {
    if (typeof dir !== 'string' || dir.length === 0 || dir.includes('\0')) throw new TypeError('state directory must be a non-empty path');
    if (typeof options !== 'object' || options === null) throw new TypeError('state store options must be an object');
    const store = new StateStore(path.resolve(dir), options);
    await fsp.mkdir(store.dir, { recursive: true, mode: 0o700 });
    await store.cleanup();
    return store;
  }

  /** The file holding a key's value. */
  pathOf(key: string): string {
    return path.join(this.dir, `${checkKey(key)}.json`);
  }

  /**
   * The value saved under `key`, or undefined if there is none. A file that is not a
   * complete state file of this key throws StateCorruptError; another schema, StateSchemaError.
   */
  async load<T>(key: string): Promise<T | undefined> {
    const file = this.pathOf(key);
    let text: string;
    try {
      text = await fsp.readFile(file, 'utf8');
    } catch (e) {
      if (isCode(e, 'ENOENT')) return undefined;
      throw e;
    }
    let env: Partial<Envelope>;
    try {
      env = JSON.parse(text) as Partial<Envelope>;
    } catch (e) {
      throw new StateCorruptError(file, `not valid JSON (${text.length} bytes${text.endsWith('\n') ? '' : ', no final newline: truncated?'}): ${(e as Error).message}`);
    }
    if (typeof env !== 'object' || env === null || env.format !== FORMAT) throw new StateCorruptError(file, `not a ${FORMAT} file`);
    if (!Number.isInteger(env.schema)) throw new StateCorruptError(file, 'schema version missing');
    if (env.key !== key) throw new StateCorruptError(file, `holds key ${JSON.stringify(env.key)}, not ${JSON.stringify(key)}`);
    if (!('data' in env) || typeof env.sha256 !== 'string' || checksum(JSON.stringify(env.data)) !== env.sha256) {
      throw new StateCorruptError(file, 'checksum mismatch (edited or damaged)');
    }
    const schema = env.schema as number;
    if (schema === this.schema) return env.data as T;
    if (schema < this.schema && this.migrate) return this.migrate(key, schema, env.data) as T;
    throw new StateSchemaError(file, schema, this.schema);
  }

  /**
   * Replaces the value of `key` atomically: readers see the old file or the new one, never
   * a mix, and after it resolves the new one survives a crash or power loss.
   */
  async save(key: string, value: unknown): Promise<void> {
    const file = this.pathOf(key);
    const json = JSON.stringify(value);
    if (json === undefined) throw new TypeError(`state value for ${key} is not JSON (got ${typeof value})`);
    // The envelope's fields, then the value's JSON spliced in as is (load re-serialises it to check the sum).
    const head: Omit<Envelope, 'data'> = { format: FORMAT, schema: this.schema, key, sha256: checksum(json) };
    await this.writeAtomic(file, `${JSON.stringify(head).slice(0, -1)},"data":${json}}\n`);
  }

  /** Removes a key's file (and makes that durable); false if there was none. */
  async remove(key: string): Promise<boolean> {
    try {
      await fsp.unlink(this.pathOf(key));
    } catch (e) {
      if (isCode(e, 'ENOENT')) return false;
      throw e;
    }
    await fsyncDir(this.dir);
    return true;
  }

  /** Keys that have a value, sorted; temp files and the lock are not keys. */
  async keys(): Promise<string[]> {
    const names = await fsp.readdir(this.dir);
    return names
      .filter((n) => n.endsWith('.json') && KEY_RE.test(n.slice(0, -5)))
      .map((n) => n.slice(0, -5))
      .sort();
  }

  /**
   * Runs `fn` holding the store's lock: one holder at a time across every process and
   * every caller in this process. A lock whose holder died (even by SIGKILL) is broken;
   * one held by a live process longer than the timeout is a LockTimeoutError. Nested
   * calls from inside `fn` run directly.
   */
  async withLock<R>(fn: () => R | Promise<R>): Promise<R> {
    if (typeof fn !== 'function') throw new TypeError('withLock needs a function');
    if (this.held.getStore()) return fn();
    const prev = this.queue;
    let done!: () => void;
    this.queue = new Promise<void>((r) => (done = r));
    try {
      await prev;
      const token = await this.acquire(path.join(this.dir, LOCK));
      try {
        return await this.held.run(true, fn);
      } finally {
        await this.release(path.join(this.dir, LOCK), token);
      }
    } finally {
      done();
    }
  }

  /** Loads a key, passes its value to `fn` and saves what `fn` returns, all under the lock. */
  async update<T>(key: string, fn: (current: T | undefined) => T | Promise<T>): Promise<T> {
    return this.withLock(async () => {
      const next = await fn(await this.load<T>(key));
      await this.save(key, next);
      return next;
    });
  }

  /** Removes temp files and lock-break markers whose writer is dead. Returns the names removed. */
  async cleanup(): Promise<string[]> {
    const removed: string[] = [];
    for (const name of await fsp.readdir(this.dir)) {
      const tmp = TMP_RE.exec(name);
      if (tmp && !tokenAlive(tmp[2]!)) {
        await fsp.unlink(path.join(this.dir, name)).catch(() => undefined);
        removed.push(name);
      } else if (name.startsWith(BREAK_PREFIX) && !name.includes('.tmp-')) {
        // A breaker that died mid-break: break its marker the same careful way.
        const marker = path.join(this.dir, name);
        const owner = await readToken(marker);
        if (owner !== undefined && !tokenAlive(owner)) {
          if (await breakStale(marker, owner)) removed.push(name);
        }
      }
    }
    return removed;
  }

  private async writeAtomic(file: string, text: string): Promise<void> {
    const tmp = path.join(path.dirname(file), `.${path.basename(file)}.tmp-${newToken()}`);
    const fh = await fsp.open(tmp, C.O_WRONLY | C.O_CREAT | C.O_EXCL, 0o600);
    try {
      try {
        await fh.writeFile(text);
        await fh.sync();
      } finally {
        await fh.close();
      }
      await fsp.rename(tmp, file);
    } catch (e) {
      await fsp.unlink(tmp).catch(() => undefined);
      throw e;
    }
    await fsyncDir(path.dirname(file));
  }

  private async acquire(lockPath: string): Promise<string> {
    const token = newToken();
    const deadline = Date.now() + this.lockTimeoutMs;
    let wait = 2;
    for (;;) {
      if (await createExclusive(lockPath, token)) return token;
      const holder = await readToken(lockPath);
      if (holder !== undefined && !tokenAlive(holder)) {
        await breakStale(lockPath, holder);
        continue;
      }
      if (Date.now() >= deadline) {
        throw new LockTimeoutError(lockPath, this.lockTimeoutMs, holder === undefined ? undefined : Number(holder.split('-')[1]));
      }
      await sleep(wait);
      wait = Math.min(wait * 2, 50);
    }
  }

  private async release(lockPath: string, token: string): Promise<void> {
    // Only the holder unlinks a live lock; check it is still ours (it cannot have been broken while we live).
    if ((await readToken(lockPath)) === token) await fsp.unlink(lockPath).catch(() => undefined);
  }
}

// --- the lock file protocol ---------------------------------------------------
//
// A lock file holds the token of its holder, written in full before the file appears
// (written to a temp file, then link(2)ed into place: as exclusive as O_EXCL, and never
// seen empty, even if its writer is killed half way).
//
// Breaking a dead holder's lock must not remove a lock someone else took meanwhile.
// The breaker first creates, exclusively, the marker '<lock>.break-<dead token>'; only
// the process holding that marker may unlink a lock holding that token, and tokens are
// never reused, so after checking that the lock still holds the dead token, the unlink
// removes exactly that lock. A breaker that dies holding the marker leaves a lock of a
// dead holder: the marker is then broken by the same protocol, one level down.

async function createExclusive(file: string, token: string): Promise<boolean> {
  const tmp = `${path.dirname(file)}/.${path.basename(file)}.tmp-${token}`;
  const body = `${JSON.stringify({ token, pid: process.pid, at: new Date().toISOString() })}\n`;
  await fsp.writeFile(tmp, body, { flag: C.O_WRONLY | C.O_CREAT | C.O_EXCL, mode: 0o600 });
  try {
    await fsp.link(tmp, file);
    return true;
  } catch (e) {
    if (isCode(e, 'EEXIST')) return false;
    throw e;
  } finally {
    await fsp.unlink(tmp).catch(() => undefined);
  }
}

async function readToken(file: string): Promise<string | undefined> {
  try {
    const parsed = JSON.parse(await fsp.readFile(file, 'utf8')) as { token?: unknown };
    return typeof parsed.token === 'string' ? parsed.token : undefined;
  } catch {
    return undefined;
  }
}

/** Unlinks `file` if it still holds `stale`; true if this call removed it. */
async function breakStale(file: string, stale: string, depth = 0): Promise<boolean> {
  if (depth > 4) return false; // several breakers died in a row: leave it for a later attempt
  const marker = `${file}.break-${stale}`;
  const mine = newToken();
  if (!(await createExclusive(marker, mine))) {
    const breaker = await readToken(marker);
    if (breaker !== undefined && !tokenAlive(breaker)) await breakStale(marker, breaker, depth + 1);
    return false; // someone else is breaking it (or was): try again from the top
  }
  try {
    if ((await readToken(file)) !== stale) return false;
    await fsp.unlink(file);
    return true;
  } finally {
    await fsp.unlink(marker).catch(() => undefined);
  }
}
