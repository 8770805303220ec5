// Golden bytes: what netplumb encodes equals what nft sends (captured with strace), for
// every expression kind, for the objects of the reference layout, and the decoder turns
// nft's bytes into expressions that encode back to the same bytes.
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { codec, type Netns } from '../src';
import {
  accept, concat, counter, ct, dnat, drop, type Expr, fib, goto, iifname, ip, ip6, jump, limit, log, masquerade,
  meta, notrack, oifname, redirect, reject, type RuleItem, snat, tcp, th, verdict,
} from '../src/nft';
import { Scope, tryRun } from './helpers';
import { attrs, buildLayout, messages, nftBytes, nftIn, stripLookupSetId } from './nft-helpers';

const haveStrace = tryRun('strace', ['-V']).status === 0;
const scope = new Scope();
let ns: Netns;

const NEWRULE = (10 << 8) | 6;
const NEWSET = (10 << 8) | 9;
const NESTED = 0x8000;
const EXPRESSIONS = 4 | NESTED;

function ruleExprBytes(batch: Buffer): Buffer[] {
  return messages(batch).filter((m) => m.type === NEWRULE).map((m) => attrs(m.body).find((a) => a.type === EXPRESSIONS)!.data);
}

beforeAll(async () => {
  ns = await scope.ns('gold');
  nftIn(ns.name!, ['-f', '-'], `
    table inet t {
      set s { type ipv4_addr; }
      map guard4 { type ipv4_addr : verdict; flags interval; }
      map guard6 { type ipv6_addr : verdict; flags interval; }
      set pub6 { typeof ip6 daddr . meta l4proto . th dport; }
      map dnat4_ip { typeof ip daddr . meta l4proto . th dport : ip daddr . th dport; }
      set lo_pub4 { typeof meta l4proto . th dport; }
      map m { type inet_service : ipv4_addr; }
      map ifm { type ifname : verdict; }
      chain c { }
      chain d { }
    }`);
});
afterAll(() => scope.cleanup());

