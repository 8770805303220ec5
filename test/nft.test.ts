// nftables objects through the API, checked with nft's own listing.
import { afterEach, describe, expect, it } from 'vitest';
import { NetlinkError, type Netns } from '../src';
import { accept, counter, ct, drop, type Expr, iifname, ip, jump, meta, th, tcp } from '../src/nft';
import { Scope } from './helpers';
import { buildLayout, nftIn, nftJson, ruleset, T } from './nft-helpers';

const scope = new Scope();
afterEach(() => scope.cleanup());

const F = 'inet' as const;

/** Other people's tables: one made by nft, one shaped like iptables-nft's. */
function addForeignTables(ns: string): string {
  nftIn(ns, ['-f', '-'], `
    table ip filter {
      chain INPUT { type filter hook input priority filter; policy accept; }
      chain FORWARD { type filter hook forward priority filter; policy drop; counter packets 0 bytes 0 jump DOCKER-USER; }
      chain OUTPUT { type filter hook output priority filter; policy accept; }
      chain DOCKER-USER { counter return; }
    }
    table inet theirs {
      set allowed { type ipv4_addr; elements = { 192.0.2.1, 192.0.2.7 }; }
      chain input { type filter hook input priority 10; ip saddr @allowed accept comment "keep me"; }
    }`);
  return foreign(ns);
}
function foreign(ns: string): string {
  return ruleset(ns).split(/\n(?=table )/).filter((t) => !t.startsWith(`table inet ${T}`)).map((t) => t.trimEnd()).join('\n');
}

async function withTable(ns: Netns): Promise<void> {
  const tx = ns.nft.transaction();
  tx.addTable({ family: F, name: T });
  tx.addChain({ family: F, table: T, name: 'c' });
  await tx.commit();
}

describe('tables and chains', () => {
  it('add is idempotent, create refuses an existing table; base chains carry hook, priority, policy', async () => {
    const ns = await scope.ns('tc');
    let tx = ns.nft.transaction();
    tx.addTable({ family: F, name: T, comment: 'owned by netplumb' });
    tx.addChain({ family: F, table: T, name: 'fwd', type: 'filter', hook: 'forward', priority: 'filter', policy: 'drop' });
    tx.addChain({ family: F, table: T, name: 'pre', type: 'nat', hook: 'prerouting', priority: 'dstnat' });
    tx.addChain({ family: F, table: T, name: 'plain', comment: 'hi' });
    await tx.commit();
    tx = ns.nft.transaction();
    tx.addTable({ family: F, name: T });
    await tx.commit();
    tx = ns.nft.transaction();
    tx.createTable({ family: F, name: T });
    const err = await tx.commit().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NetlinkError);
    expect((err as NetlinkError).code).toBe('EEXIST');
    expect((err as NetlinkError).op).toBe('NFT_MSG_NEWTABLE');

    const chains = nftJson(ns.name!, 'table', F, T).filter((o) => 'chain' in o).map((o) => o.chain as Record<string, unknown>);
    expect(chains.find((c) => c.name === 'fwd')).toMatchObject({ type: 'filter', hook: 'forward', prio: 0, policy: 'drop' });
    expect(chains.find((c) => c.name === 'pre')).toMatchObject({ type: 'nat', hook: 'prerouting', prio: -100, policy: 'accept' });
    expect(nftIn(ns.name!, ['list', 'chain', F, T, 'plain'])).toContain('comment "hi"');

    const l = await ns.nft.listTable(F, T);
    expect(l.table).toMatchObject({ family: F, name: T, comment: 'owned by netplumb' });
    expect(l.chains.find((c) => c.name === 'fwd')).toMatchObject({ type: 'filter', hook: 'forward', priority: 0, policy: 'drop' });
    expect((await ns.nft.listTables()).map((t) => t.name)).toContain(T);

    tx = ns.nft.transaction();
    tx.deleteChain({ family: F, table: T, name: 'plain' });
    tx.destroyChain({ family: F, table: T, name: 'never-was' });
    await tx.commit();
    expect(nftJson(ns.name!, 'table', F, T).some((o) => 'chain' in o && (o.chain as { name: string }).name === 'plain')).toBe(false);
    tx = ns.nft.transaction();
    tx.deleteTable({ family: F, name: T });
    tx.destroyTable({ family: 'ip', name: 'not-there' });
    await tx.commit();
    expect(nftIn(ns.name!, ['list', 'tables'])).not.toContain(T);
  });
});

