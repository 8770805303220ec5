// Public types of the Docker-style network model.

/** Transport protocols a port can be published for. */
export type PortProtocol = 'tcp' | 'udp' | 'sctp';

/** A published port: host side (address optional, port or range) to a container port. */
export interface PortMapping {
  /**
   * Host address to publish on. Absent: every local address of each family the container
   * has (IPv4 and IPv6 for a dual-stack container, as Docker's `-p 8080:80`). '0.0.0.0':
   * every local IPv4 address only; '::' every local IPv6 address only. 127.0.0.1
   * publishes on IPv4 localhost only. An IPv6 address needs a container with an IPv6
   * address, an IPv4 address one with IPv4. '::1' is refused: the kernel drops the
   * replies of a connection DNATed from ::1 (RFC 4291 2.5.3, and IPv6 has no
   * route_localnet), see docs/ipv6.md.
   */
  hostIp?: string;
  /** Host port, or [first, last] range mapped one to one onto containerPort.. */
  hostPort: number | [number, number];
  /** Container port (first of the range when hostPort is a range). */
  containerPort: number;
  /** Default 'tcp'. */
  protocol?: PortProtocol;
}

/**
 * Network drivers: a bridge on this host, a VXLAN overlay across hosts, macvlan children
 * of a parent interface; or the name of a driver registered with registerDriver.
 */
export type NetworkDriverName = 'bridge' | 'overlay' | 'macvlan' | (string & Record<never, never>);

