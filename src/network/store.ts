// The network state of a state directory, in an embedded SQLite database (node:sqlite,
// WAL journal) that several processes share: a controller, a CNI plugin call, a daemon,
// the CLI. Why SQLite and how a crash is survived: docs/store.md.
//
//   <stateDir>/netplumb.db(-wal,-shm)  the database (schema below; PRAGMA user_version)
//   <stateDir>/networks/<id>.json      each network's definition, written atomically and
//                                      fsynced when it is created: the durable copy a
//                                      rebuild starts from (Networks.rebuild)
//
// Every change is one short write transaction (BEGIN IMMEDIATE ... COMMIT: one writer at
// a time across processes, for microseconds) that writes only the rows it changes and
// one row of the change log naming them. Each process keeps the state in memory and
// follows the others through the change log: before it reads it asks SQLite whether
// another connection committed (PRAGMA data_version), and if so rereads just the rows
// named since the last change it saw. Nothing is ever rewritten whole.
//
// Endpoint rows are written before the kernel objects they describe (phase 'attaching',
// with the token of the process doing it) and marked 'ready' after: a process killed in
// between leaves a row that says what to undo, never a kernel object nobody claims.
// Their commits are not fsynced (synchronous=NORMAL): they describe kernel objects that
// a reboot destroys anyway, and a crash of the process loses nothing committed. Network
// definitions, which users expect back after a reboot, are committed with a sync.
import { closeSync, constants as C, existsSync, mkdirSync, openSync, readdirSync, unlinkSync, watch, type FSWatcher } from 'node:fs';
import * as path from 'node:path';
import type { DatabaseSync, StatementSync } from 'node:sqlite';
import { writeFileDurable } from '../files';
import { AddressPool } from './ipam';
import type { EndpointInfo, NetworkInfo } from './types';

/** The database file under a state directory. */
export const DB_FILE = 'netplumb.db';
/** Schema version (PRAGMA user_version); 0.1.0's JSON file was schema 1. */
export const SCHEMA = 2;
// PRAGMA application_id: marks the file as netplumb's ('nplb').
const APP_ID = 0x6e706c62;
// Change-log rows kept behind the newest; a process further behind rereads everything.
const LOG_KEEP = 4096;
const LOG_TRIM_EVERY = 1024;

/** The state database (or a file in the state directory) cannot be trusted: corrupt, truncated, or not netplumb's. */
export class StateCorruptError extends Error {
  readonly code = 'ESTATECORRUPT';
  readonly path: string;
  /** What SQLite's integrity check (or the reader) found, first problems first. */
  readonly problems: string[];

  constructor(file: string, problems: string[]) {
    super(
      `state ${file} is corrupt: ${problems.slice(0, 3).join('; ')}${problems.length > 3 ? ` (+${problems.length - 3} more)` : ''}. ` +
        'Nothing was changed. To rebuild the state from the network definitions and the kernel, see Networks.rebuild (docs/store.md).',
    );
    this.name = 'StateCorruptError';
    this.path = file;
    this.problems = problems;
  }
}

/** The state was written by a newer netplumb (a schema this code does not read). */
export class StateSchemaError extends Error {
  readonly code = 'ESTATESCHEMA';

  constructor(readonly path: string, readonly found: number, readonly expected: number) {
    super(`state ${path} has schema ${found}; this netplumb reads schema ${expected}${found > expected ? ' (written by a newer version)' : ''}`);
    this.name = 'StateSchemaError';
  }
}

/** The state stayed locked by another process for longer than the busy timeout. */
export class StateBusyError extends Error {
  readonly code = 'ESTATEBUSY';

  constructor(readonly path: string, timeoutMs: number) {
    super(`state ${path} stayed locked by another process for ${timeoutMs} ms`);
    this.name = 'StateBusyError';
  }
}

/** No space left for the state (SQLITE_FULL, ENOSPC): the change was not made. */
export class StateFullError extends Error {
  readonly code = 'ENOSPC';

  constructor(readonly path: string, detail: string) {
    super(`no space left for state ${path}: ${detail}; the change was not made`);
    this.name = 'StateFullError';
  }
}

// --- node:sqlite ---------------------------------------------------------------

type Sqlite = typeof import('node:sqlite');
let sqlite: Sqlite | undefined;

function loadSqlite(): Sqlite {
  if (sqlite) return sqlite;
  // Loading node:sqlite prints an ExperimentalWarning once per process (Node 22, 24).
  // netplumb uses only its long-standing core (DatabaseSync, prepare, exec; see
  // docs/store.md) and keeps that line out of its users' output; every other warning
  // passes through untouched.
  const emit = process.emitWarning;
  process.emitWarning = function (this: unknown, warning: string | Error, ...rest: unknown[]): void {
    const text = typeof warning === 'string' ? warning : warning?.message;
    if (typeof text === 'string' && text.startsWith('SQLite is an experimental feature')) return;
    (emit as (...a: unknown[]) => void).call(process, warning, ...rest);
  } as typeof process.emitWarning;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    sqlite = require('node:sqlite') as Sqlite;
  } catch (e) {
    throw new Error(`netplumb's state store needs node:sqlite (Node.js 22.13 or newer; this is ${process.version}): ${(e as Error).message}`);
  } finally {
    process.emitWarning = emit;
  }
  return sqlite;
}

