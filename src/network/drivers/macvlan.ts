// Macvlan networks: each container gets a macvlan child of a parent link of the host,
// with its own MAC on the parent's segment; the segment's router is the containers'
// gateway, and the host itself plays no part in their traffic (in bridge mode the
// children reach each other inside the parent; the parent's own stack cannot reach
// them, as with every macvlan).
//
// The child is created directly inside the container namespace under a temporary name
// and renamed there (attachMacvlan), so none of its names ever exists in the host
// namespace; detach deletes it there, and a namespace that is gone took it with it.
import { attachMacvlan } from '../../attach';
import { NetlinkError } from '../../errors';
import { Netns } from '../../netns';
import { checkOneOf } from '../../validate';
import type { NetworkDriver } from '../driver';
import type { AddressPool } from '../ipam';
import { randomId } from '../owner';
import { endpointFrom } from '../rebuild';
import type { EndpointInfo, MacvlanInfo, MacvlanNetworkOptions, NetworkInfo } from '../types';
import { addressInfo, checkLabels, checkMtu, checkOptions, checkSubnetFree, familyPools, findLink, ifnameOr } from './common';
import { containerAddresses } from './veth';

const MODES: readonly MacvlanInfo['mode'][] = ['bridge', 'private', 'vepa', 'passthru'];

/** The name a child is made under inside the container before it is renamed to its ifname. */
function tmpName(ep: EndpointInfo): string {
  return `np${ep.id.slice(0, 10)}`;
}

/** Macvlan options, validated; the pools hold each family's subnet, gateway and range. */
interface CheckedMacvlan {
  pools: { v4?: AddressPool; v6?: AddressPool };
  parent: string;
  mode: MacvlanInfo['mode'];
  mtu?: number;
  labels: Record<string, string>;
}

