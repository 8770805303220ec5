// The native boundary, generated from its table (src/binding.ts NATIVE_ENTRY_POINTS):
// every entry point the addon exports is listed there, and each one is called here with
// a wrong type for each argument, with an unknown key in each object argument, and with
// a wrong type for each key of a full sample object: always a TypeError naming the entry
// point and the key, nothing done, no crash (scripts/asan-test.sh runs this file too).
// A new entry point is a compile error in binding.ts until it has a row there, and a
// compile error here until its object shapes have samples.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Netns } from '../src';
import {
  native, NATIVE_DEBUG_ENTRY_POINTS, NATIVE_ENTRY_POINTS, type NativeBinding, type NativeHandle, type NativeMonitor,
  type NativeParam, type NativeShape,
} from '../src/binding';
import { handleOf } from '../src/handle';
import { Scope } from './helpers';

const scope = new Scope();
let ns: Netns;
let handle: NativeHandle;
let monitor: NativeMonitor;

beforeAll(async () => {
  ns = await scope.ns('nb');
  handle = handleOf(ns);
  monitor = native.monitorOpen(handle, 1, 0, () => undefined);
});
afterAll(async () => {
  native.monitorClose(monitor);
  await scope.cleanup();
});

// A valid sample of every object or array shape that crosses, as full as the shape is
// (every key of a sample is then given a wrong type in turn).
const samples = (): Record<NativeShape, unknown> => ({
  NativeLinkFilter: { master: 1, kind: 'bridge' },
  NativeLinkDumpRequest: { master: 1, kind: 'bridge', family: 17, extMask: 1, index: 0 },
  'NativeStep[]': [
    {
      op: 'linkAdd', name: 'v0', index: 70000, kind: 'veth', mtu: 1500, txqlen: 1000, group: 1, numTxQueues: 1, numRxQueues: 1,
      alias: 'a', mac: '02:00:00:00:00:01', up: true, master: 1, addrGenMode: 'none', ipv4Conf: { forwarding: 1 }, echo: true,
      bridgePort: { hairpin: true, learning: false, flood: true, isolated: false, state: 3, flush: false, priority: 1, cost: 2 },
      peer: { name: 'v1', index: 70001, mtu: 1500, mac: '02:00:00:00:00:02', up: true, txqlen: 1, group: 1, alias: 'b', numTxQueues: 1, numRxQueues: 1, netns: handle },
    },
    {
      op: 'linkAdd', name: 'vx0', kind: 'vxlan', link: 1,
      vxlan: { vni: 1, local: '10.0.0.1', remote: '10.0.0.2', device: 1, dstport: 4789, srcPortRange: [1000, 2000], ttl: 1, tos: 0, learning: true, proxy: false, l2miss: false, l3miss: false, udpChecksum: true, ageing: 300 },
    },
    { op: 'linkAdd', name: 'br0', kind: 'bridge', bridge: { stp: false, vlanFiltering: false, ageingTime: 300, forwardDelay: 15, multicastSnooping: true, priority: 1, defaultPvid: 1 } },
    { op: 'linkAdd', name: 'mv0', kind: 'macvlan', link: 1, macvlan: { mode: 'bridge', flags: 0 } },
    { op: 'linkAdd', name: 'vl0', kind: 'vlan', link: 1, vlan: { id: 5, protocol: '802.1Q' } },
    { op: 'linkAdd', name: 'iv0', kind: 'ipvlan', link: 1, ipvlan: { mode: 'l2', flags: 0 } },
    { op: 'linkAdd', name: 'wg0', kind: 'wireguard', infoData: Buffer.alloc(0) },
    { op: 'linkSet', index: 1, rename: 'x', netns: handle },
    { op: 'linkDel', index: 1, name: 'x', group: 3 },
    { op: 'addrAdd', index: 1, address: '10.0.0.1', prefixlen: 24, peer: '10.0.0.2', broadcast: '10.0.0.255', label: 'lo:x', scope: 0, flags: 0, validLifetime: 10, preferredLifetime: 5, metric: 1 },
    { op: 'routeAdd', family: 4, dst: '10.0.0.0', dstLen: 8, src: '10.1.0.0', srcLen: 16, gateway: '10.0.0.1', prefsrc: '10.0.0.2', oif: 1, metric: 1, table: 254, protocol: 3, scope: 0, type: 1, tos: 0, onlink: true, mtu: 1400 },
  ],
  NativeBatches: [[handle, [{ op: 'linkDel', name: 'x' }]]],
  NativeRouteFilter: { family: 4, table: 254, protocol: 3, type: 1, oif: 1 },
  NativeRouteQuery: { dst: '10.0.0.1', src: '10.0.0.2', oif: 1, iif: 1, mark: 1 },
  NativeNeighRequest: { op: 'get', family: 'inet', ifindex: 1, dst: '10.0.0.1', proxy: false },
  'NativeNeighRequest[]': [
    {
      op: 'add', family: 'bridge', ifindex: 1, dst: '10.0.0.1', lladdr: '02:00:00:00:00:01', state: 'static', self: true, master: false, proxy: false,
      router: false, sticky: true, externLearned: false, vlan: 1, port: 4789, vni: 5, srcVni: 6, via: 1,
    },
  ],
  NativeNeighFilter: { family: 'inet', ifindex: 1, master: 1, proxy: false },
  'NativeNftOp[]': [
    { kind: 'table', msg: 0, nlFlags: 0x400, family: 1, name: 't', flags: 0, comment: 'c' },
    { kind: 'chain', msg: 3, nlFlags: 0x400, family: 1, table: 't', name: 'c', hook: { num: 1, priority: 0, device: 'lo' }, type: 'filter', policy: 1, flags: 0, comment: 'c' },
    {
      kind: 'rule', msg: 6, nlFlags: 0xc08, family: 1, table: 't', chain: 'c', position: 1, comment: 'c',
      exprs: [
        { type: 'meta', key: 16, dreg: 1 },
        { type: 'cmp', sreg: 1, op: 0, data: Buffer.from([6]) },
        { type: 'immediate', dreg: 0, data: { code: -3, chain: 'c' } },
        { type: 'log', prefix: 'p', group: 1 },
        { type: 'x-unknown', raw: Buffer.alloc(0) },
      ],
    },
    {
      kind: 'set', msg: 9, nlFlags: 0x400, family: 1, table: 't', name: 's', flags: 0, key: ['ipv4_addr', 'inet_service'], data: ['ipv4_addr'],
      keyTypeof: [{ etype: 7, attrs: [[0, 12], [1, 12]] }], dataTypeof: [{ etype: 7, attrs: [[0, 12], [1, 12]] }],
      policy: 0, size: 10, id: 1, timeout: 1000, gcInterval: 1000, comment: 'c',
    },
    { kind: 'elements', msg: 12, nlFlags: 0x400, family: 1, table: 't', set: 's', setId: 1, elements: [{ key: ['10.0.0.1', 80], value: '10.0.0.2', timeout: 1000, comment: 'c' }] },
  ],
  NativeCtFilter: { family: 4, protocol: 6, replySrc: '10.0.0.1', replySrcPort: 80, origDstPort: 8080 },
  'string[]': ['ipv4_addr'],
});

