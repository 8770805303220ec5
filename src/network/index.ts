// The Docker-style network model: IPAM, persisted state, the bridge, overlay and macvlan drivers.
export {
  AddressPool, AddressInUseError, AddressNotInPoolError, PoolExhaustedError, NoSubnetAvailableError,
  DEFAULT_ADDRESS_POOLS, pickSubnet, parseCidr, parseIp, formatIp, normalizeIp, contains, overlaps, nthAddress, macFromIp,
  type AddressPoolOptions, type AddressPoolState, type Cidr, type IpFamily, type IpValue, type PickSubnetOptions,
  type ReservedRole, type SubnetPoolSpec,
} from './ipam';
export {
  StateStore, StateCorruptError, StateSchemaError, LockTimeoutError, type StateStoreOptions,
} from './store';
export { Networks, Network, OverlayNetwork, type NetworksOptions } from './networks';
export { VXLAN_PORT } from './overlay';
export { Firewall } from './firewall';
export { checkPorts, expandPorts } from './ports';
export { hostsFileContent } from './hosts';
export type {
  PortMapping, PortProtocol, BridgeNetworkOptions, NetworkInfo, AttachOptions, EndpointInfo,
  NetworkDriver, NetworkOptions, OverlayNetworkOptions, MacvlanNetworkOptions, RemoteEndpoint, OverlayInfo, MacvlanInfo,
} from './types';
