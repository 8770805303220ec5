// netplumb through its public API. Each variant is one entry of the exported list:
// how it attaches one container, detaches one, and detaches all. The fast-path variants
// (compound attach, NetnsPool, parallel attaches) are added here as further entries.
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { now, wallNow } from '../lib/util.mjs';

const dist = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'dist', 'index.js');
let np;

async function load() {
  if (!np) np = createRequire(import.meta.url)(dist);
  return np;
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
        times.push(now() - t0);
      }
      return times;
    },
    async teardown(ctx) {
      const times = [];
      for (const c of ctx.containers) {
        const t0 = now();
        await v.detachOne(ctx, np, host, c);
        times.push(now() - t0);
      }
      return times;
    },
    async bulkTeardown(ctx) {
      const startedAt = wallNow();
      const t0 = now();
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
    async finish() {
      if (v.finish) await v.finish();
      host?.close();
      host = undefined;
    },
  };
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
        .addresses.add('eth0', c.cidr)
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

export default [peer(serial)];