// A valid value of a parameter, and values of the wrong type for it.
function valid(p: NativeParam, s: Record<NativeShape, unknown>): unknown {
  switch (p.type) {
    // rtnlCreateSequence makes the namespace of a pending handle.
    case 'handle': return p.name === 'pending' ? native.nsPending() : handle;
    case 'monitor': return monitor;
    // A gate whose namespace cannot be made (no such directory can be made under /proc):
    // its operation fails at once, and nothing is made.
    case 'gate': {
      const [done, gate] = native.rtnlCreateBegin('/proc/netplumb-none', 'x', native.nsPending());
      done.catch(() => undefined);
      return gate;
    }
    case 'string': return p.name === 'key' ? 'ipv4/ip_forward' : 'x';
    case 'number': return 0;
    case 'boolean': return false;
    case 'buffer': return Buffer.alloc(0);
    case 'function': return () => undefined;
    case 'link': return 'lo';
    case 'datum': return '10.0.0.1';
    default: return structuredCloneWithHandles(s[p.shape]);
  }
}
function wrong(p: NativeParam): unknown[] {
  switch (p.type) {
    case 'handle': return [{}, 42, monitor];
    case 'monitor': return [{}, 42, handle];
    case 'gate': return [{}, 42, handle, monitor];
    case 'string': return [42, {}];
    case 'number': return ['1', true];
    case 'boolean': return ['yes', 1];
    case 'buffer': return ['x', [1]];
    case 'function': return [1, {}];
    case 'link': return [true, {}];
    case 'datum': return [true, {}, [true]];
    case 'object': return [42, 'x', [], ...(p.optional ? [] : [undefined])];
    case 'array': return [42, {}, ...(p.optional ? [] : [undefined])];
  }
}

// Deep copies that keep namespace handles (externals) as they are.
function structuredCloneWithHandles<T>(v: T): T {
  if (Buffer.isBuffer(v)) return Buffer.from(v) as T;
  if (Array.isArray(v)) return v.map(structuredCloneWithHandles) as T;
  if (v && typeof v === 'object' && (v as unknown) !== handle && (v as unknown) !== monitor) {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, structuredCloneWithHandles(x)])) as T;
  }
  return v;
}

