// An example network driver: routed point-to-point networks, in the manner of the CNI
// `ptp` plugin. No bridge: each container gets a veth whose host end carries the
// network's gateway address (/32, the same on every host end) and a /32 route to the
// container; the container gets its address /32, a link route to the gateway and its
// default route through it. The host routes between containers (ip_forward), so they
// reach each other and the host, and nothing else is needed in the kernel.
//
// It is the whole of what a new kind of network takes: this file, and
// `registerDriver(ptpDriver)` before `Networks.create({ driver: 'ptp', ... })`.
// docs/drivers.md walks through it; test/driver-api.test.ts runs it with real traffic.
import { Batch, reserveIfindex, type NetlinkError, type NetworkDriver, type NetworkInfo } from '../../src';
import { checkLabels, checkMtu, checkOptions, checkSubnetFree, subnetPool } from '../../src/network/drivers/common';
import { adoptVeths } from '../../src/network/rebuild';

interface CheckedPtp {
  subnet: string;
  gateway: string;
  ipRange?: string;
  mtu?: number;
  labels: Record<string, string>;
}

export const ptpDriver: NetworkDriver<CheckedPtp> = {
  name: 'ptp',
  // Ports would need forwarding rules for each host end; this example has none.
  features: { ports: false, gatewayNetwork: false, create: false, hostLink: true },

  // Options are checked here and only here, before anything is sent.
  validate(opts) {
    const o = checkOptions(opts as { subnet?: unknown; gateway?: unknown; ipRange?: unknown; mtu?: unknown; labels?: unknown }, 'ptp options');
    const pool = subnetPool(o.subnet, o.gateway, o.ipRange);
    const out: CheckedPtp = { subnet: pool.subnet.cidr, gateway: pool.gateway!, labels: checkLabels(o.labels) };
    if (typeof o.ipRange === 'string') out.ipRange = o.ipRange;
    const mtu = checkMtu(o.mtu);
    if (mtu !== undefined) out.mtu = mtu;
    return out;
  },

  // Nothing to make in the kernel until a container comes: only the clash checks.
  async create(ctx, base, c, others) {
    checkSubnetFree(c.subnet, others);
    await ctx.host.sysctl.set({ 'net.ipv4.ip_forward': 1 });
    const info: NetworkInfo = {
      ...base, driver: 'ptp', bridge: '', subnet: c.subnet, gateway: c.gateway, mtu: c.mtu ?? 1500,
      masquerade: false, icc: true, internal: false, isDefault: false, labels: c.labels,
      ...(c.ipRange !== undefined && { ipRange: c.ipRange }),
    };
    return { info };
  },
  remove: async () => undefined,
  reconcile: async () => undefined,

  // Two batches in one native call (Batch.commitAll): the host end with its address and
  // the route to the container, then the container end.
  async attach(ctx, net, ep, target) {
    const container = target.netns!;
    const peer = reserveIfindex();
    const hostEnd = reserveIfindex();
    const h = ctx.host.batch();
    h.links.add({
      name: ep.hostIfname, index: hostEnd, kind: 'veth', mtu: net.mtu, alias: `${ctx.owner}:ep:${ep.id}`, up: true,
      peer: { name: ep.ifname, netns: container, index: peer, mac: ep.mac, mtu: net.mtu },
    });
    h.addresses.add({ dev: hostEnd, address: `${net.gateway}/32` });
    h.routes.add({ dst: `${ep.ip}/32`, dev: hostEnd, scope: 'link' });
    const c = container.batch();
    c.links.set('lo', { up: true });
    c.links.set(peer, { up: true });
    c.addresses.add({ dev: peer, address: `${ep.ip}/32` });
    c.routes.add({ dst: `${net.gateway}/32`, dev: peer, scope: 'link' });
    if (ep.defaultRoute) c.routes.add({ dst: 'default', gateway: net.gateway, dev: peer });
    await Batch.commitAll([h, c]);
    return {};
  },

  // Down and into the reap group: one RTM_NEWLINK, no grace period waited for.
  async detach(ctx, _net, ep) {
    return ctx.host.links.set(ep.hostIfname, { group: ctx.reapGroup, up: false }).then(
      () => true,
      (e: NetlinkError) => {
        if (e.code !== 'ENODEV') throw e;
        return false;
      },
    );
  },
  async abort(ctx, _net, ep) {
    await ctx.host.links.delete(ep.hostIfname).catch(() => undefined);
  },
  alive: async (ctx, _net, ep, links) => {
    const l = links.get(ep.hostIfname);
    return l !== undefined && l.group !== ctx.reapGroup;
  },
  hostLinks: (_net, endpoints) => endpoints.map((e) => e.hostIfname),
  // A rebuild: every tagged host end whose container end has an address in this subnet.
  adopt: async (ctx, net, scan) => ({ endpoints: adoptVeths(ctx, net, scan, () => true), records: [] }),
};
