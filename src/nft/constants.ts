// nftables numbers from the kernel uapi (linux/netfilter/nf_tables.h, nfnetlink.h) and
// the names nft prints for them. Names are the public vocabulary; numbers go to native.

/** Table families as nft names them (NFPROTO_*). */
export type Family = 'inet' | 'ip' | 'ip6' | 'arp' | 'bridge' | 'netdev';

export const FAMILIES: Record<Family, number> = { inet: 1, ip: 2, arp: 3, netdev: 5, bridge: 7, ip6: 10 };

/** nftables message numbers (NFT_MSG_*). */
export const MSG = {
  NEWTABLE: 0, DELTABLE: 2, NEWCHAIN: 3, DELCHAIN: 5, NEWRULE: 6, DELRULE: 8, NEWSET: 9, DELSET: 11,
  NEWSETELEM: 12, DELSETELEM: 14, DESTROYTABLE: 26, DESTROYCHAIN: 27, DESTROYRULE: 28, DESTROYSET: 29,
  DESTROYSETELEM: 30,
} as const;

/** netlink message flags used by the verbs. */
export const NLM_F = { REPLACE: 0x100, EXCL: 0x200, CREATE: 0x400, APPEND: 0x800, ECHO: 0x8 } as const;

/** Chain hooks (NF_INET_*; ingress/egress are NF_NETDEV_* in netdev tables, NF_INET_INGRESS in inet). */
export type Hook = 'prerouting' | 'input' | 'forward' | 'output' | 'postrouting' | 'ingress' | 'egress';
export const HOOKS: Record<Hook, number> = { prerouting: 0, input: 1, forward: 2, output: 3, postrouting: 4, ingress: 0, egress: 1 };

/** Named chain priorities, as nft spells them (for the ip/ip6/inet families). */
export const PRIORITIES: Record<string, number> = {
  raw: -300, mangle: -150, dstnat: -100, filter: 0, security: 50, srcnat: 100,
};

/** Verdict codes (NF_DROP, NF_ACCEPT, NFT_CONTINUE...). */
export type VerdictName = 'accept' | 'drop' | 'continue' | 'break' | 'jump' | 'goto' | 'return';
export const VERDICTS: Record<VerdictName, number> = {
  drop: 0, accept: 1, continue: -1, break: -2, jump: -3, goto: -4, return: -5,
};

/** Payload bases (NFT_PAYLOAD_*_HEADER). */
export type PayloadBase = 'link' | 'network' | 'transport' | 'inner';
export const PAYLOAD_BASES: Record<PayloadBase, number> = { link: 0, network: 1, transport: 2, inner: 3 };

/** cmp operators (NFT_CMP_*). */
export type CmpOp = 'eq' | 'neq' | 'lt' | 'lte' | 'gt' | 'gte';
export const CMP_OPS: Record<CmpOp, number> = { eq: 0, neq: 1, lt: 2, lte: 3, gt: 4, gte: 5 };

/** bitwise operations (NFT_BITWISE_*). */
export type BitwiseOp = 'bool' | 'lshift' | 'rshift';
export const BITWISE_OPS: Record<BitwiseOp, number> = { bool: 0, lshift: 1, rshift: 2 };

/** meta keys (NFT_META_*). */
export type MetaKey =
  | 'len' | 'protocol' | 'priority' | 'mark' | 'iif' | 'oif' | 'iifname' | 'oifname' | 'iiftype' | 'oiftype'
  | 'skuid' | 'skgid' | 'nftrace' | 'rtclassid' | 'secmark' | 'nfproto' | 'l4proto' | 'ibrname' | 'obrname'
  | 'pkttype' | 'cpu' | 'iifgroup' | 'oifgroup' | 'cgroup' | 'random';
export const META_KEYS: Record<MetaKey, number> = {
  len: 0, protocol: 1, priority: 2, mark: 3, iif: 4, oif: 5, iifname: 6, oifname: 7, iiftype: 8, oiftype: 9,
  skuid: 10, skgid: 11, nftrace: 12, rtclassid: 13, secmark: 14, nfproto: 15, l4proto: 16, ibrname: 17,
  obrname: 18, pkttype: 19, cpu: 20, iifgroup: 21, oifgroup: 22, cgroup: 23, random: 24,
};

