export { Netns, defaultNetnsDir, type NetnsOptions } from './netns';
export { Links, type LinkFilter } from './links';
export { Addresses } from './addresses';
export { Routes, type RouteFilter } from './routes';
export { Batch, type StepResult, type BatchFailure } from './batch';
export type {
  LinkSpec, LinkBaseSpec, VethPeerSpec, GenericLinkSpec, LinkChanges, LinkRef, AddressOptions, RouteSpec,
} from './spec';
export { NetlinkError, errnoName } from './errors';
export type {
  Link, OperState, Address, Route, RouteType, Scope, AddrGenMode, BridgeOptions, VxlanOptions, MacvlanOptions,
  MacvlanMode, VlanOptions, IpvlanOptions, IpvlanMode, BridgePortOptions, RawStep,
} from './types';
export { codec } from './codec';
