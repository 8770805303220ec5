// Teardown off the caller's path: detach makes the endpoint unreachable and frees its
// address at once; its host link waits in the reap group, deleted in bulk (a batch, a
// delay, reap(), gc(), close(), the next open()). A new attach that reuses a name still
// waiting to be reaped works, whichever controller detached it.
import { mkdtempSync, rmSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { Networks } from '../src';
import { ipj, Scope } from './helpers';
import { ping } from './traffic';

const scope = new Scope();
const dirs: string[] = [];
afterAll(async () => {
  await scope.cleanup();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

interface IpLink { ifname: string; flags: string[]; group?: string }
const links = (ns: string) => ipj<IpLink[]>(ns, 'link', 'show');

describe('the reap group', () => {
  it('detach: unreachable at once, the link down in the reap group; re-attach under the same name works, from this controller or another', async () => {
    const H = await scope.ns('rph');
    const stateDir = mkdtempSync('/run/np-reap-');
    dirs.push(stateDir);
    // a keeps its detached links waiting (no timer): what b does must not depend on timing.
    const a = await Networks.open({ stateDir, host: H, reap: { delayMs: 600_000 } });
    const b = await Networks.open({ stateDir, host: H });
    const net = await a.create({ name: 'r', subnet: '10.81.0.0/24' });
    const peer = await net.attach({ create: `${H.name}p` });
    const c = await scope.ns('rpc');
    scope.names.push(peer.netns!.name!);
    const first = await net.attach(c);
    expect(await ping(peer.netns!, first.ip)).toBe(true);

    // Detached by a: its host end is down and in a's reap group, the container keeps eth0
    // until a's reaper runs.
    const t0 = performance.now();
    await net.detach(c);
    const ms = performance.now() - t0;
    const host = links(H.name!).find((l) => l.ifname === first.hostIfname)!;
    expect(host.flags).not.toContain('UP');
    expect(Number(host.group)).toBe(a.reapGroup);
    expect(links(c.name!).map((l) => l.ifname).sort()).toEqual(['eth0', 'lo']);

    // At once, the same namespace and name through the other controller, which knows
    // nothing of a's backlog: the kernel says EEXIST, the group is deleted, the attach goes on.
    const again = await b.get('r').attach(c);
    expect(again.ip).toBe(first.ip);
    expect(links(H.name!).map((l) => l.ifname)).not.toContain(first.hostIfname);
    expect(await ping(peer.netns!, again.ip)).toBe(true);

    // Detached: unreachable at once. Then through the controller that detached it: it
    // knows the namespace's interface waits, and deletes the group first.
    await b.get('r').detach(c);
    expect(await ping(peer.netns!, again.ip)).toBe(false);
    const third = await b.get('r').attach(c);
    expect(await ping(peer.netns!, third.ip)).toBe(true);
    console.log(`detach ${ms.toFixed(2)} ms`);

    // gc() reports what it reaped; close() leaves nothing waiting.
    await net.detach(c);
    expect(links(H.name!).filter((l) => Number(l.group) === a.reapGroup).map((l) => l.ifname)).toEqual([third.hostIfname]);
    // a counts the links it sent to the group (2: one was deleted by b's flush meanwhile).
    expect((await a.gc()).reaped).toBe(2);
    expect(links(H.name!).filter((l) => Number(l.group) === a.reapGroup)).toEqual([]);
    await net.detach(peer.id);
    await a.close();
    await b.close();
    expect(links(H.name!).filter((l) => Number(l.group) === a.reapGroup)).toEqual([]);
    peer.netns!.close();
  });

  it('a burst of detaches is deleted in batches: never more than one batch waits', async () => {
    const H = await scope.ns('rbh');
    const stateDir = mkdtempSync('/run/np-reapb-');
    dirs.push(stateDir);
    const nets = await Networks.open({ stateDir, host: H });
    const net = await nets.create({ name: 'b', subnet: '10.82.0.0/22' });
    const eps = [];
    for (let i = 0; i < 300; i++) {
      const ep = await net.attach({ create: `${H.name}b${i}` });
      scope.names.push(ep.netns!.name!);
      ep.netns!.close();
      eps.push(ep);
    }
    let most = 0;
    for (const ep of eps) {
      await net.detach(ep.id);
      most = Math.max(most, links(H.name!).filter((l) => Number(l.group) === nets.reapGroup).length);
    }
    // A batch is 128: the detaches after a full batch find the group being deleted.
    expect(most).toBeLessThanOrEqual(128 + 8);
    await nets.close();
    expect(links(H.name!).filter((l) => Number(l.group) === nets.reapGroup)).toEqual([]);
  }, 120_000);
});