/** SQLite's primary result codes (the low byte of errcode) that netplumb tells apart. */
const SQLITE = { BUSY: 5, IOERR: 10, CORRUPT: 11, FULL: 13, CONSTRAINT: 19, NOTADB: 26 } as const;

interface SqliteError extends Error {
  errcode?: number;
  errstr?: string;
}

/** True for SQLite's constraint failures (a UNIQUE key taken). */
export function isConstraint(e: unknown): boolean {
  return ((e as SqliteError)?.errcode ?? 0) % 256 === SQLITE.CONSTRAINT;
}

// --- the schema -------------------------------------------------------------------
//
// networks   one row per network: its NetworkInfo as JSON
// endpoints  one row per endpoint: its EndpointInfo as JSON, its namespace identity,
//            phase ('attaching' | 'ready') and, while attaching, the holder's token
// leases     one row per address held in a pool ('<network id>' or '<network id>/6'):
//            the primary key makes handing out an address twice impossible, whatever
//            the code above does
// ports      one row per published host port ('tcp/0.0.0.0/8080'): held by one endpoint
// records    rows a driver keeps per network (the overlay's peers and remote endpoints)
// changes    the change log: one row per transaction, naming the rows it changed; seq
//            counts up by one per transaction (the newest row is never trimmed, so
//            SQLite's rowid never reuses a number), and a gap means rows were trimmed
// meta       settings (none yet)
const DDL = `
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS networks(id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, doc TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS endpoints(id TEXT PRIMARY KEY, network TEXT NOT NULL, netns TEXT NOT NULL,
  phase TEXT NOT NULL, holder TEXT, doc TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS leases(pool TEXT NOT NULL, address TEXT NOT NULL, owner TEXT NOT NULL,
  PRIMARY KEY(pool, address)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS ports(key TEXT PRIMARY KEY, endpoint TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS records(network TEXT NOT NULL, kind TEXT NOT NULL, key TEXT NOT NULL, doc TEXT NOT NULL,
  PRIMARY KEY(network, kind, key)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS changes(seq INTEGER PRIMARY KEY, items TEXT NOT NULL);
`;

/** Phase of an endpoint row. */
export type EndpointPhase = 'attaching' | 'ready' | 'detaching';

/** An endpoint as the store holds it. */
export interface StoredEndpoint {
  info: EndpointInfo;
  phase: EndpointPhase;
  /** Token of the process attaching it (phase 'attaching'). */
  holder?: string;
}

/** A table of the store. */
export type StoreTable = 'networks' | 'endpoints' | 'leases' | 'ports' | 'records';
/** A row a transaction changed: its table and key. */
export type StoreRowChange = [StoreTable, string];
type Table = StoreTable;

/** Pool ids of a network: its IPv4 (or only) pool, and its IPv6 pool. */
export function poolIds(networkId: string): { v4: string; v6: string } {
  return { v4: networkId, v6: `${networkId}/6` };
}

// A network's pools: IPv4 unless it is IPv6-only (subnet ''), IPv6 when it has a subnet.
function poolsOf(net: NetworkInfo): [string, AddressPool][] {
  const ids = poolIds(net.id);
  const out: [string, AddressPool][] = [];
  if (net.subnet !== '') {
    out.push([ids.v4, new AddressPool(net.subnet, { gateway: net.gateway, ...(net.ipRange !== undefined && { range: net.ipRange }) })]);
  }
  if (net.ipv6Subnet) {
    out.push([ids.v6, new AddressPool(net.ipv6Subnet, {
      ...(net.ipv6Gateway !== undefined && { gateway: net.ipv6Gateway }),
      ...(net.ipv6Range !== undefined && { range: net.ipv6Range }),
    })]);
  }
  return out;
}

const SEP = '\n';

/** Options of NetworkStore.open. */
export interface NetworkStoreOptions {
  /** How long a write waits for another process's transaction (default 10 s). */
  busyTimeoutMs?: number;
  /** Run SQLite's quick integrity check on open (default true; O(size of the database)). */
  check?: boolean;
  /** @internal A rebuild starts an empty database beside the network files on purpose. */
  rebuilding?: boolean;
  /**
   * Open for reading only (a follower such as the DNS resolver): the database must exist
   * and be netplumb's; nothing is created or written, and `write()` throws.
   */
  readOnly?: boolean;
}

/**
 * What a change to the in-memory state concerned: a network or an endpoint (by id; gone
 * from the maps when it was deleted), or everything (`reload`: the state was reread).
 */
export type StoreChange = { kind: 'network' | 'endpoint'; id: string } | { kind: 'reload' };

/**
 * The state of one state directory, in memory, following the database. Reads answer
 * from memory after a cheap check for other processes' commits; writes are synchronous
 * transactions (`write(tx => ...)`) that must not await.
 */
export class NetworkStore {
  readonly dir: string;
  readonly file: string;
  /** True when this open made the database (nothing was there before). */
  readonly created: boolean;

  readonly networks = new Map<string, NetworkInfo>();
  readonly endpoints = new Map<string, StoredEndpoint>();
  readonly pools = new Map<string, AddressPool>();
  /** Port key -> endpoint id. */
  readonly ports = new Map<string, string>();
  readonly #byNetwork = new Map<string, Set<string>>();
  readonly #byNetns = new Map<string, Set<string>>();
  // Endpoints that keep an all-members hosts file (hostsFileScope 'members'), by network:
  // a change to a network rewrites only these, and a network with none costs nothing.
  readonly #withHosts = new Map<string, Set<string>>();
  readonly #records = new Map<string, Map<string, unknown>>();

