// Macvlan networks: containers get macvlan children of a parent link of the host (a
// veth whose other end is in an "external" namespace: the segment and its router).
// Checked with real traffic, with `ip -d` inside the containers, and with `ip monitor`
// and `ip link` in the host namespace, which must never see a child's name.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { NetlinkError, Netns, Networks } from '../src';
import { answers, ip, ipj, ping, Scope } from './helpers';

const scope = new Scope();
const dirs: string[] = [];
const ctls: Networks[] = [];

afterEach(async () => {
  for (const c of ctls.splice(0)) c.close();
  await scope.cleanup();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

interface World {
  host: Netns;
  ext: Netns;
  ctl: Networks;
  dir: string;
}

/** A host with parent link `p<i>` per segment, the other end `eth<i>` in the external namespace at 10.5<5+i>.0.1/24. */
async function world(segments = 1): Promise<World> {
  const host = await scope.ns('mh');
  const ext = await scope.ns('ext');
  await ext.links.set('lo', { up: true });
  for (let i = 0; i < segments; i++) {
    await host.links.add({ kind: 'veth', name: `p${i}`, up: true, addrGenMode: 'none', peer: { name: `eth${i}`, netns: ext, up: true } });
    await ext.addresses.add(`eth${i}`, `10.5${5 + i}.0.1/24`);
  }
  const dir = mkdtempSync(path.join(tmpdir(), 'np-mv-'));
  dirs.push(dir);
  const ctl = await Networks.open({ stateDir: dir, host });
  ctls.push(ctl);
  return { host, ext, ctl, dir };
}

function linkNames(ns: Netns): string[] {
  return ipj<{ ifname: string }[]>(ns.name!, 'link', 'show').map((l) => l.ifname).sort();
}

interface Child {
  ifname: string;
  address: string;
  mtu: number;
  linkinfo: { info_kind: string; info_data: { mode: string } };
  addr_info: { family: string; local: string; prefixlen: number }[];
}

function child(ns: Netns, dev = 'eth0'): Child {
  return ipj<Child[]>(ns.name!, 'addr', 'show', 'dev', dev)[0]!;
}

/** `ip -o monitor link` in a namespace until stop(); returns what it printed. */
function monitor(ns: Netns): { proc: ChildProcess; stop: () => Promise<string> } {
  const proc = spawn('ip', ['-o', '-n', ns.name!, 'monitor', 'link'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  const done = new Promise<void>((r) => proc.on('close', () => r()));
  return {
    proc,
    stop: async () => {
      proc.kill('SIGTERM');
      await done;
      return out;
    },
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('macvlan networks', () => {
  it('two containers and the external namespace reach each other; no child name ever exists in the host namespace', async () => {
    const w = await world();
    const before = linkNames(w.host);
    const mon = monitor(w.host);
    await sleep(300);
    // A change the monitor must see, so that its silence later means something.
    await w.host.links.add({ kind: 'veth', name: 'probe0', peer: { name: 'probe1' } });
    await w.host.links.delete('probe0');

    const net = await w.ctl.create({ driver: 'macvlan', name: 'mv', parent: 'p0', subnet: '10.55.0.0/24' });
    const c1 = await scope.ns('m');
    const c2 = await scope.ns('m');
    const e1 = await net.attach(c1);
    const e2 = await net.attach(c2, { ifname: 'lan0' });
    expect(linkNames(w.host)).toEqual(before);
    expect([e1.ip, e2.ip]).toEqual(['10.55.0.2', '10.55.0.3']);
    expect(e1).toMatchObject({ hostIfname: '', ifname: 'eth0', mac: '02:42:0a:37:00:02', defaultRoute: true });
    // Inside: a macvlan in bridge mode under the asked name, its MAC, address, MTU and default route via the segment's router.
    const x1 = child(c1);
    expect(x1.linkinfo).toMatchObject({ info_kind: 'macvlan', info_data: { mode: 'bridge' } });
    expect(x1.address).toBe('02:42:0a:37:00:02');
    expect(x1.mtu).toBe(1500);
    expect(x1.addr_info.filter((a) => a.family === 'inet').map((a) => `${a.local}/${a.prefixlen}`)).toEqual(['10.55.0.2/24']);
    expect(child(c2, 'lan0').linkinfo.info_kind).toBe('macvlan');
    expect(ipj<{ gateway: string; dev: string }[]>(c2.name!, 'route', 'show', 'default')[0]).toMatchObject({ gateway: '10.55.0.1', dev: 'lan0' });

    await Promise.all([
      ping(c1, e2.ip), ping(c2, e1.ip), ping(c1, '10.55.0.1'), ping(c2, '10.55.0.1'), ping(w.ext, e1.ip), ping(w.ext, e2.ip),
    ]);

    // Detach deletes the child inside the container; the address goes back to the pool.
    await net.detach(c1);
    expect(linkNames(c1)).toEqual(['lo']);
    expect(await answers(w.ext, e1.ip)).toBe(false);
    expect((await net.attach(c1)).ip).toBe('10.55.0.2');
    await net.detach(c1);
    await net.detach(c2);
    expect(linkNames(c2)).toEqual(['lo']);
    expect(linkNames(w.host)).toEqual(before);

    const seen = await mon.stop();
    expect(seen).toContain('probe0');
    expect(seen).not.toMatch(/macvlan|eth0|lan0|np[0-9a-f]{10}/);
  });

  it('private mode: the children are cut off from each other, not from the segment', async () => {
    const w = await world(2);
    const pub = await w.ctl.create({ driver: 'macvlan', name: 'mvb', parent: 'p0', subnet: '10.55.0.0/24' });
    const priv = await w.ctl.create({ driver: 'macvlan', name: 'mvp', parent: 'p1', mode: 'private', subnet: '10.56.0.0/24', ipRange: '10.56.0.64/26' });
    const [a, b, c] = [await scope.ns('m'), await scope.ns('m'), await scope.ns('m')];
    await pub.attach(a);
    const eb = await priv.attach(b);
    const ec = await priv.attach(c);
    expect([eb.ip, ec.ip]).toEqual(['10.56.0.64', '10.56.0.65']);
    expect(child(b).linkinfo.info_data.mode).toBe('private');
    await ping(b, '10.56.0.1');
    await ping(c, '10.56.0.1');
    await ping(w.ext, eb.ip);
    expect(await answers(b, ec.ip)).toBe(false);
    // Both networks' containers are on one host but different segments.
    await ping(a, '10.55.0.1');
  });

  it('endpoints whose namespace is gone: detach does nothing in the kernel, a restart drops them', async () => {
    const w = await world();
    const net = await w.ctl.create({ driver: 'macvlan', name: 'mv', parent: 'p0', subnet: '10.55.0.0/24' });
    const c1 = await scope.ns('m');
    const c2 = await scope.ns('m');
    const e1 = await net.attach(c1);
    const e2 = await net.attach(c2);
    // c1 goes away (handle closed, name deleted): the kernel destroys its child with it.
    const i1 = scope.handles.indexOf(c1);
    scope.handles.splice(i1, 1);
    c1.close();
    await Netns.delete(c1.name!);
    await net.detach(e1.id);
    expect(net.endpoints().map((e) => e.id)).toEqual([e2.id]);
    // c2 goes away while the controller is closed: reopening forgets its endpoint.
    w.ctl.close();
    scope.handles.splice(scope.handles.indexOf(c2), 1);
    c2.close();
    await Netns.delete(c2.name!);
    const ctl = await Networks.open({ stateDir: w.dir, host: w.host });
    ctls.push(ctl);
    expect(ctl.get('mv').endpoints()).toEqual([]);
    const c3 = await scope.ns('m');
    // Its address (and so its MAC) again, though c1's namespace may still be being torn down.
    expect((await ctl.get('mv').attach(c3)).ip).toBe('10.55.0.2');
    await ping(w.ext, '10.55.0.2');
    // A live macvlan endpoint (no host side) is not taken for a dead one when its
    // namespace joins another network.
    const br = await ctl.create({ name: 'br', subnet: '172.31.0.0/24' });
    expect((await br.attach(c3, { ifname: 'eth1' })).ip).toBe('172.31.0.2');
    expect(ctl.get('mv').endpoints()).toHaveLength(1);
    await ping(c3, '172.31.0.1');
    await ping(w.ext, '10.55.0.2');
  });

  it('bad input is a typed error and leaves nothing behind', async () => {
    const w = await world(2);
    await w.host.links.add({ kind: 'bridge', name: 'br9', up: true });
    await w.host.links.set('p1', { master: 'br9' });
    const base = { driver: 'macvlan' as const, name: 'mv', parent: 'p0', subnet: '10.55.0.0/24' };
    for (const [opts, type] of [
      [{ ...base, parent: undefined }, TypeError],
      [{ ...base, parent: 'a b' }, TypeError],
      [{ ...base, mode: 'source' }, TypeError],
      [{ ...base, subnet: undefined }, TypeError],
      [{ ...base, subnet: '10.55.0.0/33' }, RangeError],
      [{ ...base, gateway: '10.9.9.9' }, RangeError],
      [{ ...base, mtu: 10 }, RangeError],
      [{ ...base, name: '-x' }, TypeError],
    ] as [object, ErrorConstructor][]) {
      await expect(w.ctl.create(opts as never), JSON.stringify(opts)).rejects.toBeInstanceOf(type);
    }
    for (const [opts, code] of [
      [{ ...base, parent: 'nope0' }, 'ENODEV'],
      // This kernel gives a macvlan no bridge port as parent: refused up front.
      [{ ...base, parent: 'p1' }, 'EBUSY'],
    ] as [object, string][]) {
      const e = await w.ctl.create(opts as never).catch((x: unknown) => x);
      expect(e, JSON.stringify(opts)).toBeInstanceOf(NetlinkError);
      expect((e as NetlinkError).code).toBe(code);
    }
    await expect(w.ctl.create({ ...base, mtu: 9000 })).rejects.toBeInstanceOf(RangeError);
    expect(w.ctl.list()).toEqual([]);

    const net = await w.ctl.create(base);
    await expect(w.ctl.create({ ...base, name: 'mv2', subnet: '10.57.0.0/24' })).rejects.toMatchObject({ code: 'EEXIST' });
    const c = await scope.ns('m');
    await expect(net.attach(c, { publish: [{ hostPort: 8080, containerPort: 80 }] })).rejects.toBeInstanceOf(TypeError);
    await expect(net.attach(c, { gatewayNetwork: 'x' })).rejects.toBeInstanceOf(TypeError);
    await expect(net.attach(c, { ifname: 'eth0:1' })).rejects.toBeInstanceOf(TypeError);
    // The container has an eth0 already: the rename inside fails, the child made under
    // its temporary name is deleted there, the address is released.
    ip(c.name!, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth9');
    await expect(net.attach(c)).rejects.toMatchObject({ code: 'EEXIST' });
    expect(ipj<{ ifname: string; linkinfo?: { info_kind: string } }[]>(c.name!, 'link', 'show').filter((l) => l.linkinfo?.info_kind === 'macvlan')).toEqual([]);
    expect(linkNames(c)).toEqual(['eth0', 'eth9', 'lo']);
    expect(net.endpoints()).toEqual([]);
    expect((await net.attach(c, { ifname: 'eth1' })).ip).toBe('10.55.0.2');
  });

  it('passthru: the one child takes the parent\'s MAC; a second is refused and leaves nothing', async () => {
    const w = await world();
    const parentMac = ipj<{ address: string }[]>(w.host.name!, 'link', 'show', 'p0')[0]!.address;
    const net = await w.ctl.create({ driver: 'macvlan', name: 'pt', parent: 'p0', mode: 'passthru', subnet: '10.55.0.0/24' });
    const [a, b] = [await scope.ns('m'), await scope.ns('m')];
    const ea = await net.attach(a);
    expect(ea.mac).toBe(parentMac);
    expect(child(a).linkinfo.info_data.mode).toBe('passthru');
    await ping(w.ext, ea.ip);
    await expect(net.attach(b)).rejects.toBeInstanceOf(NetlinkError);
    expect(linkNames(b)).toEqual(['lo']);
    expect(net.endpoints()).toHaveLength(1);
    await net.detach(a);
    expect(linkNames(a)).toEqual(['lo']);
  });
});

describe('macvlan networks with IPv6', () => {
  it('dual stack and IPv6-only: children get their IPv6 address and default route via the segment\'s router, and reach it and each other', async () => {
    const w = await world(2);
    // The segments' router (the external namespace) has IPv6 addresses too.
    ip(w.ext.name!, 'addr', 'add', 'fd00:55::1/64', 'dev', 'eth0', 'nodad');
    ip(w.ext.name!, 'addr', 'add', 'fd00:56::1/64', 'dev', 'eth1', 'nodad');
    const ds = await w.ctl.create({ driver: 'macvlan', name: 'lan', parent: 'p0', subnet: '10.55.0.0/24', ipv6Subnet: 'fd00:55::/64', ipRange: '10.55.0.128/25', ipv6Range: 'fd00:55::100/120' });
    const v6 = await w.ctl.create({ driver: 'macvlan', name: 'lan6', parent: 'p1', ipv6Subnet: 'fd00:56::/64' });
    expect([v6.info.subnet, v6.info.ipv6Gateway]).toEqual(['', 'fd00:56::1']);
    const [a, b, c] = [await scope.ns('mc'), await scope.ns('mc'), await scope.ns('mc')];
    const ea = await ds.attach(a);
    const eb = await ds.attach(b, { ip6: 'fd00:55::1ab' });
    const ec = await v6.attach(c);
    expect([ea.ip, ea.ip6, eb.ip6, ec.ip, ec.ip6]).toEqual(['10.55.0.128', 'fd00:55::100', 'fd00:55::1ab', '', 'fd00:56::2']);
    // As ip -j shows the children: the addresses, the IPv6 default route via the router.
    expect(child(a).addr_info.filter((x) => x.family === 'inet6' && x.local.startsWith('fd00')).map((x) => x.local)).toEqual(['fd00:55::100']);
    expect(child(c).addr_info.filter((x) => x.family === 'inet')).toEqual([]);
    expect(ipj<{ gateway: string }[]>(c.name!, '-6', 'route', 'show', 'default').map((r) => r.gateway)).toEqual(['fd00:56::1']);
    expect(child(c).address).toBe('02:42:00:00:00:02');
    // Traffic: to the router, between children of one parent (bridge mode).
    expect(await answers(a, 'fd00:55::1')).toBe(true);
    expect(await answers(a, eb.ip6!)).toBe(true);
    expect(await answers(a, '10.55.0.1')).toBe(true);
    expect(await answers(c, 'fd00:56::1')).toBe(true);
    // The router learnt each child's IPv6 address at the child's own MAC.
    const n6 = ipj<{ dst: string; lladdr: string }[]>(w.ext.name!, '-6', 'neigh', 'show', 'dev', 'eth1');
    expect(n6.find((n) => n.dst === 'fd00:56::2')?.lladdr).toBe(ec.mac);
    for (const [net, ns] of [[ds, a], [ds, b], [v6, c]] as const) await net.detach(ns);
    expect([linkNames(a), linkNames(c)]).toEqual([['lo'], ['lo']]);
  });
});