describe('rules', () => {
  it('add returns the handle; insert, position, replace and delete by handle work as in nft', async () => {
    const ns = await scope.ns('ru');
    await withTable(ns);
    const r = { family: F, table: T, chain: 'c' };
    let tx = ns.nft.transaction();
    tx.addRule({ ...r, rule: [tcp.dport.eq(22), accept()], comment: 'ssh' });
    tx.addRule({ ...r, rule: [tcp.dport.eq(80), accept()] });
    const [h22, h80] = (await tx.commit()).handles;
    expect(h22).toBeGreaterThan(0);
    expect(h80).toBeGreaterThan(h22!);
    const listed = () => nftJson(ns.name!, 'chain', F, T, 'c').filter((o) => 'rule' in o).map((o) => o.rule as { handle: number; expr: unknown[]; comment?: string });
    expect(listed().map((x) => x.handle)).toEqual([h22, h80]);
    expect(listed()[0]!.comment).toBe('ssh');

    tx = ns.nft.transaction();
    tx.insertRule({ ...r, rule: [counter()] });                    // first
    tx.addRule({ ...r, rule: [tcp.dport.eq(443), accept()], position: h22! }); // after 22
    tx.insertRule({ ...r, rule: [drop()], position: h80! });       // before 80
    const [hc, h443, hd] = (await tx.commit()).handles;
    expect(listed().map((x) => x.handle)).toEqual([hc, h22, h443, hd, h80]);

    tx = ns.nft.transaction();
    tx.replaceRule({ ...r, handle: h443!, rule: [tcp.dport.eq(8443), accept()] });
    tx.deleteRule({ ...r, handle: hd! });
    await tx.commit();
    const text = nftIn(ns.name!, ['-a', 'list', 'chain', F, T, 'c']);
    expect(text).toContain(`tcp dport 8443 accept # handle ${h443}`);
    expect(text).not.toContain(`# handle ${hd}`);

    // Deleting a missing handle: ENOENT naming the step; destroy: fine.
    tx = ns.nft.transaction();
    tx.destroyRule({ ...r, handle: hd! });
    tx.deleteRule({ ...r, handle: hd! });
    const err = (await tx.commit().catch((e: unknown) => e)) as NetlinkError;
    expect(err.code).toBe('ENOENT');
    expect(err.step).toBe(1);
    expect(err.op).toBe('NFT_MSG_DELRULE');
    expect(err.message).toContain(`delete rule inet ${T} c handle ${hd}`);
  });

  it('listing decodes every expression back to what was compiled', async () => {
    const ns = await scope.ns('rl');
    await buildLayout(ns);
    const l = await ns.nft.listTable(F, T);
    expect(l.rules).toHaveLength(20);
    const hairpin = l.rules.filter((x) => x.chain === 'n1_hairpin');
    expect(hairpin[0]!.exprs).toEqual([
      { type: 'ct', key: 'status', dreg: 1 },
      { type: 'bitwise', sreg: 1, dreg: 1, len: 4, mask: Buffer.from([0x20, 0, 0, 0]), xor: Buffer.alloc(4), op: 'bool' },
      { type: 'cmp', sreg: 1, op: 'neq', data: Buffer.alloc(4) },
      { type: 'fib', flags: ['saddr'], result: 'type', dreg: 1 },
      { type: 'cmp', sreg: 1, op: 'eq', data: Buffer.from([2, 0, 0, 0]) },
      { type: 'masq' },
    ] satisfies Expr[]);
    const pub = l.rules.filter((x) => x.chain === 'pub')[0]!;
    expect(pub.exprs.slice(-2)).toEqual([
      { type: 'lookup', sreg: 1, dreg: 1, set: 'dnat4_ip' },
      // The kernel reports the ranges it completed: max registers, map-ips, proto-specified.
      { type: 'nat', nat: 'dnat', family: 'ip', regAddrMin: 1, regAddrMax: 1, regProtoMin: 9, regProtoMax: 9, flags: ['map-ips', 'proto-specified'] },
    ]);
    const cnt = l.rules.find((x) => x.chain === 'n1_in' && x.exprs[0]!.type === 'counter')!;
    expect(cnt.exprs).toEqual([{ type: 'counter', packets: 0, bytes: 0 }, { type: 'immediate', dreg: 0, data: { verdict: 'drop' } }]);
    // Rules listed by netplumb can be re-added as they are (raw expressions).
    const tx = ns.nft.transaction();
    tx.addChain({ family: F, table: T, name: 'copy' });
    for (const rule of l.rules.filter((x) => x.chain === 'raw_pre')) tx.addRule({ family: F, table: T, chain: 'copy', rule: rule.exprs });
    await tx.commit();
    const copy = nftIn(ns.name!, ['list', 'chain', F, T, 'copy']);
    expect(copy).toContain('ip daddr vmap @guard4');
    expect(copy).toContain('iifname != "lo" ip daddr 127.0.0.0/8 meta l4proto . th dport @lo_pub4 drop');
  });
});