/** Options of a new bridge network. */
export interface BridgeNetworkOptions {
  /** 'bridge' (the default). */
  driver?: 'bridge';
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
  /** IPv4 on the network (default true); false makes an IPv6-only network (Docker's --ipv4=false), which needs IPv6. */
  ipv4?: boolean;
  /**
   * IPv6 on the network (default: whether ipv6Subnet is given). Without a subnet, a /64
   * of the controller's IPv6 pools (NetworksOptions.ipv6Pools) that overlaps nothing
   * routed on the host. A network without IPv6 does no IPv6 at all on its links (no
   * link-local address, DAD or MLD).
   */
  ipv6?: boolean;
  /** IPv6 subnet (implies ipv6). */
  ipv6Subnet?: string;
  /** The bridge's IPv6 address; default the subnet's first address (::1 of it). */
  ipv6Gateway?: string;
  /** Containers get IPv6 addresses from this sub-range only (per host on an overlay). */
  ipv6Range?: string;
  /**
   * Outbound IPv6: true (the default, as Docker) masquerades traffic leaving the host
   * (NAT66) and drops direct access to container addresses from outside, as for IPv4;
   * false is routed mode: no NAT, the host forwards the prefix (the upstream router
   * needs a route to it via this host), and from outside a container's own address is
   * reachable on its published container ports only.
   */
  ipv6Masquerade?: boolean;
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

/**
 * Options of a new overlay network: on this host a bridge plus a VXLAN device enslaved to
 * it (learning off, ARP answered from the neighbour table by the VXLAN device). Every
 * host gets the same vni and subnet; the orchestrator keeps their address allocations
 * apart (an ipRange per host, or static addresses) and feeds peers and remote endpoints.
 */
export interface OverlayNetworkOptions {
  driver: 'overlay';
  /** Network name, 1-64 chars of [A-Za-z0-9_.-] (local to this host). */
  name: string;
  /** IFLA_VXLAN_ID: the VXLAN network identifier, 1..16777215, the same on every host. */
  vni: number;
  /** IPv4 subnet of the overlay, the same on every host (optional when ipv6Subnet is given: an IPv6-only overlay). */
  subnet?: string;
  /** IPv6 subnet of the overlay, the same on every host. */
  ipv6Subnet?: string;
  /** This host's share of ipv6Subnet for automatic allocation. */
  ipv6Range?: string;
  /** Reserved in ipv6Subnet (default its first address), configured nowhere, as `gateway`. */
  ipv6Gateway?: string;
  /** This host's underlay address (IFLA_VXLAN_LOCAL): the VTEP address peers send to. */
  local: string;
  /** The underlay link (IFLA_VXLAN_LINK). */
  device: string;
  /** This host's share of the subnet for automatic allocation (Docker's --ip-range). */
  ipRange?: string;
  /** Reserved in the subnet (default its first address); not configured anywhere: the overlay is layer 2 only. */
  gateway?: string;
  /** UDP port (IFLA_VXLAN_PORT), default 4789. */
  dstport?: number;
  /** MTU of the bridge, the VXLAN device and every veth; default the underlay MTU minus the encapsulation (50 over IPv4, 70 over IPv6). */
  mtu?: number;
  /** Bridge name; default 'ov-' + the first 12 hex digits of the id. */
  bridge?: string;
  /** VXLAN device name; default 'vx-' + the first 12 hex digits of the id. */
  vxlan?: string;
  labels?: Record<string, string>;
}

/** Options of a new macvlan network: containers get a macvlan child of `parent`, made inside their namespace. */
export interface MacvlanNetworkOptions {
  driver: 'macvlan';
  /** Network name, 1-64 chars of [A-Za-z0-9_.-]. */
  name: string;
  /** The parent link in the host namespace (IFLA_LINK); not a bridge port (the kernel refuses). */
  parent: string;
  /** IFLA_MACVLAN_MODE, default 'bridge'. */
  mode?: 'bridge' | 'private' | 'vepa' | 'passthru';
  /** IPv4 subnet of the parent's segment (optional when ipv6Subnet is given: an IPv6-only network). */
  subnet?: string;
  /** The segment's router, containers' default route (default the subnet's first address). */
  gateway?: string;
  /** Containers get addresses from this sub-range only. */
  ipRange?: string;
  /** IPv6 subnet of the parent's segment. */
  ipv6Subnet?: string;
  /** The segment's IPv6 router, containers' IPv6 default route (default the subnet's first address). */
  ipv6Gateway?: string;
  /** Containers get IPv6 addresses from this sub-range only. */
  ipv6Range?: string;
  /** MTU of the children; default (and at most) the parent's. */
  mtu?: number;
  labels?: Record<string, string>;
}

/** Options of Networks.create, by driver. */
export type NetworkOptions = BridgeNetworkOptions | OverlayNetworkOptions | MacvlanNetworkOptions;

/** A remote container on an overlay network, as the control plane reports it. */
export interface RemoteEndpoint {
  /** Its overlay IPv4 address (a permanent neighbour entry on the VXLAN device answers ARP for it); '' on an IPv6-only overlay. */
  ip: string;
  /** Its overlay IPv6 address (a permanent neighbour entry answers neighbour solicitations for it: the NDP proxy). */
  ip6?: string;
  /** Its MAC (an FDB entry on the VXLAN device sends frames for it to `vtep`). */
  mac: string;
  /** Underlay address of the host it lives on. */
  vtep: string;
}

/**
 * An overlay network's VXLAN side, as persisted. Its peers and remote endpoints are
 * records of their own (OverlayNetwork.peers(), remoteEndpoints()).
 */
export interface OverlayInfo {
  vni: number;
  /** VXLAN device name. */
  vxlan: string;
  /** Underlay link. */
  device: string;
  /** This host's VTEP address. */
  local: string;
  dstport: number;
}

/** A macvlan network's parent and mode. */
export interface MacvlanInfo {
  parent: string;
  mode: 'bridge' | 'private' | 'vepa' | 'passthru';
}

/** A network as persisted and returned by inspect(). */
export interface NetworkInfo {
  id: string;
  name: string;
  driver: NetworkDriverName;
  /** The bridge of a bridge or overlay network; '' for macvlan networks, which have none. */
  bridge: string;
  /** IPv4 subnet; '' when the network has no IPv4 (IPv6-only). */
  subnet: string;
  /** IPv4 gateway; '' when the network has no IPv4. */
  gateway: string;
  ipRange?: string;
  /** IPv6 subnet, when the network has IPv6. */
  ipv6Subnet?: string;
  ipv6Gateway?: string;
  ipv6Range?: string;
  /** Outbound IPv6 of a bridge network with IPv6: NAT66 (true) or routed (false). */
  ipv6Masquerade?: boolean;
  mtu: number;
  /** Source-NAT IPv4 traffic leaving the host. */
  masquerade: boolean;
  icc: boolean;
  internal: boolean;
  /** The default network (like docker0): no name resolution. */
  isDefault: boolean;
  labels: Record<string, string>;
  created: string;
  /** Overlay networks only. */
  overlay?: OverlayInfo;
  /** Macvlan networks only. */
  macvlan?: MacvlanInfo;
}

/** Options of Network.attach. */
export interface AttachOptions {
  /** Interface name inside the container (default 'eth0'). */
  ifname?: string;
  /** Container name, resolvable by the other containers of user-defined networks. */
  name?: string;
  /** Extra names on this network. */
  aliases?: string[];
  /** A static IPv4 address inside the subnet (default: the lowest free one). */
  ip?: string;
  /** A static IPv6 address inside the IPv6 subnet (default: the lowest free one). */
  ip6?: string;
  /**
   * MAC address. Default: derived from the IPv4 address (02:42:a:b:c:d, as Docker does);
   * on a network without IPv4, 02:42 and the IPv6 address's host part when it fits in
   * 32 bits, else random (06:xx:...): see macFromIp6.
   */
  mac?: string;
  /** Published ports. */
  publish?: PortMapping[];
  /** Install the default route through this network (default: only when the container has none yet). */
  defaultRoute?: boolean;
  /**
   * Where to keep this container's hosts file (to bind-mount on its /etc/hosts). By
   * default it holds localhost and the container's own names, as Docker's does on
   * user-defined networks (the names of the others resolve by DNS: docs/dns.md); with
   * hostsFileScope 'members', every member of its user-defined networks too. Written
   * off the attach's path, coalesced (Networks.flushHosts() waits for the writes), in
   * place: the file keeps its inode, so a bind mount of it sees every rewrite. Removed
   * when the container's last endpoint using it is detached.
   */
  hostsFile?: string;
  /**
   * What hostsFile lists besides localhost: the container's own names ('own', the
   * default: a change rewrites only this container's file), or also every member of its
   * user-defined networks ('members': every change to a network rewrites the file of
   * each member that keeps one; a cost per member, opt-in).
   */
  hostsFileScope?: 'own' | 'members';
  /**
   * Where to keep this container's resolv.conf (to bind-mount on its /etc/resolv.conf):
   * Networks.resolvConfFor()'s content, written like hostsFile (off the attach's path,
   * in place) whenever the container's networks change. Removed with its last endpoint
   * using it.
   */
  resolvConf?: string;
  /**
   * Overlay networks: also attach the container to this local bridge network (the role
   * of docker_gwbridge), which gets its default route and any published ports.
   */
  gatewayNetwork?: string;
  /** Interface name of the gatewayNetwork endpoint (default 'eth1'). */
  gatewayIfname?: string;
  /**
   * The caller's own name for this attachment, unique per network (a CNI runtime's
   * `<container id>/<ifname>`): detach({ key }) and endpointByKey find it again without
   * the namespace, which a runtime may no longer have (CNI DEL with an empty CNI_NETNS).
   * 1-512 printable ASCII characters.
   */
  key?: string;
}

/** An attached container, as persisted. */
export interface EndpointInfo {
  id: string;
  network: string;
  /** Container name, if given. */
  name?: string;
  aliases: string[];
  ifname: string;
  /** Host-side veth name; '' for macvlan endpoints, which have no host side. */
  hostIfname: string;
  /** IPv4 address; '' on a network without IPv4. */
  ip: string;
  /** IPv6 address, on a network with IPv6. */
  ip6?: string;
  mac: string;
  publish: PortMapping[];
  /** nsfs path of the container namespace when it had one (named namespaces, /proc/PID/ns/net). */
  netnsPath?: string;
  /** Identity of the container namespace: Netns.id, `'<dev>:<ino>'` of its nsfs inode. */
  netnsId: string;
  hostsFile?: string;
  /** 'members' when hostsFile lists every member of the container's networks (absent: its own names only). */
  hostsFileScope?: 'members';
  resolvConf?: string;
  defaultRoute: boolean;
  /** Overlay endpoints: the id of the container's endpoint on the gateway network. */
  gatewayEndpoint?: string;
  /** Made by an overlay attach for its gatewayNetwork; detached with the last overlay endpoint using it. */
  forGateway?: boolean;
  /** The caller's key of the attachment (AttachOptions.key). */
  key?: string;
}

/** A container namespace for an attach to make, named as `ip netns add NAME` names it, in the attach's own native call. */
export interface NewContainer {
  /** Name under the netns directory (EEXIST if taken). */
  create: string;
  /** The netns directory (default /run/netns or $NETPLUMB_NETNS_DIR). */
  netnsDir?: string;
}

/** What Network.attach returns: the endpoint, and the namespace when the attach made it. */
export type AttachedEndpoint = EndpointInfo & {
  /** The namespace made for a `{ create }` attach (the caller closes it). */
  netns?: import('../netns').Netns;
};
