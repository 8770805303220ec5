// nftables: typed transactions and listings over NETLINK_NETFILTER, and a rule
// vocabulary in nft's words.
export {
  Nft, Transaction, type TableRef, type TableSpec, type TableFlag, type ChainRef, type ChainSpec, type RuleSpec,
  type RuleRef, type KeySpec, type SetSpec, type SetRef, type ElementSpec, type ElementsSpec, type TableInfo,
  type ChainInfo, type RuleInfo, type SetInfo, type ElementInfo, type TableListing, type CommitResult,
} from './nft';
export type * from './expr';
export {
  Selector, Concat, concat, ip, ip6, th, tcp, udp, meta, iifname, oifname, ct, fib, accept, drop, jump, goto, verdict,
  counter, notrack, masquerade, redirect, dnat, snat, reject, log, limit, compileRule, type Statement, type RuleItem,
  type MapLookup, type NatTarget, type NatOptions, type TypeofPart,
} from './rule';
export type { Family, Hook, MetaKey, CtKey, FibFlag, FibResult, NatFlag, CmpOp, PayloadBase, SetFlag } from './constants';
export { type DatatypeName, type Scalar } from './datatypes';
