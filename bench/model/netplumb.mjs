// netplumb at the model level (Networks: a bridge network, IPAM, persisted state,
// masquerade, published ports), serial and with 16 attaches in flight, and the fast
// path (attachVeth with { create }) as the reference the model's attach is held to.
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { now, run, wallNow } from '../lib/util.mjs';

const dist = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'dist', 'index.js');
let np;
let firewallMod;

function load() {
  if (!np) {
    const require = createRequire(import.meta.url);
    np = require(dist);
    firewallMod = require(path.join(path.dirname(dist), 'network', 'firewall.js'));
  }
  return np;
}

// ======================================================================================
// The model, through today's public API. Each step is one small function so that the
// new API (network.attach({ create: name }) making the namespace in the same native
// call, a cheaper detach) can be switched in here without touching the harness.
// bench/networks.mjs's scale scenario uses the same functions.
// ======================================================================================

/** Opens the controller on a state directory (untimed). */
export async function openNetworks(ctx) {
  load();
  return np.Networks.open({ stateDir: ctx.stateDir, netnsDir: ctx.netnsDir });
}

/** Creates one bridge network (untimed, as `docker network create` is not per container). */
export async function createNetwork(nets, name, subnet) {
  return nets.create({ name, subnet });
}

/** What a container asks for besides its network: one published port with --ports. */
function attachOptions(ctx, c) {
  return ctx.ports ? { publish: [{ hostPort: c.hostPort, containerPort: ctx.containerPort, protocol: 'tcp' }] } : {};
}

/**
 * One container: network.attach({ create: name }): the named namespace (as `ip netns
 * add`) made in the attach's own native call, the veth into the bridge, address from the
 * network's IPAM, lo and eth0 up, default route, the endpoint recorded, its port
 * published. Returns the endpoint and the parts' ms (the namespace is part of the attach).
 */
export async function attachContainer(network, ctx, c) {
  const t0 = now();
  const { netns, ...endpoint } = await network.attach({ create: c.ns, netnsDir: ctx.netnsDir }, attachOptions(ctx, c));
  const t1 = now();
  // The endpoint keeps the namespace's path and identity; the handle is not needed.
  netns.close();
  return { endpoint, netnsMs: 0, attachMs: t1 - t0 };
}

/**
 * One container's teardown: network.detach (port unpublished, the veth down and handed
 * to the reap group, address and port released) by the endpoint attach returned, as a
 * runtime that keeps it would, then the namespace (which takes the veth pair with it).
 * Returns the two parts' ms.
 */
export async function detachContainer(network, ctx, c, endpoint) {
  const t0 = now();
  await network.detach(endpoint);
  const t1 = now();
  await np.Netns.delete(c.ns, { netnsDir: ctx.netnsDir });
  return { detachMs: t1 - t0, netnsMs: now() - t1 };
}

/**
 * Every container at once: all detaches issued together (they run concurrently: each is
 * its own store transactions and one link change), then every namespace deleted.
 */
export async function detachAllContainers(network, ctx, endpoints) {
  await Promise.all(ctx.containers.map((c) => network.detach(endpoints.get(c.ns))));
  await Promise.all(ctx.containers.map((c) => np.Netns.delete(c.ns, { netnsDir: ctx.netnsDir })));
}

/** Removes the network and closes the controller (untimed). */
export async function closeNetworks(nets, names) {
  await nets.reap();
  for (const n of names) await nets.remove(n);
  await nets.close();
}

// ======================================================================================

const NETWORK = 'bench';

