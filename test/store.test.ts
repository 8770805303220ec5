// The state store: SQLite shared by several processes. Checked from outside with
// node:sqlite itself (the files, the rows, the pragmas) and with real child processes
// writing to the same database at once.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { NetworkStore, SCHEMA, StateCorruptError, StateSchemaError, type StoreTx } from '../src/network/store';
import type { EndpointInfo, NetworkInfo } from '../src/network/types';

const base = mkdtempSync('/run/np-store-');
afterAll(() => rmSync(base, { recursive: true, force: true }));
let dir: string;
let n = 0;
beforeEach(() => {
  dir = path.join(base, `s${++n}`);
});

// eslint-disable-next-line @typescript-eslint/no-require-imports
const sqlite = () => require('node:sqlite') as typeof import('node:sqlite');

const NET: NetworkInfo = {
  id: 'a'.repeat(64), name: 'n', driver: 'bridge', bridge: 'br-n', subnet: '10.50.0.0/16', gateway: '10.50.0.1', mtu: 1500,
  masquerade: true, icc: true, internal: false, isDefault: false, labels: {}, created: '2026-12-07T00:00:00.000Z',
};

function endpoint(i: number, ip: string): EndpointInfo {
  const id = i.toString(16).padStart(64, '0');
  return { id, network: NET.id, aliases: [], ifname: 'eth0', hostIfname: `np${id.slice(-10)}`, ip, mac: '02:42:0a:32:00:02', publish: [], netnsId: `4:${1000 + i}`, defaultRoute: true };
}

/** One attach's writes: a lease and a ready endpoint. */
function attach(tx: StoreTx, i: number): EndpointInfo {
  const id = i.toString(16).padStart(64, '0');
  const ip = tx.allocate(NET.id, id);
  const ep = endpoint(i, ip);
  tx.putEndpoint(ep, 'ready');
  return ep;
}

