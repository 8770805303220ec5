// Bridge networks, Docker's single-host model: a bridge of the host with the gateway
// address(es), forwarding and NAT in the owner's nftables table (per-network chains of
// constant size, Firewall.addNetwork), and each container a veth whose host end is a
// port of the bridge. Dual-stack, IPv4-only (the default) or IPv6-only; IPv6 outbound
// masqueraded (NAT66) or routed. docs/ipv6.md has the IPv6 side.
import { sha256 } from '../../crypto';
import { NetlinkError } from '../../errors';
import type { Netns } from '../../netns';
import type { Link } from '../../types';
import { checkIfname, own } from '../../validate';
import { AddressPool, contains, macFromIp, macFromIp6, overlaps, parseCidr, pickSubnet } from '../ipam';
import type { DriverContext, NetworkDriver } from '../driver';
import type { BridgeNetworkOptions, EndpointInfo, NetworkInfo } from '../types';
import { adoptVeths } from '../rebuild';
import { checkLabels, checkMtu, networkTag } from './common';
import { attachVethEndpoint, BridgeIndex, deleteVeth, quiesceVeth, vethAlive, vethHostLinks } from './veth';

/** Bridge options, validated. */
interface CheckedBridge {
  bridge?: string;
  ipv4: boolean;
  subnet?: string;
  gateway?: string;
  ipRange?: string;
  ipv6: boolean;
  ipv6Subnet?: string;
  ipv6Gateway?: string;
  ipv6Range?: string;
  ipv6Masquerade: boolean;
  mtu?: number;
  masquerade: boolean;
  icc: boolean;
  internal: boolean;
  labels: Record<string, string>;
}

function bool(v: unknown, what: string, dflt: boolean): boolean {
  if (v === undefined) return dflt;
  if (typeof v !== 'boolean') throw new TypeError(`${what} must be a boolean`);
  return v;
}

const bridges = new BridgeIndex();