// nft's text, and the same rule in netplumb's vocabulary (or raw expressions).
const cases: [string, RuleItem[]][] = [
  ['ip daddr vmap @guard4', [ip.daddr.vmap('guard4')]],
  ['iifname != "lo" ip daddr 127.0.0.0/8 meta l4proto . th dport @lo_pub4 drop',
    [iifname.neq('lo'), ip.daddr.eq('127.0.0.0/8'), concat(meta.l4proto, th.dport).in('lo_pub4'), drop()]],
  ['jump d', [jump('d')]],
  ['goto d', [goto('d')]],
  ['oifname vmap @ifm', [oifname.vmap('ifm')]],
  // (`dnat ip to ip daddr . meta l4proto . th dport map @dnat4_ip` only parses inside a
  // table block in nft 1.0.6; the layout test below compares it.)
  ['fib daddr type local jump d', [fib.daddrType.eq('local'), jump('d')]],
  ['ct state established,related accept', [ct.state.any('established', 'related'), accept()]],
  ['ct status dnat fib saddr type local masquerade', [ct.status.any('dnat'), fib.saddrType.eq('local'), masquerade()]],
  ['counter drop', [counter(), drop()]],
  ['oifname != "br-n1" ip saddr 10.88.0.0/16 masquerade', [oifname.neq('br-n1'), ip.saddr.eq('10.88.0.0/16'), masquerade()]],
  ['ip saddr != 10.0.0.0/12 drop', [ip.saddr.neq('10.0.0.0/12'), drop()]],
  ['iifname "br-*" accept', [iifname.eq('br-*'), accept()]],
  ['tcp dport 1000-2000 accept', [tcp.dport.between(1000, 2000), accept()]],
  ['tcp dport != 1000-2000 accept', [tcp.dport.notBetween(1000, 2000), accept()]],
  ['meta l4proto udp th dport 53 accept', [meta.l4proto.eq('udp'), th.dport.eq(53), accept()]],
  ['ip daddr @s continue', [ip.daddr.in('s'), verdict.continue()]],
  ['ip daddr != @s return', [ip.daddr.notIn('s'), verdict.return()]],
  ['ip6 daddr ::1 accept', [ip6.daddr.eq('::1'), accept()]],
  // The IPv6 rules of the dual-stack layout (test/fixtures/nft-layout-ip6.nft).
  ['ip6 daddr vmap @guard6', [ip6.daddr.vmap('guard6')]],
  ['ip6 daddr . meta l4proto . th dport @pub6 accept', [concat(ip6.daddr, meta.l4proto, th.dport).in('pub6'), accept()]],
  ['oifname != "br-n1" ip6 saddr fd00:88::/64 masquerade', [oifname.neq('br-n1'), ip6.saddr.eq('fd00:88::/64'), masquerade()]],
  ['ct status dnat ip6 saddr fd00:88::/64 masquerade', [ct.status.any('dnat'), ip6.saddr.eq('fd00:88::/64'), masquerade()]],
  ['ip6 saddr fd00::/8 drop', [ip6.saddr.eq('fd00::/8'), drop()]],
  ['limit rate 10/second accept', [limit({ rate: 10, per: 'second' }), accept()]],
  ['log prefix "pfx "', [log({ prefix: 'pfx ' })]],
  ['reject with tcp reset', [reject({ with: 'tcp-reset' })]],
  ['reject', [reject()]],
  ['notrack', [notrack()]],
  ['ct mark set 5', [ct.mark.set(5)]],
  ['meta mark set 16', [meta.mark.set(16)]],
  ['meta l4proto tcp dnat ip to 10.0.0.1:8080', [meta.l4proto.eq('tcp'), dnat({ family: 'ip', addr: '10.0.0.1', port: 8080 })]],
  ['meta l4proto tcp snat ip to 1.2.3.4:80-90 persistent',
    [meta.l4proto.eq('tcp'), snat({ family: 'ip', addr: '1.2.3.4', port: [80, 90], persistent: true })]],
  ['meta l4proto tcp redirect to :8080', [meta.l4proto.eq('tcp'), redirect({ port: 8080 })]],
  ['masquerade random', [masquerade({ random: true })]],
  ['dnat ip to tcp dport map @m', [dnat({ family: 'ip', map: tcp.dport.map('m') })]],
  // Raw expressions: `ip protocol tcp` spelled out at register level.
  ['ip protocol tcp', [
    { type: 'meta', key: 'nfproto', dreg: 1 },
    { type: 'cmp', sreg: 1, op: 'eq', data: Buffer.from([2]) },
    { type: 'payload', base: 'network', offset: 9, len: 1, dreg: 1 },
    { type: 'cmp', sreg: 1, op: 'eq', data: Buffer.from([6]) },
  ] satisfies Expr[]],
];

describe.skipIf(!haveStrace)('expression bytes equal what nft sends', () => {
  it.each(cases)('%s', async (text, items) => {
    // nft also numbers sets it merely read from the kernel (NFTA_LOOKUP_SET_ID); the
    // kernel resolves those lookups by name, so that attribute is dropped here.
    const theirs = ruleExprBytes(nftBytes(ns.name!, ['add', 'rule', 'inet', 't', 'c', text])).map(stripLookupSetId);
    expect(theirs).toHaveLength(1);
    const tx = ns.nft.transaction();
    tx.addRule({ family: 'inet', table: 't', chain: 'c', rule: items });
    const mine = ruleExprBytes(await codec.encodeNftTransaction(tx));
    expect(mine[0]!.toString('hex')).toBe(theirs[0]!.toString('hex'));
    // Codec round trip: nft's bytes decode to expressions that encode to the same bytes.
    const decoded = codec.decodeNftExprs(theirs[0]!);
    const again = ns.nft.transaction();
    again.addRule({ family: 'inet', table: 't', chain: 'c', rule: decoded });
    expect(ruleExprBytes(await codec.encodeNftTransaction(again))[0]!.toString('hex')).toBe(theirs[0]!.toString('hex'));
  });
});