export const macvlanDriver: NetworkDriver<CheckedMacvlan> = {
  name: 'macvlan',
  // No host side: nothing to publish ports on, and the child is made in a namespace
  // that must exist first.
  features: { ports: false, gatewayNetwork: false, create: false, hostLink: false },

  validate(opts) {
    const o = checkOptions(opts as unknown as MacvlanNetworkOptions, 'macvlan options');
    if (o.parent === undefined) throw new TypeError('a macvlan network needs parent: the host link its children hang off');
    const out: CheckedMacvlan = {
      pools: familyPools(o),
      parent: ifnameOr(o.parent, 'parent', ''),
      mode: checkOneOf(o.mode, 'mode', MODES) ?? 'bridge',
      labels: checkLabels(o.labels),
    };
    const mtu = checkMtu(o.mtu);
    if (mtu !== undefined) out.mtu = mtu;
    return out;
  },

  /**
   * Checks the parent (present, not a bridge port, not another macvlan network's, MTU) and
   * the subnet; nothing is created until a container attaches.
   */
  async create(ctx, base, o, others) {
    const addrs = addressInfo(o.pools);
    checkSubnetFree(addrs.subnet, others, addrs.ipv6Subnet);
    const taken = others.find((n) => n.macvlan?.parent === o.parent);
    if (taken) throw new NetlinkError({ errno: 17, op: 'network', detail: `parent ${o.parent} belongs to macvlan network ${taken.name}` });
    const parent = await findLink(ctx.host, o.parent);
    if (!parent) throw new NetlinkError({ errno: 19, op: 'network', detail: `parent ${o.parent} does not exist` });
    if (parent.master !== undefined && parent.portKind === 'bridge') {
      // The bridge holds the port's rx handler; macvlan would need it too.
      throw new NetlinkError({ errno: 16, op: 'network', detail: `parent ${o.parent} is a bridge port; the kernel gives a macvlan no bridge port as parent` });
    }
    if (o.mtu !== undefined && parent.mtu !== undefined && o.mtu > parent.mtu) {
      throw new RangeError(`mtu ${o.mtu} is above the MTU of ${o.parent} (${parent.mtu})`);
    }
    const info: NetworkInfo = {
      ...base,
      driver: 'macvlan',
      bridge: '',
      ...addrs,
      mtu: o.mtu ?? parent.mtu ?? 1500,
      masquerade: false,
      icc: true,
      internal: false,
      isDefault: false,
      labels: o.labels,
      macvlan: { parent: o.parent, mode: o.mode },
    };
    return { info };
  },

  // Nothing of a macvlan network lives in the host but its parent, which is not ours.
  remove: async () => undefined,
  reconcile: async () => undefined,

  /**
   * Creates an endpoint's macvlan child inside the container (see attachMacvlan), under
   * a temporary name and renamed there; in passthru mode the kernel
   * gives it the parent's MAC, which is returned.
   */
  async attach(ctx, net, ep, target) {
    const container = target.netns!;
    const passthru = net.macvlan!.mode === 'passthru';
    const attach = () => attachMacvlan(ctx.host, container, {
      parent: net.macvlan!.parent,
      mode: net.macvlan!.mode,
      tmpIfname: tmpName(ep),
      ifname: ep.ifname,
      // IPv4, IPv6 or both, with their default routes via the segment's routers. With
      // IPv6 the child also has a link-local address (NDP needs one on a real segment).
      ...containerAddresses(net, ep),
      ...(!passthru && { mac: ep.mac }),
      mtu: net.mtu,
    });
    // The MAC follows the address, and an address is free again as soon as its endpoint is
    // forgotten; but a namespace is torn down asynchronously after its last reference goes,
    // and until then its child still holds the MAC on the parent (EADDRINUSE). Wait for
    // that, boundedly: a MAC that stays taken is a real conflict.
    let r: Awaited<ReturnType<typeof attach>> | undefined;
    for (const wait of [25, 50, 100, 200, 400, 800, 0]) {
      try {
        r = await attach();
        break;
      } catch (e) {
        if ((e as NetlinkError).code !== 'EADDRINUSE' || wait === 0) throw e;
        await new Promise((res) => setTimeout(res, wait));
      }
    }
    return passthru ? { mac: (await container.links.get(r!.index)).mac ?? ep.mac } : {};
  },

  /** Deletes the endpoint's child inside its namespace; nothing when the namespace (and so the child) is gone. */
  async detach(_ctx, _net, ep, given) {
    await deleteChild(ep, given, [ep.ifname]);
    return false;
  },

  // A dead attacher's child may still have its temporary name.
  abort: async (_ctx, _net, ep) => deleteChild(ep, undefined, [ep.ifname, tmpName(ep)]),

  /** Whether the endpoint's child (name, kind and MAC) is in its namespace. An endpoint of an anonymous namespace cannot be looked at after a restart and is kept. */
  async alive(_ctx, _net, ep) {
    if (!ep.netnsPath) return true;
    const h = await endpointNs(ep);
    if (!h) return false;
    try {
      return (await childOf(h.ns, ep, [ep.ifname])) !== undefined;
    } finally {
      h.ns.close();
    }
  },

  hostLinks: () => [],

  // Children of the parent in named namespaces (IFLA_LINK is the parent's ifindex) with an
  // address in the subnet. Their endpoint ids were never in the kernel: they get new ones.
  async adopt(_ctx, net, scan) {
    const parent = scan.hostLinks.find((l) => l.name === net.macvlan!.parent);
    const endpoints: EndpointInfo[] = [];
    if (!parent) return { endpoints, records: [] };
    for (const c of scan.containers) {
      for (const l of c.links) {
        if (l.kind !== 'macvlan' || l.link !== parent.index || l.linkNetnsId === undefined) continue;
        const ep = endpointFrom(randomId(), net, '', l, c, new Map());
        if (ep) endpoints.push(ep);
      }
    }
    return { endpoints, records: [] };
  },
};

// The endpoint's namespace: the given handle, or its path reopened if it still is the
// same namespace; undefined when it is gone (or was anonymous).
async function endpointNs(ep: EndpointInfo, given?: Netns): Promise<{ ns: Netns; own: boolean } | undefined> {
  if (given && !given.closed) return { ns: given, own: false };
  if (!ep.netnsPath) return undefined;
  const ns = await Netns.open(ep.netnsPath).catch(() => undefined);
  if (!ns) return undefined;
  if (ep.netnsId !== '' && ns.id !== ep.netnsId) {
    ns.close();
    return undefined;
  }
  return { ns, own: true };
}

// The endpoint's child in its namespace: its name, kind and MAC must all still match.
async function childOf(ns: Netns, ep: EndpointInfo, names: string[]): Promise<number | undefined> {
  for (const name of names) {
    const l = await findLink(ns, name);
    if (l && l.kind === 'macvlan' && l.mac === ep.mac) return l.index;
  }
  return undefined;
}

async function deleteChild(ep: EndpointInfo, given: Netns | undefined, names: string[]): Promise<void> {
  const h = await endpointNs(ep, given);
  if (!h) return;
  try {
    const index = await childOf(h.ns, ep, names);
    if (index === undefined) return;
    await h.ns.links.delete(index).catch((e: NetlinkError) => {
      if (e.code !== 'ENODEV') throw e;
    });
  } finally {
    if (h.own) h.ns.close();
  }
}
