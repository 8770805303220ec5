// nftables test helpers: nft's own view of a namespace (the independent checker), its
// exact bytes (strace of nft), and the reference layout built through netplumb.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { Netns } from '../src';
import {
  accept, concat, counter, ct, dnat, drop, fib, iifname, ip, ip6, jump, masquerade, meta, oifname, th, verdict,
} from '../src/nft';
import { run } from './helpers';

/** Runs nft inside a named namespace. */
export function nftIn(ns: string, args: string[], input?: string): string {
  return run('ip', ['netns', 'exec', ns, 'nft', ...args], input);
}

/** `nft -j list ...` parsed, without metainfo. */
export function nftJson(ns: string, ...what: string[]): Record<string, unknown>[] {
  const out = JSON.parse(nftIn(ns, ['-j', 'list', ...what])) as { nftables: Record<string, unknown>[] };
  return out.nftables.filter((o) => !('metainfo' in o));
}

/** Drops handles (and counter values) so two namespaces' listings compare. */
export function normalise(objs: unknown): unknown {
  return JSON.parse(JSON.stringify(objs), (k, v: unknown) => {
    if (k === 'handle') return undefined;
    if (k === 'counter' && v && typeof v === 'object') return { packets: 0, bytes: 0 };
    return v;
  });
}

/** The whole ruleset as text, for byte-identical before/after checks. */
export function ruleset(ns: string): string {
  return nftIn(ns, ['-a', 'list', 'ruleset']);
}

/**
 * The netlink messages nft sends for a command, from an strace of its sendmsg calls
 * (the batch: BATCH_BEGIN, the objects, BATCH_END).
 */