describe('sets and maps', () => {
  it('typeof keys, intervals, timeouts, comments; elements decode back', async () => {
    const ns = await scope.ns('se');
    await buildLayout(ns);
    const t = { family: F, table: T };
    let tx = ns.nft.transaction();
    tx.addSet({ ...t, name: 'tmo', key: 'ipv4_addr', timeout: 60_000, comment: 'short lived' });
    tx.addSet({ ...t, name: 'nets', key: 'ipv4_addr', flags: ['interval'] });
    tx.addElements({ ...t, set: 'dnat4_ip', elements: [{ key: ['192.0.2.10', 'tcp', 8080], value: ['10.88.0.2', 80], comment: 'web' }] });
    tx.addElements({ ...t, set: 'dnat4_any', elements: [{ key: ['udp', 53], value: ['10.88.0.3', 53] }] });
    tx.addElements({ ...t, set: 'pub4', elements: [{ key: ['10.88.0.2', 'tcp', 80] }] });
    tx.addElements({ ...t, set: 'tmo', elements: [{ key: '198.51.100.1', timeout: 30_000 }, { key: '198.51.100.2' }] });
    tx.addElements({ ...t, set: 'nets', elements: [{ key: '10.0.0.0/8' }, { key: '192.168.1.10-192.168.1.20' }, { key: '172.16.0.1' }] });
    await tx.commit();

    const text = nftIn(ns.name!, ['list', 'table', F, T]);
    expect(text).toContain('typeof ip daddr . meta l4proto . th dport : ip daddr . th dport');
    expect(text).toContain('typeof meta l4proto . th dport');
    expect(text).toMatch(/192\.0\.2\.10 \. tcp \. 8080 comment "web" : 10\.88\.0\.2 \. 80/);
    expect(text).toContain('udp . 53 : 10.88.0.3 . 53');
    expect(text).toMatch(/timeout 1m\s+comment "short lived"/);
    expect(text).toMatch(/198\.51\.100\.1 timeout 30s expires \S+/);
    expect(text).toContain('elements = { 10.0.0.0/8, 172.16.0.1,');
    expect(text).toContain('192.168.1.10-192.168.1.20');

    const sets = (await ns.nft.listTable(F, T)).sets;
    const byName = (n: string) => sets.find((s) => s.name === n)!;
    expect(byName('dnat4_ip')).toMatchObject({
      key: 'ipv4_addr . inet_proto . inet_service', keyTypeof: 'ip daddr . meta l4proto . th dport',
      map: 'ipv4_addr . inet_service', mapTypeof: 'ip daddr . th dport', flags: ['map'],
      elements: [{ key: ['192.0.2.10', 'tcp', 8080], value: ['10.88.0.2', 80], comment: 'web' }],
    });
    expect(byName('guard4')).toMatchObject({ flags: ['interval', 'map'], elements: [{ key: '10.88.0.0/16', value: { verdict: 'jump', chain: 'n1_guard' } }] });
    expect(byName('fwd_in').elements).toEqual([{ key: 'br-n1', value: { verdict: 'jump', chain: 'n1_in' } }]);
    expect(byName('nets').elements!.map((e) => e.key).sort()).toEqual(['10.0.0.0/8', '172.16.0.1', '192.168.1.10-192.168.1.20']);
    expect(byName('tmo')).toMatchObject({ timeout: 60_000, comment: 'short lived', flags: ['timeout'] });
    expect(byName('tmo').elements!.find((e) => e.key === '198.51.100.1')!.timeout).toBe(30_000);
    expect((await ns.nft.getSet(F, T, 'pub4')).elements).toEqual([{ key: ['10.88.0.2', 'tcp', 80] }]);

    // delete vs destroy, on a set this transaction did not create (its types are read back).
    tx = ns.nft.transaction();
    tx.destroyElements({ ...t, set: 'pub4', elements: [{ key: ['10.88.0.2', 'tcp', 80] }, { key: ['10.88.0.9', 'udp', 1] }] });
    tx.deleteElements({ ...t, set: 'nets', elements: [{ key: '10.0.0.0/8' }] });
    await tx.commit();
    expect((await ns.nft.getSet(F, T, 'pub4')).elements).toEqual([]);
    expect((await ns.nft.getSet(F, T, 'nets')).elements!.map((e) => e.key)).not.toContain('10.0.0.0/8');
    tx = ns.nft.transaction();
    tx.deleteElements({ ...t, set: 'pub4', elements: [{ key: ['10.88.0.2', 'tcp', 80] }] });
    const err = (await tx.commit().catch((e: unknown) => e)) as NetlinkError;
    expect(err.code).toBe('ENOENT');
    expect(err.op).toBe('NFT_MSG_DELSETELEM');
  });
});

