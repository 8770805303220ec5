// IPv4 per-device settings in link requests (IFLA_AF_SPEC / AF_INET / IFLA_INET_CONF),
// read back from /proc/sys/net/ipv4/conf/<if>/ inside the namespace: through the
// library's sysctl and, independently, by cat run inside the namespace.
import { afterEach, describe, expect, it } from 'vitest';
import { IPV4_CONF, type Ipv4Conf, type Netns } from '../src';
import { ipj, run, Scope } from './helpers';

const scope = new Scope();
afterEach(() => scope.cleanup());

/** `ip netns exec NS cat /proc/sys/net/ipv4/conf/IF/KEY`: the value as the namespace shows it. */
function cat(ns: Netns, ifname: string, key: string): string {
  return run('ip', ['netns', 'exec', ns.name!, 'cat', `/proc/sys/net/ipv4/conf/${ifname}/${key}`]).trim();
}

/** Every given setting of ifname, read both ways. */
async function readBack(ns: Netns, ifname: string, keys: string[]): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const k of keys) {
    const viaLib = await ns.sysctl.get(`net.ipv4.conf.${ifname}.${k}`);
    expect(cat(ns, ifname, k), `${ifname}/${k}`).toBe(viaLib);
    out[k] = viaLib;
  }
  return out;
}

// A setting the kernel accepts for every name, with the value /proc then shows: the
// top of each range, except where that is the default.
function sample(): { conf: Ipv4Conf; shown: Record<string, string> } {
  const conf: Record<string, number> = {};
  const shown: Record<string, string> = {};
  for (const [name, [, max]] of Object.entries(IPV4_CONF)) {
    const v = name === 'tag' ? 7 : name === 'medium_id' ? -1 : name.includes('unsolicited') ? 1234 : max;
    conf[name] = v;
    shown[name] = String(v);
  }
  return { conf: conf as Ipv4Conf, shown };
}

