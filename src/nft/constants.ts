// nftables names, as nft prints them, and the kernel's numbers for them. The numbers
// come from the one table of src/constants.ts (generated from the uapi headers, shared
// with native/); the types here are the names the public API takes, and typing each
// table with them keeps the two in step. Names are the public vocabulary; numbers go to
// native code.
import {
  NFT_BITWISE_OPS, NFT_CMP_OPS, NFT_CT_KEYS, NFT_FAMILIES, NFT_FIB_FLAGS, NFT_FIB_RESULTS, NFT_HOOKS, NFT_META_KEYS, NFT_MSG,
  NFT_NAT_FLAGS, NFT_NAT_TYPES, NFT_PAYLOAD_BASES, NFT_PRIORITIES, NFT_REJECT_TYPES, NFT_SET_FLAGS, NFT_VALUES, NFT_VERDICTS,
  NLM_F as NLM_FLAGS,
} from '../constants';

/** Table families as nft names them (NFPROTO_*). */
export type Family = 'inet' | 'ip' | 'ip6' | 'arp' | 'bridge' | 'netdev';
export const FAMILIES: Readonly<Record<Family, number>> = NFT_FAMILIES;

/** nftables message numbers (NFT_MSG_*). */
export const MSG = NFT_MSG;

/** netlink message flags used by the verbs. */
export const NLM_F = NLM_FLAGS;

/** Chain hooks (NF_INET_*; ingress/egress are NF_NETDEV_* in netdev tables, NF_INET_INGRESS in inet). */
export type Hook = 'prerouting' | 'input' | 'forward' | 'output' | 'postrouting' | 'ingress' | 'egress';
export const HOOKS: Readonly<Record<Hook, number>> = NFT_HOOKS;

/** Named chain priorities, as nft spells them (for the ip/ip6/inet families). */
export const PRIORITIES: Readonly<Record<string, number>> = NFT_PRIORITIES;

/** Verdict codes (NF_DROP, NF_ACCEPT, NFT_CONTINUE...). */
export type VerdictName = 'accept' | 'drop' | 'continue' | 'break' | 'jump' | 'goto' | 'return';
export const VERDICTS: Readonly<Record<VerdictName, number>> = NFT_VERDICTS;

/** Payload bases (NFT_PAYLOAD_*_HEADER). */
export type PayloadBase = 'link' | 'network' | 'transport' | 'inner';
export const PAYLOAD_BASES: Readonly<Record<PayloadBase, number>> = NFT_PAYLOAD_BASES;

/** cmp operators (NFT_CMP_*). */
export type CmpOp = 'eq' | 'neq' | 'lt' | 'lte' | 'gt' | 'gte';
export const CMP_OPS: Readonly<Record<CmpOp, number>> = NFT_CMP_OPS;

/** bitwise operations (NFT_BITWISE_*). */
export type BitwiseOp = 'bool' | 'lshift' | 'rshift';
export const BITWISE_OPS: Readonly<Record<BitwiseOp, number>> = NFT_BITWISE_OPS;

/** meta keys (NFT_META_*). */
export type MetaKey =
  | 'len' | 'protocol' | 'priority' | 'mark' | 'iif' | 'oif' | 'iifname' | 'oifname' | 'iiftype' | 'oiftype'
  | 'skuid' | 'skgid' | 'nftrace' | 'rtclassid' | 'secmark' | 'nfproto' | 'l4proto' | 'ibrname' | 'obrname'
  | 'pkttype' | 'cpu' | 'iifgroup' | 'oifgroup' | 'cgroup' | 'random';
export const META_KEYS: Readonly<Record<MetaKey, number>> = NFT_META_KEYS;

/** ct keys (NFT_CT_*). */
export type CtKey =
  | 'state' | 'direction' | 'status' | 'mark' | 'secmark' | 'expiration' | 'helper' | 'l3proto' | 'saddr'
  | 'daddr' | 'protocol' | 'proto-src' | 'proto-dst' | 'label' | 'packets' | 'bytes' | 'avgpkt' | 'zone'
  | 'event' | 'ip saddr' | 'ip daddr' | 'ip6 saddr' | 'ip6 daddr' | 'id';
export const CT_KEYS: Readonly<Record<CtKey, number>> = NFT_CT_KEYS;

/** fib flags (NFTA_FIB_F_*) and results (NFT_FIB_RESULT_*). */
export type FibFlag = 'saddr' | 'daddr' | 'mark' | 'iif' | 'oif' | 'present';
export const FIB_FLAGS: Readonly<Record<FibFlag, number>> = NFT_FIB_FLAGS;
/** What a fib lookup puts in its register (NFT_FIB_RESULT_*). */
export type FibResult = 'oif' | 'oifname' | 'type';
export const FIB_RESULTS: Readonly<Record<FibResult, number>> = NFT_FIB_RESULTS;

/** NAT types (NFT_NAT_*). */
export const NAT_TYPES = NFT_NAT_TYPES;
/** NAT range flags (NF_NAT_RANGE_*), as nft names them. */
export type NatFlag = 'map-ips' | 'proto-specified' | 'random' | 'persistent' | 'fully-random' | 'proto-offset' | 'netmap';
export const NAT_FLAGS: Readonly<Record<NatFlag, number>> = NFT_NAT_FLAGS;

/** reject types (NFT_REJECT_*). */
export type RejectType = 'icmp' | 'tcp-reset' | 'icmpx';
export const REJECT_TYPES: Readonly<Record<RejectType, number>> = NFT_REJECT_TYPES;

/** Set flags (NFT_SET_*). */
export type SetFlag = 'anonymous' | 'constant' | 'interval' | 'map' | 'timeout' | 'dynamic' | 'object' | 'concat' | 'expr';
export const SET_FLAGS: Readonly<Record<SetFlag, number>> = NFT_SET_FLAGS;

/** Registers: 0 is the verdict, 1-4 are 16 bytes wide, 8-23 are the same space in 4-byte slots. */
export const { REG_VERDICT, REG_1, REG32_00 } = NFT_VALUES;

export function nameOf<K extends string>(table: Readonly<Record<K, number>>, n: number): K | number {
  for (const [k, v] of Object.entries(table) as [K, number][]) if (v === n) return k;
  return n;
}

export function flagNames<K extends string>(table: Readonly<Record<K, number>>, bits: number): K[] {
  const out: K[] = [];
  for (const [k, v] of Object.entries(table) as [K, number][]) if (v && (bits & v) === v) out.push(k);
  return out;
}

// Each union above names exactly the entries of its table (src/constants.ts): a compile
// error otherwise.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const sameNames: [
  Same<Family, keyof typeof NFT_FAMILIES>, Same<Hook, keyof typeof NFT_HOOKS>, Same<VerdictName, keyof typeof NFT_VERDICTS>,
  Same<PayloadBase, keyof typeof NFT_PAYLOAD_BASES>, Same<CmpOp, keyof typeof NFT_CMP_OPS>, Same<BitwiseOp, keyof typeof NFT_BITWISE_OPS>,
  Same<MetaKey, keyof typeof NFT_META_KEYS>, Same<CtKey, keyof typeof NFT_CT_KEYS>, Same<FibFlag, keyof typeof NFT_FIB_FLAGS>,
  Same<FibResult, keyof typeof NFT_FIB_RESULTS>, Same<NatFlag, keyof typeof NFT_NAT_FLAGS>, Same<RejectType, keyof typeof NFT_REJECT_TYPES>,
  Same<SetFlag, keyof typeof NFT_SET_FLAGS>,
] = [true, true, true, true, true, true, true, true, true, true, true, true, true];
void sameNames;
