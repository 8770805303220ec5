// The Docker-style network model: IPAM, the state store, the drivers (bridge, overlay, macvlan) and the controller.
export {
  AddressPool, AddressInUseError, AddressNotInPoolError, PoolExhaustedError, NoSubnetAvailableError,
  DEFAULT_ADDRESS_POOLS, pickSubnet, parseCidr, parseIp, formatIp, normalizeIp, contains, overlaps, nthAddress, macFromIp,
  macFromIp6, ulaPools,
  type AddressPoolOptions, type AddressPoolState, type Cidr, type IpFamily, type IpValue, type PickSubnetOptions,
  type ReservedRole, type SubnetPoolSpec,
} from './ipam';
export { StateCorruptError, StateSchemaError, StateBusyError, StateFullError } from './store';
export { Networks, type NetworksOptions, type GcResult } from './networks';
export type { RebuildResult, RebuildScan, ScannedNamespace, Adopted } from './rebuild';
export type { NetworkStore, StoreTx, StoredEndpoint, EndpointPhase, StoreTable, ChangedRow } from './store';
export type { NetworkController } from './network';
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
export {
  OverlayControlPlane, type ControlPlaneOptions, type ControlPlaneStats, type EtcdConnection, type OverlayDefinition,
  type OverlayJoinOptions,
} from './controlplane/etcd';
export { LoopbackProxy, type LoopbackProxyOptions, type ProxiedPort } from './proxy';
