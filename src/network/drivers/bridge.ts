// Bridge networks, Docker's single-host model: a bridge of the host with the gateway
// address, forwarding and NAT in the owner's nftables table (per-network chains of
// constant size, Firewall.addNetwork), and each container a veth whose host end is a
// port of the bridge.
import { NetlinkError } from '../../errors';
import type { Link } from '../../types';
import { checkIfname, own } from '../../validate';
import { AddressPool, contains, macFromIp, overlaps, parseCidr, pickSubnet } from '../ipam';
import type { DriverContext, NetworkDriver } from '../driver';
import type { BridgeNetworkOptions, NetworkInfo } from '../types';
import { adoptVeths } from '../rebuild';
import { checkLabels, checkMtu, networkTag } from './common';
import { attachVethEndpoint, BridgeIndex, deleteVeth, quiesceVeth, vethAlive, vethHostLinks } from './veth';

/** Bridge options, validated. */
interface CheckedBridge {
  bridge?: string;
  subnet?: string;
  gateway?: string;
  ipRange?: string;
  ipv6Subnet?: string;
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
    const out: CheckedBridge = {
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
    let subnet: string;
    if (c.subnet !== undefined) {
      const clash = others.find((n) => overlaps(n.subnet, c.subnet!));
      if (clash) throw new NetlinkError({ errno: 17, op: 'network', detail: `subnet ${c.subnet} overlaps network ${clash.name} (${clash.subnet})` });
      subnet = c.subnet;
    } else {
      // Subnets routed on the host or held by another network are off limits.
      const routed = (await ctx.host.routes.list({ family: 4, table: 'all' }))
        .filter((r) => r.dst !== 'default' && r.type === 'unicast')
        .map((r) => r.dst);
      subnet = pickSubnet({ avoid: [...routed, ...others.map((n) => n.subnet)] });
    }
    if (c.ipRange !== undefined && !contains(subnet, c.ipRange)) throw new RangeError(`ipRange ${c.ipRange} is not inside ${subnet}`);
    const probe = new AddressPool(subnet, { ...(c.gateway !== undefined && { gateway: c.gateway }), ...(c.ipRange !== undefined && { range: c.ipRange }) });
    const info: NetworkInfo = {
      ...base,
      driver: 'bridge',
      bridge,
      subnet,
      gateway: probe.gateway!,
      ...(c.ipRange !== undefined && { ipRange: c.ipRange }),
      mtu: c.mtu ?? (await defaultMtu(ctx)),
      masquerade: c.masquerade,
      icc: c.icc,
      internal: c.internal,
      isDefault: false,
      labels: c.labels,
    };
    if (c.ipv6Subnet !== undefined) {
      info.ipv6Subnet = c.ipv6Subnet;
      info.ipv6Gateway = new AddressPool(c.ipv6Subnet).gateway!;
    }
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

  async reconcile(ctx, net) {
    const made = await ensureBridge(ctx, net);
    if (made) bridges.forget(net.id);
    await ctx.firewall.addNetwork(net);
  },

  attach: (ctx, net, ep, target) => attachVethEndpoint(ctx, net, ep, target, bridges),
  detach: (ctx, _net, ep) => quiesceVeth(ctx, ep),
  abort: (ctx, _net, ep) => deleteVeth(ctx, ep),
  alive: async (ctx, _net, ep, links) => vethAlive(ctx, ep, links),
  hostLinks: (net, endpoints) => vethHostLinks([net.bridge], endpoints),
  adopt: async (ctx, net, scan) => ({ endpoints: adoptVeths(ctx, net, scan), records: [] }),
};

// MTU of the host's default-route interface, else 1500.
async function defaultMtu(ctx: DriverContext): Promise<number> {
  const def = (await ctx.host.routes.list({ family: 4 })).find((r) => r.dst === 'default' && r.oif);
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
      mac: macFromIp(net.gateway),
      // A network without IPv6 does no IPv6 at all: no link-local address, no DAD, no MLD.
      ...(net.ipv6Subnet ? {} : { addrGenMode: 'none' as const }),
      bridge: { stp: false, multicastSnooping: false },
      up: true,
    });
  }
  b.addresses.replace(net.bridge, `${net.gateway}/${parseCidr(net.subnet).prefixlen}`, { broadcast: true });
  if (net.ipv6Subnet && net.ipv6Gateway) {
    b.addresses.replace(net.bridge, `${net.ipv6Gateway}/${parseCidr(net.ipv6Subnet).prefixlen}`, { nodad: true });
  }
  if (link && !link.up) b.links.set(net.bridge, { up: true });
  await b.commit();
  link ??= await host.links.get(net.bridge);
  // Forwarding between the bridge and the rest of the host; loose reverse-path
  // filtering (a container's replies may come back asymmetrically); ARP notify.
  const sysctls: [string, string | number][] = [
    ['net.ipv4.ip_forward', 1],
    [`net.ipv4.conf.${net.bridge}.rp_filter`, 2],
    [`net.ipv4.conf.${net.bridge}.arp_notify`, 1],
    // Hairpin NAT to the container itself and 127.0.0.1 publishing need these.
    [`net.ipv4.conf.${net.bridge}.route_localnet`, 1],
  ];
  if (net.ipv6Subnet) sysctls.push(['net.ipv6.conf.all.forwarding', 1], [`net.ipv6.conf.${net.bridge}.disable_ipv6`, 0]);
  for (const [k, v] of sysctls) await host.sysctl.set(k, v);
  return made;
}