/** ct keys (NFT_CT_*). */
export type CtKey =
  | 'state' | 'direction' | 'status' | 'mark' | 'secmark' | 'expiration' | 'helper' | 'l3proto' | 'saddr'
  | 'daddr' | 'protocol' | 'proto-src' | 'proto-dst' | 'label' | 'packets' | 'bytes' | 'avgpkt' | 'zone'
  | 'event' | 'ip saddr' | 'ip daddr' | 'ip6 saddr' | 'ip6 daddr' | 'id';
export const CT_KEYS: Record<CtKey, number> = {
  state: 0, direction: 1, status: 2, mark: 3, secmark: 4, expiration: 5, helper: 6, l3proto: 7, saddr: 8,
  daddr: 9, protocol: 10, 'proto-src': 11, 'proto-dst': 12, label: 13, packets: 14, bytes: 15, avgpkt: 16,
  zone: 17, event: 18, 'ip saddr': 19, 'ip daddr': 20, 'ip6 saddr': 21, 'ip6 daddr': 22, id: 23,
};

/** fib flags (NFTA_FIB_F_*) and results (NFT_FIB_RESULT_*). */
export type FibFlag = 'saddr' | 'daddr' | 'mark' | 'iif' | 'oif' | 'present';
export const FIB_FLAGS: Record<FibFlag, number> = { saddr: 1, daddr: 2, mark: 4, iif: 8, oif: 16, present: 32 };
/** What a fib lookup puts in its register (NFT_FIB_RESULT_*). */
export type FibResult = 'oif' | 'oifname' | 'type';
export const FIB_RESULTS: Record<FibResult, number> = { oif: 1, oifname: 2, type: 3 };

/** NAT types and range flags (NF_NAT_RANGE_*). */
export const NAT_TYPES = { snat: 0, dnat: 1 } as const;
/** NAT range flags (NF_NAT_RANGE_*), as nft names them. */
export type NatFlag = 'map-ips' | 'proto-specified' | 'random' | 'persistent' | 'fully-random' | 'proto-offset' | 'netmap';
export const NAT_FLAGS: Record<NatFlag, number> = {
  'map-ips': 1, 'proto-specified': 2, random: 4, persistent: 8, 'fully-random': 16, 'proto-offset': 32, netmap: 64,
};

/** reject types (NFT_REJECT_*). */
export type RejectType = 'icmp' | 'tcp-reset' | 'icmpx';
export const REJECT_TYPES: Record<RejectType, number> = { icmp: 0, 'tcp-reset': 1, icmpx: 2 };

/** Set flags (NFT_SET_*). */
export type SetFlag = 'anonymous' | 'constant' | 'interval' | 'map' | 'timeout' | 'dynamic' | 'object' | 'concat' | 'expr';
export const SET_FLAGS: Record<SetFlag, number> = {
  anonymous: 1, constant: 2, interval: 4, map: 8, timeout: 0x10, dynamic: 0x20, object: 0x40, concat: 0x80, expr: 0x100,
};

/** Set element flags. */
export const ELEM_INTERVAL_END = 1;

/** Data type of a verdict map's data (NFT_DATA_VERDICT). */
export const DATA_VERDICT = 0xffffff00;

/** Registers: 0 is the verdict, 1-4 are 16 bytes wide, 8-23 are the same space in 4-byte slots. */
export const REG_VERDICT = 0;
export const REG_1 = 1;
export const REG32_00 = 8;

export function nameOf<K extends string>(table: Record<K, number>, n: number): K | number {
  for (const [k, v] of Object.entries(table) as [K, number][]) if (v === n) return k;
  return n;
}

export function flagNames<K extends string>(table: Record<K, number>, bits: number): K[] {
  const out: K[] = [];
  for (const [k, v] of Object.entries(table) as [K, number][]) if (v && (bits & v) === v) out.push(k);
  return out;
}