describe('ipv4Conf', () => {
  it('links.set: every known setting lands in this link’s /proc/sys/net/ipv4/conf, and only there', async () => {
    const ns = await scope.ns('v4s');
    const other = await scope.ns('v4o');
    await ns.links.add({ kind: 'veth', name: 'c0', peer: { name: 'c1' } });
    await other.links.add({ kind: 'veth', name: 'c0', peer: { name: 'c1' } });
    const defaults = await readBack(ns, 'c0', Object.keys(IPV4_CONF));
    const { conf, shown } = sample();
    await ns.links.set('c0', { ipv4Conf: conf });
    expect(await readBack(ns, 'c0', Object.keys(IPV4_CONF))).toEqual(shown);
    // The peer, and the same name in another namespace, keep their values.
    expect(await readBack(ns, 'c1', Object.keys(IPV4_CONF))).toEqual(defaults);
    expect(await readBack(other, 'c0', Object.keys(IPV4_CONF))).toEqual(defaults);
    // Booleans for 0/1 settings; a later change touches only what it names.
    await ns.links.set('c0', { ipv4Conf: { arp_notify: false, rp_filter: 0 } });
    const after = await readBack(ns, 'c0', ['arp_notify', 'rp_filter', 'arp_ignore', 'medium_id']);
    expect(after).toEqual({ arp_notify: '0', rp_filter: '0', arp_ignore: '8', medium_id: '-1' });
  });

  it('links.set with up: the settings come first, the link comes up, one sendmsg', async () => {
    const ns = await scope.ns('v4u');
    await ns.links.add({ kind: 'veth', name: 'u0', peer: { name: 'u1', up: true } });
    const sends = ns.socketStats().sends;
    await ns.links.set('u0', { ipv4Conf: { arp_notify: 1, arp_announce: 2 }, addrGenMode: 'none', up: true, mtu: 1400 });
    expect(ns.socketStats().sends - sends).toBe(1);
    expect(await readBack(ns, 'u0', ['arp_notify', 'arp_announce'])).toEqual({ arp_notify: '1', arp_announce: '2' });
    const l = ipj<{ flags: string[]; mtu: number; inet6_addr_gen_mode: string }[]>(ns.name!, 'link', 'show', 'u0')[0]!;
    expect(l.flags).toContain('UP');
    expect(l.mtu).toBe(1400);
    expect(l.inet6_addr_gen_mode).toBe('none');
    // addr_gen_mode none was in force before IFF_UP: no link-local address was made.
    expect(ipj<{ addr_info: unknown[] }[]>(ns.name!, '-6', 'addr', 'show', 'dev', 'u0')).toEqual([]);
  });

  it('links.add: sent as a follow-up change in the same sendmsg, here and in another namespace', async () => {
    const host = await scope.ns('v4a');
    const ctr = await scope.ns('v4c');
    await host.links.get('lo');
    const sends = host.socketStats().sends;
    const made = await host.links.add({ kind: 'bridge', name: 'br0', ipv4Conf: { forwarding: 1, rp_filter: 1 }, up: true });
    expect(host.socketStats().sends - sends).toBe(2); // the batch, and the read-back of a link with follow-ups
    expect(made.up).toBe(true);
    expect(await readBack(host, 'br0', ['forwarding', 'rp_filter'])).toEqual({ forwarding: '1', rp_filter: '1' });

    // Created inside ctr: the follow-up goes through ctr's socket after the batch.
    await host.links.add({ kind: 'veth', name: 'x0', netns: ctr, ipv4Conf: { arp_notify: 1 }, addrGenMode: 'none', up: true, peer: { name: 'x1' } });
    expect(await readBack(ctr, 'x0', ['arp_notify'])).toEqual({ arp_notify: '1' });
    expect(ipj<{ flags: string[] }[]>(ctr.name!, 'link', 'show', 'x0')[0]!.flags).toContain('UP');
  });

  it('the kernel refuses IFLA_AF_SPEC in a creating RTM_NEWLINK, AF_INET as AF_INET6 (why links.add follows up)', async () => {
    const ns = await scope.ns('v4r');
    const nla = (type: number, payload: Buffer): Buffer => {
      const h = Buffer.alloc(4);
      h.writeUInt16LE(4 + payload.length, 0);
      h.writeUInt16LE(type, 2);
      return Buffer.concat([h, payload, Buffer.alloc((4 - (payload.length % 4)) % 4)]);
    };
    const u32 = (v: number) => Buffer.from(Uint32Array.of(v).buffer);
    const create = (name: string, afSpec: Buffer): Buffer => {
      const body = Buffer.concat([Buffer.alloc(16), nla(3, Buffer.from(`${name}\0`)), nla(18, nla(1, Buffer.from('bridge'))), nla(26, afSpec)]);
      const h = Buffer.alloc(16);
      h.writeUInt32LE(16 + body.length, 0);
      h.writeUInt16LE(16, 4); // RTM_NEWLINK
      h.writeUInt16LE(0x1 | 0x4 | 0x400 | 0x200, 6); // REQUEST|ACK|CREATE|EXCL
      return Buffer.concat([h, body]);
    };
    const inet = nla(2, nla(1 | 0x8000, nla(22, u32(1))));
    const inet6 = nla(10, nla(8, Buffer.from([1])));
    const steps = await ns.rawRequest(Buffer.concat([create('r4', inet), create('r6', inet6)]));
    expect(steps.map((s) => s.error?.code)).toEqual(['EAFNOSUPPORT', 'EAFNOSUPPORT']);
    expect(ipj<{ ifname: string }[]>(ns.name!, 'link').map((l) => l.ifname)).toEqual(['lo']);
  });

  it('in a batch: two links’ settings and their up in one sendmsg', async () => {
    const ns = await scope.ns('v4b');
    await ns.links.add({ kind: 'veth', name: 'b0', peer: { name: 'b1' } });
    const sends = ns.socketStats().sends;
    await ns.batch()
      .links.set('b0', { ipv4Conf: { proxy_arp: 1, log_martians: true }, up: true })
      .links.set('b1', { ipv4Conf: { route_localnet: 1 }, up: true })
      .commit();
    expect(ns.socketStats().sends - sends).toBe(1);
    expect(await readBack(ns, 'b0', ['proxy_arp', 'log_martians', 'route_localnet'])).toEqual({ proxy_arp: '1', log_martians: '1', route_localnet: '0' });
    expect(await readBack(ns, 'b1', ['proxy_arp', 'route_localnet'])).toEqual({ proxy_arp: '0', route_localnet: '1' });
  });

  it('bad names and values are TypeError/RangeError naming the key, before anything is sent', async () => {
    const ns = await scope.ns('v4x');
    await ns.links.add({ kind: 'veth', name: 'e0', peer: { name: 'e1' } });
    const sends = ns.socketStats().sends;
    const bad: [unknown, typeof TypeError | typeof RangeError, RegExp][] = [
      [{ arp_notifiy: 1 }, TypeError, /ipv4Conf\.arp_notifiy is not a settable IPv4 device setting/],
      [{ mc_forwarding: 1 }, TypeError, /ipv4Conf\.mc_forwarding .*read-only/],
      [{ constructor: 1 }, TypeError, /ipv4Conf\.constructor/],
      [{ rp_filter: 3 }, RangeError, /ipv4Conf\.rp_filter must be in 0\.\.2, got 3/],
      [{ arp_ignore: -1 }, RangeError, /ipv4Conf\.arp_ignore/],
      [{ medium_id: -2 }, RangeError, /ipv4Conf\.medium_id/],
      [{ tag: 2 ** 32 }, RangeError, /ipv4Conf\.tag/],
      [{ arp_notify: 0.5 }, TypeError, /ipv4Conf\.arp_notify must be an integer/],
      [{ arp_notify: '1' }, TypeError, /ipv4Conf\.arp_notify must be an integer/],
      [{ rp_filter: true }, TypeError, /ipv4Conf\.rp_filter must be an integer in 0\.\.2/],
      ['arp_notify', TypeError, /ipv4Conf must be an object/],
      [[1], TypeError, /ipv4Conf must be an object/],
    ];
    for (const [conf, type, msg] of bad) {
      const label = JSON.stringify(conf);
      expect(() => ns.batch().links.set('e0', { ipv4Conf: conf as Ipv4Conf }), label).toThrow(type);
      expect(() => ns.batch().links.set('e0', { ipv4Conf: conf as Ipv4Conf }), label).toThrow(msg);
      await expect(ns.links.set('e0', { ipv4Conf: conf as Ipv4Conf }), label).rejects.toThrow(msg);
      await expect(ns.links.add({ kind: 'veth', name: 'e2', peer: { name: 'e3' }, ipv4Conf: conf as Ipv4Conf }), label).rejects.toBeInstanceOf(type);
    }
    expect(ns.socketStats().sends).toBe(sends);
    expect(ipj<{ ifname: string }[]>(ns.name!, 'link').map((l) => l.ifname).sort()).toEqual(['e0', 'e1', 'lo']);
  });
});
