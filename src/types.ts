// Public data types: plain objects decoded from netlink messages.
import type { NetlinkError } from './errors';

/** Operational state (IFLA_OPERSTATE, RFC 2863). */
export type OperState = 'unknown' | 'notpresent' | 'down' | 'lowerlayerdown' | 'testing' | 'dormant' | 'up';

/** A network interface as RTM_NEWLINK describes it. */
export interface Link {
  /** ifindex, unique within its namespace. */
  index: number;
  /** IFLA_IFNAME. */
  name: string;
  /** IFLA_INFO_KIND ('veth', 'bridge', 'vxlan', ...); absent for physical and loopback devices. */
  kind?: string;
  /** ARPHRD_* link type (1 ethernet, 772 loopback). */
  type: number;
  /** IFF_* flags as the kernel reports them. */
  flags: number;
  /** IFF_UP: administratively up. */
  up: boolean;
  /** IFF_RUNNING. */
  running: boolean;
  /** IFF_LOWER_UP: carrier. */
  lowerUp: boolean;
  /** IFLA_OPERSTATE. */
  operstate?: OperState | string;
  /** IFLA_MTU, IFLA_MIN_MTU, IFLA_MAX_MTU. */
  mtu?: number;
  minMtu?: number;
  maxMtu?: number;
  /** IFLA_ADDRESS as 'aa:bb:cc:dd:ee:ff'. */
  mac?: string;
  /** IFLA_BROADCAST. */
  broadcast?: string;
  /** IFLA_PERM_ADDRESS. */
  permanentMac?: string;
  /** IFLA_MASTER: ifindex of the bridge (or bond) this link is a port of. */
  master?: number;
  /** IFLA_LINK: the parent (macvlan, vxlan) or, for veth, the peer's ifindex. */
  link?: number;
  /** IFLA_LINK_NETNSID: the namespace (as seen from this one) where `link` lives. */
  linkNetnsId?: number;
  /** IFLA_TXQLEN. */
  txqlen?: number;
  /** IFLA_GROUP. */
  group?: number;
  /** IFLA_PROMISCUITY: promiscuity count. */
  promiscuity?: number;
  /** IFLA_NUM_TX_QUEUES / IFLA_NUM_RX_QUEUES. */
  numTxQueues?: number;
  numRxQueues?: number;
  /** IFLA_CARRIER. */
  carrier?: boolean;
  /** IFLA_IFALIAS. */
  alias?: string;
  /** IFLA_QDISC. */
  qdisc?: string;
  /** IFLA_INFO_SLAVE_KIND: the kind of the master this link is a port of ('bridge'). */
  portKind?: string;
  /** Attributes netplumb does not decode, as raw (type, bytes); only from the codec decoder. */
  unknownAttributes?: { type: number; data: Buffer }[];
}

/** One message's outcome in Netns#rawRequest: its reply messages (header included) and the kernel's error, if any. */
export interface RawStep {
  /** The kernel's NLMSG_ERROR for this message, with `step` set to its index. */
  error?: NetlinkError;
  /** Every reply message (RTM_NEW*) for this step, as whole netlink messages. */
  replies: Buffer[];
  /** Set when the kernel flagged the dump inconsistent (NLM_F_DUMP_INTR); not retried. */
  dumpInterrupted?: true;
}