/** The Networks peers: serial, or `k` attaches in flight. */
function modelPeer({ id, label, inFlight }) {
  let nets;
  let network;
  const endpoints = new Map();
  return {
    id,
    label,
    netplumb: true,
    inFlight,
    how: inFlight
      ? `as netplumb, with ${inFlight} containers in flight from one process (throughput = N / wall time)`
      : 'Networks.open({ stateDir }), nets.create({ name, subnet }); per container network.attach({ create: c<i> }, { publish }); network.detach(endpoint) + Netns.delete',
    // The parallel variant is about attach throughput: its teardown is the serial one,
    // run once (no second round), so its bulk figure is that round until the links are gone.
    bulkMethod: inFlight
      ? 'none: the serial teardown round, until the links are gone'
      : 'every network.detach issued at once, then Netns.delete of all',
    hasBulk: !inFlight,
    staticIp: false,
    masq: 'nft',
    ports: 'nft',
    bridge: () => network.info.bridge,
    async prepare(ctx) {
      try {
        load();
      } catch (e) {
        return `cannot load ${dist} (run npm run build): ${e.message}`;
      }
      nets = await openNetworks(ctx);
      network = await createNetwork(nets, NETWORK, ctx.subnet);
      return undefined;
    },
    async attach(ctx) {
      const times = [];
      const parts = { netns: [], attach: [] };
      const one = async (c) => {
        const s = now();
        const r = await attachContainer(network, ctx, c);
        times.push(now() - s);
        parts.netns.push(r.netnsMs);
        parts.attach.push(r.attachMs);
        endpoints.set(c.ns, r.endpoint);
      };
      const t0 = now();
      if (!inFlight) {
        for (const c of ctx.containers) await one(c);
        return { times, parts };
      }
      let next = 0;
      const worker = async () => {
        while (next < ctx.containers.length) await one(ctx.containers[next++]);
      };
      await Promise.all(Array.from({ length: inFlight }, worker));
      return { times, wallMs: now() - t0, parts };
    },
    async teardown(ctx) {
      const times = [];
      const parts = { detach: [], netns: [] };
      for (const c of ctx.containers) {
        const s = now();
        const r = await detachContainer(network, ctx, c, endpoints.get(c.ns));
        times.push(now() - s);
        parts.detach.push(r.detachMs);
        parts.netns.push(r.netnsMs);
        endpoints.delete(c.ns);
      }
      return { times, parts };
    },
    async bulkTeardown(ctx) {
      const startedAt = wallNow();
      const t0 = now();
      await detachAllContainers(network, ctx, endpoints);
      endpoints.clear();
      return { startedAt, ms: now() - t0 };
    },
    verifyAttached(containers) {
      const n = network.endpoints().length;
      if (n !== containers.length) throw new Error(`verify: the network has ${n} endpoints in its state, expected ${containers.length}`);
    },
    verifyDetached() {
      const n = network.endpoints().length;
      if (n) throw new Error(`verify: ${n} endpoints left in the network's state after teardown`);
    },
    async finish() {
      if (nets) await closeNetworks(nets, network ? [NETWORK] : []).catch(() => nets.close());
      nets = undefined;
      network = undefined;
      endpoints.clear();
    },
  };
}

