import { spawnSync } from 'node:child_process';
import { readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { attachMacvlan, attachVeth, attachVethBegun, NetlinkError, Netns } from '../src';
import { fdCount, ipj, run, Scope, tryRun, uniq } from './helpers';
import { messages, strace } from './strace';
import { beginNetns } from '../src/netns';

const DIST = path.resolve(__dirname, '../dist');

const scope = new Scope();
afterEach(() => scope.cleanup());

describe('attachVeth', () => {
  it('two sendmsg calls in all; containers on the bridge reach each other and the gateway', async () => {
    const host = await scope.ns('ah');
    await host.links.add({ name: 'br0', kind: 'bridge', up: true, addrGenMode: 'none' });
    await host.addresses.add('br0', '10.50.0.1/24');
    const c1 = await scope.ns('ac');
    const c2 = await scope.ns('ac');
    await host.links.get('lo');
    await c1.links.get('lo');
    const h0 = host.socketStats().sends;
    const c0 = c1.socketStats().sends;
    const br = (await host.links.get('br0')).index; // by index: no lookup on the way
    const h0b = host.socketStats().sends;
    expect(h0b - h0).toBe(1);
    const r = await attachVeth(host, c1, { bridge: br, hostIfname: 'vh1', address: '10.50.0.2/24', gateway: '10.50.0.1', mac: '02:42:0a:32:00:02', mtu: 1400, hairpin: true });
    expect(host.socketStats().sends - h0b).toBe(1);
    expect(c1.socketStats().sends - c0).toBe(1);
    await attachVeth(host, c2, { bridge: 'br0', hostIfname: 'vh2', address: '10.50.0.3/24', gateway: '10.50.0.1' });

    const eth0 = ipj<Record<string, unknown>[]>(c1.name!, 'link', 'show', 'eth0')[0]!;
    expect(eth0.ifindex).toBe(r.peerIndex);
    expect(eth0.address).toBe('02:42:0a:32:00:02');
    expect(eth0.mtu).toBe(1400);
    expect(eth0.num_tx_queues).toBe(1);
    expect(eth0.num_rx_queues).toBe(1);
    expect(eth0.inet6_addr_gen_mode).toBe('none');
    expect((eth0.flags as string[])).toContain('UP');
    const vh1 = ipj<Record<string, unknown>[]>(host.name!, 'link', 'show', 'vh1')[0]! as { master: string; linkinfo: { info_slave_data: { hairpin: boolean } } };
    expect(vh1.master).toBe('br0');
    expect(vh1.linkinfo.info_slave_data.hairpin).toBe(true);
    expect(ipj(c1.name!, '-6', 'addr', 'show', 'dev', 'eth0')).toEqual([]);
    expect(ipj<{ dst: string; gateway: string }[]>(c1.name!, 'route')).toContainEqual(expect.objectContaining({ dst: 'default', gateway: '10.50.0.1' }));
    expect(ipj<{ flags: string[] }[]>(c1.name!, 'link', 'show', 'lo')[0]!.flags).toContain('UP');
    run('ip', ['netns', 'exec', c1.name!, 'ping', '-c1', '-W2', '10.50.0.3']);
    run('ip', ['netns', 'exec', c2.name!, 'ping', '-c1', '-W2', '10.50.0.1']);
  });

  it('proxyArpWifi and bridgeEntries: the port flag, a static FDB entry and the neighbour entry in the host batch (still one sendmsg); a failure takes the neighbour back', async () => {
    const host = await scope.ns('ph');
    // The bridge's MAC is set, as the network drivers set it: a bridge that takes its
    // lowest port's MAC changes it when a port with a lower one joins, and a changed
    // address flushes the device's neighbour table, permanent entries too.
    await host.links.add({ name: 'br0', kind: 'bridge', up: true, addrGenMode: 'none', mac: '02:42:0a:33:00:01' });
    const br = (await host.links.get('br0')).index;
    const c = await scope.ns('pc');
    const h0 = host.socketStats().sends;
    await attachVeth(host, c, { bridge: br, hostIfname: 'vp1', address: '10.51.0.2/24', mac: '02:42:0a:33:00:02', proxyArpWifi: true, bridgeEntries: true });
    expect(host.socketStats().sends - h0).toBe(1);
    const vp1 = ipj<{ linkinfo: { info_slave_data: { proxy_arp_wifi: boolean } } }[]>(host.name!, 'link', 'show', 'vp1')[0]!;
    expect(vp1.linkinfo.info_slave_data.proxy_arp_wifi).toBe(true);
    const fdb = JSON.parse(run('ip', ['netns', 'exec', host.name!, 'bridge', '-j', 'fdb', 'show', 'dev', 'vp1'])) as { mac: string; state: string }[];
    expect(fdb).toContainEqual(expect.objectContaining({ mac: '02:42:0a:33:00:02', state: 'static' }));
    expect(ipj<{ dst: string; lladdr: string; state: string[] }[]>(host.name!, 'neigh', 'show', 'dev', 'br0')).toEqual([
      expect.objectContaining({ dst: '10.51.0.2', lladdr: '02:42:0a:33:00:02', state: ['PERMANENT'] }),
    ]);

    // The container side fails (no subnet holds the gateway) after the host batch: the
    // neighbour entry goes with the rest.
    const c2 = await scope.ns('pc');
    const e = await attachVeth(host, c2, { bridge: br, hostIfname: 'vp2', address: '10.51.0.3/24', gateway: '10.98.0.1', mac: '02:42:0a:33:00:03', bridgeEntries: true }).catch((x: unknown) => x);
    expect((e as NetlinkError).code).toBe('ENETUNREACH');
    expect(ipj<{ dst: string }[]>(host.name!, 'neigh', 'show', 'dev', 'br0').map((n) => n.dst)).toEqual(['10.51.0.2']);
    // Bad input: no MAC, an IPv6 address.
    await expect(attachVeth(host, c2, { bridge: br, hostIfname: 'vp3', address: '10.51.0.4/24', bridgeEntries: true })).rejects.toBeInstanceOf(TypeError);
    await expect(attachVeth(host, c2, { bridge: br, hostIfname: 'vp3', address: 'fd00::4/64', ipv6: true, mac: '02:00:00:00:00:04', bridgeEntries: true })).rejects.toBeInstanceOf(TypeError);
  });

  it('a failure on the container side leaves nothing on either side', async () => {
    const host = await scope.ns('fh');
    await host.links.add({ name: 'br0', kind: 'bridge', up: true });
    const c = await scope.ns('fc');
    const names = () => ipj<{ ifname: string }[]>(host.name!, 'link').map((l) => l.ifname);
    const before = names();
    // The gateway is on no subnet of the container: the route fails after the veth exists.
    const e = (await attachVeth(host, c, { bridge: 'br0', hostIfname: 'vf1', address: '10.60.0.2/24', gateway: '10.99.0.1' }).catch((x: unknown) => x)) as NetlinkError;
    expect(e).toBeInstanceOf(NetlinkError);
    expect(e.code).toBe('ENETUNREACH');
    expect(names()).toEqual(before);
    expect(ipj<{ ifname: string }[]>(c.name!, 'link').map((l) => l.ifname)).toEqual(['lo']);
    expect(tryRun('ip', ['-n', host.name!, 'link', 'show', 'vf1']).status).not.toBe(0);
  });

  it('rejects bad input before anything is sent', async () => {
    const host = await scope.ns('bh');
    const c = await scope.ns('bc');
    await expect(attachVeth(host, c, { bridge: 'br0', hostIfname: 'x'.repeat(16), address: '10.0.0.2/24' })).rejects.toBeInstanceOf(RangeError);
    await expect(attachVeth(host, c, { bridge: 'br0', hostIfname: 'v1', address: 'nope' })).rejects.toBeInstanceOf(TypeError);
    await expect(attachVeth(host, c, { bridge: 'br0', hostIfname: 'v1', address: '10.0.0.2/24', gateway: 'fd00::1' })).rejects.toBeInstanceOf(TypeError);
  });
});

describe('attachVeth with { create }: the namespace made in the same native call', () => {
  it('makes the named namespace and attaches it; ip netns sees it; traffic flows', async () => {
    const host = await scope.ns('ch');
    await host.links.add({ name: 'br0', kind: 'bridge', up: true, addrGenMode: 'none' });
    await host.addresses.add('br0', '10.51.0.1/24');
    const br = (await host.links.get('br0')).index;
    const h0 = host.socketStats().sends;
    const name = uniq('cc');
    scope.names.push(name);
    const r = await attachVeth(host, { create: name }, { bridge: br, hostIfname: 'vc1', address: '10.51.0.2/24', gateway: '10.51.0.1' });
    scope.handles.push(r.netns);
    // One sendmsg on the host socket, one on the new namespace's (opened while inside it).
    expect(host.socketStats().sends - h0).toBe(1);
    expect(r.netns.socketStats().sends).toBe(1);
    expect(r.netns.name).toBe(name);
    expect(run('ip', ['netns', 'list'])).toContain(name);
    const eth0 = ipj<Record<string, unknown>[]>(name, 'link', 'show', 'eth0')[0]!;
    expect(eth0.ifindex).toBe(r.peerIndex);
    expect(eth0.inet6_addr_gen_mode).toBe('none');
    expect(ipj<{ addr_info: { local: string }[] }[]>(name, '-4', 'addr', 'show', 'dev', 'eth0')[0]!.addr_info.map((a) => a.local)).toEqual(['10.51.0.2']);
    expect(ipj<{ dst: string; gateway: string }[]>(name, 'route')).toContainEqual(expect.objectContaining({ dst: 'default', gateway: '10.51.0.1' }));
    expect(ipj<{ master: string }[]>(host.name!, 'link', 'show', 'vc1')[0]!.master).toBe('br0');
    run('ip', ['netns', 'exec', name, 'ping', '-c1', '-W2', '10.51.0.1']);
    // The handle is an ordinary one: requests on it and on a fresh open agree.
    const again = await Netns.open(name);
    expect(again.sameAs(r.netns)).toBe(true);
    again.close();
    expect((await r.netns.links.list()).map((l) => l.name).sort()).toEqual(['eth0', 'lo']);
  });

  it('EEXIST for a taken name: nothing sent, the existing namespace untouched', async () => {
    const host = await scope.ns('eh');
    await host.links.add({ name: 'br0', kind: 'bridge', up: true });
    const taken = await scope.ns('et');
    const hostLinks = () => ipj<{ ifname: string }[]>(host.name!, 'link').map((l) => l.ifname);
    const before = hostLinks();
    const fds = fdCount();
    const e = (await attachVeth(host, { create: taken.name! }, { bridge: 'br0', hostIfname: 've1', address: '10.52.0.2/24' }).catch((x: unknown) => x)) as NetlinkError;
    expect(e).toBeInstanceOf(NetlinkError);
    expect(e.code).toBe('EEXIST');
    expect(hostLinks()).toEqual(before);
    expect(run('ip', ['netns', 'list'])).toContain(taken.name!);
    expect(ipj<{ ifname: string }[]>(taken.name!, 'link').map((l) => l.ifname)).toEqual(['lo']);
    expect(fdCount()).toBe(fds);
  });

  it('a step failing after the namespace was made removes the namespace and the veth', async () => {
    const host = await scope.ns('xh');
    await host.links.add({ name: 'br0', kind: 'bridge', up: true });
    const name = uniq('xc');
    const hostLinks = () => ipj<{ ifname: string }[]>(host.name!, 'link').map((l) => l.ifname);
    const before = hostLinks();
    const fds = fdCount();
    // The gateway is on no subnet of the container: the route fails after the veth exists.
    const e = (await attachVeth(host, { create: name }, { bridge: 'br0', hostIfname: 'vx1', address: '10.53.0.2/24', gateway: '10.99.0.1' }).catch((x: unknown) => x)) as NetlinkError;
    expect(e).toBeInstanceOf(NetlinkError);
    expect(e.code).toBe('ENETUNREACH');
    expect(hostLinks()).toEqual(before);
    expect(run('ip', ['netns', 'list'])).not.toContain(name);
    expect(await Netns.list()).not.toContain(name);
    expect(fdCount()).toBe(fds);
  });

  it('sixteen in flight (the namespace thread makes the next namespaces while the batches of those made go out from spill workers): all attached; one failing removes only its own', async () => {
    const host = await scope.ns('ph');
    await host.links.add({ name: 'br0', kind: 'bridge', up: true, addrGenMode: 'none' });
    await host.addresses.add('br0', '10.54.0.1/24');
    const names = Array.from({ length: 16 }, () => uniq('pc'));
    const bad = 9;
    const fds = fdCount();
    const r = await Promise.allSettled(names.map((name, i) => attachVeth(host, { create: name }, {
      bridge: 'br0', hostIfname: `vp${i}`, address: `10.54.0.${i + 2}/24`,
      // One container's gateway is on no subnet of it: its route fails after its veth exists.
      gateway: i === bad ? '10.99.0.1' : '10.54.0.1',
    })));
    names.forEach((n, i) => { if (i !== bad) scope.names.push(n); });
    for (const [i, x] of r.entries()) {
      if (i === bad) {
        expect(x.status).toBe('rejected');
        expect(((x as PromiseRejectedResult).reason as NetlinkError).code).toBe('ENETUNREACH');
      } else {
        expect(x.status).toBe('fulfilled');
        scope.handles.push((x as PromiseFulfilledResult<{ netns: Netns }>).value.netns);
      }
    }
    const ports = ipj<{ ifname: string; master?: string }[]>(host.name!, 'link').filter((l) => l.master === 'br0').map((l) => l.ifname).sort();
    expect(ports).toEqual(names.map((_, i) => `vp${i}`).filter((n) => n !== `vp${bad}`).sort());
    const listed = await Netns.list();
    for (const [i, n] of names.entries()) expect(listed.includes(n)).toBe(i !== bad);
    for (const i of [0, 15]) {
      expect(ipj<{ addr_info: { local: string }[] }[]>(names[i]!, '-4', 'addr', 'show', 'dev', 'eth0')[0]!.addr_info.map((a) => a.local)).toEqual([`10.54.0.${i + 2}`]);
      run('ip', ['netns', 'exec', names[i]!, 'ping', '-c1', '-W2', '10.54.0.1']);
    }
    // The failed one's namespace and descriptors are gone; the others' go with their handles.
    for (const x of r) if (x.status === 'fulfilled') (x.value as { netns: Netns }).netns.close();
    expect(fdCount()).toBe(fds);
  });

  it('bad names and bad containers are TypeErrors before anything is made', async () => {
    const host = await scope.ns('th');
    const listed = await Netns.list();
    await expect(attachVeth(host, { create: '../evil' }, { bridge: 'br0', hostIfname: 'v1', address: '10.0.0.2/24' })).rejects.toBeInstanceOf(TypeError);
    await expect(attachVeth(host, { create: 42 } as never, { bridge: 'br0', hostIfname: 'v1', address: '10.0.0.2/24' })).rejects.toBeInstanceOf(TypeError);
    await expect(attachVeth(host, null as never, { bridge: 'br0', hostIfname: 'v1', address: '10.0.0.2/24' })).rejects.toBeInstanceOf(TypeError);
    await expect(attachVeth(host, { create: uniq('ok') }, { bridge: 'br0', hostIfname: 'x'.repeat(16), address: '10.0.0.2/24' })).rejects.toBeInstanceOf(RangeError);
    expect(await Netns.list()).toEqual(listed);
  });
});

describe('a namespace begun ahead of its batches (beginNetns, attachVethBegun: Networks\' attach path)', () => {
  const mounted = (name: string) => readFileSync('/proc/self/mountinfo', 'utf8').includes(`/${name} `);
  const bridge = async (host: Netns, cidr: string) => {
    await host.links.add({ name: 'br0', kind: 'bridge', up: true, addrGenMode: 'none' });
    await host.addresses.add('br0', cidr);
    return (await host.links.get('br0')).index;
  };

  it('the batches given later go out in the same operation: one sendmsg each side; the namespace is an ordinary named one', async () => {
    const host = await scope.ns('bh');
    const br = await bridge(host, '10.57.0.1/24');
    const name = uniq('bc');
    scope.names.push(name);
    const h0 = host.socketStats().sends;
    const begun = beginNetns(name);
    // The caller's own work happens here (Networks commits the attach's record); the
    // namespace thread makes the namespace meanwhile.
    await sleep(20);
    expect(begun.made()).toBe(true);
    expect(begun.used).toBe(false);
    const r = await attachVethBegun(host, begun, { bridge: br, hostIfname: 'vb1', address: '10.57.0.2/24', gateway: '10.57.0.1' });
    scope.handles.push(r.netns);
    expect(begun.used).toBe(true);
    expect(r.netns).toBe(begun.netns);
    expect(host.socketStats().sends - h0).toBe(1);
    expect(r.netns.socketStats().sends).toBe(1);
    expect(run('ip', ['netns', 'list'])).toContain(name);
    expect(ipj<{ addr_info: { local: string }[] }[]>(name, '-4', 'addr', 'show', 'dev', 'eth0')[0]!.addr_info.map((a) => a.local)).toEqual(['10.57.0.2']);
    run('ip', ['netns', 'exec', name, 'ping', '-c1', '-W2', '10.57.0.1']);
    // Used: abort is a no-op, and the batches cannot be given twice; a second attach is
    // refused before it could touch the namespace the first one made.
    await begun.abort();
    expect(run('ip', ['netns', 'list'])).toContain(name);
    expect(() => begun.open([])).toThrow(/already/);
    await expect(attachVethBegun(host, begun, { bridge: br, hostIfname: 'vb2', address: '10.57.0.3/24' })).rejects.toThrow(TypeError);
    await expect(attachVethBegun(host, r.netns as never, { bridge: br, hostIfname: 'vb2', address: '10.57.0.3/24' })).rejects.toThrow(/begun namespace/);
    expect(run('ip', ['netns', 'list'])).toContain(name);
    expect(ipj<{ ifname: string }[]>(name, 'link').map((l) => l.ifname).sort()).toEqual(['eth0', 'lo']);
  });

  it('the batches given before the namespace is made wait for it (no wait on the namespace thread either way)', async () => {
    const host = await scope.ns('bw');
    const br = await bridge(host, '10.58.0.1/24');
    const names = Array.from({ length: 8 }, () => uniq('bq'));
    scope.names.push(...names);
    // Eight begun at once: the later ones are still queued when their batches are given.
    const begun = names.map((n) => beginNetns(n));
    const made = await Promise.all(begun.map((b, i) => attachVethBegun(host, b, { bridge: br, hostIfname: `vq${i}`, address: `10.58.0.${i + 2}/24` })));
    for (const m of made) scope.handles.push(m.netns);
    expect(ipj<{ ifname: string; master?: string }[]>(host.name!, 'link').filter((l) => l.master === 'br0').length).toBe(8);
    for (const n of names) expect(run('ip', ['netns', 'list'])).toContain(n);
  });

  it('abort, before or after the namespace is made: nothing is left (name, mount, descriptor)', async () => {
    const fds = fdCount();
    const early = uniq('ba');
    const late = uniq('bl');
    const a = beginNetns(early);
    await a.abort();
    const b = beginNetns(late);
    for (let i = 0; i < 100 && !b.made(); i++) await sleep(5);
    expect(b.made()).toBe(true);
    expect(mounted(late)).toBe(true);
    await b.abort();
    for (const n of [early, late]) {
      expect(await Netns.list()).not.toContain(n);
      expect(mounted(n)).toBe(false);
    }
    expect(a.netns.closed && b.netns.closed).toBe(true);
    expect(() => a.open([])).toThrow(/already/);
    expect(fdCount()).toBe(fds);
  });

  it('a taken name: EEXIST, the existing namespace untouched, nothing sent', async () => {
    const host = await scope.ns('be');
    await host.links.add({ name: 'br0', kind: 'bridge', up: true });
    const taken = await scope.ns('bt');
    const before = ipj<{ ifname: string }[]>(host.name!, 'link').map((l) => l.ifname);
    const fds = fdCount();
    const e = (await attachVethBegun(host, beginNetns(taken.name!), { bridge: 'br0', hostIfname: 've1', address: '10.59.0.2/24' }).catch((x: unknown) => x)) as NetlinkError;
    expect(e).toBeInstanceOf(NetlinkError);
    expect(e.code).toBe('EEXIST');
    expect(ipj<{ ifname: string }[]>(host.name!, 'link').map((l) => l.ifname)).toEqual(before);
    expect(ipj<{ ifname: string }[]>(taken.name!, 'link').map((l) => l.ifname)).toEqual(['lo']);
    expect(fdCount()).toBe(fds);
  });

  it('a step failing after the namespace was made, or options refused before anything is sent: the namespace is gone again', async () => {
    const host = await scope.ns('bf');
    await host.links.add({ name: 'br0', kind: 'bridge', up: true });
    const fds = fdCount();
    const failing = uniq('bf');
    // The gateway is on no subnet of the container: the route fails after the veth exists.
    const e = (await attachVethBegun(host, beginNetns(failing), { bridge: 'br0', hostIfname: 'vf1', address: '10.60.0.2/24', gateway: '10.99.0.1' }).catch((x: unknown) => x)) as NetlinkError;
    expect(e.code).toBe('ENETUNREACH');
    const refused = uniq('br');
    const begun = beginNetns(refused);
    await expect(attachVethBegun(host, begun, { bridge: 'br0', hostIfname: 'x'.repeat(16), address: '10.60.0.3/24' })).rejects.toBeInstanceOf(RangeError);
    expect(begun.used).toBe(true);
    for (const n of [failing, refused]) {
      expect(await Netns.list()).not.toContain(n);
      expect(mounted(n)).toBe(false);
    }
    expect(ipj<{ ifname: string }[]>(host.name!, 'link').map((l) => l.ifname).sort()).toEqual(['br0', 'lo']);
    expect(fdCount()).toBe(fds);
  });

  it('a begun namespace dropped unused is deleted when its gate is collected, and the process exits', () => {
    const name = uniq('bg');
    const script = `
      const { beginNetns } = require(${JSON.stringify(path.join(DIST, 'netns.js'))});
      (function () { beginNetns(${JSON.stringify(name)}); })();
      setTimeout(() => { globalThis.gc(); }, 50);
    `;
    const r = spawnSync(process.execPath, ['--expose-gc', '-e', script], { encoding: 'utf8', timeout: 20_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(run('ip', ['netns', 'list'])).not.toContain(name);
    expect(mounted(name)).toBe(false);
  });
});

describe('ipv4Conf in the attach: the container end’s settings ride in its existing change', () => {
  /** arp_notify of ifname inside ns, as cat sees it there. */
  const arpNotify = (ns: Netns, ifname = 'eth0') =>
    run('ip', ['netns', 'exec', ns.name!, 'cat', `/proc/sys/net/ipv4/conf/${ifname}/arp_notify`]).trim();

  it('attachVeth: the same sendmsg counts as without it; arp_notify is 1 in the container', async () => {
    const host = await scope.ns('ih');
    await host.links.add({ name: 'br0', kind: 'bridge', up: true, addrGenMode: 'none' });
    await host.addresses.add('br0', '10.54.0.1/24');
    const br = (await host.links.get('br0')).index;
    const attach = async (c: Netns, n: number, extra: object) => {
      await c.links.get('lo');
      const h0 = host.socketStats().sends;
      const c0 = c.socketStats().sends;
      await attachVeth(host, c, { bridge: br, hostIfname: `vi${n}`, address: `10.54.0.${n + 1}/24`, gateway: '10.54.0.1', ...extra });
      return [host.socketStats().sends - h0, c.socketStats().sends - c0];
    };
    const plain = await scope.ns('ic');
    const withConf = await scope.ns('ic');
    const dual = await scope.ns('ic');
    expect(await attach(plain, 1, {})).toEqual([1, 1]);
    expect(await attach(withConf, 2, { ipv4Conf: { arp_notify: 1, arp_announce: 2 } })).toEqual([1, 1]);
    expect(await attach(dual, 3, { ipv4Conf: { arp_notify: true }, ipv6: true, address6: 'fd54::3/64' })).toEqual([1, 1]);
    expect(arpNotify(plain)).toBe('0');
    expect(arpNotify(withConf)).toBe('1');
    expect(await withConf.sysctl.get('net.ipv4.conf.eth0.arp_announce')).toBe('2');
    expect(arpNotify(dual)).toBe('1');
    // The rest of the attach is as before: addrGenMode none, up, address, route, traffic.
    const eth0 = ipj<{ flags: string[]; inet6_addr_gen_mode: string }[]>(withConf.name!, 'link', 'show', 'eth0')[0]!;
    expect(eth0.flags).toContain('UP');
    expect(eth0.inet6_addr_gen_mode).toBe('none');
    run('ip', ['netns', 'exec', withConf.name!, 'ping', '-c1', '-W2', '10.54.0.2']);
    run('ip', ['netns', 'exec', dual.name!, 'ping', '-c1', '-W2', '10.54.0.1']);
  });

  it('strace: the container batch carries no more netlink messages with ipv4Conf (IPv6 off)', async () => {
    // A separate process, traced: each attach is two sendmsg, and the container's holds
    // as many messages with ipv4Conf as without (IFLA_AF_SPEC grows by the AF_INET nest).
    const host = await scope.ns('sh');
    await host.links.add({ name: 'br0', kind: 'bridge', up: true });
    const c1 = await scope.ns('sc');
    const c2 = await scope.ns('sc');
    const script = path.join('/run', `attach-${process.pid}.cjs`);
    const dist = path.resolve(__dirname, '../dist/index.js');
    writeFileSync(
      script,
      `const { Netns, attachVeth } = require(${JSON.stringify(dist)});
      (async () => {
        const host = await Netns.open(${JSON.stringify(host.name)});
        const c1 = await Netns.open(${JSON.stringify(c1.name)});
        const c2 = await Netns.open(${JSON.stringify(c2.name)});
        const br = (await host.links.get('br0')).index;
        await c1.links.get('lo');
        await c2.links.get('lo');
        const opts = (n) => ({ bridge: br, hostIfname: 'vs' + n, address: '10.55.0.' + (n + 1) + '/24', gateway: '10.55.0.1' });
        process.stderr.write('ATTACH-1\\n');
        await attachVeth(host, c1, opts(1));
        process.stderr.write('ATTACH-2\\n');
        await attachVeth(host, c2, { ...opts(2), ipv4Conf: { arp_notify: 1 } });
        process.stderr.write('END\\n');
      })();`,
    );
    await host.addresses.add('br0', '10.55.0.1/24');
    const { calls } = strace([process.execPath, script], ['sendmsg', 'write'], 'write');
    unlinkSync(script);
    const between = (from: string, to: string) => {
      const i = calls.findIndex((c) => c.name === 'write' && c.data.toString().includes(from));
      const j = calls.findIndex((c) => c.name === 'write' && c.data.toString().includes(to));
      return calls.slice(i + 1, j).filter((c) => c.name === 'sendmsg' && c.line.includes('AF_NETLINK'));
    };
    const first = between('ATTACH-1', 'ATTACH-2');
    const second = between('ATTACH-2', 'END');
    expect(first).toHaveLength(2);
    expect(second).toHaveLength(2);
    expect(second.map((c) => messages(c.data).length)).toEqual(first.map((c) => messages(c.data).length));
    // The container batch's first RTM_NEWLINK for eth0 now holds IFLA_INET_CONF
    // (an AF_INET nest inside IFLA_AF_SPEC): 16 more bytes than without.
    const containerBytes = (c: { data: Buffer }) => c.data.length;
    expect(containerBytes(second[1]!) - containerBytes(first[1]!)).toBe(16);
    expect(arpNotify(c2)).toBe('1');
    expect(arpNotify(c1)).toBe('0');
  });

  it('attachMacvlan: arp_notify set in the container in the same two sendmsg', async () => {
    const host = await scope.ns('mh');
    const ext = await scope.ns('me');
    await host.links.add({ kind: 'veth', name: 'p0', up: true, addrGenMode: 'none', peer: { name: 'eth0', netns: ext, up: true } });
    await ext.addresses.add('eth0', '10.56.0.1/24');
    const c = await scope.ns('mc');
    await c.links.get('lo');
    await host.links.get('lo');
    const h0 = host.socketStats().sends;
    const c0 = c.socketStats().sends;
    await attachMacvlan(host, c, { parent: 'p0', tmpIfname: 'mvtmp0', address: '10.56.0.2/24', ipv4Conf: { arp_notify: 1 } });
    // The parent by name costs one lookup on the host socket; then one sendmsg each side.
    expect(host.socketStats().sends - h0).toBe(2);
    expect(c.socketStats().sends - c0).toBe(1);
    expect(arpNotify(c)).toBe('1');
    expect(ipj<{ flags: string[] }[]>(c.name!, 'link', 'show', 'eth0')[0]!.flags).toContain('UP');
    run('ip', ['netns', 'exec', c.name!, 'ping', '-c1', '-W2', '10.56.0.1']);
  });

  it('bad ipv4Conf is a TypeError/RangeError before anything is made', async () => {
    const host = await scope.ns('bh');
    await host.links.add({ name: 'br0', kind: 'bridge', up: true });
    const c = await scope.ns('bc');
    const before = ipj<{ ifname: string }[]>(host.name!, 'link').map((l) => l.ifname);
    await expect(attachVeth(host, c, { bridge: 'br0', hostIfname: 'vb1', address: '10.57.0.2/24', ipv4Conf: { arp_notfy: 1 } as never })).rejects.toThrow(TypeError);
    await expect(attachVeth(host, c, { bridge: 'br0', hostIfname: 'vb1', address: '10.57.0.2/24', ipv4Conf: { arp_notify: 2 } })).rejects.toThrow(/ipv4Conf\.arp_notify must be in 0\.\.1/);
    await expect(attachMacvlan(host, c, { parent: 'br0', tmpIfname: 'mvx', address: '10.57.0.3/24', ipv4Conf: { rp_filter: 9 } })).rejects.toBeInstanceOf(RangeError);
    expect(ipj<{ ifname: string }[]>(host.name!, 'link').map((l) => l.ifname)).toEqual(before);
    expect(ipj<{ ifname: string }[]>(c.name!, 'link').map((l) => l.ifname)).toEqual(['lo']);
  });
});
