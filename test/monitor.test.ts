import { execFile, spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { Worker } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import { NetlinkError, Netns, type MonitorEvent } from '../src';
import { fdCount, ip, run, Scope, SLOWDOWN } from './helpers';

const scope = new Scope();
afterEach(() => scope.cleanup());

const execFileP = promisify(execFile);
/** ip -n NS ..., run asynchronously so the event loop (and the monitor) keeps going. */
async function ipAsync(ns: Netns, ...args: string[]): Promise<void> {
  await execFileP('ip', ['-n', ns.name!, ...args]);
}

interface Seen {
  ev: MonitorEvent;
  at: number;
}

/** Waits until an event matching `pred` has arrived (or fails after `ms`). */
function waitFor(seen: Seen[], pred: (e: MonitorEvent) => boolean, ms = 2000): Promise<Seen> {
  const deadline = Date.now() + ms;
  return new Promise((resolve, reject) => {
    const poll = (): void => {
      const hit = seen.find((s) => pred(s.ev));
      if (hit) resolve(hit);
      else if (Date.now() > deadline) reject(new Error(`no matching event within ${ms} ms; saw ${seen.length}`));
      else setTimeout(poll, 2);
    };
    poll();
  });
}

const isLink = (type: 'new' | 'delete', name: string) => (e: MonitorEvent): boolean =>
  e.type === type && e.kind === 'link' && e.value.name === name;

describe('monitor', () => {
  it('sees a veth create and delete, an address, a route and a neighbour, in order, each within 100 ms', async () => {
    const ns = await scope.ns('mo');
    const n = ns.name!;
    ip(n, 'link', 'add', 'w0', 'type', 'veth', 'peer', 'name', 'w1');
    ip(n, 'link', 'set', 'w0', 'up');
    const mon = ns.monitor({ links: true, addresses: true, routes: true, neighbours: true });
    const seen: Seen[] = [];
    mon.on('event', (ev) => seen.push({ ev, at: performance.now() }));

    const steps: [string[], (e: MonitorEvent) => boolean][] = [
      [['link', 'add', 'mv0', 'type', 'veth', 'peer', 'name', 'mv1'], isLink('new', 'mv0')],
      [['link', 'del', 'mv0'], isLink('delete', 'mv0')],
      [['addr', 'add', '10.6.0.1/24', 'dev', 'w0'],
        (e) => e.type === 'new' && e.kind === 'address' && e.value.address === '10.6.0.1' && e.value.prefixlen === 24],
      [['route', 'add', '10.7.0.0/24', 'via', '10.6.0.2', 'dev', 'w0'],
        (e) => e.type === 'new' && e.kind === 'route' && e.value.dst === '10.7.0.0/24' && e.value.gateway === '10.6.0.2'],
      [['neigh', 'add', '10.6.0.2', 'lladdr', '02:06:00:00:00:02', 'dev', 'w0'],
        (e) => e.type === 'new' && e.kind === 'neighbour' && e.value.address === '10.6.0.2' && e.value.mac === '02:06:00:00:00:02'],
    ];
    const hits: Seen[] = [];
    for (const [args, pred] of steps) {
      const t0 = performance.now();
      await ipAsync(ns, ...args);
      const hit = await waitFor(seen, pred);
      expect(hit.at - t0, args.join(' ')).toBeLessThan(100 * SLOWDOWN);
      hits.push(hit);
    }
    const order = hits.map((h) => seen.indexOf(h));
    expect([...order].sort((x, y) => x - y)).toEqual(order);
    // Both ends of the pair came and went; the decoded objects are the library's own shapes.
    expect(seen.some((s) => isLink('new', 'mv1')(s.ev))).toBe(true);
    expect(seen.some((s) => isLink('delete', 'mv1')(s.ev))).toBe(true);
    const w0 = await ns.links.get('w0');
    const neigh = hits[4]!.ev;
    expect(neigh).toMatchObject({ kind: 'neighbour', value: { ifindex: w0.index, family: 4, state: 'permanent' } });
    expect(hits[3]!.ev).toMatchObject({ kind: 'route', value: { oif: w0.index, table: 254 } });
    expect(seen.some((s) => s.ev.type === 'resync')).toBe(false);
    mon.close();
  });

  it('10,000 neighbour adds overflow a small buffer: resync, no crash, and a complete re-list', async () => {
    const ns = await scope.ns('mr');
    const n = ns.name!;
    ip(n, 'link', 'add', 'n0', 'type', 'veth', 'peer', 'name', 'n1');
    ip(n, 'link', 'set', 'n0', 'up');
    const mon = ns.monitor({ neighbours: true, receiveBuffer: 4096 });
    let neighbours = 0;
    const resyncs: MonitorEvent[] = [];
    mon.on('event', (ev) => {
      if (ev.type === 'new' && ev.kind === 'neighbour') neighbours++;
    });
    mon.on('resync', (ev) => resyncs.push(ev));

    const specs = Array.from({ length: 10_000 }, (_, i) => ({
      dev: 'n0', address: `10.100.${i >> 8}.${i & 255}`, mac: '02:64:00:00:00:01',
    }));
    const t0 = performance.now();
    const sends = ns.socketStats().sends;
    await ns.neighbours.addMany(specs);
    const took = performance.now() - t0;
    expect(ns.socketStats().sends - sends).toBeLessThan(20); // batched: a few sendmsg, not 10,000
    // Let the loop drain what the socket still holds.
    await new Promise((r) => setTimeout(r, 50));
    expect(resyncs.length).toBeGreaterThan(0);
    expect(resyncs[0]).toMatchObject({ type: 'resync', reason: 'overflow' });
    expect(neighbours).toBeLessThan(10_000);

    // The consumer's answer to a resync: re-list. It is complete, as ip sees it too.
    const listed = await ns.neighbours.list({ dev: 'n0' });
    expect(listed).toHaveLength(10_000);
    expect(new Set(listed.map((x) => x.address))).toEqual(new Set(specs.map((s) => s.address)));
    expect((JSON.parse(run('ip', ['-n', n, '-j', 'neigh', 'show', 'dev', 'n0'])) as unknown[]).length).toBe(10_000);

    // And the monitor keeps going.
    const before = neighbours;
    await ipAsync(ns, 'neigh', 'add', '10.200.0.1', 'lladdr', '02:64:00:00:00:02', 'dev', 'n0');
    const deadline = Date.now() + 2000;
    while (neighbours === before && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    expect(neighbours).toBe(before + 1);
    mon.close();
    console.log(`10,000 neighbour adds: ${took.toFixed(0)} ms, ${resyncs.length} resync(s), ${before} events delivered`);
  });

  it('is an async iterable; break closes it; nothing leaks', async () => {
    const ns = await scope.ns('mi');
    await ns.links.get('lo'); // opens the handle's own route socket first
    const base = fdCount();
    const mon = ns.monitor({ links: true, neighbours: true });
    expect(fdCount()).toBe(base + 1);
    // Changes made before iteration starts are queued for it.
    await ipAsync(ns, 'link', 'add', 'it0', 'type', 'veth', 'peer', 'name', 'it1');
    await new Promise((r) => setTimeout(r, 20));
    const got: string[] = [];
    for await (const ev of mon) {
      if (ev.type !== 'resync' && ev.kind === 'link') got.push(`${ev.type}:${ev.value.name}`);
      if (got.includes('new:it0') && got.includes('new:it1')) break;
    }
    expect(mon.closed).toBe(true);
    expect(fdCount()).toBe(base); // the socket closes with close(), not a loop turn later

    // Iteration ends when the monitor is closed from elsewhere; FDB events have kind 'fdb'.
    ip(ns.name!, 'link', 'add', 'vx0', 'type', 'vxlan', 'id', '5', 'dstport', '4789');
    const m2 = ns.monitor({ neighbours: true });
    const kinds: string[] = [];
    const done = (async () => {
      for await (const ev of m2) {
        if (ev.type !== 'resync') kinds.push(`${ev.type}:${ev.kind}`);
        if (kinds.length === 1) m2.close();
      }
    })();
    await ns.fdb.append({ mac: '00:00:00:00:00:00', dev: 'vx0', dst: '10.1.1.1' });
    await done;
    expect(kinds).toEqual(['new:fdb']);
    expect(fdCount()).toBe(base);
  });

  it('bounds the unread backlog with a resync; listeners alone queue nothing', async () => {
    const ns = await scope.ns('mb');
    const mon = ns.monitor({ links: true, highWaterMark: 3 });
    for (let i = 0; i < 4; i++) await ipAsync(ns, 'link', 'add', `b${i}`, 'type', 'veth', 'peer', 'name', `p${i}`);
    await new Promise((r) => setTimeout(r, 30));
    const it = mon[Symbol.asyncIterator]();
    const first = await it.next();
    expect(first.value).toMatchObject({ type: 'resync', reason: 'backlog' });
    await it.return!();
    expect(mon.closed).toBe(true);
  });

  it('outlives its Netns handle, closes idempotently, and emits close', async () => {
    const ns = await scope.ns('ml');
    const n = ns.name!;
    const other = await Netns.open(n);
    const mon = other.monitor({ links: true });
    other.close();
    let closed = 0;
    mon.on('close', () => closed++);
    const seen: Seen[] = [];
    mon.on('event', (ev) => seen.push({ ev, at: performance.now() }));
    await ipAsync(ns, 'link', 'add', 'lv0', 'type', 'veth', 'peer', 'name', 'lv1');
    await waitFor(seen, isLink('new', 'lv0'));
    mon.close();
    mon.close();
    expect(closed).toBe(1);
    const count = seen.length;
    await ipAsync(ns, 'link', 'del', 'lv0');
    await new Promise((r) => setTimeout(r, 30));
    expect(seen.length).toBe(count);
    expect(mon.ref()).toBe(mon); // harmless once closed
  });

  it('ref/unref decide whether the monitor keeps a process alive', () => {
    // The addon as the package loads it (build/Release, or the prebuild after `npm run prebuilds`).
    const root = path.resolve(__dirname, '..');
    const script = (ref: boolean): string =>
      `const b = require(${JSON.stringify(require.resolve('node-gyp-build'))})(${JSON.stringify(root)}); const m = b.monitorOpen(b.nsCurrent(), 1, 0, () => {});` +
      (ref ? '' : ' b.monitorRef(m, false);');
    const unref = spawnSync(process.execPath, ['-e', script(false)], { timeout: 5000 });
    expect(unref.status).toBe(0);
    const held = spawnSync(process.execPath, ['-e', script(true)], { timeout: 500 });
    expect(held.signal).toBe('SIGTERM'); // still running when the timeout killed it
  });

  it('a worker that exits with an open monitor cleans up (async cleanup hook): no fd left', async () => {
    const root = path.resolve(__dirname, '..');
    const base = fdCount();
    for (const how of ['exit', 'terminate'] as const) {
      const w = new Worker(
        `const { parentPort } = require('node:worker_threads');
         const b = require(${JSON.stringify(require.resolve('node-gyp-build'))})(${JSON.stringify(root)});
         const h = b.nsCurrent();
         const m = b.monitorOpen(h, 1 | 8, 0, () => {});
         b.nsClose(h);
         parentPort.postMessage('open');
         ${how === 'exit' ? 'setTimeout(() => process.exit(0), 10);' : ''}`,
        { eval: true },
      );
      await new Promise((r) => w.once('message', r));
      if (how === 'terminate') await w.terminate();
      else await new Promise((r) => w.once('exit', r));
    }
    expect(fdCount()).toBe(base);
  });

  it('rejects bad options with typed errors and opens nothing', async () => {
    const ns = await scope.ns('mx');
    const base = fdCount();
    // @ts-expect-error wrong type
    expect(() => ns.monitor({ links: 'yes' })).toThrow(TypeError);
    expect(() => ns.monitor({ links: false, addresses: false, routes: false, neighbours: false })).toThrow(TypeError);
    expect(() => ns.monitor({ receiveBuffer: 10 })).toThrow(RangeError);
    expect(() => ns.monitor({ receiveBuffer: 1.5 })).toThrow(TypeError);
    expect(() => ns.monitor({ highWaterMark: 0 })).toThrow(RangeError);
    // @ts-expect-error wrong type
    expect(() => ns.monitor('links')).toThrow(TypeError);
    expect(fdCount()).toBe(base);
    const closed = await scope.ns('my');
    closed.close();
    expect(() => closed.monitor()).toThrow(NetlinkError);
  });
});