describe('transactions', () => {
  it('a conflict halfway leaves the table exactly as it was, and names the step', async () => {
    const ns = await scope.ns('tx');
    await buildLayout(ns);
    const t = { family: F, table: T };
    let tx = ns.nft.transaction();
    tx.addElements({ ...t, set: 'dnat4_ip', elements: [{ key: ['192.0.2.1', 'tcp', 80], value: ['10.88.0.2', 80] }] });
    await tx.commit();
    const before = nftIn(ns.name!, ['-j', 'list', 'table', F, T]);
    const beforeText = ruleset(ns.name!);

    tx = ns.nft.transaction();
    tx.addChain({ ...t, name: 'n2_in' });
    tx.addRule({ ...t, chain: 'n2_in', rule: [iifname.eq('br-n2'), accept()] });
    tx.addElements({ ...t, set: 'fwd_in', elements: [{ key: 'br-n2', value: { verdict: 'jump', chain: 'n2_in' } }] });
    tx.createElements({ ...t, set: 'dnat4_ip', elements: [{ key: ['192.0.2.1', 'tcp', 80], value: ['10.88.0.9', 8080] }] });
    tx.addElements({ ...t, set: 'pub4', elements: [{ key: ['10.88.0.9', 'tcp', 8080] }] });
    const err = (await tx.commit().catch((e: unknown) => e)) as NetlinkError;
    expect(err).toBeInstanceOf(NetlinkError);
    expect(err.code).toBe('EEXIST');
    expect(err.step).toBe(3);
    expect(err.op).toBe('NFT_MSG_NEWSETELEM');
    expect(err.message).toContain(`create element inet ${T} dnat4_ip`);
    expect(nftIn(ns.name!, ['-j', 'list', 'table', F, T])).toBe(before);
    expect(ruleset(ns.name!)).toBe(beforeText);
  });

  it('a long element list spans several messages of one batch and stays all-or-nothing', async () => {
    const ns = await scope.ns('big');
    await buildLayout(ns);
    const t = { family: F, table: T };
    const many = Array.from({ length: 20_000 }, (_, i) => ({ key: [`10.88.${i >> 8}.${i & 255}`, 'tcp', 80] as [string, string, number] }));
    let tx = ns.nft.transaction();
    tx.addElements({ ...t, set: 'pub4', elements: many.slice(0, 10_000) });
    tx.createElements({ ...t, set: 'pub4', elements: [...many.slice(10_000), many[0]!] }); // the last one clashes
    const err = (await tx.commit().catch((e: unknown) => e)) as NetlinkError;
    expect(err.code).toBe('EEXIST');
    expect(err.step).toBe(1);
    expect(nftJson(ns.name!, 'set', F, T, 'pub4')[0]).not.toHaveProperty('set.elem');
    tx = ns.nft.transaction();
    tx.addElements({ ...t, set: 'pub4', elements: many });
    await tx.commit();
    const set = nftJson(ns.name!, 'set', F, T, 'pub4')[0] as { set: { elem: unknown[] } };
    expect(set.set.elem).toHaveLength(20_000);
  });

  it('with a generation, commit refuses if the ruleset changed since it was read', async () => {
    const ns = await scope.ns('gen');
    await withTable(ns);
    const gen = await ns.nft.generation();
    expect(gen).toBeGreaterThan(0);
    nftIn(ns.name!, ['add', 'chain', F, T, 'sneaky']);
    const tx = ns.nft.transaction({ generation: gen });
    tx.addChain({ family: F, table: T, name: 'mine' });
    const err = (await tx.commit().catch((e: unknown) => e)) as NetlinkError;
    expect(err).toBeInstanceOf(NetlinkError);
    expect(err.errno).toBe(85); // ERESTART
    expect(err.op).toBe('NFNL_MSG_BATCH_BEGIN');
    expect(nftIn(ns.name!, ['list', 'table', F, T])).not.toContain('mine');
    const ok = ns.nft.transaction({ generation: await ns.nft.generation() });
    ok.addChain({ family: F, table: T, name: 'mine' });
    await ok.commit();
    expect(nftIn(ns.name!, ['list', 'table', F, T])).toContain('chain mine');
  });
});

