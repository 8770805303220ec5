// The Docker-style network model (netplumb/networks): IPAM, the state store, the drivers
// (bridge, overlay, macvlan) and the controller. The overlay's etcd control plane is
// netplumb/etcd (src/etcd.ts).
export {
  AddressPool, AddressInUseError, AddressNotInPoolError, PoolExhaustedError, NoSubnetAvailableError,
  DEFAULT_ADDRESS_POOLS, pickSubnet, parseCidr, parseIp, formatIp, normalizeIp, contains, overlaps, nthAddress, macFromIp,
  macFromIp6, ulaPools,
  type AddressPoolOptions, type AddressPoolState, type Cidr, type IpFamily, type IpValue, type PickSubnetOptions,
  type ReservedRole, type SubnetPoolSpec,
} from './ipam';
export { StateCorruptError, StateSchemaError, StateBusyError, StateFullError } from './store';
export { Networks, type NetworksOptions, type GcResult } from './networks';
export type { NetworkController } from './network';
export type { NetworkStore, NetworkStoreOptions, StoreTx, StoredEndpoint, EndpointPhase, StoreTable, StoreRowChange } from './store';
export type { Adopted, RebuildResult, RebuildScan, ScannedNamespace } from './rebuild';
export { Network } from './network';
export { OverlayNetwork, VXLAN_PORT, registerDriver, type OverlayUpdate, type OverlayUpdateResult, type OverlayState } from './drivers';
export type {
  NetworkDriver, DriverContext, DriverFeatures, DriverRecord, AttachTarget, KernelAttach, HostLinks, NetworkBase,
} from './driver';
export { Firewall, type Publisher } from './firewall';
export { checkPorts, expandPorts, portBindings, type PortBinding } from './ports';
export { hostsFileContent } from './hosts';
export {
  Resolver, parseResolvConf, resolvConfContent, parseUpstream, type ResolverOptions, type ResolverListener, type ResolverStats,
  type ResolvConf, type Upstream, type ForwarderStats,
} from './dns';
export type { StoreChange } from './store';
export type {
  PortMapping, PortProtocol, BridgeNetworkOptions, NetworkInfo, AttachOptions, EndpointInfo, AttachedEndpoint, NewContainer,
  NetworkDriverName, NetworkOptions, OverlayNetworkOptions, MacvlanNetworkOptions, RemoteEndpoint, OverlayInfo, MacvlanInfo,
} from './types';
export { LoopbackProxy, type LoopbackProxyOptions, type ProxiedPort } from './proxy';