describe('state store: the database', () => {
  it('a new state directory: the database (0600 in a 0700 directory) with netplumb\'s application id and schema', () => {
    const st = NetworkStore.open(dir);
    st.write((tx) => tx.putNetwork(NET), { durable: true });
    st.close();
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(statSync(path.join(dir, 'netplumb.db')).mode & 0o777).toBe(0o600);
    const db = new (sqlite().DatabaseSync)(path.join(dir, 'netplumb.db'), { readOnly: true });
    try {
      expect(db.prepare('PRAGMA application_id').get()).toEqual({ application_id: 0x6e706c62 });
      expect(db.prepare('PRAGMA user_version').get()).toEqual({ user_version: SCHEMA });
      expect(db.prepare('PRAGMA journal_mode').get()).toEqual({ journal_mode: 'wal' });
      const tables = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as { name: string }[]).map((r) => r.name);
      expect(tables).toEqual(['changes', 'endpoints', 'leases', 'meta', 'networks', 'ports', 'records']);
      expect(db.prepare('SELECT id, name FROM networks').all()).toEqual([{ id: NET.id, name: 'n' }]);
    } finally {
      db.close();
    }
  });

  it('another connection\'s commits are followed through the change log, one row at a time, never by rereading', () => {
    const a = NetworkStore.open(dir);
    const b = NetworkStore.open(dir);
    a.write((tx) => tx.putNetwork(NET));
    for (let i = 0; i < 500; i++) a.write((tx) => attach(tx, i));
    expect(b.sync()).toBe(true);
    expect(b.endpoints.size).toBe(500);
    const before = b.stats;
    // Nothing new: one PRAGMA, nothing read.
    expect(b.sync()).toBe(false);
    expect(b.stats).toEqual(before);
    // One attach elsewhere: exactly its rows (lease + endpoint) are read.
    const ep = a.write((tx) => attach(tx, 500));
    expect(b.sync()).toBe(true);
    expect(b.stats.changesApplied - before.changesApplied).toBe(2);
    expect(b.stats.reloads).toBe(before.reloads);
    expect(b.endpoints.get(ep.id)?.info.ip).toBe(ep.ip);
    expect(b.pool(NET.id)!.ownerOf(ep.ip)).toBe(ep.id);
    // A detach elsewhere: the lease and the row go.
    a.write((tx) => {
      tx.release(NET.id, ep.ip);
      tx.deleteEndpoint(ep.id);
    });
    b.sync();
    expect(b.endpoints.has(ep.id)).toBe(false);
    expect(b.pool(NET.id)!.ownerOf(ep.ip)).toBeUndefined();
    a.close();
    b.close();
  });

  it('a store that fell behind the trimmed change log rereads everything once, and agrees', () => {
    const a = NetworkStore.open(dir);
    const b = NetworkStore.open(dir);
    a.write((tx) => tx.putNetwork(NET));
    b.sync();
    const reloads = b.stats.reloads;
    // Past the log's window (4,096 kept, trimmed every 1,024): b has to reread.
    for (let i = 0; i < 6000; i++) {
      const ep = a.write((tx) => attach(tx, i));
      if (i % 2 === 1) a.write((tx) => (tx.release(NET.id, ep.ip), tx.deleteEndpoint(ep.id)));
    }
    const rows = new (sqlite().DatabaseSync)(path.join(dir, 'netplumb.db'), { readOnly: true });
    const kept = (rows.prepare('SELECT count(*) AS n FROM changes').get() as { n: number }).n;
    rows.close();
    expect(kept).toBeLessThanOrEqual(4096 + 1024);
    b.sync();
    expect(b.stats.reloads).toBe(reloads + 1);
    expect([...b.endpoints.keys()].sort()).toEqual([...a.endpoints.keys()].sort());
    expect(b.pool(NET.id)!.allocations()).toEqual(a.pool(NET.id)!.allocations());
    a.close();
    b.close();
  });

  it('a transaction that throws changes nothing, in the database or in memory', () => {
    const st = NetworkStore.open(dir);
    st.write((tx) => tx.putNetwork(NET));
    const kept = st.write((tx) => attach(tx, 1));
    expect(() =>
      st.write((tx) => {
        attach(tx, 2);
        tx.release(NET.id, kept.ip);
        tx.deleteEndpoint(kept.id);
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect([...st.endpoints.keys()]).toEqual([kept.id]);
    expect(st.pool(NET.id)!.allocations()).toEqual([[kept.ip, kept.id]]);
    const other = NetworkStore.open(dir);
    expect([...other.endpoints.keys()]).toEqual([kept.id]);
    expect(other.pool(NET.id)!.allocations()).toEqual([[kept.ip, kept.id]]);
    // A transaction function that awaits is refused (and rolled back).
    expect(() => st.write((() => Promise.resolve(attach as unknown)) as never)).toThrow(/synchronous/);
    other.close();
    st.close();
  });

  it('one attach writes the same number of pages with 100 and with 10,000 endpoints (only what changed)', () => {
    const st = NetworkStore.open(dir);
    st.write((tx) => tx.putNetwork(NET));
    const wal = path.join(dir, 'netplumb.db-wal');
    const raw = new (sqlite().DatabaseSync)(path.join(dir, 'netplumb.db'));
    raw.exec('PRAGMA wal_autocheckpoint = 0');
    // WAL bytes of 50 attaches, after an empty WAL: each commit appends the pages it changed.
    const pagesPerAttach = (from: number): number => {
      raw.exec('PRAGMA wal_checkpoint(TRUNCATE)');
      const size0 = existsSync(wal) ? statSync(wal).size : 0;
      for (let i = from; i < from + 50; i++) st.write((tx) => attach(tx, i));
      return (statSync(wal).size - size0) / 50 / (4096 + 24);
    };
    let i = 0;
    for (; i < 100; i++) st.write((tx) => attach(tx, i));
    const small = pagesPerAttach(i);
    i += 50;
    for (; i < 10_000; i++) st.write((tx) => attach(tx, i));
    raw.exec('PRAGMA wal_checkpoint(TRUNCATE)');
    const large = pagesPerAttach(i);
    raw.close();
    st.close();
    console.log(`pages written per attach: ${small.toFixed(2)} with 100 endpoints, ${large.toFixed(2)} with 10,000`);
    expect(large).toBeLessThanOrEqual(small * 1.25);
    expect(small).toBeLessThan(8);
  }, 60_000);

  it('corrupt, truncated, foreign or newer: a clear error naming the file, and the file untouched', () => {
    const make = (): string => {
      const d = path.join(base, `c${++n}`);
      const st = NetworkStore.open(d);
      st.write((tx) => tx.putNetwork(NET));
      for (let i = 0; i < 300; i++) st.write((tx) => attach(tx, i));
      st.close();
      return d;
    };
    const file = (d: string) => path.join(d, 'netplumb.db');
    const cases: [string, (d: string) => void, RegExp, typeof StateCorruptError | typeof StateSchemaError][] = [
      ['truncated', (d) => writeFileSync(file(d), readFileSync(file(d)).subarray(0, 3 * 4096)), /corrupt|malformed/, StateCorruptError],
      ['damaged pages', (d) => {
        const b = readFileSync(file(d));
        for (let off = 2 * 4096; off < b.length; off += 4096) b.fill(0xa5, off + 8, off + 64);
        writeFileSync(file(d), b);
      }, /corrupt|malformed|out of range|page/i, StateCorruptError],
      ['not a database', (d) => writeFileSync(file(d), 'hello, this is not SQLite\n'.repeat(300)), /not a database|corrupt/, StateCorruptError],
      ['another application', (d) => {
        rmSync(d, { recursive: true });
        const db = new (sqlite().DatabaseSync)((require('node:fs').mkdirSync(d), file(d)));
        db.exec('PRAGMA application_id = 42; CREATE TABLE t(x)');
        db.close();
      }, /not a netplumb state database/, StateCorruptError],
      ['newer schema', (d) => {
        const db = new (sqlite().DatabaseSync)(file(d));
        db.exec('PRAGMA user_version = 99');
        db.close();
      }, /schema 99/, StateSchemaError],
    ];
    for (const [what, damage, message, type] of cases) {
      const d = make();
      damage(d);
      const bytes = readFileSync(file(d));
      let err: unknown;
      try {
        NetworkStore.open(d).close();
      } catch (e) {
        err = e;
      }
      expect(err, what).toBeInstanceOf(type);
      expect((err as Error).message, what).toContain(file(d));
      expect((err as Error).message, what).toMatch(message);
      expect(readFileSync(file(d)).equals(bytes), `${what}: file unchanged`).toBe(true);
    }
  });
});

describe('state store: processes', () => {
  it('two processes allocating from one pool at once never hand out the same address', async () => {
    const st = NetworkStore.open(dir);
    st.write((tx) => tx.putNetwork(NET), { durable: true });
    st.close();
    const child = `
      const { NetworkStore } = require(${JSON.stringify(path.resolve(__dirname, '../dist/network/store.js'))});
      const [dir, who, count] = process.argv.slice(1);
      const st = NetworkStore.open(dir);
      const out = [];
      for (let i = 0; i < Number(count); i++) {
        const id = who + String(i).padStart(63, '0');
        out.push(st.write((tx) => {
          const ip = tx.allocate(${JSON.stringify(NET.id)}, id);
          tx.putEndpoint({ id, network: ${JSON.stringify(NET.id)}, aliases: [], ifname: 'eth0', hostIfname: '', ip, mac: '02:42:00:00:00:00', publish: [], netnsId: who + i, defaultRoute: false }, 'ready');
          return ip;
        }));
      }
      process.stdout.write(JSON.stringify(out));
      st.close();`;
    const allocateIn = (who: string) =>
      new Promise<string[]>((resolve, reject) => {
        const c = spawn(process.execPath, ['-e', child, dir, who, '400'], { stdio: ['ignore', 'pipe', 'pipe'] });
        let out = '';
        let err = '';
        c.stdout.on('data', (d: Buffer) => (out += d.toString()));
        c.stderr.on('data', (d: Buffer) => (err += d.toString()));
        c.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out) as string[]) : reject(new Error(err))));
      });
    const [a, b] = await Promise.all([allocateIn('a'), allocateIn('b')]);
    expect(a).toHaveLength(400);
    expect(b).toHaveLength(400);
    expect(new Set([...a, ...b]).size).toBe(800);
    const after = NetworkStore.open(dir);
    expect(after.endpoints.size).toBe(800);
    expect(after.pool(NET.id)!.allocated).toBe(800);
    // The lowest free addresses, with no gap: allocation saw every commit of the other process.
    expect(after.pool(NET.id)!.allocations().map(([ip]) => ip).sort()).toEqual([...a, ...b].sort());
    after.close();
  }, 60_000);
});
