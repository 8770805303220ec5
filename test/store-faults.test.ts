// Faults of the state store itself, through Networks.open and network.attach (the store's
// own checks are in store.test.ts):
//   - a database that is truncated, has damaged pages, is not a database, is another
//     application's, or has a newer schema: open() fails with an error naming the file and
//     what is wrong, and nothing is touched: the file (byte for byte), the network
//     definition files, and the kernel (the endpoints' veths, the ruleset), so nothing is
//     silently dropped and Networks.rebuild still has everything to start from;
//   - a full disk (a tiny tmpfs as the state directory, filled to the last byte): the
//     attach fails cleanly whether the disk fills before its record or between its record
//     and the kernel objects: no veth, no namespace, no set element left, no endpoint
//     taken for live; once space returns the next attach works and gc() leaves no stale row.
// The state is read back with readState (node:sqlite, read-only), the kernel with ip -j
// and nft, never only through the library's answers.
import { cpSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, statfsSync, statSync, truncateSync, writeFileSync, writeSync, closeSync } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Netns, Networks, StateCorruptError, StateFullError, StateSchemaError, type EndpointInfo } from '../src';
import { ipj, run, Scope, tryRun, uniq } from './helpers';
import { nftJson, ruleset } from './nft-helpers';
import { readState } from './state-helpers';

