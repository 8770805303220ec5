export { Netns, defaultNetnsDir, type NetnsOptions, type NetnsId, type BegunNetns } from './netns';
export { type PendingNetns } from './batch';
export { Links, type LinkFilter } from './links';
export { Addresses } from './addresses';
export { Routes, type RouteFilter } from './routes';
export {
  Batch, reserveIfindex, type StepResult, type BatchFailure, type NeighDeleteOptions, type AddressVerb, type AddressDeleteVerb,
} from './batch';
export type {
  LinkSpec, LinkBaseSpec, VethPeerSpec, GenericLinkSpec, LinkChanges, LinkRef, AddressOptions, AddressSpec, AddressKey, RouteSpec,
} from './spec';
export {
  Neighbours, type NeighbourSpec, type NeighbourSetState, type NeighbourKey, type NeighbourFilter,
  type NeighbourFlushFilter,
} from './neighbours';
export { Fdb, type FdbSpec, type FdbKey, type FdbFilter, type FdbSetState } from './fdb';
export { Sysctl, sysctlPath, type SysctlValue } from './sysctl';
export {
  Monitor, type MonitorOptions, type MonitorEvent, type MonitorChange, type ResyncEvent,
} from './monitor';
export { NetlinkError, errnoName } from './errors';
export {
  Conntrack, type ConntrackFilter, type ConntrackEntry, type ConntrackTuple, type ConntrackProtocol,
} from './conntrack';
export type {
  Link, OperState, Address, Route, RouteType, Scope, AddrGenMode, BridgeOptions, VxlanOptions, MacvlanOptions,
  MacvlanMode, VlanOptions, IpvlanOptions, IpvlanMode, BridgePortOptions, BridgePortState, Ipv4Conf, Ipv4ConfName, RawStep,
  Neighbour, NeighbourState, NeighbourFlag, NeighbourCacheInfo, FdbEntry, FdbState,
} from './types';
export { IPV4_CONF } from './types';
export { codec } from './codec';
// What the codec's nftables decoder returns: messages as the native side decodes them.
export type {
  NativeNftMessage, NativeNftTable, NativeNftChain, NativeNftRule, NativeNftSet, NativeRawElement, NativeElementOut,
  NativeDatum, NativeScalar, NativeVerdictData, NativeExpr, NativeExprField, TypeofPart,
} from './binding';
export { NetnsPool, type NetnsPoolOptions } from './pool';
export {
  attachVeth, attachVethBegun, attachMacvlan, type VethAttachOptions, type VethAttachResult, type NewNetns, type MacvlanAttachOptions, type MacvlanAttachResult,
  type ContainerSideOptions,
} from './attach';
export * as nft from './nft';
export { Nft, Transaction as NftTransaction } from './nft';
export * from './network';
export { Daemon, ApiError, type DaemonOptions, type LogRecord } from './daemon/server';
export type { WatchOptions } from './daemon/watch';
export {
  NetworksClient, DaemonError, DEFAULT_SOCKET, type ConnectOptions, type DaemonHealth, type DaemonEndpoint, type RemoteTarget,
} from './daemon/client';
export { schemas as apiSchemas, type SchemaName } from './daemon/schemas';
export {
  runCni, attachmentKey, CniError, CNI_ERR, SUPPORTED_VERSIONS as CNI_VERSIONS, type CniCall, type CniOutcome, type CniBackend,
} from './cni/plugin';
// Deprecated here: import them from 'netplumb/etcd'. Re-exported from the main entry for
// one more minor version (until 0.3), as netplumb 0.1 exported them.
export {
  OverlayControlPlane, type ControlPlaneOptions, type ControlPlaneStats, type EtcdConnection, type OverlayDefinition,
  type OverlayJoinOptions,
} from './etcd';