describe.skipIf(!haveStrace)('decoding what nft sends', () => {
  it('keeps an expression it has no table for as raw bytes, and sends it back unchanged', async () => {
    const [theirs] = ruleExprBytes(nftBytes(ns.name!, ['add', 'rule', 'inet', 't', 'c', 'quota over 100 bytes counter']));
    const exprs = codec.decodeNftExprs(theirs!);
    expect(exprs.map((e) => e.type)).toEqual(['unknown', 'counter']);
    expect(exprs[0]).toMatchObject({ type: 'unknown', name: 'quota' });
    const tx = ns.nft.transaction();
    tx.addRule({ family: 'inet', table: 't', chain: 'c', rule: exprs });
    expect(ruleExprBytes(await codec.encodeNftTransaction(tx))[0]!.toString('hex')).toBe(theirs!.toString('hex'));
  });

  it('decodes nft\'s set declarations: types, flags, byte orders and typeof', () => {
    const msgs = codec.decodeNftMessages(nftBytes(ns.name!, ['add', 'map', 'inet', 't', 'x',
      '{ typeof ip daddr . meta l4proto . th dport : ip daddr . th dport; flags timeout; timeout 10s; comment "c"; }']));
    const set = msgs.find((m) => m.msg === 'NFT_MSG_NEWSET')!.object!;
    expect(set).toMatchObject({
      name: 'x', table: 't', keyType: 0x730d, keyLen: 12, dataType: 0x1cd, dataLen: 8, timeout: 10_000,
      udata: {
        keyByteorder: 0, dataByteorder: 0, dataInterval: 0, comment: 'c',
        keyTypeof: [{ etype: 7, attrs: [[0, 12], [1, 12]] }, { etype: 9, attrs: [[0, 16]] }, { etype: 7, attrs: [[0, 11], [1, 2]] }],
        dataTypeof: [{ etype: 7, attrs: [[0, 12], [1, 12]] }, { etype: 7, attrs: [[0, 11], [1, 2]] }],
      },
    });
  });
});

describe.skipIf(!haveStrace)('the reference layout, message by message', () => {
  it.each([
    ['IPv4', path.join(__dirname, 'fixtures', 'nft-layout.nft'), false],
    ['dual stack', path.join(__dirname, 'fixtures', 'nft-layout-ip6.nft'), true],
  ] as const)('%s: sets, chains, rules and elements carry the attributes nft sends', async (_what, file, ip6) => {
    const other = await scope.ns('goldl');
    const theirs = messages(nftBytes(other.name!, ['-f', file]));
    const mineNs = await scope.ns('goldm');
    // The batch netplumb commits for the layout, captured on its way out.
    const captured: Buffer[] = [];
    await buildLayoutInto(mineNs, captured, { ip6 });
    const mine = messages(captured[0]!);
    const byKind = (ms: typeof mine, type: number) => ms.filter((m) => m.type === type).map((m) => m.body.toString('hex'));
    // Sets: same ids, flags, types, lengths and userdata (typeof included).
    expect(byKind(mine, NEWSET)).toEqual(byKind(theirs, NEWSET));
    // Rules: identical bodies (lookups carry the same set ids).
    expect(byKind(mine, NEWRULE)).toEqual(byKind(theirs, NEWRULE));
    // Chains.
    expect(byKind(mine, (10 << 8) | 3)).toEqual(byKind(theirs, (10 << 8) | 3));
    // Elements: nft also sends the guard ranges once more (as part of the set
    // declaration, with an interval-end marker); the others are identical.
    const elems = (ms: typeof mine) => ms.filter((m) => m.type === ((10 << 8) | 12)).map((m) => m.body.toString('hex'));
    const t = elems(theirs);
    for (const e of elems(mine)) expect(t).toContain(e);
  });
});

/** Builds the layout with a transaction whose encoded batch is captured before commit. */
async function buildLayoutInto(ns: Netns, out: Buffer[], o: { ip6?: boolean } = {}): Promise<void> {
  const proto = Object.getPrototypeOf(ns.nft.transaction()) as { commit: () => Promise<unknown> };
  const commit = proto.commit;
  proto.commit = async function (this: Parameters<typeof codec.encodeNftTransaction>[0]) {
    out.push(await codec.encodeNftTransaction(this));
    return commit.call(this);
  };
  try {
    await buildLayout(ns, o);
  } finally {
    proto.commit = commit;
  }
}