const scope = new Scope();
const dirs: string[] = [];
const mounts: string[] = [];
afterAll(async () => {
  await scope.cleanup();
  // Lazily: a controller of a failed test may still hold the database open.
  for (const m of mounts) tryRun('umount', ['-l', m]);
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

// eslint-disable-next-line @typescript-eslint/no-require-imports
const sqlite = () => require('node:sqlite') as typeof import('node:sqlite');

const DB = 'netplumb.db';

function tmpDir(prefix: string): string {
  const d = mkdtempSync(`/run/${prefix}-`);
  dirs.push(d);
  return d;
}

/** Every file of a directory tree with its bytes: a byte-for-byte snapshot. */
function snapshot(dir: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  const walk = (d: string): void => {
    for (const name of readdirSync(d)) {
      const p = path.join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else out.set(path.relative(dir, p), readFileSync(p));
    }
  };
  walk(dir);
  return out;
}

function sameFiles(a: Map<string, Buffer>, b: Map<string, Buffer>): string[] {
  const diff: string[] = [];
  for (const k of new Set([...a.keys(), ...b.keys()])) {
    if (!a.has(k)) diff.push(`${k}: appeared`);
    else if (!b.has(k)) diff.push(`${k}: disappeared`);
    else if (!a.get(k)!.equals(b.get(k)!)) diff.push(`${k}: changed (${a.get(k)!.length} -> ${b.get(k)!.length} bytes)`);
  }
  return diff;
}

interface IpLink { ifname: string; ifindex: number; master?: string; group?: string }

/** The host namespace's links and ruleset: what a failed open must leave as it was. */
function kernel(H: Netns): { links: string[]; ruleset: string } {
  return {
    links: ipj<IpLink[]>(H.name!, 'link', 'show').map((l) => `${l.ifname} ${l.master ?? '-'}`).sort(),
    ruleset: ruleset(H.name!),
  };
}

async function openError(stateDir: string, host: Netns): Promise<unknown> {
  return Networks.open({ stateDir, host }).then(
    async (n) => {
      const got = { networks: n.list().length };
      await n.close();
      return new Error(`Networks.open succeeded (${got.networks} networks)`);
    },
    (e: unknown) => e,
  );
}

describe('a damaged state database', () => {
  let H: Netns;
  let good: string;
  let eps: EndpointInfo[] = [];

  // One populated state directory (a network, 40 endpoints, 10 of them publishing a
  // port), copied for each case: a failed open changes nothing, so the kernel objects
  // behind it stay valid for every copy.
  beforeAll(async () => {
    H = await scope.ns('sfh');
    good = tmpDir('np-sf-good');
    const nets = await Networks.open({ stateDir: good, host: H });
    const net = await nets.create({ name: 'sf', subnet: '10.71.0.0/24', labels: { keep: 'me' } });
    const tag = uniq('sfc');
    for (let i = 0; i < 40; i++) {
      const ep = await net.attach({ create: `${tag}n${i}` }, { name: `c${i}`, ...(i % 4 === 0 && { publish: [{ hostPort: 20000 + i, containerPort: 80 }] }) });
      scope.names.push(`${tag}n${i}`);
      ep.netns!.close();
      eps.push(ep);
    }
    await nets.close();
    // A cleanly closed database: no -wal or -shm beside it.
    expect(readdirSync(good).sort()).toEqual([DB, 'networks']);
    expect(statSync(path.join(good, DB)).size).toBeGreaterThan(10 * 4096);
  });

  const copy = (): string => {
    const d = tmpDir('np-sf');
    cpSync(good, d, { recursive: true });
    return d;
  };

  const pageSize = 4096;
  const cases: { what: string; damage: (file: string) => void; type: typeof StateCorruptError | typeof StateSchemaError; says: RegExp }[] = [
    {
      what: 'truncated to half',
      damage: (f) => truncateSync(f, Math.floor(statSync(f).size / pageSize / 2) * pageSize),
      type: StateCorruptError,
      says: /malformed|corrupt/,
    },
    {
      what: 'truncated mid-page',
      // Cut mid-page halfway through the file, where table pages are: the file's last page
      // may be a free one, whose loss quick_check rightly does not call damage.
      damage: (f) => truncateSync(f, Math.floor(statSync(f).size / 2) - 1000),
      type: StateCorruptError,
      says: /malformed|corrupt|page|NULL/i,
    },
    {
      what: 'pages overwritten',
      damage: (f) => {
        const fd = openSync(f, 'r+');
        const junk = Buffer.alloc(3 * pageSize, 0xa5);
        writeSync(fd, junk, 0, junk.length, 2 * pageSize);
        closeSync(fd);
      },
      type: StateCorruptError,
      says: /malformed|corrupt/,
    },
    {
      what: 'not a database',
      damage: (f) => writeFileSync(f, 'this is not an SQLite database\n'.repeat(400)),
      type: StateCorruptError,
      says: /not a database/,
    },
    {
      what: 'another application\'s database',
      damage: (f) => {
        rmSync(f);
        const db = new (sqlite().DatabaseSync)(f);
        db.exec('PRAGMA application_id = 1234; CREATE TABLE t(x); INSERT INTO t VALUES (1)');
        db.close();
      },
      type: StateCorruptError,
      says: /not a netplumb state database \(application_id 1234\)/,
    },
    {
      what: 'a newer schema',
      damage: (f) => {
        const db = new (sqlite().DatabaseSync)(f);
        db.exec('PRAGMA user_version = 99');
        db.close();
      },
      type: StateSchemaError,
      says: /schema 99.*newer/,
    },
  ];

  it('truncated, damaged, not a database, another application\'s, newer: open() fails naming the file and the fault; file, definitions and kernel untouched', async () => {
    const k0 = kernel(H);
    expect(k0.links.filter((l) => l.startsWith('np')).length).toBe(40);
    for (const c of cases) {
      const d = copy();
      const file = path.join(d, DB);
      c.damage(file);
      const before = snapshot(d);
      const err = await openError(d, H);
      expect(err, c.what).toBeInstanceOf(c.type);
      expect((err as StateCorruptError).path, c.what).toBe(file);
      expect((err as Error).message, c.what).toContain(file);
      expect((err as Error).message, c.what).toMatch(c.says);
      // Nothing changed: every byte of the state directory (no -wal or -shm left
      // either), the endpoints' veths, the published ports.
      expect(sameFiles(before, snapshot(d)), c.what).toEqual([]);
      expect(kernel(H), c.what).toEqual(k0);
    }
    // The undamaged state still opens with every endpoint: nothing was dropped anywhere.
    const nets = await Networks.open({ stateDir: good, host: H });
    try {
      expect(nets.inspect('sf').endpoints.map((e) => e.id).sort()).toEqual(eps.map((e) => e.id).sort());
    } finally {
      await nets.close();
    }
    expect(readState(good).endpoints.filter((e) => e.phase === 'ready').length).toBe(40);
  });

  // A database file cut to nothing (by a failing disk, a careless `> netplumb.db`, a
  // restore gone wrong) while the directory holds network definitions is a lost database,
  // not a new one: opening it as new would forget every network and endpoint, and the
  // reconcile would then delete the definition files Networks.rebuild starts from.
  it('an empty database file in a state directory that has networks is corrupt, not a new state', async () => {
    const d = copy();
    const file = path.join(d, DB);
    truncateSync(file, 0);
    const before = snapshot(d);
    const k0 = kernel(H);
    const err = await openError(d, H);
    // Whatever the outcome, the durable definitions must survive it.
    expect(sameFiles(before, snapshot(d)).filter((x) => x.startsWith('networks/'))).toEqual([]);
    expect(err).toBeInstanceOf(StateCorruptError);
    expect((err as Error).message).toContain(file);
    expect(sameFiles(before, snapshot(d))).toEqual([]);
    expect(kernel(H)).toEqual(k0);
  });

  // Someone else's SQLite database that never set an application id (most don't): open()
  // must not write netplumb's schema into it.
  it('another application\'s database without an application id is refused, not taken over', async () => {
    const d = tmpDir('np-sf-foreign');
    const file = path.join(d, DB);
    const db = new (sqlite().DatabaseSync)(file);
    db.exec("CREATE TABLE contacts(name TEXT, phone TEXT); INSERT INTO contacts VALUES ('ada', '555')");
    db.close();
    const before = snapshot(d);
    const err = await openError(d, H);
    expect(err).toBeInstanceOf(StateCorruptError);
    expect((err as Error).message).toContain(file);
    expect((err as Error).message).toMatch(/not a netplumb state database/);
    expect(sameFiles(before, snapshot(d))).toEqual([]);
  });

  // The boundary of the case above: a crash right after the file was created and before
  // the schema's first commit leaves an empty file and nothing else; that is a new state.
  it('an empty database file with no network definitions (a crash before the first commit) opens as a new state', async () => {
    const d = tmpDir('np-sf-new');
    writeFileSync(path.join(d, DB), '');
    const H2 = await scope.ns('sfn');
    const nets = await Networks.open({ stateDir: d, host: H2 });
    try {
      const net = await nets.create({ name: 'fresh', subnet: '10.74.0.0/24' });
      const ep = await net.attach(await scope.ns('sfq'));
      expect(readState(d).endpoints.map((e) => [e.id, e.phase])).toEqual([[ep.id, 'ready']]);
    } finally {
      await nets.close();
    }
  });
});

// --- a full disk -------------------------------------------------------------------------

/** Fills a file system to its last byte with one file; returns the file. */
function fill(dir: string): string {
  const file = path.join(dir, 'filler');
  const fd = openSync(file, 'a');
  try {
    for (const size of [1 << 20, 64 << 10, 4096, 512, 1]) {
      const chunk = Buffer.alloc(size, 0x66);
      for (;;) {
        try {
          if (writeSync(fd, chunk) < size) break;
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== 'ENOSPC') throw e;
          break;
        }
      }
    }
  } finally {
    closeSync(fd);
  }
  expect(statfsSync(dir).bavail).toBe(0);
  return file;
}

/** Checkpoints the WAL into the database and truncates it to nothing (from a connection of its own). */
function checkpointTruncate(dir: string): void {
  const db = new (sqlite().DatabaseSync)(path.join(dir, DB));
  try {
    const r = db.prepare('PRAGMA wal_checkpoint(TRUNCATE)').get() as { busy: number };
    expect(r.busy).toBe(0);
  } finally {
    db.close();
  }
  expect(statSync(path.join(dir, `${DB}-wal`)).size).toBe(0);
}

describe('a full disk', () => {
  it('an attach fails cleanly when the disk fills before its record or before its ready mark (a detach too); the next attach after space returns works; gc leaves no stale row', async () => {
    const H = await scope.ns('sff');
    const dir = tmpDir('np-sf-full');
    // 8 MiB: room for the WAL's normal high-water mark (about 4 MiB: SQLite checkpoints at
    // 1000 pages) beside the database, so that only the filler makes the disk full.
    run('mount', ['-t', 'tmpfs', '-o', 'size=8m,mode=0700', 'np-full', dir]);
    mounts.push(dir);
    const warnings: string[] = [];
    const onWarning = (w: Error): void => void warnings.push(w.message);
    process.on('warning', onWarning);
    const nets = await Networks.open({ stateDir: dir, host: H });
    try {
      const net = await nets.create({ name: 'full', subnet: '10.72.0.0/24' });
      const bridge = net.info.bridge;
      const live: EndpointInfo[] = [];
      const tag = uniq('sfd');
      let n = 0;
      const attach = (port: number): Promise<EndpointInfo> => {
        const name = `${tag}n${n++}`;
        scope.names.push(name);
        return net.attach({ create: name }, { publish: [{ hostPort: port, containerPort: 80 }] }).then((ep) => {
          ep.netns!.close();
          return ep;
        });
      };
      for (const port of [21000, 21001]) live.push(await attach(port));

      /** The world holds exactly the live endpoints: veths, namespaces, elements, rows. */
      const consistent = async (what: string, failedName?: string): Promise<void> => {
        const veths = ipj<IpLink[]>(H.name!, 'link', 'show', 'master', bridge).map((l) => l.ifname).sort();
        expect(veths, what).toEqual(live.map((e) => e.hostIfname).sort());
        const dnat = nftJson(H.name!, 'map', 'inet', 'netplumb', 'dnat4_any')[0] as { map: { elem?: [{ concat: [string, number] }, { concat: [string, number] }][] } };
        expect((dnat.map.elem ?? []).map(([k, v]) => `${k.concat[1]} ${v.concat[0]}`).sort(), what).toEqual(
          live.map((e) => `${(e.publish[0]!.hostPort as number)} ${e.ip}`).sort(),
        );
        if (failedName) expect(await Netns.list(), what).not.toContain(failedName);
        const rows = readState(dir);
        const ready = rows.endpoints.filter((e) => e.phase === 'ready');
        expect(ready.map((e) => e.id).sort(), what).toEqual(live.map((e) => e.id).sort());
      };
      await consistent('before the disk is full');

      // 1. The disk full before the record: the WAL checkpointed and cut to nothing, so
      //    the attach's first transaction needs space it cannot have.
      checkpointTruncate(dir);
      let filler = fill(dir);
      const name1 = `${tag}n${n}`;
      const e1 = await attach(21002).then(() => undefined, (e: unknown) => e);
      expect(e1).toBeInstanceOf(StateFullError);
      expect((e1 as StateFullError).code).toBe('ENOSPC');
      expect((e1 as Error).message).toContain(path.join(dir, DB));
      await consistent('disk full before the record', name1);
      // Nothing of it in the database at all: the record itself was never committed.
      const rows1 = readState(dir);
      expect(rows1.endpoints.length).toBe(live.length);
      expect(rows1.leases.length).toBe(live.length);
      expect(rows1.ports.map((p) => p.key).sort()).toEqual(live.map((e) => `tcp/*/${e.publish[0]!.hostPort as number}`).sort());
      // A detach on the full disk cannot record that it starts: it fails, and the endpoint
      // stays whole (veth on the bridge, element, ready row) rather than half gone.
      const d1 = await net.detach(live[0]!.id).then(() => undefined, (e: unknown) => e);
      expect(d1).toBeInstanceOf(StateFullError);
      await consistent('detach on a full disk');
      expect(ipj<{ operstate: string }[]>(H.name!, 'link', 'show', live[0]!.hostIfname)[0]!.operstate).not.toBe('DOWN');

      // Space back: the next attach works and is complete.
      rmSync(filler);
      live.push(await attach(21003));
      await consistent('space back after the first failure');

      // 2. The disk full between the record and the ready mark: the attach's record is
      //    committed before its promise is returned (recorded before any kernel object),
      //    the disk is filled right then, and the ready mark cannot be written.
      checkpointTruncate(dir);
      const name2 = `${tag}n${n}`;
      const pending = attach(21004);
      const recorded = readState(dir).endpoints.filter((e) => e.phase === 'attaching');
      expect(recorded.map((e) => e.doc.publish), 'the record is committed before the kernel is touched').toEqual([[{ hostPort: 21004, containerPort: 80, protocol: 'tcp' }]]);
      filler = fill(dir);
      const e2 = await pending.then(() => undefined, (e: unknown) => e);
      expect(e2).toBeInstanceOf(StateFullError);
      // The kernel side undone: no veth, no namespace, no element; no endpoint taken for live.
      await consistent('disk full before the ready mark', name2);
      // Its row could not be deleted either (that is a write too): it stays 'attaching',
      // held by this live controller, which no other process takes for an endpoint, and
      // which said so.
      const stale = readState(dir).endpoints.filter((e) => e.phase !== 'ready');
      expect(stale.map((e) => [e.id, e.phase])).toEqual(recorded.map((e) => [e.id, 'attaching']));
      expect(warnings.some((w) => w.includes(recorded[0]!.id))).toBe(true);
      expect(nets.inspect('full').endpoints.map((e) => e.id).sort()).toEqual(live.map((e) => e.id).sort());

      // Space back: the next attach works, even on the port the failed one had asked for.
      rmSync(filler);
      const after = await attach(21005);
      live.push(after);
      await consistent('space back after the second failure');
      // gc() undoes the failed attach's row: no stale row, lease or port is left.
      const gc = await nets.gc();
      expect(gc.records).toBe(stale.length);
      const rows = readState(dir);
      expect(rows.endpoints.map((e) => [e.id, e.phase]).sort()).toEqual(live.map((e) => [e.id, 'ready']).sort());
      expect(rows.leases.map((l) => `${l.address} ${l.owner}`).sort()).toEqual(live.map((e) => `${e.ip} ${e.id}`).sort());
      expect(rows.ports.map((p) => `${p.key} ${p.endpoint}`).sort()).toEqual(live.map((e) => `tcp/*/${e.publish[0]!.hostPort as number} ${e.id}`).sort());
      live.push(await attach(21004));
      await consistent('the failed attach\'s port published again');

      // The end: every endpoint detached, nothing left.
      for (const e of live.splice(0)) await net.detach(e.id);
      await nets.reap();
      await consistent('all detached');
      const end = readState(dir);
      expect([end.endpoints, end.leases, end.ports]).toEqual([[], [], []]);
    } finally {
      process.off('warning', onWarning);
      await nets.close();
    }
  });
});
