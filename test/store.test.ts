// StateStore: atomic writes checked from outside (strace sees the fsync/rename/fsync order;
// a process killed between temp write and rename leaves the old value), corruption
// detection, and the cross-process lock exercised by real child processes.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { LockTimeoutError, StateCorruptError, StateSchemaError, StateStore } from '../src/network';

const base = mkdtempSync('/run/np-store-');
afterAll(() => rmSync(base, { recursive: true, force: true }));
let dir: string;
let n = 0;
beforeEach(() => {
  dir = path.join(base, `s${++n}`);
});

const DIST = path.resolve(__dirname, '../dist/network/store.js');
const CHILD = path.join(base, 'child.cjs');
// One script for every child: the mode says what it does with the store.
writeFileSync(
  CHILD,
  `const fs = require('node:fs');
  const { StateStore } = require(${JSON.stringify(DIST)});
  const [mode, dir, arg] = process.argv.slice(2);
  (async () => {
    const store = await StateStore.open(dir, { lockTimeoutMs: 30000 });
    if (mode === 'count') {
      process.stdout.write('ready\\n');
      await new Promise((r) => process.stdin.once('data', r));
      const log = dir + '/log';
      for (let i = 0; i < Number(arg); i++) {
        await store.withLock(async () => {
          fs.appendFileSync(log, '+' + process.pid + '\\n');
          const c = (await store.load('counter')) ?? 0;
          await new Promise((r) => setTimeout(r, i % 3));
          await store.save('counter', c + 1);
          fs.appendFileSync(log, '-' + process.pid + '\\n');
        });
      }
      process.stdin.destroy();
    } else if (mode === 'hold') {
      await store.withLock(() => {
        process.stdout.write('locked\\n');
        setInterval(() => {}, 1000);
        return new Promise(() => {});
      });
    } else if (mode === 'crash-before-rename') {
      fs.promises.rename = async () => {
        process.kill(process.pid, 'SIGKILL');
        await new Promise(() => {});
      };
      await store.save('k', { v: arg });
    } else if (mode === 'save') {
      process.stderr.write('SAVE-START\\n');
      await store.save('k', { v: arg });
      process.stderr.write('SAVE-END\\n');
    }
  })().catch((e) => { console.error(e); process.exit(1); });`,
);

function child(...args: string[]): ChildProcess {
  return spawn(process.execPath, [CHILD, ...args], { stdio: ['pipe', 'pipe', 'inherit'] });
}

function line(p: ChildProcess, want: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let buf = '';
    p.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      if (buf.split('\n').includes(want)) resolve();
    });
    p.once('exit', (code, sig) => reject(new Error(`child exited (${code ?? sig}) before saying ${want}`)));
  });
}

function exited(p: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (p.exitCode !== null || p.signalCode !== null) return Promise.resolve({ code: p.exitCode, signal: p.signalCode });
  return new Promise((r) => p.once('exit', (code, signal) => r({ code, signal })));
}

const PIDNS = /\[(\d+)\]/.exec(readlinkSync('/proc/self/ns/pid'))![1]!;

/** A pid no process has: one that just exited. */
function deadPid(): number {
  return spawnSync('true').pid!;
}

/** Writes a lock file as another process would have left it. */
function fakeLock(file: string, token: string): void {
  writeFileSync(file, `${JSON.stringify({ token, pid: Number(token.split('-')[1]), at: new Date().toISOString() })}\n`);
}

