// The network driver interface: what a kind of network does in the kernel, in the manner
// of netavark's NetworkDriver. `Networks` does everything else (the store, IPAM, the
// firewall's published ports, names, rollback, the reaper) and never asks which driver a
// network has. Adding a kind of network is one file implementing NetworkDriver and one
// line in drivers/index.ts; docs/drivers.md walks through it.
import type { BegunNetns, Netns } from '../netns';
import type { Firewall } from './firewall';
import type { SubnetPoolSpec } from './ipam';
import type { Network, NetworkController } from './network';
import type { Adopted, RebuildScan } from './rebuild';
import type { NetworkStore, StoreTx } from './store';
import type { EndpointInfo, NetworkInfo } from './types';

/** The parts of a NetworkInfo the controller fills in for every driver. */
export interface NetworkBase {
  id: string;
  name: string;
  labels: Record<string, string>;
  created: string;
}

/** What the controller lends a driver. */
export interface DriverContext {
  /** The namespace bridges live in and ports are published on. */
  readonly host: Netns;
  /** Owner tag: link aliases start with `${owner}:`. */
  readonly owner: string;
  /** The owner's nftables table (per-network chains; published ports are the controller's). */
  readonly firewall: Firewall;
  /** The state, current as of the last sync (read it; write through `write`). */
  readonly store: NetworkStore;
  /** A store transaction (synchronous: no awaiting inside). */
  write<R>(fn: (tx: StoreTx) => R): R;
  /**
   * IFLA_GROUP of links waiting to be deleted: a detach moves its host-side link here and
   * the controller deletes the whole group in one request, off the caller's path.
   */
  readonly reapGroup: number;
  /** Where a network with IPv6 and no ipv6Subnet gets one (NetworksOptions.ipv6Pools). */
  readonly ipv6Pools: readonly SubnetPoolSpec[];
  /** Reports a problem that does not fail the operation (process.emitWarning). */
  warn(message: string): void;
}

/** Where an attach puts the container: an open namespace, or a named one to make in the same call. */
export interface AttachTarget {
  netns?: Netns;
  /**
   * Make this named namespace (as `ip netns add`) in the attach's own native call.
   * `begun`: Networks began making it already, while it recorded the attach; the driver
   * gives it its batches (attachVethBegun) or, not using it, aborts it.
   */
  create?: { name: string; netnsDir?: string; begun?: BegunNetns };
}

/** What the kernel side of an attach made. */
export interface KernelAttach {
  /** The namespace made for a `create` target. */
  netns?: Netns;
  /** The MAC the kernel gave the container's interface, when the driver does not choose it (macvlan passthru). */
  mac?: string;
}

/** What the networks of a driver can do. */
export interface DriverFeatures {
  /** Containers publish host ports (the host forwards to their address). */
  ports: boolean;
  /** An attach may also join a local bridge network for the outside (docker_gwbridge's role). */
  gatewayNetwork: boolean;
  /** A container may join through `{ create: name }` (the namespace made in the attach's call). */
  create: boolean;
  /** An endpoint has a link in the host namespace, named by EndpointInfo.hostIfname. */
  hostLink: boolean;
  /**
   * The network's gateway is an address of the host namespace, reachable from its
   * containers: the DNS resolver listens there (docs/dns.md). Absent means false: the
   * containers of such a network resolve its names through another network they are on.
   */
  hostGateway?: boolean;
}

/** A row a driver keeps per network in the store (e.g. the overlay's peers). */
export interface DriverRecord {
  kind: string;
  key: string;
  value: unknown;
}

/** Host links by name, as listed once for a whole reconcile. */
export type HostLinks = ReadonlyMap<string, { index: number; group?: number; master?: number }>;

/** One kind of network. Every method that touches the kernel leaves nothing behind when it fails. */
export interface NetworkDriver<Checked = unknown> {
  /** The `driver` of NetworkOptions and NetworkInfo. */
  readonly name: string;
  readonly features: DriverFeatures;

  /** Validates and normalises create options (TypeError / RangeError); nothing is sent. */
  validate(opts: Record<string, unknown>): Checked;
  /**
   * Makes the network's kernel objects. `others` are the existing networks (clash
   * checks). Returns the NetworkInfo to persist and any records to keep with it.
   */
  create(ctx: DriverContext, base: NetworkBase, checked: Checked, others: readonly NetworkInfo[]): Promise<{ info: NetworkInfo; records?: DriverRecord[] }>;
  /** Removes the network's kernel objects (idempotent). */
  remove(ctx: DriverContext, net: NetworkInfo): Promise<void>;
  /** Makes the kernel hold the network again after a reboot or a foreign change (idempotent). */
  reconcile(ctx: DriverContext, net: NetworkInfo, endpoints: readonly EndpointInfo[]): Promise<void>;

  /**
   * The kernel side of an attach: the container's interface with `ep.ip` (and `ep.ip6`),
   * `ep.mac`, lo up, the default route when `ep.defaultRoute`. The endpoint is already
   * recorded (phase 'attaching'); a failure must undo what this call made.
   */
  attach(ctx: DriverContext, net: NetworkInfo, ep: EndpointInfo, target: AttachTarget): Promise<KernelAttach>;
  /**
   * Makes the endpoint unreachable at once (its address and MAC may be handed out again
   * when this returns); deleting what waits on the kernel goes to the reap group.
   * `netns` is the container's handle when the caller gave one. Returns true when it moved
   * a host link into the reap group (the controller then schedules the group's deletion).
   */
  detach(ctx: DriverContext, net: NetworkInfo, ep: EndpointInfo, netns?: Netns): Promise<boolean>;
  /** Undoes whatever part of an attach a process that died left (by the names the record gives). */
  abort(ctx: DriverContext, net: NetworkInfo, ep: EndpointInfo): Promise<void>;
  /** Whether the endpoint's kernel side still exists (reconcile). */
  alive(ctx: DriverContext, net: NetworkInfo, ep: EndpointInfo, links: HostLinks): Promise<boolean>;
  /** Host-side link names this network and its endpoints own (gc keeps them). */
  hostLinks(net: NetworkInfo, endpoints: readonly EndpointInfo[]): string[];

  /** The handle Networks.get returns for this driver's networks (default: a plain Network). */
  handle?(ctl: NetworkController, id: string): Network;
  /**
   * A rebuild's adoption (Networks.rebuild): the endpoints (and records) of this network
   * that the kernel shows, from one scan of the host and the named namespaces.
   */
  adopt(ctx: DriverContext, net: NetworkInfo, scan: RebuildScan): Promise<Adopted>;
  /** A 0.1.0 network document as this version stores it (default: unchanged, no records). */
  fromLegacy?(doc: NetworkInfo & Record<string, unknown>): { info: NetworkInfo; records: DriverRecord[] };
}
