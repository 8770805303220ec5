// netplumb through its public API. Each variant is one entry of the exported list:
// how it attaches one container, detaches one, and detaches all. The fast-path variants
// (compound attach, NetnsPool, parallel attaches) are added here as further entries.
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { now, wallNow } from '../lib/util.mjs';

const dist = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'dist', 'index.js');
let np;
let firewall;

async function load() {
  if (!np) {
    const require = createRequire(import.meta.url);
    np = require(dist);
    firewall = require(path.join(path.dirname(dist), 'network', 'firewall.js'));
  }
  return np;
}

// ---- the published-port workload ----
// One port is the elements Firewall.publish makes for it (firewall.portElements: a
// dnat4_any and a pub4 element), created in one transaction on the host's netfilter
// socket, in the table the harness made (Firewall.ensureBase, untimed).

const endpoint = (ctx, c) => ({ ip: c.ip, publish: [{ hostPort: c.hostPort, containerPort: ctx.containerPort, protocol: 'tcp' }] });
const T = { family: 'inet', table: 'netplumb' };

/** Firewall.publish itself: create the elements (NLM_F_EXCL), one transaction, commit(). */
async function publishAsync(ctx, host, c) {
  await new np.Firewall(host, T.table).publish(undefined, endpoint(ctx, c));
}
async function unpublishAsync(ctx, host, c) {
  await new np.Firewall(host, T.table).unpublish(undefined, endpoint(ctx, c));
}
/** The same elements and verbs through Transaction.commitSync() (no pool hop). */
function publishSync(ctx, host, c) {
  const tx = host.nft.transaction();
  for (const { set, el } of firewall.portElements(endpoint(ctx, c))) tx.createElements({ family: T.family, table: T.table, set, elements: [el] });
  tx.commitSync();
}
function unpublishSync(ctx, host, c) {
  const tx = host.nft.transaction();
  for (const { set, el } of firewall.portElements(endpoint(ctx, c))) tx.destroyElements({ family: T.family, table: T.table, set, elements: [{ key: el.key }] });
  tx.commitSync();
}
/** Every container's elements destroyed in one transaction (bulk teardown). */
async function unpublishAll(ctx, host) {
  const tx = host.nft.transaction();
  for (const c of ctx.containers) {
    for (const { set, el } of firewall.portElements(endpoint(ctx, c))) tx.destroyElements({ family: T.family, table: T.table, set, elements: [{ key: el.key }] });
  }
  await tx.commit();
}

/**
 * Builds a peer from a variant. A variant gives either attachOne (timed per container,
 * serially, by the harness) or attachAll (returns { times, wallMs } itself, for
 * parallel or pooled attaches); the same for teardown.
 */
function peer(v) {
  let host;
  return {
    id: v.id,
    label: v.label,
    scope: 'full',
    netplumb: true,
    bulkMethod: v.bulkMethod,
    ports: {
      how: 'nft',
      method: v.syncPublish
        ? 'Transaction.commitSync() of the elements Firewall.publish makes (dnat4_any + pub4, NLM_F_EXCL)'
        : 'Firewall.publish (dnat4_any + pub4, NLM_F_EXCL, one transaction, commit())',
    },
    async prepare(ctx) {
      try {
        await load();
      } catch (e) {
        return `cannot load ${dist} (run npm run build): ${e.message}`;
      }
      host = await np.Netns.current();
      if (v.prepare) return v.prepare(ctx, np, host);
      return undefined;
    },
    async attach(ctx) {
      if (v.attachAll) return v.attachAll(ctx, np, host);
      const times = [];
      for (const c of ctx.containers) {
        const t0 = now();
        await v.attachOne(ctx, np, host, c);
        if (ctx.ports) await publish(v, ctx, host, c);
        times.push(now() - t0);
      }
      return times;
    },
    async teardown(ctx) {
      const times = [];
      for (const c of ctx.containers) {
        const t0 = now();
        if (ctx.ports) await unpublish(v, ctx, host, c);
        await v.detachOne(ctx, np, host, c);
        times.push(now() - t0);
      }
      return times;
    },
    async bulkTeardown(ctx) {
      const startedAt = wallNow();
      const t0 = now();
      if (ctx.ports) await unpublishAll(ctx, host);
      await v.detachAll(ctx, np, host);
      return { startedAt, ms: now() - t0 };
    },
    async linkGet(ctx, iterations) {
      const times = new Array(iterations);
      for (let i = 0; i < iterations; i++) {
        const t0 = now();
        await host.links.get('lo');
        times[i] = now() - t0;
      }
      return times;
    },
    async linkGetSync(ctx, iterations) {
      const times = new Array(iterations);
      for (let i = 0; i < iterations; i++) {
        const t0 = now();
        host.links.getSync('lo');
        times[i] = now() - t0;
      }
      return times;
    },
    async finish() {
      if (v.finish) await v.finish();
      host?.close();
      host = undefined;
    },
  };
}

/** Publishes c's port the variant's way (fast variants: commitSync). */
async function publish(v, ctx, host, c) {
  if (v.syncPublish) publishSync(ctx, host, c);
  else await publishAsync(ctx, host, c);
}
async function unpublish(v, ctx, host, c) {
  if (v.syncPublish) unpublishSync(ctx, host, c);
  else await unpublishAsync(ctx, host, c);
}

