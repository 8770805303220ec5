import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { NetlinkError, type BatchFailure } from '../src';
import { ipj, run, Scope } from './helpers';

const scope = new Scope();
afterEach(() => scope.cleanup());

describe('batches', () => {
  it('four steps cost exactly one sendmsg and all take effect', async () => {
    const ns = await scope.ns('b');
    await ns.links.get('lo'); // open the socket first
    const before = ns.socketStats().sends;
    const results = await ns
      .batch()
      .links.add({ name: 'br0', kind: 'bridge', up: true })
      .links.add({ name: 'br1', kind: 'bridge' })
      .addresses.add('br0', '10.7.0.1/24')
      .routes.add({ dst: '10.8.0.0/16', gateway: '10.7.0.254' })
      .commit();
    expect(results).toHaveLength(4);
    expect(ns.socketStats().sends - before).toBe(1);
    const links = ipj<{ ifname: string }[]>(ns.name!, 'link').map((l) => l.ifname);
    expect(links).toEqual(expect.arrayContaining(['br0', 'br1']));
    const addrs = ipj<{ addr_info: { local: string }[] }[]>(ns.name!, 'addr', 'show', 'dev', 'br0');
    expect(addrs[0]!.addr_info.map((a) => a.local)).toContain('10.7.0.1');
    const routes = ipj<{ dst: string; gateway: string }[]>(ns.name!, 'route');
    expect(routes).toContainEqual(expect.objectContaining({ dst: '10.8.0.0/16', gateway: '10.7.0.254' }));
  });

  it('strace sees one sendmsg for a four-step batch', async () => {
    // A separate process, traced: the batch's requests leave in a single sendmsg.
    const ns = await scope.ns('st');
    const script = path.join('/run', `batch-${process.pid}.cjs`);
    const dist = path.resolve(__dirname, '../dist/index.js');
    writeFileSync(
      script,
      `const { Netns } = require(${JSON.stringify(dist)});
      (async () => {
        const ns = await Netns.open(${JSON.stringify(ns.name)});
        await ns.links.get('lo');
        process.stderr.write('BATCH-START\\n');
        await ns.batch()
          .links.add({ name: 'x0', kind: 'bridge' })
          .links.add({ name: 'x1', kind: 'bridge' })
          .links.add({ name: 'x2', kind: 'bridge' })
          .links.add({ name: 'x3', kind: 'bridge' })
          .commit();
        process.stderr.write('BATCH-END\\n');
      })();`,
    );
    const r = spawnSync('strace', ['-f', '-e', 'trace=sendmsg,write', '-s', '0', process.execPath, script], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    const between = r.stderr.split('BATCH-START')[1]!.split('BATCH-END')[0]!;
    const sends = between.split('\n').filter((l) => /sendmsg\(\d+, \{msg_name=\{sa_family=AF_NETLINK/.test(l));
    expect(sends).toHaveLength(1);
    // Four RTM_NEWLINK messages of 56 bytes each, in that one call.
    expect(sends[0]).toMatch(/= 224$/);
    expect(ipj<{ ifname: string }[]>(ns.name!, 'link').map((l) => l.ifname)).toEqual(['lo', 'x0', 'x1', 'x2', 'x3']);
  });

  it('a failed step is named, and rollback removes what the batch created', async () => {
    const ns = await scope.ns('rb');
    const err = await ns
      .batch()
      .links.add({ name: 'keep0', kind: 'bridge' })
      .addresses.add('keep0', '10.9.0.1/24')
      .links.add({ name: 'bad0', kind: 'other', type: 'nosuchkind' })
      .routes.add({ dst: '10.10.0.0/16', dev: 'keep0' })
      .commit()
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NetlinkError);
    const e = err as NetlinkError & { batch: BatchFailure };
    expect(e.step).toBe(2);
    expect(e.code).toBe('EOPNOTSUPP');
    expect(e.extack).toBe('Unknown device type');
    expect(e.message).toContain('[step 2]');
    expect(e.batch.rolledBack).toBe(true);
    // The route (step 3) had succeeded in the kernel and is gone with the rest.
    expect(ipj<{ ifname: string }[]>(ns.name!, 'link').map((l) => l.ifname)).toEqual(['lo']);
    expect(ipj(ns.name!, 'route')).toEqual([]);
  });

  it('without rollback, successful steps stay and the failure is still reported per step', async () => {
    const ns = await scope.ns('nrb');
    const err = await ns
      .batch()
      .links.add({ name: 'stay0', kind: 'bridge' })
      .links.add({ name: 'stay0', kind: 'bridge' })
      .commit({ rollback: false })
      .catch((e: unknown) => e);
    const e = err as NetlinkError & { batch: BatchFailure };
    expect(e.code).toBe('EEXIST');
    expect(e.step).toBe(1);
    expect(e.batch.errors[0]).toBeUndefined();
    expect(e.batch.rolledBack).toBe(false);
    expect(ipj<{ ifname: string }[]>(ns.name!, 'link').map((l) => l.ifname)).toContain('stay0');
  });

  it('steps may refer to links created earlier in the same batch, still in one sendmsg', async () => {
    const ns = await scope.ns('ref');
    const c = await scope.ns('refc');
    await ns.links.get('lo');
    const before = ns.socketStats().sends;
    await ns
      .batch()
      .links.add({ name: 'br0', kind: 'bridge', up: true })
      .links.add({ name: 'h0', kind: 'veth', master: 'br0', up: true, peer: { name: 'eth0', netns: c, up: true } })
      .addresses.add('br0', '10.11.0.1/24')
      .routes.add({ dst: '10.12.0.0/16', dev: 'br0' })
      .commit();
    expect(ns.socketStats().sends - before).toBe(1);
    const host = ipj<{ ifname: string; master?: string; operstate: string }[]>(ns.name!, 'link', 'show', 'h0');
    expect(host[0]!.master).toBe('br0');
    const peer = ipj<{ ifname: string; flags: string[] }[]>(c.name!, 'link', 'show', 'eth0');
    expect(peer[0]!.flags).toContain('UP');
  });

  it('neighbour and FDB entries ride in the same sendmsg, on a port the batch creates; missingOk deletes; rollback deletes added entries', async () => {
    const ns = await scope.ns('nb');
    await ns.links.get('lo');
    const before = ns.socketStats().sends;
    await ns
      .batch()
      .links.add({ name: 'br0', kind: 'bridge', up: true })
      .links.add({ name: 'p0', kind: 'veth', master: 'br0', up: true, bridgePort: { proxyArpWifi: true }, peer: { name: 'p1' } })
      .fdb.replace({ mac: '02:00:00:00:00:07', dev: 'p0', master: true, state: 'static' })
      .neighbours.replace({ dev: 'br0', address: '10.13.0.7', mac: '02:00:00:00:00:07' })
      .commit();
    expect(ns.socketStats().sends - before).toBe(1);
    // The witnesses: bridge fdb, ip neigh, ip -d link.
    const fdb = JSON.parse(run('ip', ['netns', 'exec', ns.name!, 'bridge', '-j', 'fdb', 'show', 'dev', 'p0'])) as { mac: string; flags: string[]; state: string; master?: string }[];
    expect(fdb).toContainEqual(expect.objectContaining({ mac: '02:00:00:00:00:07', master: 'br0', state: 'static' }));
    expect(ipj<{ dst: string; lladdr: string; state: string[] }[]>(ns.name!, 'neigh', 'show', 'dev', 'br0')).toEqual([
      expect.objectContaining({ dst: '10.13.0.7', lladdr: '02:00:00:00:00:07', state: ['PERMANENT'] }),
    ]);
    expect(ipj<{ linkinfo: { info_slave_data: Record<string, unknown> } }[]>(ns.name!, '-d', 'link', 'show', 'p0')[0]!.linkinfo.info_slave_data)
      .toMatchObject({ proxy_arp_wifi: true, proxy_arp: false, neigh_suppress: false });

    // Deletes that find nothing: an error per step, unless missingOk.
    const err = await ns.batch().neighbours.delete({ dev: 'br0', address: '10.13.0.8' }).commit().catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'ENOENT', op: 'RTM_DELNEIGH', step: 0 });
    await ns
      .batch()
      .neighbours.delete({ dev: 'br0', address: '10.13.0.8' }, { missingOk: true })
      .fdb.delete({ mac: '02:00:00:00:00:08', dev: 'p0', master: true }, { missingOk: true })
      .neighbours.delete({ dev: 'br0', address: '10.13.0.7' }, { missingOk: true })
      .commit();
    expect(ipj(ns.name!, 'neigh', 'show', 'dev', 'br0')).toEqual([]);

    // A failed batch takes back the entries its steps added (NLM_F_EXCL adds).
    const failed = await ns
      .batch()
      .neighbours.add({ dev: 'br0', address: '10.13.0.9', mac: '02:00:00:00:00:09' })
      .fdb.add({ mac: '02:00:00:00:00:09', dev: 'p0', master: true, state: 'static' })
      .links.add({ name: 'bad0', kind: 'other', type: 'nosuchkind' })
      .commit()
      .catch((e: unknown) => e);
    expect(failed).toMatchObject({ step: 2, batch: { rolledBack: true } });
    expect(ipj(ns.name!, 'neigh', 'show', 'dev', 'br0')).toEqual([]);
    expect(run('ip', ['netns', 'exec', ns.name!, 'bridge', 'fdb', 'show', 'dev', 'p0'])).not.toContain('02:00:00:00:00:09');
    expect(() => ns.batch().neighbours.add({ dev: 'br0', address: 'nope' })).toThrow(TypeError);
    expect(() => ns.batch().fdb.delete({ mac: '02:00:00:00:00:09', dev: 'p0' }, { missingOk: 'yes' as never })).toThrow(TypeError);
  });

  it('a committed batch cannot be reused; empty batches resolve', async () => {
    const ns = await scope.ns('re');
    const b = ns.batch();
    expect(await b.commit()).toEqual([]);
    await expect(b.commit()).rejects.toThrow(/already committed/);
    expect(() => b.links.add({ name: 'x', kind: 'bridge' })).toThrow(/already committed/);
  });
});