export const bridgeDriver: NetworkDriver<CheckedBridge> = {
  name: 'bridge',
  features: { ports: true, gatewayNetwork: false, create: true, hostLink: true, hostGateway: true },

  validate(input) {
    const o = own(input as unknown as BridgeNetworkOptions, 'network options');
    const ipv4 = bool(o.ipv4, 'ipv4', true);
    const ipv6 = bool(o.ipv6, 'ipv6', o.ipv6Subnet !== undefined);
    if (!ipv4 && !ipv6) throw new TypeError('a network without IPv4 (ipv4: false) needs IPv6 (ipv6: true or ipv6Subnet)');
    if (!ipv4 && (o.subnet !== undefined || o.gateway !== undefined || o.ipRange !== undefined)) {
      throw new TypeError('subnet, gateway and ipRange are IPv4 settings: not with ipv4: false');
    }
    if (!ipv6) {
      for (const k of ['ipv6Subnet', 'ipv6Gateway', 'ipv6Range', 'ipv6Masquerade'] as const) {
        if (o[k] !== undefined) throw new TypeError(`${k} needs IPv6 on the network (ipv6: false was given)`);
      }
    }
    const out: CheckedBridge = {
      ipv4,
      ipv6,
      ipv6Masquerade: bool(o.ipv6Masquerade, 'ipv6Masquerade', true),
      masquerade: bool(o.masquerade, 'masquerade', true),
      icc: bool(o.icc, 'icc', true),
      internal: bool(o.internal, 'internal', false),
      labels: checkLabels(o.labels),
    };
    const mtu = checkMtu(o.mtu);
    if (mtu !== undefined) out.mtu = mtu;
    if (o.bridge !== undefined) out.bridge = checkIfname(o.bridge, 'bridge');
    if (o.subnet !== undefined) {
      const s = parseCidr(o.subnet, 'subnet');
      if (s.family !== 4) throw new TypeError('subnet must be IPv4 (use ipv6Subnet for IPv6)');
      out.subnet = s.cidr;
    }
    if (o.ipv6Subnet !== undefined) {
      const v6 = parseCidr(o.ipv6Subnet, 'ipv6Subnet');
      if (v6.family !== 6) throw new TypeError('ipv6Subnet must be IPv6');
      out.ipv6Subnet = v6.cidr;
    }
    if (o.ipv6Gateway !== undefined || o.ipv6Range !== undefined) {
      // A gateway or range of a subnet not chosen yet cannot be checked (nor meant).
      if (out.ipv6Subnet === undefined) throw new TypeError('ipv6Gateway and ipv6Range need ipv6Subnet');
      if (o.ipv6Gateway !== undefined && typeof o.ipv6Gateway !== 'string') throw new TypeError('ipv6Gateway must be an IPv6 address');
      if (o.ipv6Range !== undefined && typeof o.ipv6Range !== 'string') throw new TypeError('ipv6Range must be a CIDR');
      const pool = new AddressPool(out.ipv6Subnet, {
        ...(o.ipv6Gateway !== undefined && { gateway: o.ipv6Gateway }),
        ...(o.ipv6Range !== undefined && { range: o.ipv6Range }),
      });
      if (o.ipv6Gateway !== undefined) out.ipv6Gateway = pool.gateway!;
      if (o.ipv6Range !== undefined) out.ipv6Range = pool.range.cidr;
    }
    if (o.gateway !== undefined) {
      if (typeof o.gateway !== 'string') throw new TypeError('gateway must be an IPv4 address');
      out.gateway = o.gateway;
    }
    if (o.ipRange !== undefined) {
      if (typeof o.ipRange !== 'string') throw new TypeError('ipRange must be a CIDR');
      out.ipRange = o.ipRange;
    }
    if (out.subnet !== undefined) {
      if (out.ipRange !== undefined && !contains(out.subnet, out.ipRange)) throw new RangeError(`ipRange ${out.ipRange} is not inside ${out.subnet}`);
      // The gateway and range checked against the subnet before anything is made.
      void new AddressPool(out.subnet, { ...(out.gateway !== undefined && { gateway: out.gateway }), ...(out.ipRange !== undefined && { range: out.ipRange }) });
    }
    return out;
  },

  async create(ctx, base, c, others) {
    const bridge = c.bridge ?? `br-${base.id.slice(0, 12)}`;
    const taken = others.find((n) => n.bridge === bridge);
    if (taken) throw new NetlinkError({ errno: 17, op: 'network', detail: `bridge ${bridge} belongs to network ${taken.name}` });
    let subnet = '';
    let gateway = '';
    if (c.ipv4) {
      if (c.subnet !== undefined) {
        const clash = others.find((n) => n.subnet !== '' && overlaps(n.subnet, c.subnet!));
        if (clash) throw new NetlinkError({ errno: 17, op: 'network', detail: `subnet ${c.subnet} overlaps network ${clash.name} (${clash.subnet})` });
        subnet = c.subnet;
      } else {
        // Subnets routed on the host or held by another network are off limits.
        subnet = pickSubnet({ avoid: [...(await routed(ctx.host, 4)), ...others.map((n) => n.subnet).filter((x) => x !== '')] });
      }
      if (c.ipRange !== undefined && !contains(subnet, c.ipRange)) throw new RangeError(`ipRange ${c.ipRange} is not inside ${subnet}`);
      gateway = new AddressPool(subnet, { ...(c.gateway !== undefined && { gateway: c.gateway }), ...(c.ipRange !== undefined && { range: c.ipRange }) }).gateway!;
    }
    let v6: Pick<NetworkInfo, 'ipv6Subnet' | 'ipv6Gateway' | 'ipv6Range' | 'ipv6Masquerade'> = {};
    if (c.ipv6) {
      let ipv6Subnet: string;
      const held = others.map((n) => n.ipv6Subnet).filter((x): x is string => x !== undefined);
      if (c.ipv6Subnet !== undefined) {
        const clash = others.find((n) => n.ipv6Subnet !== undefined && overlaps(n.ipv6Subnet, c.ipv6Subnet!));
        if (clash) throw new NetlinkError({ errno: 17, op: 'network', detail: `ipv6Subnet ${c.ipv6Subnet} overlaps network ${clash.name} (${clash.ipv6Subnet})` });
        ipv6Subnet = c.ipv6Subnet;
      } else {
        ipv6Subnet = pickSubnet({ pools: ctx.ipv6Pools, avoid: [...(await routed(ctx.host, 6)), ...held] });
      }
      v6 = {
        ipv6Subnet,
        ipv6Gateway: c.ipv6Gateway ?? new AddressPool(ipv6Subnet).gateway!,
        ...(c.ipv6Range !== undefined && { ipv6Range: c.ipv6Range }),
        ipv6Masquerade: c.ipv6Masquerade,
      };
    }
    const info: NetworkInfo = {
      ...base,
      driver: 'bridge',
      bridge,
      subnet,
      gateway,
      ...(c.ipRange !== undefined && { ipRange: c.ipRange }),
      ...v6,
      mtu: c.mtu ?? (await defaultMtu(ctx)),
      masquerade: c.masquerade,
      icc: c.icc,
      internal: c.internal,
      isDefault: false,
      labels: c.labels,
    };
    try {
      await ensureBridge(ctx, info);
      await ctx.firewall.addNetwork(info);
    } catch (e) {
      await ctx.firewall.removeNetwork(info).catch(() => undefined);
      await ctx.host.links.delete(bridge).catch(() => undefined);
      throw e;
    }
    return { info };
  },

  async remove(ctx, net) {
    await ctx.firewall.removeNetwork(net);
    await ctx.host.links.delete(net.bridge).catch((e: NetlinkError) => {
      if (e.code !== 'ENODEV') throw e;
    });
    bridges.forget(net.id);
  },

  async reconcile(ctx, net, endpoints) {
    const made = await ensureBridge(ctx, net);
    if (made) {
      bridges.forget(net.id);
      // A bridge deleted under live endpoints (by another party) leaves their host ends
      // unenslaved: the new bridge gets them back, with the port options attach gave.
      await reenslave(ctx, net, endpoints);
    }
    await ctx.firewall.addNetwork(net);
  },

  attach: (ctx, net, ep, target) => attachVethEndpoint(ctx, net, ep, target, bridges),
  detach: (ctx, _net, ep) => quiesceVeth(ctx, ep),
  abort: (ctx, _net, ep) => deleteVeth(ctx, ep),
  alive: async (ctx, _net, ep, links) => vethAlive(ctx, ep, links),
  hostLinks: (net, endpoints) => vethHostLinks([net.bridge], endpoints),
  adopt: async (ctx, net, scan) => ({ endpoints: adoptVeths(ctx, net, scan), records: [] }),
};