describe('commitSync', () => {
  it('adds and deletes elements on the calling thread, returns rule handles, as nft lists them', async () => {
    const ns = await scope.ns('sync');
    await buildLayout(ns);
    const t = { family: F, table: T };
    const elems = (kind: 'set' | 'map', name: string) => {
      const o = nftJson(ns.name!, kind, F, T, name)[0] as Record<string, { elem?: unknown[] }>;
      return o[kind]!.elem ?? [];
    };
    // What publishing 0.0.0.0:20000 -> 10.88.0.2:80 makes (sets this Nft has not seen: their types are read first).
    let tx = ns.nft.transaction();
    tx.createElements({ ...t, set: 'dnat4_any', elements: [{ key: ['tcp', 20000], value: ['10.88.0.2', 80] }] });
    tx.createElements({ ...t, set: 'pub4', elements: [{ key: ['10.88.0.2', 'tcp', 80] }] });
    tx.addRule({ ...t, chain: 'n1_out', rule: [counter(), accept()] });
    const r = tx.commitSync();
    expect(r.handles.slice(0, 2)).toEqual([undefined, undefined]);
    expect(nftIn(ns.name!, ['-a', 'list', 'chain', F, T, 'n1_out'])).toContain(`# handle ${r.handles[2]}`);
    expect(nftIn(ns.name!, ['list', 'map', F, T, 'dnat4_any'])).toContain('tcp . 20000 : 10.88.0.2 . 80');
    expect(elems('set', 'pub4')).toEqual([{ concat: ['10.88.0.2', 'tcp', 80] }]);
    expect(elems('map', 'dnat4_any')).toHaveLength(1);

    tx = ns.nft.transaction();
    tx.deleteElements({ ...t, set: 'dnat4_any', elements: [{ key: ['tcp', 20000] }] });
    tx.deleteElements({ ...t, set: 'pub4', elements: [{ key: ['10.88.0.2', 'tcp', 80] }] });
    expect(tx.commitSync()).toEqual({ handles: [undefined, undefined] });
    expect(elems('map', 'dnat4_any')).toEqual([]);
    expect(elems('set', 'pub4')).toEqual([]);
  });

  it('fails as commit() does: a NetlinkError naming the step, and nothing half-applied', async () => {
    const ns = await scope.ns('syncerr');
    await buildLayout(ns);
    const t = { family: F, table: T };
    let tx = ns.nft.transaction();
    tx.createElements({ ...t, set: 'dnat4_any', elements: [{ key: ['tcp', 20000], value: ['10.88.0.2', 80] }] });
    tx.commitSync();
    const before = ruleset(ns.name!);

    // EEXIST on the second operation: the first (a fresh pub4 element) is not applied either.
    tx = ns.nft.transaction();
    tx.createElements({ ...t, set: 'pub4', elements: [{ key: ['10.88.0.3', 'tcp', 80] }] });
    tx.createElements({ ...t, set: 'dnat4_any', elements: [{ key: ['tcp', 20000], value: ['10.88.0.3', 80] }] });
    let err = (() => { try { tx.commitSync(); } catch (e) { return e; } })() as NetlinkError;
    expect(err).toBeInstanceOf(NetlinkError);
    expect(err).toMatchObject({ code: 'EEXIST', step: 1, op: 'NFT_MSG_NEWSETELEM' });
    expect(err.message).toContain(`create element inet ${T} dnat4_any`);
    expect(ruleset(ns.name!)).toBe(before);

    // No such table: for elements, the set's types cannot be read (NFT_MSG_GETSET);
    // for a chain, the kernel refuses the batch. Either way nothing changes.
    tx = ns.nft.transaction();
    tx.addElements({ family: F, table: 'nope', set: 'pub4', elements: [{ key: ['10.88.0.3', 'tcp', 80] }] });
    err = (() => { try { tx.commitSync(); } catch (e) { return e; } })() as NetlinkError;
    expect(err).toBeInstanceOf(NetlinkError);
    expect(err).toMatchObject({ code: 'ENOENT', op: 'NFT_MSG_GETSET' });
    tx = ns.nft.transaction();
    tx.addElements({ ...t, set: 'pub4', elements: [{ key: ['10.88.0.4', 'tcp', 80] }] });
    tx.addChain({ family: F, table: 'nope', name: 'c' });
    err = (() => { try { tx.commitSync(); } catch (e) { return e; } })() as NetlinkError;
    expect(err).toMatchObject({ code: 'ENOENT', step: 1, op: 'NFT_MSG_NEWCHAIN' });
    expect(ruleset(ns.name!)).toBe(before);
    // The same transaction through commit() fails the same way.
    tx = ns.nft.transaction();
    tx.addElements({ ...t, set: 'pub4', elements: [{ key: ['10.88.0.4', 'tcp', 80] }] });
    tx.addChain({ family: F, table: 'nope', name: 'c' });
    await expect(tx.commit()).rejects.toMatchObject({ code: 'ENOENT', step: 1, op: 'NFT_MSG_NEWCHAIN' });
  });
});

