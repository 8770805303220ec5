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
  type MapLookup, type NatTarget, type NatOptions, type CompileContext,
} from './rule';
export type {
  Family, Hook, MetaKey, CtKey, FibFlag, FibResult, NatFlag, CmpOp, PayloadBase, SetFlag, BitwiseOp, RejectType, VerdictName,
} from './constants';
// Types that public signatures mention (Selector.dtype, Concat.layout), exported so that
// they are documented and nameable; only their types, not new runtime entry points.
export { type DatatypeName, type Scalar, type Datatype } from './datatypes';
export type { TypeofPart } from '../binding';