/** The straightforward way: create the namespace, one batch on the host, one inside. */
const serial = {
  id: 'netplumb',
  label: 'netplumb (public API, serial)',
  async attachOne(ctx, { Netns }, host, c) {
    const ns = await Netns.create(c.ns, { netnsDir: ctx.netnsDir });
    try {
      await host
        .batch()
        .links.add({ kind: 'veth', name: c.veth, master: ctx.bridge, up: true, peer: { name: 'eth0', netns: ns, up: true } })
        .commit();
      await ns
        .batch()
        .links.set('lo', { up: true })
        .addresses.add({ dev: 'eth0', address: c.cidr })
        .routes.add({ dst: 'default', gateway: ctx.gateway })
        .commit();
    } finally {
      ns.close();
    }
  },
  async detachOne(ctx, { Netns }, host, c) {
    await host.links.delete(c.veth);
    await Netns.delete(c.ns, { netnsDir: ctx.netnsDir });
  },
  // Every RTM_DELLINK in one batch (one sendmsg), then every namespace file.
  bulkMethod: 'one batch of RTM_DELLINK (one sendmsg), then Netns.delete of all',
  async detachAll(ctx, { Netns }, host) {
    const b = host.batch();
    for (const c of ctx.containers) b.links.delete(c.veth);
    await b.commit({ rollback: false });
    await Promise.all(ctx.containers.map((c) => Netns.delete(c.ns, { netnsDir: ctx.netnsDir })));
  },
};

// The fast path: attachVeth (the namespace made and two sendmsg calls in one native
// call, the bridge by index, peer ifindex chosen up front, one queue per end, no IPv6 on
// either end).
// Every host end joins one link group. Teardown deletes the namespace: the kernel
// destroys the veth pair in its own background work, with no RCU wait on our path.
const GROUP = 4242;
function fastAttach(ctx, np, host, ns, c, loUp) {
  return np.attachVeth(host, ns, {
    bridge: ctx.bridgeIndex,
    hostIfname: c.veth,
    address: c.cidr,
    gateway: ctx.gateway,
    group: GROUP,
    loUp,
  });
}

async function deleteNamespace(ctx, { Netns }, c) {
  await Netns.delete(c.ns, { netnsDir: ctx.netnsDir });
}

const fast = {
  id: 'netplumb-fast',
  label: 'netplumb (attachVeth, serial)',
  syncPublish: true,
  // The namespace is made by the same native call ({ create }): one thread hand-off
  // each way for the whole container.
  async attachOne(ctx, np, host, c) {
    const { netns } = await fastAttach(ctx, np, host, { create: c.ns, netnsDir: ctx.netnsDir }, c, true);
    netns.close();
  },
  detachOne: (ctx, np, _host, c) => deleteNamespace(ctx, np, c),
  bulkMethod: 'Netns.delete of every namespace (veths die with them, in the kernel)',
  async detachAll(ctx, np) {
    await Promise.all(ctx.containers.map((c) => deleteNamespace(ctx, np, c)));
  },
};

// NetnsPool: namespaces made ahead (lo up, IPv6 off), so the attach is take(name) (a
// bind mount) plus attachVeth. The pool is filled before timing, as a launcher's would
// be between bursts.
let pool;
const pooled = {
  id: 'netplumb-pool',
  label: 'netplumb (NetnsPool + attachVeth, serial)',
  syncPublish: true,
  async prepare(ctx, np) {
    // Filled before the burst; refilling waits until the burst has drained it (lowWater 1)
    // instead of competing with the attaches for the RTNL lock.
    pool = await np.NetnsPool.create({ size: Math.min(ctx.containers.length, 1024), lowWater: 1, concurrency: 2, netnsDir: ctx.netnsDir });
    return undefined;
  },
  async attachOne(ctx, np, host, c) {
    const ns = await pool.take(c.ns);
    try {
      await fastAttach(ctx, np, host, ns, c, false);
    } finally {
      ns.close();
    }
  },
  detachOne: (ctx, np, _host, c) => deleteNamespace(ctx, np, c),
  bulkMethod: 'Netns.delete of every namespace',
  async detachAll(ctx, np) {
    await Promise.all(ctx.containers.map((c) => deleteNamespace(ctx, np, c)));
    await pool.fill();
  },
  async finish() {
    await pool?.close();
    pool = undefined;
  },
};

// Parallel attaches from one process: K in flight (each its own namespace and socket;
// the host socket serialises its batches, the kernel's RTNL lock the rest).
function parallel(k) {
  return {
    id: `netplumb-par${k}`,
    label: `netplumb (attachVeth, ${k} in parallel)`,
    syncPublish: true,
    async attachAll(ctx, np, host) {
      const times = [];
      const t0 = now();
      let next = 0;
      const worker = async () => {
        while (next < ctx.containers.length) {
          const c = ctx.containers[next++];
          const s = now();
          const ns = await np.Netns.create(c.ns, { netnsDir: ctx.netnsDir });
          try {
            await fastAttach(ctx, np, host, ns, c, true);
          } finally {
            ns.close();
          }
          if (ctx.ports) publishSync(ctx, host, c);
          times.push(now() - s);
        }
      };
      await Promise.all(Array.from({ length: k }, worker));
      return { times, wallMs: now() - t0 };
    },
    detachOne: (ctx, np, _host, c) => deleteNamespace(ctx, np, c),
    bulkMethod: 'Netns.delete of every namespace',
    async detachAll(ctx, np) {
      await Promise.all(ctx.containers.map((c) => deleteNamespace(ctx, np, c)));
    },
  };
}

export default [peer(serial), peer(fast), peer(pooled), peer(parallel(4))];