describe('ownership', () => {
  it('other tables (nft-made, iptables-nft-shaped) stay byte-identical through every operation', async () => {
    const ns = await scope.ns('own');
    const theirs = addForeignTables(ns.name!);
    const check = () => expect(foreign(ns.name!)).toBe(theirs);
    await buildLayout(ns);
    check();
    const t = { family: F, table: T };
    let tx = ns.nft.transaction();
    tx.addElements({ ...t, set: 'pub4', elements: [{ key: ['10.88.0.2', 'tcp', 80] }] });
    tx.addRule({ ...t, chain: 'user_forward', rule: [ct.state.any('invalid'), drop()] });
    await tx.commit();
    check();
    tx = ns.nft.transaction();
    tx.deleteElements({ ...t, set: 'pub4', elements: [{ key: ['10.88.0.2', 'tcp', 80] }] });
    tx.createElements({ ...t, set: 'fwd_in', elements: [{ key: 'br-n1', value: { verdict: 'jump', chain: 'n1_in' } }] });
    await tx.commit().catch(() => undefined);
    check();
    await ns.nft.listTable(F, T);
    tx = ns.nft.transaction();
    tx.deleteTable({ family: F, name: T });
    await tx.commit();
    check();
    expect(ruleset(ns.name!)).not.toContain(T);
  });
});

