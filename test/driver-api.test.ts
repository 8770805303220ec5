// The driver interface from the outside: a kind of network defined in one file
// (examples/drivers/ptp.ts, a routed point-to-point network) and registered, then used
// through Networks like the built-in ones: IPAM, the store, detach to the reap group,
// reconcile of a dead endpoint, gc, rebuild. Checked with ip -j and real pings.
import { mkdtempSync, rmSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { ptpDriver } from '../examples/drivers/ptp';
import { Netns, Networks, registerDriver } from '../src';
import { ipj, Scope } from './helpers';
import { ping } from './traffic';

const scope = new Scope();
const dirs: string[] = [];
afterAll(async () => {
  await scope.cleanup();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('a driver defined outside the library', () => {
  it('ptp: registered, created, attached, pinged, detached, reconciled, rebuilt', async () => {
    registerDriver(ptpDriver);
    expect(() => registerDriver(ptpDriver)).toThrow(/registered already/);
    const H = await scope.ns('dph');
    const stateDir = mkdtempSync('/run/np-driver-');
    dirs.push(stateDir);
    const nets = await Networks.open({ stateDir, host: H });
    await expect(nets.create({ driver: 'nope', name: 'x' } as never)).rejects.toThrow(/driver must be one of bridge, overlay, macvlan, ptp/);
    await expect(nets.create({ driver: 'ptp', name: 'p', subnet: 'bad' } as never)).rejects.toBeInstanceOf(TypeError);
    const net = await nets.create({ driver: 'ptp', name: 'p', subnet: '10.71.0.0/24' } as never);
    expect(net.info).toMatchObject({ driver: 'ptp', subnet: '10.71.0.0/24', gateway: '10.71.0.1', bridge: '' });
    // Ports are not this driver's: refused before anything is made.
    await expect(net.attach({ create: `${H.name}x` }, { publish: [{ hostPort: 80, containerPort: 80 }] })).rejects.toBeInstanceOf(TypeError);

    const a = await net.attach({ create: `${H.name}a` });
    const b = await net.attach({ create: `${H.name}b` });
    scope.names.push(a.netns!.name!, b.netns!.name!);
    expect([a.ip, b.ip]).toEqual(['10.71.0.2', '10.71.0.3']);
    // The kernel holds what the driver said: a /32 route per container on the host, the
    // default route via the gateway in the container; and the host routes between them.
    const routes = ipj<{ dst: string; dev: string }[]>(H.name!, 'route', 'show');
    expect(routes.find((r) => r.dst === a.ip)?.dev).toBe(a.hostIfname);
    expect(routes.find((r) => r.dst === b.ip)?.dev).toBe(b.hostIfname);
    expect(ipj<{ dst: string; gateway: string }[]>(a.netns!.name!, 'route', 'show', 'default')[0]).toMatchObject({ gateway: '10.71.0.1' });
    expect(await ping(a.netns!, b.ip)).toBe(true);
    expect(await ping(H, a.ip)).toBe(true);

    // Detach: unreachable at once, the link reaped later; the address is free again.
    expect((await net.detach(b.id))?.ip).toBe(b.ip);
    expect(await ping(a.netns!, b.ip)).toBe(false);
    expect(await nets.reap()).toBe(1);
    expect(ipj<{ ifname: string }[]>(H.name!, 'link', 'show').map((l) => l.ifname)).not.toContain(b.hostIfname);
    const c = await net.attach({ create: `${H.name}c` });
    scope.names.push(c.netns!.name!);
    expect(c.ip).toBe(b.ip);

    // A container that dies behind the controller's back: the next open drops it.
    await nets.close();
    const name = c.netns!.name!;
    c.netns!.close();
    await Netns.delete(name);
    for (let i = 0; i < 100 && ipj<{ ifname: string }[]>(H.name!, 'link', 'show').some((l) => l.ifname === c.hostIfname); i++) {
      await new Promise((r) => setTimeout(r, 20));
    }
    const again = await Networks.open({ stateDir, host: H });
    expect(again.inspect('p').endpoints.map((e) => e.id)).toEqual([a.id]);

    // Rebuild: the driver adopts its endpoint from the kernel.
    await again.close();
    const r = await Networks.rebuild({ stateDir, host: H });
    expect(r.endpoints).toEqual([a.id]);
    const third = await Networks.open({ stateDir, host: H });
    expect(third.inspect('p').endpoints.map((e) => [e.id, e.ip])).toEqual([[a.id, a.ip]]);
    await third.get('p').detach(a.id);
    await third.remove('p');
    expect(await third.gc()).toMatchObject({ links: [], elements: 0, records: 0 });
    a.netns!.close();
    await third.close();
  });
});
