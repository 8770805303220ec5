// Public types of the Docker-style network model.

/** Transport protocols a port can be published for. */
export type PortProtocol = 'tcp' | 'udp' | 'sctp';

/** A published port: host side (address optional, port or range) to a container port. */
export interface PortMapping {
  /** Host address to bind; absent or 0.0.0.0 means every local address. 127.0.0.1 publishes on localhost only. */
  hostIp?: string;
  /** Host port, or [first, last] range mapped one to one onto containerPort.. */
  hostPort: number | [number, number];
  /** Container port (first of the range when hostPort is a range). */
  containerPort: number;
  /** Default 'tcp'. */
  protocol?: PortProtocol;
}

/** Options of a new bridge network. */
export interface BridgeNetworkOptions {
  /** Network name, 1-64 chars of [A-Za-z0-9_.-]. */
  name: string;
  /** Bridge device name; default 'br-' + the first 12 hex digits of the id (15 bytes max). */
  bridge?: string;
  /** IPv4 subnet; default: the first pool subnet that overlaps nothing routed on the host. */
  subnet?: string;
  /** Gateway (the bridge's address); default the subnet's first address. */
  gateway?: string;
  /** Containers get addresses from this sub-range only. */
  ipRange?: string;
  /** Optional IPv6 subnet; without it the network's links do no IPv6 at all. */
  ipv6Subnet?: string;
  /** MTU of the bridge and every veth; default the MTU of the host's default-route interface. */
  mtu?: number;
  /** Source-NAT traffic leaving the host (default true). */
  masquerade?: boolean;
  /** Containers of this network may talk to each other (default true). */
  icc?: boolean;
  /** No way in or out of the network except to its own members and the gateway (default false). */
  internal?: boolean;
  /** Free-form labels kept with the network. */
  labels?: Record<string, string>;
}

/** A network as persisted and returned by inspect(). */
export interface NetworkInfo {
  id: string;
  name: string;
  driver: 'bridge';
  bridge: string;
  subnet: string;
  gateway: string;
  ipRange?: string;
  ipv6Subnet?: string;
  ipv6Gateway?: string;
  mtu: number;
  masquerade: boolean;
  icc: boolean;
  internal: boolean;
  /** The default network (like docker0): no name resolution. */
  isDefault: boolean;
  labels: Record<string, string>;
  created: string;
}

/** Options of Network.attach. */
export interface AttachOptions {
  /** Interface name inside the container (default 'eth0'). */
  ifname?: string;
  /** Container name, resolvable by the other containers of user-defined networks. */
  name?: string;
  /** Extra names on this network. */
  aliases?: string[];
  /** A static address inside the subnet (default: the lowest free one). */
  ip?: string;
  /** MAC address (default derived from the IP, 02:42:xx:xx:xx:xx, as Docker does). */
  mac?: string;
  /** Published ports. */
  publish?: PortMapping[];
  /** Install the default route through this network (default: only when the container has none yet). */
  defaultRoute?: boolean;
  /** Where to keep this container's hosts file (rewritten as members come and go). */
  hostsFile?: string;
}

/** An attached container, as persisted. */
export interface EndpointInfo {
  id: string;
  network: string;
  /** Container name, if given. */
  name?: string;
  aliases: string[];
  ifname: string;
  /** Host-side veth name. */
  hostIfname: string;
  ip: string;
  ip6?: string;
  mac: string;
  publish: PortMapping[];
  /** nsfs path of the container namespace when it had one (named namespaces, /proc/PID/ns/net). */
  netnsPath?: string;
  /** Identity of the container namespace (nsfs dev:ino). */
  netnsId: string;
  hostsFile?: string;
  defaultRoute: boolean;
}