describe('StateStore: values', () => {
  it('saves and loads JSON under keys; files are JSON with a schema version', async () => {
    const store = await StateStore.open(dir);
    expect(await store.load('net-a')).toBeUndefined();
    const value = { subnet: '172.18.0.0/16', endpoints: [{ ip: '172.18.0.2', id: 'c1' }], n: 1.5, ok: true, none: null };
    await store.save('net-a', value);
    await store.save('net-b', [1, 2, 3]);
    expect(await store.load('net-a')).toEqual(value);
    expect(await store.keys()).toEqual(['net-a', 'net-b']);
    // The file as any other reader sees it.
    const onDisk = JSON.parse(readFileSync(path.join(dir, 'net-a.json'), 'utf8')) as Record<string, unknown>;
    expect(onDisk).toMatchObject({ format: 'netplumb-state', schema: 1, key: 'net-a', data: value });
    expect(onDisk.sha256).toMatch(/^[0-9a-f]{64}$/);
    await store.save('net-a', { replaced: true });
    expect(await store.load('net-a')).toEqual({ replaced: true });
    expect(await store.remove('net-a')).toBe(true);
    expect(await store.remove('net-a')).toBe(false);
    expect(await store.keys()).toEqual(['net-b']);
    // Only values and nothing else in the directory.
    expect(readdirSync(dir).sort()).toEqual(['net-b.json']);
  });

  it('bad keys and values are TypeErrors and write nothing', async () => {
    const store = await StateStore.open(dir);
    for (const key of ['', '../x', 'a/b', '.hidden', 'x.json', 'a b', 'k'.repeat(129), 5 as unknown as string]) {
      await expect(store.save(key, 1)).rejects.toThrow(TypeError);
    }
    await expect(store.save('k', undefined)).rejects.toThrow(TypeError);
    await expect(store.save('k', () => 1)).rejects.toThrow(TypeError);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('strace: temp file written and fsynced, renamed over the key, then the directory fsynced', () => {
    spawnSync(process.execPath, [CHILD, 'save', dir, 'first']); // creates the directory
    const r = spawnSync('strace', ['-f', '-y', '-e', 'trace=openat,write,fsync,fdatasync,rename,renameat,renameat2', process.execPath, CHILD, 'save', dir, 'second'], {
      encoding: 'utf8',
    });
    expect(r.status).toBe(0);
    // Program output and strace's record of writing it share stderr: take all between the first marks.
    const calls = r.stderr.slice(r.stderr.indexOf('SAVE-START'), r.stderr.indexOf('SAVE-END')).split('\n');
    const at = (re: RegExp): number => calls.findIndex((l) => re.test(l));
    const tmp = String.raw`${dir}/\.k\.json\.tmp-[0-9a-f-]+`;
    const open = at(new RegExp(`openat\\(.*"${tmp}", O_WRONLY\\|O_CREAT\\|O_EXCL`));
    const write = at(new RegExp(`write\\(\\d+<${tmp}>, "\\{\\\\"format\\\\":\\\\"netplumb-state\\\\"`));
    const fsyncTmp = at(new RegExp(`fsync\\(\\d+<${tmp}>\\)`));
    const rename = at(new RegExp(`rename(at2?)?\\(.*"${tmp}", .*"${dir}/k\\.json"`));
    const fsyncDir = at(new RegExp(`fsync\\(\\d+<${dir}>\\)`));
    expect([open, write, fsyncTmp, rename, fsyncDir].every((i) => i >= 0), calls.join('\n')).toBe(true);
    expect(open < write && write < fsyncTmp && fsyncTmp < rename && rename < fsyncDir).toBe(true);
  });

  it('a process killed between temp write and rename leaves the old value; the temp file is ignored, then cleaned', async () => {
    const store = await StateStore.open(dir);
    await store.save('k', { v: 'old' });
    const p = child('crash-before-rename', dir, 'new');
    expect(await exited(p)).toEqual({ code: null, signal: 'SIGKILL' });
    // The crash left a complete temp file holding the new value beside the old file.
    const leftover = readdirSync(dir).filter((f) => f.startsWith('.k.json.tmp-'));
    expect(leftover).toHaveLength(1);
    expect(readFileSync(path.join(dir, leftover[0]!), 'utf8')).toContain('"data":{"v":"new"}');
    expect(await store.load('k')).toEqual({ v: 'old' });
    expect(await store.keys()).toEqual(['k']);
    // The next open (or cleanup) removes what the dead writer left; live writers' temp files stay.
    const live = path.join(dir, `.x.json.tmp-${PIDNS}-${process.pid}-${readFileSync('/proc/self/stat', 'utf8').split(') ')[1]!.split(' ')[19]}-abc`);
    writeFileSync(live, 'in progress');
    await StateStore.open(dir);
    expect(readdirSync(dir).sort()).toEqual([path.basename(live), 'k.json']);
    rmSync(live);
    expect(await store.load('k')).toEqual({ v: 'old' });
  });
});

describe('StateStore: corrupt and foreign files', () => {
  it.each([
    ['garbage', () => 'not json at all', /not valid JSON/],
    ['empty', () => '', /not valid JSON/],
    ['truncated', (good: string) => good.slice(0, Math.floor(good.length / 2)), /not valid JSON.*truncated/],
    ['another format', () => '{"hello": 1}\n', /not a netplumb-state file/],
    ['JSON null', () => 'null\n', /not a netplumb-state file/],
    ['no schema', (good: string) => good.replace('"schema":1,', ''), /schema version missing/],
    ['edited data', (good: string) => good.replace('172.18.0.2', '172.18.0.3'), /checksum mismatch/],
    ['no checksum', (good: string) => good.replace(/"sha256":"[0-9a-f]+",/, ''), /checksum mismatch/],
    ['another key', (good: string) => good.replace('"key":"k"', '"key":"other"'), /holds key "other"/],
  ] as const)('%s: StateCorruptError naming the file', async (_what, damage, re) => {
    const store = await StateStore.open(dir);
    await store.save('k', { ip: '172.18.0.2' });
    const file = path.join(dir, 'k.json');
    writeFileSync(file, damage(readFileSync(file, 'utf8')));
    const err = await store.load('k').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StateCorruptError);
    expect((err as StateCorruptError).path).toBe(file);
    expect((err as Error).message).toMatch(re);
    expect((err as Error).message).toContain(file);
    // Saving over a corrupt file replaces it.
    await store.save('k', { ip: 'fixed' });
    expect(await store.load('k')).toEqual({ ip: 'fixed' });
  });

  it('schema versions: newer is refused, older needs a migration', async () => {
    const v2 = await StateStore.open(dir, { schema: 2 });
    await v2.save('k', { old: true });
    const v1 = await StateStore.open(dir, { schema: 1 });
    await expect(v1.load('k')).rejects.toThrow(/schema 2, this code reads schema 1 \(written by a newer version\)/);
    await expect(v1.load('k')).rejects.toBeInstanceOf(StateSchemaError);
    const v3 = await StateStore.open(dir, { schema: 3 });
    await expect(v3.load('k')).rejects.toBeInstanceOf(StateSchemaError);
    const seen: unknown[] = [];
    const v3m = await StateStore.open(dir, {
      schema: 3,
      migrate: (key, from, data) => {
        seen.push([key, from, data]);
        return { ...(data as object), migrated: from };
      },
    });
    expect(await v3m.load('k')).toEqual({ old: true, migrated: 2 });
    expect(seen).toEqual([['k', 2, { old: true }]]);
  });
});

describe('StateStore: lock', () => {
  it('callers in one process take turns; nested calls run inside the held lock', async () => {
    const store = await StateStore.open(dir);
    const events: string[] = [];
    let inside = 0;
    const results = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        store.withLock(async () => {
          inside++;
          expect(inside).toBe(1);
          events.push(`+${i}`);
          await new Promise((r) => setTimeout(r, 1));
          const nested = await store.withLock(() => `n${i}`);
          events.push(`-${i}`);
          inside--;
          return nested;
        }),
      ),
    );
    expect(results).toEqual(Array.from({ length: 30 }, (_, i) => `n${i}`));
    expect(events).toEqual(Array.from({ length: 30 }, (_, i) => [`+${i}`, `-${i}`]).flat());
    expect(existsSync(path.join(dir, '.lock'))).toBe(false);
    // update(): read-modify-write under the lock, concurrently.
    await Promise.all(Array.from({ length: 25 }, () => store.update<number>('c', (c) => (c ?? 0) + 1)));
    expect(await store.load('c')).toBe(25);
    // A throwing fn releases the lock.
    await expect(store.withLock(() => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(await store.withLock(() => 'after')).toBe('after');
  });

  it('two processes incrementing a counter 150 times each under the lock end at 300, never interleaved', async () => {
    await StateStore.open(dir);
    const N = 150;
    const a = child('count', dir, String(N));
    const b = child('count', dir, String(N));
    await Promise.all([line(a, 'ready'), line(b, 'ready')]);
    a.stdin!.write('go\n');
    b.stdin!.write('go\n');
    expect(await exited(a)).toEqual({ code: 0, signal: null });
    expect(await exited(b)).toEqual({ code: 0, signal: null });
    const store = await StateStore.open(dir);
    expect(await store.load('counter')).toBe(2 * N);
    // Every critical section in the log is entered and left by the same process before the next one enters.
    const log = readFileSync(path.join(dir, 'log'), 'utf8').trim().split('\n');
    expect(log).toHaveLength(4 * N);
    for (let i = 0; i < log.length; i += 2) {
      expect(log[i]!.startsWith('+')).toBe(true);
      expect(log[i + 1]).toBe(`-${log[i]!.slice(1)}`);
    }
    expect(new Set(log.map((l) => l.slice(1)))).toEqual(new Set([String(a.pid), String(b.pid)]));
    expect(readdirSync(dir).sort()).toEqual(['counter.json', 'log']);
  });

  it('a live holder is waited for (LockTimeoutError naming it); once SIGKILLed its lock is broken', async () => {
    const store = await StateStore.open(dir, { lockTimeoutMs: 300 });
    const holder = child('hold', dir);
    try {
      await line(holder, 'locked');
      const lock = JSON.parse(readFileSync(path.join(dir, '.lock'), 'utf8')) as { pid: number; token: string };
      expect(lock.pid).toBe(holder.pid);
      const t0 = Date.now();
      const err = await store.withLock(() => 'never').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(LockTimeoutError);
      expect((err as LockTimeoutError).holderPid).toBe(holder.pid);
      expect(Date.now() - t0).toBeGreaterThanOrEqual(300);
    } finally {
      holder.kill('SIGKILL');
    }
    expect((await exited(holder)).signal).toBe('SIGKILL');
    // The dead holder's lock file is still there until someone needs the lock.
    expect(existsSync(path.join(dir, '.lock'))).toBe(true);
    const t1 = Date.now();
    expect(await store.withLock(() => 'got it')).toBe('got it');
    expect(Date.now() - t1).toBeLessThan(250);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('a lock of a recycled pid (same pid, other start time) is stale; one from another pid namespace is not', async () => {
    const store = await StateStore.open(dir, { lockTimeoutMs: 200 });
    const lock = path.join(dir, '.lock');
    fakeLock(lock, `${PIDNS}-${process.pid}-1-aaaa`);
    expect(await store.withLock(() => 1)).toBe(1);
    fakeLock(lock, `${PIDNS}-${deadPid()}-12345-bbbb`);
    expect(await store.withLock(() => 2)).toBe(2);
    // Pids of another pid namespace cannot be checked from here: such a lock is honoured.
    fakeLock(lock, `1-${deadPid()}-12345-cccc`);
    await expect(store.withLock(() => 3)).rejects.toBeInstanceOf(LockTimeoutError);
    rmSync(lock);
  });

  it('a breaker that died mid-break (marker left, dead lock still there) does not wedge the lock', async () => {
    await StateStore.open(dir);
    const stale = `${PIDNS}-${deadPid()}-777-dddd`;
    const breaker = `${PIDNS}-${deadPid()}-888-eeee`;
    fakeLock(path.join(dir, '.lock'), stale);
    fakeLock(path.join(dir, `.lock.break-${stale}`), breaker);
    const store = await StateStore.open(dir, { lockTimeoutMs: 2000 });
    expect(await store.withLock(() => 'ok')).toBe('ok');
    expect(readdirSync(dir)).toEqual([]);
  });

  it('two processes racing to break the same stale lock still never interleave', async () => {
    await StateStore.open(dir);
    fakeLock(path.join(dir, '.lock'), `${PIDNS}-${deadPid()}-999-ffff`);
    const N = 40;
    const procs = [child('count', dir, String(N)), child('count', dir, String(N)), child('count', dir, String(N))];
    await Promise.all(procs.map((p) => line(p, 'ready')));
    for (const p of procs) p.stdin!.write('go\n');
    for (const p of procs) expect(await exited(p)).toEqual({ code: 0, signal: null });
    expect(await (await StateStore.open(dir)).load('counter')).toBe(3 * N);
    const log = readFileSync(path.join(dir, 'log'), 'utf8').trim().split('\n');
    for (let i = 0; i < log.length; i += 2) expect(log[i + 1]).toBe(`-${log[i]!.slice(1)}`);
    expect(readdirSync(dir).sort()).toEqual(['counter.json', 'log']);
  });
});