// The fast path as the reference: the namespace made and both batches sent in one
// native call, onto a bridge the harness makes (untimed); no IPAM (the planned address),
// no state, no masquerade. With --ports the port is published as netplumb-fast does in
// bench/run.mjs: the elements Firewall.publish makes, through Transaction.commitSync(),
// into the base table Firewall.ensureBase makes (untimed).
// With `inFlight`, that many attaches overlap (one process): how much parallelism the
// kernel leaves an attach this lean, the ceiling for netplumb-par16.
const AV_BRIDGE = 'avb0';
//
// With `sameWork`, attachVeth is given what network.attach gives it (a MAC from the
// address, the network's MTU, the endpoint's tag as the host end's alias, arp_notify in
// the container): the same netlink work, so the ratio to it is the model's own cost.
function attachVethPeer(inFlight, { sameWork = false } = {}) {
  let host;
  let bridgeIndex;
  const T = { family: 'inet', table: 'netplumb' };
  const endpoint = (ctx, c) => ({ ip: c.ip, publish: [{ hostPort: c.hostPort, containerPort: ctx.containerPort, protocol: 'tcp' }] });
  const publish = (ctx, c) => {
    const tx = host.nft.transaction();
    for (const { set, el } of firewallMod.portElements(endpoint(ctx, c))) tx.createElements({ ...T, set, elements: [el] });
    tx.commitSync();
  };
  const unpublish = (ctx, cs) => {
    const tx = host.nft.transaction();
    for (const c of cs) for (const { set, el } of firewallMod.portElements(endpoint(ctx, c))) tx.destroyElements({ ...T, set, elements: [{ key: el.key }] });
    tx.commitSync();
  };
  const attachOne = async (ctx, c) => {
    const { netns } = await np.attachVeth(host, { create: c.ns, netnsDir: ctx.netnsDir }, {
      bridge: bridgeIndex,
      hostIfname: `av${c.i}`,
      address: c.cidr,
      gateway: ctx.gateway,
      loUp: true,
      ...(sameWork && {
        mac: np.macFromIp(c.ip),
        mtu: 1500,
        alias: `netplumb:ep:${c.i.toString(16).padStart(64, '0')}`,
        ipv4Conf: { arp_notify: 1 },
        ipv6: false,
      }),
    });
    netns.close();
    if (ctx.ports) publish(ctx, c);
  };
  return {
    id: sameWork ? 'attachveth-same' : inFlight ? `attachveth-par${inFlight}` : 'attachveth',
    label: sameWork ? 'attachVeth, the model\'s netlink work' : inFlight ? `attachVeth { create } (${inFlight} in flight)` : 'attachVeth { create } (reference)',
    ...(sameWork && { sameWork: true }),
    reference: true,
    inFlight,
    how: sameWork
      ? 'as attachveth, plus what network.attach passes: mac (from the address), mtu, alias (the endpoint tag), ipv4Conf { arp_notify: 1 }, ipv6: false'
      : inFlight
        ? `as attachveth, with ${inFlight} containers in flight from one process (throughput = N / wall time)`
        : 'attachVeth(host, { create: c<i> }, { bridge, hostIfname, address, gateway, loUp }) onto a bridge the harness made; Netns.delete',
    bulkMethod: inFlight ? 'none: the serial teardown round, until the links are gone' : 'Netns.delete of every namespace (the veths die with them, in the kernel)',
    hasBulk: !inFlight,
    staticIp: true,
    masq: null,
    ports: 'nft',
    bridge: () => AV_BRIDGE,
    async prepare(ctx) {
      try {
        load();
      } catch (e) {
        return `cannot load ${dist} (run npm run build): ${e.message}`;
      }
      run('ip', ['link', 'add', AV_BRIDGE, 'type', 'bridge']);
      run('ip', ['addr', 'add', `${ctx.gateway}/${ctx.prefixLen}`, 'dev', AV_BRIDGE]);
      run('ip', ['link', 'set', AV_BRIDGE, 'up']);
      bridgeIndex = JSON.parse(run('ip', ['-j', 'link', 'show', AV_BRIDGE]))[0].ifindex;
      host = await np.Netns.current();
      if (ctx.ports) await new np.Firewall(host, T.table).ensureBase();
      return undefined;
    },
    async attach(ctx) {
      const times = [];
      const one = async (c) => {
        const s = now();
        await attachOne(ctx, c);
        times.push(now() - s);
      };
      if (!inFlight) {
        for (const c of ctx.containers) await one(c);
        return { times };
      }
      const t0 = now();
      let next = 0;
      const worker = async () => {
        while (next < ctx.containers.length) await one(ctx.containers[next++]);
      };
      await Promise.all(Array.from({ length: inFlight }, worker));
      return { times, wallMs: now() - t0 };
    },
    async teardown(ctx) {
      const times = [];
      for (const c of ctx.containers) {
        const s = now();
        if (ctx.ports) unpublish(ctx, [c]);
        await np.Netns.delete(c.ns, { netnsDir: ctx.netnsDir });
        times.push(now() - s);
      }
      return { times };
    },
    async bulkTeardown(ctx) {
      const startedAt = wallNow();
      const t0 = now();
      if (ctx.ports) unpublish(ctx, ctx.containers);
      await Promise.all(ctx.containers.map((c) => np.Netns.delete(c.ns, { netnsDir: ctx.netnsDir })));
      return { startedAt, ms: now() - t0 };
    },
    async finish() {
      host?.close();
      host = undefined;
    },
  };
}

export default [
  modelPeer({ id: 'netplumb', label: 'netplumb Networks (serial)' }),
  modelPeer({ id: 'netplumb-par16', label: 'netplumb Networks (16 in flight)', inFlight: 16 }),
  attachVethPeer(),
  attachVethPeer(undefined, { sameWork: true }),
  attachVethPeer(16),
];
