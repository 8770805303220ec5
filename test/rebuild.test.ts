// Networks.rebuild: a state directory whose database is damaged comes back from the
// network definition files and the kernel, with what the kernel holds (addresses,
// namespaces, published ports, an overlay's peers and remote endpoints), and nothing
// the kernel holds is handed out twice afterwards.
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Netns, Networks, StateCorruptError, type EndpointInfo } from '../src';
import { ip as ipcmd, ipj, Scope } from './helpers';
import { readState } from './state-helpers';
import { connect, HOST_IP, joinOutside, OUT_IP, Servers } from './traffic';

const scope = new Scope();
const servers = new Servers();
const dirs: string[] = [];
afterAll(async () => {
  servers.stop();
  await scope.cleanup();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('rebuild from the kernel', () => {
  it('a truncated database: open() refuses, rebuild() brings back networks, endpoints, ports and overlay entries', async () => {
    const H = await scope.ns('rbh');
    const O = await scope.ns('rbo');
    joinOutside(H, O);
    ipcmd(H.name!, 'link', 'add', 'ul0', 'type', 'veth', 'peer', 'name', 'ul1');
    ipcmd(H.name!, 'addr', 'add', '192.168.77.1/24', 'dev', 'ul0');
    ipcmd(H.name!, 'link', 'set', 'ul0', 'up');
    ipcmd(H.name!, 'link', 'set', 'ul1', 'up');
    ipcmd(H.name!, 'link', 'add', 'mvp', 'type', 'veth', 'peer', 'name', 'mvq');
    ipcmd(H.name!, 'link', 'set', 'mvp', 'up');
    const stateDir = mkdtempSync('/run/np-rebuild-');
    dirs.push(stateDir);
    const nets = await Networks.open({ stateDir, host: H });
    const a = await nets.create({ name: 'a', subnet: '10.61.0.0/24', labels: { keep: 'me' } });
    const ov = await nets.create({ driver: 'overlay', name: 'ov', vni: 61, subnet: '10.62.0.0/24', local: '192.168.77.1', device: 'ul0' });
    const mv = await nets.create({ driver: 'macvlan', name: 'mv', parent: 'mvp', subnet: '10.63.0.0/24' });
    await ov.addPeer('192.168.77.2');
    await ov.addRemoteEndpoint({ ip: '10.62.0.200', mac: '02:42:0a:3e:00:c8', vtep: '192.168.77.2' });
    const web = await a.attach({ create: `${H.name}w` }, { name: 'web', publish: [{ hostPort: 8080, containerPort: 80 }] });
    scope.names.push(web.netns!.name!);
    const db = await a.attach({ create: `${H.name}d` }, { ip: '10.61.0.50', defaultRoute: false });
    scope.names.push(db.netns!.name!);
    const anon = await Netns.create();
    const lost = await a.attach(anon);
    const ovc = await ov.attach(db.netns!, { ifname: 'eth1' });
    const mvc = await mv.attach(web.netns!, { ifname: 'eth2' });
    await servers.serve(web.netns!, 80);
    expect(await connect(O, HOST_IP, 8080)).toBe(OUT_IP);
    await nets.close();

    // The database is damaged: open() names it and changes nothing.
    const file = path.join(stateDir, 'netplumb.db');
    writeFileSync(file, readFileSync(file).subarray(0, 4096 + 100));
    const err = await Networks.open({ stateDir, host: H }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StateCorruptError);
    expect((err as Error).message).toContain(file);

    const r = await Networks.rebuild({ stateDir, host: H });
    expect(r.movedTo).toMatch(/netplumb\.db\.broken-/);
    expect(readdirSync(stateDir).filter((f) => f.includes('broken'))).toContain(path.basename(r.movedTo!));
    expect(r.networks.sort()).toEqual(['a', 'mv', 'ov']);
    expect(r.unmatched).toEqual([lost.hostIfname]);

    const again = await Networks.open({ stateDir, host: H });
    expect(again.inspect('a').labels).toEqual({ keep: 'me' });
    const eps = (name: string) => again.inspect(name).endpoints;
    const view = (e: EndpointInfo) => ({ id: e.id, ip: e.ip, mac: e.mac, ifname: e.ifname, netnsPath: e.netnsPath, defaultRoute: e.defaultRoute });
    expect(eps('a').map(view).sort((x, y) => x.ip.localeCompare(y.ip))).toEqual(
      [web, db].map(view).sort((x, y) => x.ip.localeCompare(y.ip)),
    );
    expect(eps('a').find((e) => e.id === web.id)!.publish).toEqual([{ hostPort: 8080, containerPort: 80, protocol: 'tcp' }]);
    expect(eps('ov').map(view)).toEqual([view(ovc)]);
    // The macvlan child's endpoint id was never in the kernel: a new one, the rest the same.
    expect(eps('mv').map((e) => ({ ...view(e), id: '' }))).toEqual([{ ...view(mvc), id: '' }]);
    expect(again.overlay('ov').peers()).toEqual(['192.168.77.2']);
    expect(again.overlay('ov').remoteEndpoints()).toEqual([{ ip: '10.62.0.200', mac: '02:42:0a:3e:00:c8', vtep: '192.168.77.2' }]);

    // Nothing the kernel holds is handed out again; the published port still works.
    const fresh = await again.get('a').attach({ create: `${H.name}f` });
    scope.names.push(fresh.netns!.name!);
    expect([web.ip, db.ip]).not.toContain(fresh.ip);
    await expect(again.get('a').attach({ create: `${H.name}g` }, { ip: '10.61.0.50' })).rejects.toMatchObject({ name: 'AddressInUseError' });
    await expect(again.get('a').attach({ create: `${H.name}h` }, { publish: [{ hostPort: 8080, containerPort: 80 }] })).rejects.toMatchObject({ code: 'EEXIST' });
    expect(await connect(O, HOST_IP, 8080)).toBe(OUT_IP);
    // The anonymous namespace's endpoint could not be found: gc() takes its link.
    expect((await again.gc()).links).toEqual([lost.hostIfname]);
    expect(readState(stateDir).endpoints).toHaveLength(5);
    for (const e of [web, db, fresh]) e.netns?.close();
    anon.close();
    await again.close();
    expect(ipj(H.name!, 'link', 'show').length).toBeGreaterThan(0);
  });

  it('IPv6: dual-stack and IPv6-only endpoints come back with their addresses, MACs and the ports of both families as attach stored them', async () => {
    const H = await scope.ns('rb6');
    const stateDir = mkdtempSync('/run/np-rebuild6-');
    dirs.push(stateDir);
    const nets = await Networks.open({ stateDir, host: H });
    const ds = await nets.create({ name: 'ds', subnet: '10.64.0.0/24', ipv6Subnet: 'fd00:64::/64' });
    const v6 = await nets.create({ name: 'v6', ipv4: false, ipv6Subnet: 'fd00:65::/64' });
    const both = [{ hostPort: 8080, containerPort: 80, protocol: 'tcp' as const }];
    const a = await ds.attach({ create: `${H.name}a` }, { publish: [...both, { hostIp: '::', hostPort: 8081, containerPort: 81, protocol: 'tcp' }] });
    scope.names.push(a.netns!.name!);
    const b = await v6.attach({ create: `${H.name}b` }, { publish: [{ hostPort: 9090, containerPort: 90, protocol: 'udp' }] });
    scope.names.push(b.netns!.name!);
    await nets.close();
    writeFileSync(path.join(stateDir, 'netplumb.db'), 'not a database');

    const r = await Networks.rebuild({ stateDir, host: H });
    expect(r.networks.sort()).toEqual(['ds', 'v6']);
    const again = await Networks.open({ stateDir, host: H });
    const got = (net: string) => again.inspect(net).endpoints.map((e) => ({ ip: e.ip, ip6: e.ip6, mac: e.mac, defaultRoute: e.defaultRoute, publish: e.publish }));
    expect(got('ds')).toEqual([{ ip: a.ip, ip6: a.ip6, mac: a.mac, defaultRoute: true, publish: [...both, { hostIp: '::', hostPort: 8081, containerPort: 81, protocol: 'tcp' }] }]);
    expect(got('v6')).toEqual([{ ip: '', ip6: b.ip6, mac: b.mac, defaultRoute: true, publish: [{ hostPort: 9090, containerPort: 90, protocol: 'udp' }] }]);
    // Leases and ports of both families are held again.
    await expect(again.get('v6').attach({ create: `${H.name}c` }, { ip6: b.ip6! })).rejects.toMatchObject({ name: 'AddressInUseError' });
    await expect(again.get('ds').attach({ create: `${H.name}d` }, { publish: [{ hostIp: '::', hostPort: 8080, containerPort: 80 }] })).rejects.toMatchObject({ code: 'EEXIST' });
    for (const e of [a, b]) e.netns?.close();
    await again.close();
  });
});