// Host ends that exist and are not ports of the network's bridge: made its ports again
// (up, hairpin when the endpoint publishes ports, isolated without icc), one request each.
async function reenslave(ctx: DriverContext, net: NetworkInfo, endpoints: readonly EndpointInfo[]): Promise<void> {
  if (endpoints.length === 0) return;
  const br = await ctx.host.links.get(net.bridge);
  for (const ep of endpoints) {
    if (ep.hostIfname === '') continue;
    const l = await ctx.host.links.get(ep.hostIfname).catch(() => undefined);
    if (!l || l.group === ctx.reapGroup || l.master === br.index) continue;
    const port = { ...(ep.publish.length > 0 && { hairpin: true }), ...(!net.icc && { isolated: true }) };
    // Enslaved first: the kernel takes port options (IFLA_INFO_SLAVE_DATA) only from a
    // link that is a port already (EOPNOTSUPP in the enslaving message itself).
    await ctx.host.links.set(l.index, { master: br.index, up: true });
    if (Object.keys(port).length > 0) await ctx.host.links.set(l.index, { bridgePort: port });
  }
}

// Destinations routed on the host (unicast, not the default route): a new network's
// subnet must overlap none of them.
async function routed(host: Netns, family: 4 | 6): Promise<string[]> {
  return (await host.routes.list({ family, table: 'all' }))
    .filter((r) => r.dst !== 'default' && r.type === 'unicast')
    .map((r) => r.dst);
}

// MTU of the host's default-route interface (IPv4's, else IPv6's), else 1500.
async function defaultMtu(ctx: DriverContext): Promise<number> {
  const def = (await ctx.host.routes.list({ family: 4 })).find((r) => r.dst === 'default' && r.oif)
    ?? (await ctx.host.routes.list({ family: 6 })).find((r) => r.dst === 'default' && r.oif);
  if (!def?.oif) return 1500;
  const l = await ctx.host.links.get(def.oif).catch(() => undefined);
  return l?.mtu ?? 1500;
}