describe('bad input', () => {
  it('throws TypeError/RangeError before anything reaches the kernel, and leaves nothing', async () => {
    const ns = await scope.ns('bad');
    await withTable(ns);
    const before = ruleset(ns.name!);
    const t = { family: F, table: T };
    const tx = ns.nft.transaction();
    // @ts-expect-error wrong family on purpose
    expect(() => tx.addTable({ family: 'inet4', name: 'x' })).toThrow(TypeError);
    expect(() => tx.addChain({ ...t, name: '' })).toThrow(TypeError);
    expect(() => tx.addChain({ ...t, name: 'b', type: 'filter' })).toThrow(TypeError); // no hook
    expect(() => tx.addChain({ ...t, name: 'b', hook: 'input', priority: 'loud' })).toThrow(TypeError);
    expect(() => tx.addRule({ ...t, chain: 'c', rule: [ip.daddr.eq('10.0.0.300'), accept()] })).toThrow(TypeError);
    expect(() => tx.addRule({ ...t, chain: 'c', rule: [th.dport.eq(70000)] })).toThrow(RangeError);
    expect(() => tx.addRule({ ...t, chain: 'c', rule: [iifname.eq('a/b')] })).toThrow(TypeError);
    expect(() => tx.addRule({ ...t, chain: 'c', rule: [jump('')] })).toThrow(TypeError);
    expect(() => tx.addRule({ ...t, chain: 'c', rule: [] })).toThrow(TypeError);
    // @ts-expect-error unknown raw expression
    expect(() => tx.addRule({ ...t, chain: 'c', rule: [{ type: 'warp', speed: 9 }] })).toThrow(TypeError);
    expect(() => tx.addRule({ ...t, chain: 'c', rule: [{ type: 'cmp', sreg: 99, op: 'eq', data: Buffer.from([1]) }] })).toThrow(RangeError);
    expect(() => tx.addSet({ ...t, name: 's', key: 'ipv5_addr' as never })).toThrow(TypeError);
    expect(() => tx.addSet({ ...t, name: 's', key: { typeof: [ip.daddr, meta.l4proto] }, flags: ['interval'] })).toThrow(RangeError);
    tx.addSet({ ...t, name: 'm', key: 'ifname', map: 'verdict' });
    expect(() => tx.addElements({ ...t, set: 'm', elements: [{ key: 'br0' }] })).toThrow(TypeError); // no value
    expect(() => tx.addElements({ ...t, set: 'm', elements: [{ key: 'br0', value: 'accept' }] })).toThrow(TypeError);
    expect(() => tx.addElements({ ...t, set: 'm', elements: [] })).toThrow(TypeError);
    // Elements of an existing set are checked against its types before sending.
    const tx2 = ns.nft.transaction();
    nftIn(ns.name!, ['add', 'set', F, T, 'addrs', '{ type ipv4_addr; }']);
    const snapshot = ruleset(ns.name!);
    tx2.addElements({ ...t, set: 'addrs', elements: [{ key: 'not-an-ip' }] });
    await expect(tx2.commit()).rejects.toBeInstanceOf(TypeError);
    expect(ruleset(ns.name!)).toBe(snapshot);
    nftIn(ns.name!, ['delete', 'set', F, T, 'addrs']);
    expect(ruleset(ns.name!)).toBe(before);
  });
});