// Every path to a key of a sample: [path of keys and indexes, the key's name].
function keyPaths(v: unknown, at: (string | number)[] = []): [(string | number)[], string][] {
  if (Array.isArray(v)) return v.flatMap((x, i) => keyPaths(x, [...at, i]));
  if (!v || typeof v !== 'object' || Buffer.isBuffer(v) || v === handle || v === monitor) return [];
  return Object.entries(v).flatMap(([k, x]) => [[[...at, k], k] as [(string | number)[], string], ...keyPaths(x, [...at, k])]);
}
function setAt(root: unknown, path: (string | number)[], value: unknown): void {
  let o = root as Record<string | number, unknown>;
  for (const k of path.slice(0, -1)) o = o[k] as Record<string | number, unknown>;
  o[path[path.length - 1]!] = value;
}
// Every object in a sample (itself, nested, inside arrays): each gets an unknown key in turn.
function objects(v: unknown): Record<string, unknown>[] {
  if (Array.isArray(v)) return v.flatMap(objects);
  if (!v || typeof v !== 'object' || Buffer.isBuffer(v) || v === handle || v === monitor) return [];
  return [v as Record<string, unknown>, ...Object.values(v).flatMap(objects)];
}

const show = (v: unknown): string => (v === handle ? 'a namespace handle' : v === monitor ? 'a monitor' : JSON.stringify(v) ?? String(v));

type Entry = keyof NativeBinding;
const entries = Object.keys(NATIVE_ENTRY_POINTS) as Entry[];

// Each object or array argument of each entry point, with the valid arguments before it.
function* objectArguments(s: Record<NativeShape, unknown>): Iterable<{ name: Entry; p: NativeParam; before: () => unknown[] }> {
  for (const name of entries) {
    const params = NATIVE_ENTRY_POINTS[name];
    for (let i = 0; i < params.length; i++) {
      const p = params[i]!;
      if (p.type === 'object' || p.type === 'array') yield { name, p, before: () => params.slice(0, i).map((q) => valid(q, s)) };
    }
  }
}

// Calls an entry point; the TypeError it throws, or the rejection of the promise it returns.
async function failure(name: Entry, args: unknown[]): Promise<unknown> {
  try {
    const r = (native[name] as (...a: unknown[]) => unknown)(...args);
    if (r instanceof Promise) await r;
    return undefined;
  } catch (e) {
    return e;
  }
}

function expectTypeError(e: unknown, name: string, mention: string, what: string): void {
  expect(e, what).toBeInstanceOf(TypeError);
  expect((e as Error).message, what).toContain(name);
  expect((e as Error).message, what).toContain(mention);
}

describe('the native boundary, entry point by entry point', () => {
  it('the addon exports exactly the entry points of the table (debug builds add their own)', () => {
    const exported = Object.keys(native).filter((k) => !(k in NATIVE_DEBUG_ENTRY_POINTS)).sort();
    expect(exported).toEqual([...entries].sort());
  });

  it('a wrong type for each argument is a TypeError naming the entry point and the argument', async () => {
    const s = samples();
    let calls = 0;
    for (const name of entries) {
      const params = NATIVE_ENTRY_POINTS[name];
      for (let i = 0; i < params.length; i++) {
        const p = params[i]!;
        for (const bad of wrong(p)) {
          if (bad === undefined && p.optional) continue;
          if (bad === null && p.type !== 'object' && 'nullable' in p && p.nullable) continue;
          const args = [...params.slice(0, i).map((q) => valid(q, s)), bad];
          expectTypeError(await failure(name, args), name, p.name, `${name} ${p.name} = ${show(bad)}`);
          calls++;
        }
      }
      // One argument too many.
      const args = [...params.map((q) => valid(q, s)), 'extra'];
      const e = await failure(name, args);
      expectTypeError(e, name, `takes ${params.length} argument`, `${name} with an extra argument`);
    }
    expect(calls).toBeGreaterThan(100);
  });

  it('an unknown key in each object argument is a TypeError naming the entry point and the key', async () => {
    const s = samples();
    let calls = 0;
    for (const { name, p, before } of objectArguments(s)) {
      // (None in an array of strings: nftEncodeValue's types.)
      const count = objects(valid(p, s)).length;
      for (let k = 0; k < count; k++) {
        const value = valid(p, s);
        objects(value)[k]!.bogusKey = 1;
        expectTypeError(await failure(name, [...before(), value]), name, 'bogusKey', `${name} ${p.name}, object ${k}`);
        calls++;
      }
    }
    expect(calls).toBeGreaterThan(60);
  });

  it('a wrong type for each key of a full sample is a TypeError naming the entry point and the key', async () => {
    const s = samples();
    let calls = 0;
    for (const { name, p, before } of objectArguments(s)) {
      for (const [path, key] of keyPaths(valid(p, s))) {
        const value = valid(p, s);
        let current: unknown = value;
        for (const k of path) current = (current as Record<string | number, unknown>)[k];
        // A boolean where anything else is taken, a string where a boolean is.
        setAt(value, path, typeof current === 'boolean' ? 'x' : true);
        expectTypeError(await failure(name, [...before(), value]), name, key, `${name} ${p.name}.${path.join('.')}`);
        calls++;
      }
    }
    expect(calls).toBeGreaterThan(300);
  });

  it('nothing was made by any of these calls', async () => {
    expect((await ns.links.list()).map((l) => l.name)).toEqual(['lo']);
  });
});