  readonly #db: DatabaseSync;
  readonly #busyMs: number;
  #s: Record<string, StatementSync> = {};
  #lastSeq = 0;
  #dataVersion = -1;
  #reloads = 0;
  #applied = 0;
  #inTx = false;
  #loading = false;
  #closed = false;
  readonly #allowLost: boolean;
  readonly #readOnly: boolean;
  readonly #listeners = new Set<(c: StoreChange) => void>();

  private constructor(dir: string, db: DatabaseSync, created: boolean, busyMs: number, allowLost: boolean, readOnly: boolean) {
    this.dir = dir;
    this.#readOnly = readOnly;
    this.file = path.join(dir, DB_FILE);
    this.#db = db;
    this.created = created;
    this.#busyMs = busyMs;
    this.#allowLost = allowLost;
  }

  // The statements, prepared once the schema exists.
  #prepare(): void {
    const db = this.#db;
    // Each statement is compiled on first use, then kept as a plain property: a
    // short-lived process (the CNI plugin) uses a third of them, and compiling them all
    // cost it ~1 ms of its start.
    const s: Record<string, StatementSync> = {};
    const sqls: Record<string, string> = {
      begin: 'BEGIN IMMEDIATE',
      beginRead: 'BEGIN DEFERRED',
      commit: 'COMMIT',
      rollback: 'ROLLBACK',
      dataVersion: 'PRAGMA data_version',
      changesAfter: 'SELECT seq, items FROM changes WHERE seq > ? ORDER BY seq',
      addChange: 'INSERT INTO changes(items) VALUES (?)',
      trim: 'DELETE FROM changes WHERE seq <= ?',
      lastSeq: 'SELECT max(seq) AS seq FROM changes',
      getMeta: 'SELECT value FROM meta WHERE key = ?',
      putMeta: 'INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)',
      getNetwork: 'SELECT doc FROM networks WHERE id = ?',
      putNetwork: 'INSERT OR REPLACE INTO networks(id, name, doc) VALUES (?, ?, ?)',
      delNetwork: 'DELETE FROM networks WHERE id = ?',
      allNetworks: 'SELECT doc FROM networks',
      getEndpoint: 'SELECT phase, holder, doc FROM endpoints WHERE id = ?',
      putEndpoint: 'INSERT OR REPLACE INTO endpoints(id, network, netns, phase, holder, doc) VALUES (?, ?, ?, ?, ?, ?)',
      delEndpoint: 'DELETE FROM endpoints WHERE id = ?',
      allEndpoints: 'SELECT phase, holder, doc FROM endpoints',
      getLease: 'SELECT owner FROM leases WHERE pool = ? AND address = ?',
      addLease: 'INSERT INTO leases(pool, address, owner) VALUES (?, ?, ?)',
      delLease: 'DELETE FROM leases WHERE pool = ? AND address = ?',
      allLeases: 'SELECT pool, address, owner FROM leases',
      getPort: 'SELECT endpoint FROM ports WHERE key = ?',
      addPort: 'INSERT INTO ports(key, endpoint) VALUES (?, ?)',
      delPort: 'DELETE FROM ports WHERE key = ?',
      allPorts: 'SELECT key, endpoint FROM ports',
      getRecord: 'SELECT doc FROM records WHERE network = ? AND kind = ? AND key = ?',
      putRecord: 'INSERT OR REPLACE INTO records(network, kind, key, doc) VALUES (?, ?, ?, ?)',
      delRecord: 'DELETE FROM records WHERE network = ? AND kind = ? AND key = ?',
      delRecords: 'DELETE FROM records WHERE network = ?',
      allRecords: 'SELECT network, kind, key, doc FROM records',
    };
    for (const [name, sql] of Object.entries(sqls)) {
      Object.defineProperty(s, name, {
        configurable: true,
        enumerable: true,
        get(): StatementSync {
          const st = db.prepare(sql);
          Object.defineProperty(s, name, { value: st, enumerable: true });
          return st;
        },
      });
    }
    this.#s = s;
  }

  /**
   * Opens (creating, mode 0700/0600) the state of a directory. A database that is not
   * netplumb's, truncated or damaged is a StateCorruptError naming what is wrong; a newer
   * schema, StateSchemaError. Nothing is changed in either case.
   */
  static open(dirIn: string, options: NetworkStoreOptions = {}): NetworkStore {
    if (typeof dirIn !== 'string' || dirIn.length === 0 || dirIn.includes('\0')) throw new TypeError('state directory must be a non-empty path');
    const busyMs = options.busyTimeoutMs ?? 10_000;
    if (!Number.isInteger(busyMs) || busyMs < 0) throw new RangeError('busyTimeoutMs must be a non-negative integer');
    const dir = path.resolve(dirIn);
    const readOnly = options.readOnly ?? false;
    const file = path.join(dir, DB_FILE);
    if (readOnly && !existsSync(file)) {
      throw Object.assign(new Error(`no netplumb state in ${dir} (${DB_FILE} is missing)`), { code: 'ENOENT', path: file });
    }
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const created = !existsSync(file);
    // Made here first so that the database (and the -wal and -shm files SQLite gives the
    // same mode) is readable by its owner only.
    if (created) closeSync(openSync(file, C.O_RDWR | C.O_CREAT, 0o600));
    const { DatabaseSync } = loadSqlite();
    let db: DatabaseSync;
    try {
      db = new DatabaseSync(file, { timeout: busyMs, ...(readOnly && { readOnly: true }) });
    } catch (e) {
      throw storeError(e, file, busyMs);
    }
    try {
      const store = new NetworkStore(dir, db, created, busyMs, options.rebuilding ?? false, readOnly);
      store.#init(options.check ?? true);
      return store;
    } catch (e) {
      db.close();
      throw storeError(e, file, busyMs);
    }
  }

  #init(check: boolean): void {
    const db = this.#db;
    const get = (sql: string) => db.prepare(sql).get() as Record<string, number | string>;
    const app = Number(get('PRAGMA application_id').application_id);
    const version = Number(get('PRAGMA user_version').user_version);
    if (app !== APP_ID && !(app === 0 && version === 0)) {
      throw new StateCorruptError(this.file, [`not a netplumb state database (application_id ${app})`]);
    }
    if (version > SCHEMA) throw new StateSchemaError(this.file, version, SCHEMA);
    if (version === 0 && this.#readOnly) throw new StateCorruptError(this.file, ['the database is empty (no netplumb state was ever written to it)']);
    if (version === 0) {
      // A new database is empty. Tables without netplumb's mark are someone else's file;
      // an empty file beside network definitions is a database that was lost (truncated,
      // or replaced): opening it as new would forget every endpoint.
      const objects = (db.prepare("SELECT name FROM sqlite_schema WHERE name NOT LIKE 'sqlite_%'").all() as { name: string }[]).map((r) => r.name);
      if (objects.length > 0) throw new StateCorruptError(this.file, [`not a netplumb state database (it holds ${objects.slice(0, 5).join(', ')})`]);
      if (!this.#allowLost && networkFileIds(this.dir).length > 0) {
        throw new StateCorruptError(this.file, [`the database is empty but ${networkFilesDir(this.dir)} holds network definitions: the database was lost or truncated`]);
      }
    }
    if (check && version !== 0) {
      const rows = db.prepare('PRAGMA quick_check').all() as { quick_check: string }[];
      const problems = rows.map((r) => r.quick_check).filter((t) => t !== 'ok');
      if (problems.length > 0) throw new StateCorruptError(this.file, problems.flatMap((t) => t.split('\n')).filter((t) => t.length > 0));
    }
    if (!this.#readOnly) {
      db.exec('PRAGMA journal_mode = WAL');
      db.exec('PRAGMA synchronous = NORMAL');
    }
    if (version === 0) {
      db.exec('BEGIN IMMEDIATE');
      try {
        db.exec(DDL);
        db.exec(`PRAGMA application_id = ${APP_ID}`);
        db.exec(`PRAGMA user_version = ${SCHEMA}`);
        db.exec('COMMIT');
      } catch (e) {
        db.exec('ROLLBACK');
        throw e;
      }
    }
    this.#prepare();
    this.#reload();
  }

  /** Closes the database; the in-memory state stays readable. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#db.close();
  }

  get closed(): boolean {
    return this.#closed;
  }

  /**
   * How this store followed the database: full rereads (open, or fallen behind the
   * trimmed change log) and rows applied from the change log.
   */
  get stats(): { reloads: number; changesApplied: number; lastSeq: number } {
    return { reloads: this.#reloads, changesApplied: this.#applied, lastSeq: this.#lastSeq };
  }

  /**
   * Calls `listener` for every change to the in-memory state, whoever made it: this
   * store's own transactions (also when one is rolled back: the listener then sees the
   * row as it was), and other processes' commits applied by sync() or a write. A full
   * reread is one `reload`. Listeners run synchronously, inside the change: they must be
   * quick and must not throw or write. Returns the function that removes the listener.
   */
  onChange(listener: (change: StoreChange) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #emit(change: StoreChange): void {
    for (const l of this.#listeners) l(change);
  }

  // --- reading --------------------------------------------------------------------

  /**
   * Follows other processes' commits without being asked: sync() every `pollMs` (one
   * PRAGMA when nothing changed) and at once when the kernel says the journal changed (a
   * watch on the WAL file; the poll is the backstop, alone where there is no journal yet
   * or no inotify). A failed read goes to `warn`. Returns the function that stops it.
   * What the resolver and the LoopbackProxy run to see other controllers' changes.
   */
  follow(pollMs: number, warn: (message: string) => void): () => void {
    const tick = (): void => {
      if (this.closed) return;
      try {
        this.sync();
      } catch (e) {
        warn(`could not read the state: ${(e as Error).message}`);
      }
    };
    const poll = setInterval(tick, pollMs);
    poll.unref();
    let watcher: FSWatcher | undefined;
    try {
      watcher = watch(path.join(this.dir, `${DB_FILE}-wal`), { persistent: false }, tick);
      watcher.on('error', () => {
        watcher?.close();
        watcher = undefined;
      });
    } catch {
      // No journal file yet (or no inotify): the poll alone.
    }
    return () => {
      clearInterval(poll);
      watcher?.close();
    };
  }

  /**
   * Brings the in-memory state up to date with other processes' commits: one PRAGMA when
   * nothing changed, the changed rows otherwise. Returns whether anything changed.
   */
  sync(): boolean {
    this.#open();
    if (this.#inTx) return false;
    try {
      const v = Number((this.#s.dataVersion!.get() as { data_version: number }).data_version);
      if (v === this.#dataVersion) return false;
      this.#dataVersion = v;
      this.#s.beginRead!.run();
      try {
        return this.#catchUp();
      } finally {
        this.#s.commit!.run();
      }
    } catch (e) {
      throw storeError(e, this.file, this.#busyMs);
    }
  }

  /** The endpoints of a network. */
  endpointsOf(networkId: string): StoredEndpoint[] {
    return [...(this.#byNetwork.get(networkId) ?? [])].map((id) => this.endpoints.get(id)!);
  }

  /** The endpoints of a network that keep an all-members hosts file (hostsFileScope 'members'). */
  hostsFileEndpoints(networkId: string): StoredEndpoint[] {
    return [...(this.#withHosts.get(networkId) ?? [])].map((id) => this.endpoints.get(id)!);
  }

  /** Whether any endpoint keeps an all-members hosts file. */
  hasMembersFiles(): boolean {
    return this.#withHosts.size > 0;
  }

  /** The endpoints of a namespace (by identity). */
  endpointsIn(netnsId: string): StoredEndpoint[] {
    return [...(this.#byNetns.get(netnsId) ?? [])].map((id) => this.endpoints.get(id)!);
  }

  /** A driver's records of one kind on a network: key -> value. */
  records<T = unknown>(networkId: string, kind: string): ReadonlyMap<string, T> {
    return (this.#records.get(`${networkId}${SEP}${kind}`) ?? new Map()) as ReadonlyMap<string, T>;
  }

  /** The kinds of records a network has. */
  recordKinds(networkId: string): string[] {
    const prefix = `${networkId}${SEP}`;
    return [...this.#records.keys()].filter((k) => k.startsWith(prefix)).map((k) => k.slice(prefix.length));
  }

  /** The pool of a network (its IPv4 pool; `v6` for the IPv6 one). */
  pool(networkId: string, v6 = false): AddressPool | undefined {
    const ids = poolIds(networkId);
    return this.pools.get(v6 ? ids.v6 : ids.v4);
  }

  // --- writing --------------------------------------------------------------------

  /**
   * Runs `fn` in a write transaction: one writer at a time across every process, for as
   * long as `fn` runs (it must not await). Other processes' changes are applied first, so
   * `fn` decides on the current state; what it changes is written, logged and committed
   * together, or (if it throws) not at all, in the database and in memory alike.
   * `durable` commits with a sync of the journal (network definitions).
   */
  write<R>(fn: (tx: StoreTx) => R, opts: { durable?: boolean } = {}): R {
    this.#open();
    if (this.#readOnly) throw new Error(`NetworkStore.write: ${this.file} was opened read-only`);
    if (this.#inTx) throw new Error('NetworkStore.write: already in a transaction (nested writes are not supported)');
    const s = this.#s;
    if (opts.durable) this.#db.exec('PRAGMA synchronous = FULL');
    this.#inTx = true;
    const tx = new StoreTx(this, s);
    try {
      s.begin!.run();
      try {
        // Another connection committed since we last looked: apply its changes first.
        const v = Number((s.dataVersion!.get() as { data_version: number }).data_version);
        if (v !== this.#dataVersion) {
          this.#catchUp();
          this.#dataVersion = v;
        }
        const r = fn(tx);
        if (r instanceof Promise) throw new TypeError('NetworkStore.write: the transaction function must be synchronous');
        if (tx.changes.length > 0) {
          const seq = Number(s.addChange!.run(JSON.stringify(tx.changes)).lastInsertRowid);
          if (seq % LOG_TRIM_EVERY === 0 && seq > LOG_KEEP) s.trim!.run(seq - LOG_KEEP);
          s.commit!.run();
          this.#lastSeq = seq;
        } else {
          s.commit!.run();
        }
        return r;
      } catch (e) {
        try {
          s.rollback!.run();
        } catch {
          // Nothing to roll back: SQLite already did (SQLITE_FULL, IOERR).
        }
        tx.undo();
        throw e;
      }
    } catch (e) {
      throw storeError(e, this.file, this.#busyMs);
    } finally {
      this.#inTx = false;
      if (opts.durable) this.#db.exec('PRAGMA synchronous = NORMAL');
    }
  }

  /** @internal Makes the in-memory state match one row (called by transactions and the change log). */
  _apply(table: StoreTable, key: string): void {
    const s = this.#s;
    switch (table) {
      case 'networks': {
        const row = s.getNetwork!.get(key) as { doc: string } | undefined;
        this._setNetwork(key, row ? (JSON.parse(row.doc) as NetworkInfo) : undefined);
        break;
      }
      case 'endpoints': {
        const row = s.getEndpoint!.get(key) as { phase: EndpointPhase; holder: string | null; doc: string } | undefined;
        this._setEndpoint(key, row ? toStored(row) : undefined);
        break;
      }
      case 'leases': {
        const [pool, address] = key.split(SEP) as [string, string];
        const row = s.getLease!.get(pool, address) as { owner: string } | undefined;
        this._setLease(pool, address, row?.owner);
        break;
      }
      case 'ports': {
        const row = s.getPort!.get(key) as { endpoint: string } | undefined;
        if (row) this.ports.set(key, row.endpoint);
        else this.ports.delete(key);
        break;
      }
      case 'records': {
        const [network, kind, k] = key.split(SEP) as [string, string, string];
        const row = s.getRecord!.get(network, kind, k) as { doc: string } | undefined;
        this._setRecord(network, kind, k, row ? JSON.parse(row.doc) : undefined);
        break;
      }
    }
  }

  /** @internal */
  _setNetwork(id: string, info: NetworkInfo | undefined): void {
    this.#setNetwork(id, info);
    if (this.#listeners.size > 0 && !this.#loading) this.#emit({ kind: 'network', id });
  }

  #setNetwork(id: string, info: NetworkInfo | undefined): void {
    const had = this.networks.get(id);
    if (info) {
      this.networks.set(id, info);
      // A new network, or one whose address plan changed, gets fresh pools; its leases follow.
      const plan = (n: NetworkInfo) => [n.subnet, n.ipRange, n.gateway, n.ipv6Subnet, n.ipv6Gateway, n.ipv6Range].join(SEP);
      if (!had || plan(had) !== plan(info)) {
        const ids = poolIds(id);
        const old = [this.pools.get(ids.v4), this.pools.get(ids.v6)];
        for (const [pid, pool] of poolsOf(info)) {
          const prev = old[pid === ids.v4 ? 0 : 1];
          for (const [a, o] of prev?.allocations() ?? []) pool.claim(a, o);
          this.pools.set(pid, pool);
        }
        if (info.subnet === '') this.pools.delete(ids.v4);
        if (!info.ipv6Subnet) this.pools.delete(ids.v6);
      }
    } else if (had) {
      this.networks.delete(id);
      const ids = poolIds(id);
      this.pools.delete(ids.v4);
      this.pools.delete(ids.v6);
      for (const k of [...this.#records.keys()]) if (k.startsWith(`${id}${SEP}`)) this.#records.delete(k);
    }
  }

  /** @internal */
  _setEndpoint(id: string, stored: StoredEndpoint | undefined): void {
    this.#setEndpoint(id, stored);
    if (this.#listeners.size > 0 && !this.#loading) this.#emit({ kind: 'endpoint', id });
  }

  #setEndpoint(id: string, stored: StoredEndpoint | undefined): void {
    const had = this.endpoints.get(id);
    if (had) {
      unindex(this.#byNetwork, had.info.network, id);
      unindex(this.#byNetns, had.info.netnsId, id);
      unindex(this.#withHosts, had.info.network, id);
    }
    if (!stored) {
      this.endpoints.delete(id);
      return;
    }
    this.endpoints.set(id, stored);
    index(this.#byNetwork, stored.info.network, id);
    index(this.#byNetns, stored.info.netnsId, id);
    if (stored.info.hostsFile !== undefined && stored.info.hostsFileScope === 'members') index(this.#withHosts, stored.info.network, id);
  }

  /** @internal */
  _setLease(poolId: string, address: string, owner: string | undefined): void {
    const pool = this.pools.get(poolId);
    if (!pool) return;
    const now = pool.ownerOf(address);
    if (now === owner) return;
    if (now !== undefined) pool.release(address);
    if (owner !== undefined) pool.claim(address, owner);
  }

  /** @internal */
  _setRecord(network: string, kind: string, key: string, doc: unknown): void {
    const k = `${network}${SEP}${kind}`;
    let m = this.#records.get(k);
    if (doc === undefined) {
      m?.delete(key);
      return;
    }
    if (!m) this.#records.set(k, (m = new Map()));
    m.delete(key); // re-inserted last: a map's order is the order of the latest write
    m.set(key, doc);
  }

  // Applies the changes other processes logged since the last one seen (inside a transaction).
  #catchUp(): boolean {
    const s = this.#s;
    const rows = s.changesAfter!.all(this.#lastSeq) as { seq: number; items: string }[];
    if (rows.length > 0 && Number(rows[0]!.seq) !== this.#lastSeq + 1) {
      // The rows right after the last one seen were trimmed: reread everything.
      this.#load();
      return true;
    }
    for (const row of rows) {
      const items = JSON.parse(row.items) as StoreRowChange[];
      for (const [table, key] of items) this._apply(table, key);
      this.#applied += items.length;
      this.#lastSeq = Number(row.seq);
    }
    return rows.length > 0;
  }

  // Rereads everything (open, or after falling behind the trimmed change log), in one read transaction.
  #reload(): void {
    this.#s.beginRead!.run();
    try {
      this.#dataVersion = Number((this.#s.dataVersion!.get() as { data_version: number }).data_version);
      this.#load();
    } finally {
      this.#s.commit!.run();
    }
  }

  #load(): void {
    this.#loading = true;
    try {
      this.#loadAll();
    } finally {
      this.#loading = false;
    }
    if (this.#listeners.size > 0) this.#emit({ kind: 'reload' });
  }

  #loadAll(): void {
    const s = this.#s;
    this.#reloads++;
    this.networks.clear();
    this.endpoints.clear();
    this.pools.clear();
    this.ports.clear();
    this.#byNetwork.clear();
    this.#byNetns.clear();
    this.#withHosts.clear();
    this.#records.clear();
    for (const row of s.allNetworks!.all() as { doc: string }[]) {
      const info = parseDoc<NetworkInfo>(row.doc, this.file, 'network');
      this._setNetwork(info.id, info);
    }
    for (const row of s.allLeases!.all() as { pool: string; address: string; owner: string }[]) {
      this._setLease(row.pool, row.address, row.owner);
    }
    for (const row of s.allEndpoints!.all() as { phase: EndpointPhase; holder: string | null; doc: string }[]) {
      const st = toStored(row, this.file);
      this._setEndpoint(st.info.id, st);
    }
    for (const row of s.allPorts!.all() as { key: string; endpoint: string }[]) this.ports.set(row.key, row.endpoint);
    for (const row of s.allRecords!.all() as { network: string; kind: string; key: string; doc: string }[]) {
      this._setRecord(row.network, row.kind, row.key, parseDoc(row.doc, this.file, 'record'));
    }
    this.#lastSeq = Number((s.lastSeq!.get() as { seq: number } | undefined)?.seq ?? 0);
  }

  #open(): void {
    if (this.#closed) throw new Error('the network store is closed');
  }
}

function index(m: Map<string, Set<string>>, key: string, id: string): void {
  let set = m.get(key);
  if (!set) m.set(key, (set = new Set()));
  set.add(id);
}

function unindex(m: Map<string, Set<string>>, key: string, id: string): void {
  const set = m.get(key);
  if (!set) return;
  set.delete(id);
  if (set.size === 0) m.delete(key);
}

function parseDoc<T>(doc: string, file: string, what: string): T {
  try {
    return JSON.parse(doc) as T;
  } catch (e) {
    throw new StateCorruptError(file, [`a ${what} row is not valid JSON: ${(e as Error).message}`]);
  }
}

function toStored(row: { phase: EndpointPhase; holder: string | null; doc: string }, file = ''): StoredEndpoint {
  const out: StoredEndpoint = { info: parseDoc<EndpointInfo>(row.doc, file, 'endpoint'), phase: row.phase };
  if (row.holder !== null) out.holder = row.holder;
  return out;
}

// SQLite's errors as the store's: corruption, a full disk, a lock held too long.
function storeError(e: unknown, file: string, busyMs: number): unknown {
  if (e instanceof StateCorruptError || e instanceof StateSchemaError || e instanceof StateFullError || e instanceof StateBusyError) return e;
  const err = e as SqliteError;
  const code = (err?.errcode ?? -1) % 256;
  const text = err?.errstr ?? err?.message ?? String(e);
  if (code === SQLITE.CORRUPT || code === SQLITE.NOTADB) return new StateCorruptError(file, [text]);
  if (code === SQLITE.FULL || (code === SQLITE.IOERR && /ENOSPC|disk|full/i.test(err.message ?? ''))) return new StateFullError(file, text);
  if (code === SQLITE.BUSY) return new StateBusyError(file, busyMs);
  if ((err as NodeJS.ErrnoException)?.code === 'ENOSPC') return new StateFullError(file, text);
  return e;
}

/**
 * The changes of one write transaction. Each method writes its row at once (so a taken
 * key fails right there) and changes the in-memory state with it; if the transaction
 * fails, both are undone.
 */
export class StoreTx {
  /** The rows this transaction changed, in order: the change-log entry. */
  readonly changes: StoreRowChange[] = [];
  readonly #store: NetworkStore;
  #s: Record<string, StatementSync> = {};
  readonly #undo: (() => void)[] = [];

  /** @internal */
  constructor(store: NetworkStore, s: Record<string, StatementSync>) {
    this.#store = store;
    this.#s = s;
  }

  /** The store this transaction writes to (its in-memory state is current). */
  get store(): NetworkStore {
    return this.#store;
  }

  /** @internal Undoes the in-memory changes (the database rolled back). */
  undo(): void {
    for (let i = this.#undo.length - 1; i >= 0; i--) this.#undo[i]!();
  }

  putNetwork(info: NetworkInfo): void {
    const st = this.#store;
    const before = st.networks.get(info.id);
    this.#s.putNetwork!.run(info.id, info.name, JSON.stringify(info));
    st._setNetwork(info.id, info);
    this.#undo.push(() => st._setNetwork(info.id, before));
    this.changes.push(['networks', info.id]);
  }

  /** Deletes a network with its driver records (its endpoints, leases and ports must be gone). */
  deleteNetwork(id: string): void {
    const st = this.#store;
    const before = st.networks.get(id);
    if (!before) return;
    const kinds = new Map<string, [string, unknown][]>();
    for (const kind of st.recordKinds(id)) kinds.set(kind, [...st.records(id, kind)]);
    this.#s.delRecords!.run(id);
    this.#s.delNetwork!.run(id);
    for (const [kind, rows] of kinds) for (const [k] of rows) st._setRecord(id, kind, k, undefined);
    st._setNetwork(id, undefined);
    this.#undo.push(() => {
      st._setNetwork(id, before);
      for (const [kind, rows] of kinds) for (const [k, v] of rows) st._setRecord(id, kind, k, v);
    });
    this.changes.push(['networks', id]);
    for (const [kind, rows] of kinds) for (const [k] of rows) this.changes.push(['records', `${id}${SEP}${kind}${SEP}${k}`]);
  }

  putEndpoint(info: EndpointInfo, phase: EndpointPhase, holder?: string): void {
    const st = this.#store;
    const before = st.endpoints.get(info.id);
    this.#s.putEndpoint!.run(info.id, info.network, info.netnsId, phase, holder ?? null, JSON.stringify(info));
    const stored: StoredEndpoint = holder === undefined ? { info, phase } : { info, phase, holder };
    st._setEndpoint(info.id, stored);
    this.#undo.push(() => st._setEndpoint(info.id, before));
    this.changes.push(['endpoints', info.id]);
  }

  deleteEndpoint(id: string): void {
    const st = this.#store;
    const before = st.endpoints.get(id);
    if (!before) return;
    this.#s.delEndpoint!.run(id);
    st._setEndpoint(id, undefined);
    this.#undo.push(() => st._setEndpoint(id, before));
    this.changes.push(['endpoints', id]);
  }

  /**
   * Takes an address from a pool for `owner`: `preferred`, or the lowest free one.
   * AddressInUseError, AddressNotInPoolError or PoolExhaustedError when it cannot.
   */
  allocate(poolId: string, owner: string, preferred?: string): string {
    const pool = this.#pool(poolId);
    const address = pool.allocate(owner, preferred);
    this.#undo.push(() => pool.release(address, owner));
    this.#s.addLease!.run(poolId, address, owner);
    this.changes.push(['leases', `${poolId}${SEP}${address}`]);
    return address;
  }

  /** Records that `owner` holds `address` (AddressInUseError if another does); idempotent. */
  claim(poolId: string, address: string, owner: string): void {
    const pool = this.#pool(poolId);
    if (pool.ownerOf(address) === owner) return;
    pool.claim(address, owner);
    this.#undo.push(() => pool.release(address, owner));
    this.#s.addLease!.run(poolId, address, owner);
    this.changes.push(['leases', `${poolId}${SEP}${address}`]);
  }

  /** Frees an address (idempotent). */
  release(poolId: string, address: string): void {
    const pool = this.#store.pools.get(poolId);
    const owner = pool?.ownerOf(address);
    this.#s.delLease!.run(poolId, address);
    if (pool && owner !== undefined) {
      pool.release(address);
      this.#undo.push(() => pool.claim(address, owner));
    }
    this.changes.push(['leases', `${poolId}${SEP}${address}`]);
  }

  /** Claims a host port key for an endpoint; false if another endpoint holds it. */
  claimPort(key: string, endpoint: string): boolean {
    const st = this.#store;
    const holder = st.ports.get(key);
    if (holder !== undefined) return holder === endpoint;
    this.#s.addPort!.run(key, endpoint);
    st.ports.set(key, endpoint);
    this.#undo.push(() => st.ports.delete(key));
    this.changes.push(['ports', key]);
    return true;
  }

  releasePort(key: string): void {
    const st = this.#store;
    const holder = st.ports.get(key);
    this.#s.delPort!.run(key);
    st.ports.delete(key);
    if (holder !== undefined) this.#undo.push(() => st.ports.set(key, holder));
    this.changes.push(['ports', key]);
  }

  /** Writes a driver record (a value of plain JSON). */
  putRecord(network: string, kind: string, key: string, doc: unknown): void {
    const st = this.#store;
    const before = st.records(network, kind).get(key);
    this.#s.putRecord!.run(network, kind, key, JSON.stringify(doc));
    st._setRecord(network, kind, key, doc);
    this.#undo.push(() => st._setRecord(network, kind, key, before));
    this.changes.push(['records', `${network}${SEP}${kind}${SEP}${key}`]);
  }

  deleteRecord(network: string, kind: string, key: string): void {
    const st = this.#store;
    const before = st.records(network, kind).get(key);
    if (before === undefined) return;
    this.#s.delRecord!.run(network, kind, key);
    st._setRecord(network, kind, key, undefined);
    this.#undo.push(() => st._setRecord(network, kind, key, before));
    this.changes.push(['records', `${network}${SEP}${kind}${SEP}${key}`]);
  }

  #pool(poolId: string): AddressPool {
    const pool = this.#store.pools.get(poolId);
    if (!pool) throw new Error(`no address pool ${poolId}`);
    return pool;
  }
}

// --- the durable network files -----------------------------------------------------

/** Directory of the per-network definition files. */
export function networkFilesDir(dir: string): string {
  return path.join(dir, 'networks');
}

/** Writes a network's definition file atomically and durably (temp file, fsync, rename, fsync dir). */
export function writeNetworkFile(dir: string, info: NetworkInfo): void {
  const d = networkFilesDir(dir);
  mkdirSync(d, { recursive: true, mode: 0o700 });
  writeFileDurable(path.join(d, `${info.id}.json`), `${JSON.stringify(info, null, 2)}\n`);
}

/** Removes a network's definition file (idempotent). */
export function removeNetworkFile(dir: string, id: string): void {
  try {
    unlinkSync(path.join(networkFilesDir(dir), `${id}.json`));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
}

/** The network definition files of a state directory (ids). */
export function networkFileIds(dir: string): string[] {
  try {
    return readdirSync(networkFilesDir(dir))
      .filter((n) => /^[0-9a-f]{64}\.json$/.test(n))
      .map((n) => n.slice(0, -5));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
}