// The bridge with its gateway address, up; created if missing (restart, or new network).
// Returns whether it had to be made.
async function ensureBridge(ctx: DriverContext, net: NetworkInfo): Promise<boolean> {
  const host = ctx.host;
  let link: Link | undefined = await host.links.get(net.bridge).catch((e: NetlinkError) => {
    if (e.code === 'ENODEV') return undefined;
    throw e;
  });
  if (link && link.kind !== 'bridge') {
    throw new NetlinkError({ errno: 17, op: 'network', detail: `${net.bridge} exists and is not a bridge` });
  }
  const made = !link;
  const b = host.batch();
  if (!link) {
    b.links.add({
      name: net.bridge,
      kind: 'bridge',
      mtu: net.mtu,
      alias: networkTag(ctx.owner, net),
      // A MAC of its own: a bridge without one takes the lowest of its ports' MACs, so
      // it would change (and stale every container's ARP entry for the gateway) as
      // containers come and go.
      mac: bridgeMac(net),
      // A network without IPv6 does no IPv6 at all: no link-local address, no DAD, no MLD.
      ...(net.ipv6Subnet ? {} : { addrGenMode: 'none' as const }),
      bridge: { stp: false, multicastSnooping: false },
      up: true,
    });
  }
  if (net.subnet !== '') b.addresses.replace({ dev: net.bridge, address: `${net.gateway}/${parseCidr(net.subnet).prefixlen}`, broadcast: true });
  if (net.ipv6Subnet && net.ipv6Gateway) {
    b.addresses.replace({ dev: net.bridge, address: `${net.ipv6Gateway}/${parseCidr(net.ipv6Subnet).prefixlen}`, nodad: true });
  }
  if (link && !link.up) b.links.set(net.bridge, { up: true });
  await b.commit();
  link ??= await host.links.get(net.bridge);
  const sysctls: [string, string | number][] = [];
  if (net.subnet !== '') {
    // Forwarding between the bridge and the rest of the host; loose reverse-path
    // filtering (a container's replies may come back asymmetrically); ARP notify.
    sysctls.push(
      ['net.ipv4.ip_forward', 1],
      [`net/ipv4/conf/${net.bridge}/rp_filter`, 2],
      [`net/ipv4/conf/${net.bridge}/arp_notify`, 1],
      // Hairpin NAT to the container itself and 127.0.0.1 publishing need these.
      [`net/ipv4/conf/${net.bridge}/route_localnet`, 1],
    );
  }
  if (net.ipv6Subnet) {
    await enableIpv6Forwarding(host, ctx.warn);
    sysctls.push(
      [`net/ipv6/conf/${net.bridge}/disable_ipv6`, 0],
      // The bridge is the containers' router: a router advertisement sent by a container
      // must never give the host an address or a route.
      [`net/ipv6/conf/${net.bridge}/accept_ra`, 0],
      // Its link-local address usable as soon as the first port brings the carrier up:
      // the host solicits a container's address for a packet it forwards from the
      // bridge's link-local address, and a tentative one (DAD takes a second or more)
      // sends no solicitation at all, so traffic from outside to a container that has
      // not spoken yet would be dropped meanwhile. Every MAC on the bridge is the host's
      // choice, so the address cannot be duplicated.
      [`net/ipv6/conf/${net.bridge}/accept_dad`, 0],
    );
  }
  for (const [k, v] of sysctls) await host.sysctl.set({ [k]: v });
  return made;
}

// The bridge's MAC: from the IPv4 gateway as Docker does; on an IPv6-only network from
// the IPv6 gateway's host part (ipam.macFromIp6: 02:42:00:00:00:01 for the usual ::1),
// else 0a:… from a hash of the network id (stable, and never a 02:42 or 06 endpoint MAC).
function bridgeMac(net: NetworkInfo): string {
  if (net.subnet !== '') return macFromIp(net.gateway);
  const derived = macFromIp6(net.ipv6Gateway!, net.ipv6Subnet!);
  if (derived !== undefined) return derived;
  const h = sha256(net.id);
  return [0x0a, ...h.subarray(0, 5)].map((x) => x.toString(16).padStart(2, '0')).join(':');
}

/**
 * Turns IPv6 forwarding on in the host namespace (net.ipv6.conf.all.forwarding, which
 * also sets it on every interface and the default for new ones). A host that forwards
 * is a router, and the kernel ignores router advertisements on an interface with
 * accept_ra=1 once it forwards: a host whose uplink is configured by SLAAC would lose
 * its default route when the learned one expires. So before turning forwarding on,
 * every interface that holds routes learned from router advertisements (protocol 'ra')
 * and has accept_ra=1 gets accept_ra=2 (accept them even when forwarding), with a
 * warning naming it. Interfaces with accept_ra 0 or 2, or without learned routes, are
 * left as they are. Nothing is done when forwarding is on already.
 */
export async function enableIpv6Forwarding(host: Netns, warn: (message: string) => void): Promise<void> {
  const all = 'net/ipv6/conf/all/forwarding';
  if ((await host.sysctl.get(all)).trim() === '1') return;
  const learned = new Set<number>();
  for (const r of await host.routes.list({ family: 6, table: 'all' })) if (r.protocol === 'ra' && r.oif !== undefined) learned.add(r.oif);
  for (const index of learned) {
    const l = await host.links.get(index).catch(() => undefined);
    if (!l) continue;
    const key = `net/ipv6/conf/${l.name}/accept_ra`;
    if ((await host.sysctl.get(key).catch(() => '')).trim() !== '1') continue;
    await host.sysctl.set({ [key]: 2 });
    warn(`${l.name} has routes from router advertisements: accept_ra set to 2 there, so that it keeps taking them once IPv6 forwarding is on`);
  }
  await host.sysctl.set({ [all]: 1 });
}