export function nftBytes(ns: string, args: string[], input?: string): Buffer {
  const dir = mkdtempSync(path.join(tmpdir(), 'nftst-'));
  const file = path.join(dir, 'st');
  try {
    execFileSync('ip', ['netns', 'exec', ns, 'strace', '-qq', '-e', 'trace=sendmsg', '-e', 'write=3', '-o', file, 'nft', ...args], {
      input, stdio: ['pipe', 'pipe', 'pipe'],
    });
    const bytes: number[] = [];
    let inMsg = false;
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      if (line.startsWith('sendmsg(')) { inMsg = true; continue; }
      const m = /^ \| [0-9a-f]{5}  (.{48})/.exec(line);
      if (m && inMsg) bytes.push(...m[1]!.trim().split(/\s+/).filter(Boolean).map((h) => parseInt(h, 16)));
    }
    return Buffer.from(bytes);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Splits a stream of netlink messages. */
export function messages(buf: Buffer): { type: number; flags: number; body: Buffer }[] {
  const out: { type: number; flags: number; body: Buffer }[] = [];
  let o = 0;
  while (o + 16 <= buf.length) {
    const len = buf.readUInt32LE(o);
    if (len < 16) break;
    out.push({ type: buf.readUInt16LE(o + 4), flags: buf.readUInt16LE(o + 6), body: buf.subarray(o + 16, o + len) });
    o += (len + 3) & ~3;
  }
  return out;
}

/** Attributes of a message body after its 4-byte nfgenmsg: type (flags kept) -> payload. */
export function attrs(body: Buffer, skip = 4): { type: number; data: Buffer }[] {
  const out: { type: number; data: Buffer }[] = [];
  let o = skip;
  while (o + 4 <= body.length) {
    const len = body.readUInt16LE(o);
    if (len < 4) break;
    out.push({ type: body.readUInt16LE(o + 2), data: body.subarray(o + 4, o + len) });
    o += (len + 3) & ~3;
  }
  return out;
}

function rebuild(items: { type: number; data: Buffer }[]): Buffer {
  return Buffer.concat(items.map(({ type, data }) => {
    const h = Buffer.alloc(4);
    h.writeUInt16LE(4 + data.length, 0);
    h.writeUInt16LE(type, 2);
    return Buffer.concat([h, data, Buffer.alloc(((data.length + 3) & ~3) - data.length)]);
  }));
}

/** An NFTA_RULE_EXPRESSIONS payload without NFTA_LOOKUP_SET_ID in its lookups. */
export function stripLookupSetId(list: Buffer): Buffer {
  return rebuild(attrs(list, 0).map((elem) => {
    const parts = attrs(elem.data, 0);
    const name = parts.find((p) => (p.type & 0x3fff) === 1)?.data.toString('latin1').replace(/\0+$/, '');
    if (name !== 'lookup') return elem;
    return {
      type: elem.type,
      data: rebuild(parts.map((p) => ((p.type & 0x3fff) === 2 ? { type: p.type, data: rebuild(attrs(p.data, 0).filter((a) => a.type !== 4)) } : p))),
    };
  }));
}

export const T = 'netplumb';

/** The dual-stack reference layout (test/fixtures/nft-layout-ip6.nft). */
export const LAYOUT6 = path.join(__dirname, 'fixtures', 'nft-layout-ip6.nft');

/**
 * The dual-stack reference as nft text: 'dual' whole (n1 dual stack); 'base' without
 * n1's IPv6 lines ("# ip6 n1": what netplumb makes for an IPv4-only n1); 'ipv4' without
 * any IPv6 line (the IPv4 reference's objects).
 */
export function layout6(variant: 'dual' | 'base' | 'ipv4'): string {
  const drop = variant === 'dual' ? undefined : variant === 'base' ? /\s#\s*ip6 n1\s*$/ : /\s#\s*ip6( n1)?\s*$/;
  const lines = readFileSync(LAYOUT6, 'utf8').split('\n');
  return (drop ? lines.filter((l) => l.trimStart().startsWith('#') || !drop.test(l)) : lines).join('\n');
}
const F = 'inet' as const;

/**
 * The reference layout (test/fixtures/nft-layout.nft) with network "n1", built through
 * netplumb; with `ip6`, its dual-stack form (test/fixtures/nft-layout-ip6.nft: n1 also
 * has fd00:88::/64).
 */
export async function buildLayout(ns: Netns, o: { ip6?: boolean } = {}): Promise<(number | undefined)[]> {
  const six = o.ip6 === true;
  const tx = ns.nft.transaction();
  const t = { family: F, table: T };
  tx.addTable({ family: F, name: T });
  // Same creation order as nft -f: sets and chains are listed in creation order.
  tx.addSet({ ...t, name: 'fwd_in', key: 'ifname', map: 'verdict' });
  tx.addSet({ ...t, name: 'fwd_out', key: 'ifname', map: 'verdict' });
  tx.addSet({ ...t, name: 'snat_in', key: 'ifname', map: 'verdict' });
  tx.addSet({ ...t, name: 'snat_out', key: 'ifname', map: 'verdict' });
  tx.addSet({ ...t, name: 'guard4', key: 'ipv4_addr', map: 'verdict', flags: ['interval'] });
  tx.addSet({ ...t, name: 'dnat4_ip', key: { typeof: [ip.daddr, meta.l4proto, th.dport] }, map: { typeof: [ip.daddr, th.dport] } });
  tx.addSet({ ...t, name: 'dnat4_any', key: { typeof: [meta.l4proto, th.dport] }, map: { typeof: [ip.daddr, th.dport] } });
  tx.addSet({ ...t, name: 'pub4', key: { typeof: [ip.daddr, meta.l4proto, th.dport] } });
  tx.addSet({ ...t, name: 'lo_pub4', key: { typeof: [meta.l4proto, th.dport] } });
  if (six) {
    tx.addSet({ ...t, name: 'guard6', key: 'ipv6_addr', map: 'verdict', flags: ['interval'] });
    tx.addSet({ ...t, name: 'dnat6_ip', key: { typeof: [ip6.daddr, meta.l4proto, th.dport] }, map: { typeof: [ip6.daddr, th.dport] } });
    tx.addSet({ ...t, name: 'dnat6_any', key: { typeof: [meta.l4proto, th.dport] }, map: { typeof: [ip6.daddr, th.dport] } });
    tx.addSet({ ...t, name: 'pub6', key: { typeof: [ip6.daddr, meta.l4proto, th.dport] } });
  }
  tx.addChain({ ...t, name: 'user_forward' });
  tx.addChain({ ...t, name: 'raw_pre', type: 'filter', hook: 'prerouting', priority: 'raw', policy: 'accept' });
  tx.addChain({ ...t, name: 'forward', type: 'filter', hook: 'forward', priority: 'filter', policy: 'accept' });
  tx.addChain({ ...t, name: 'pub' });
  tx.addChain({ ...t, name: 'nat_pre', type: 'nat', hook: 'prerouting', priority: 'dstnat', policy: 'accept' });
  tx.addChain({ ...t, name: 'nat_out', type: 'nat', hook: 'output', priority: -100, policy: 'accept' });
  tx.addChain({ ...t, name: 'nat_post', type: 'nat', hook: 'postrouting', priority: 'srcnat', policy: 'accept' });
  for (const c of ['n1_in', 'n1_out', 'n1_snat', 'n1_hairpin', 'n1_guard']) tx.addChain({ ...t, name: c });
  const r = (chain: string, ...rule: Parameters<typeof tx.addRule>[0]['rule']): number => tx.addRule({ ...t, chain, rule });
  r('raw_pre', ip.daddr.vmap('guard4'));
  r('raw_pre', iifname.neq('lo'), ip.daddr.eq('127.0.0.0/8'), concat(meta.l4proto, th.dport).in('lo_pub4'), drop());
  if (six) r('raw_pre', ip6.daddr.vmap('guard6'));
  r('forward', jump('user_forward'));
  r('forward', oifname.vmap('fwd_in'));
  r('forward', iifname.vmap('fwd_out'));
  r('pub', dnat({ family: 'ip', map: concat(ip.daddr, meta.l4proto, th.dport).map('dnat4_ip'), withPort: true }));
  r('pub', dnat({ family: 'ip', map: concat(meta.l4proto, th.dport).map('dnat4_any'), withPort: true }));
  if (six) {
    r('pub', ip6.daddr.eq('::1'), verdict.return());
    r('pub', dnat({ family: 'ip6', map: concat(ip6.daddr, meta.l4proto, th.dport).map('dnat6_ip'), withPort: true }));
    r('pub', dnat({ family: 'ip6', map: concat(meta.l4proto, th.dport).map('dnat6_any'), withPort: true }));
  }
  r('nat_pre', fib.daddrType.eq('local'), jump('pub'));
  r('nat_out', fib.daddrType.eq('local'), jump('pub'));
  r('nat_post', oifname.vmap('snat_in'));
  r('nat_post', iifname.vmap('snat_out'));
  r('n1_in', ct.state.any('established', 'related'), accept());
  r('n1_in', iifname.eq('br-n1'), accept());
  r('n1_in', concat(ip.daddr, meta.l4proto, th.dport).in('pub4'), accept());
  if (six) r('n1_in', concat(ip6.daddr, meta.l4proto, th.dport).in('pub6'), accept());
  r('n1_in', counter(), drop());
  r('n1_out', accept());
  r('n1_snat', oifname.neq('br-n1'), ip.saddr.eq('10.88.0.0/16'), masquerade());
  if (six) r('n1_snat', oifname.neq('br-n1'), ip6.saddr.eq('fd00:88::/64'), masquerade());
  r('n1_hairpin', ct.status.any('dnat'), fib.saddrType.eq('local'), masquerade());
  r('n1_hairpin', ct.status.any('dnat'), ip.saddr.eq('10.88.0.0/16'), masquerade());
  if (six) r('n1_hairpin', ct.status.any('dnat'), ip6.saddr.eq('fd00:88::/64'), masquerade());
  r('n1_guard', iifname.neq('br-n1'), counter(), drop());
  tx.addElements({ ...t, set: 'fwd_in', elements: [{ key: 'br-n1', value: { verdict: 'jump', chain: 'n1_in' } }] });
  tx.addElements({ ...t, set: 'fwd_out', elements: [{ key: 'br-n1', value: { verdict: 'jump', chain: 'n1_out' } }] });
  tx.addElements({ ...t, set: 'snat_in', elements: [{ key: 'br-n1', value: { verdict: 'jump', chain: 'n1_hairpin' } }] });
  tx.addElements({ ...t, set: 'snat_out', elements: [{ key: 'br-n1', value: { verdict: 'jump', chain: 'n1_snat' } }] });
  tx.addElements({ ...t, set: 'guard4', elements: [{ key: '10.88.0.0/16', value: { verdict: 'jump', chain: 'n1_guard' } }] });
  if (six) tx.addElements({ ...t, set: 'guard6', elements: [{ key: 'fd00:88::/64', value: { verdict: 'jump', chain: 'n1_guard' } }] });
  return (await tx.commit()).handles;
}
