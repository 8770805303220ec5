import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { native } from '../src/binding';
import { handleOf } from '../src/handle';
import { NetlinkError, type Netns } from '../src';
import { ip, run, Scope } from './helpers';

const scope = new Scope();
afterEach(() => scope.cleanup());

/** `ip netns exec NS sysctl -n KEY`: the value as procps sees it inside the namespace. */
function sysctl(ns: Netns, key: string): string {
  return run('ip', ['netns', 'exec', ns.name!, 'sysctl', '-n', key]).replace(/\n$/, '');
}

describe('sysctl', () => {
  it('reads and writes the namespace’s own value, never another namespace’s', async () => {
    const a = await scope.ns('sa');
    const b = await scope.ns('sb');
    const home = readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8').trim();
    run('ip', ['netns', 'exec', a.name!, 'sysctl', '-qw', 'net.ipv4.ip_forward=1']);
    // The file is opened inside the namespace and read on a libuv pool thread that
    // never left home: the value is a's, so the open pinned the namespace.
    expect(await a.sysctl.get('net.ipv4.ip_forward')).toBe('1');
    expect(await b.sysctl.get('net.ipv4.ip_forward')).toBe('0');

    await b.sysctl.set('net.ipv4.ip_forward', 1);
    await a.sysctl.set('net/ipv4/ip_forward', '0');
    expect(sysctl(a, 'net.ipv4.ip_forward')).toBe('0');
    expect(sysctl(b, 'net.ipv4.ip_forward')).toBe('1');
    expect(readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8').trim()).toBe(home);
  });

  it('round-trips the usual container knobs, in both key forms, checked with sysctl(8)', async () => {
    const ns = await scope.ns('sk');
    // An interface name with a dot: sysctl(8) writes it as '/' in the dotted form.
    ip(ns.name!, 'link', 'add', 'v0.5', 'type', 'veth', 'peer', 'name', 'v1');
    const cases: [string, string | number | number[], string][] = [
      ['net.ipv4.conf.all.rp_filter', 2, '2'],
      ['net.ipv4.conf.v0/5.rp_filter', '1', '1'],
      ['net.ipv4.conf.v0/5.route_localnet', 1, '1'],
      ['net.ipv4.conf.v0/5.arp_notify', 1, '1'],
      ['net.ipv6.conf.v0/5.accept_dad', 0, '0'],
      ['net.ipv6.conf.v0/5.disable_ipv6', 1, '1'],
      ['net.ipv4.ip_local_port_range', [20000, 30000], '20000\t30000'],
      ['net.ipv4.ping_group_range', '0 0', '0\t0'],
    ];
    for (const [key, value, shown] of cases) {
      await ns.sysctl.set(key, value);
      expect(sysctl(ns, key), key).toBe(shown);
      expect(await ns.sysctl.get(key), key).toBe(shown);
    }
    // The path form of the same key.
    expect(await ns.sysctl.get('net/ipv4/conf/v0.5/rp_filter')).toBe('1');
    await ns.sysctl.set('net/ipv4/conf/v0.5/rp_filter', 0);
    expect(sysctl(ns, 'net.ipv4.conf.v0/5.rp_filter')).toBe('0');
  });

  it('rejects keys that could leave /proc/sys/net, before and below TypeScript', async () => {
    const ns = await scope.ns('sh');
    const hostile = [
      '', 'net', 'net.', 'net/', '../../etc/passwd', 'net/../../etc/passwd', 'net/ipv4/../../kernel/hostname',
      'net.ipv4..ip_forward', 'net/ipv4//ip_forward', 'net/./ipv4/ip_forward', '/proc/sys/net/ipv4/ip_forward',
      '/net/ipv4/ip_forward', 'kernel.hostname', 'kernel/hostname', 'fs.protected_symlinks', 'net.ipv4.ip_forward\0',
      'net.ipv4.ip_forward ', 'net.ipv4.ip\nforward', 'net.ipv4.conf.../...rp_filter', 'x'.repeat(5000),
    ];
    for (const key of hostile) {
      await expect(ns.sysctl.get(key), JSON.stringify(key)).rejects.toBeInstanceOf(TypeError);
      await expect(ns.sysctl.set(key, 1), JSON.stringify(key)).rejects.toBeInstanceOf(TypeError);
    }
    // @ts-expect-error not a string
    await expect(ns.sysctl.get(42)).rejects.toBeInstanceOf(TypeError);
    // The native side checks again, and resolves beneath /proc/sys/net only.
    const h = handleOf(ns);
    for (const rel of ['../../etc/passwd', 'ipv4/../../../etc/passwd', '/etc/passwd', 'ipv4/ip_forward\0x', '', 'ipv4/']) {
      expect(() => native.sysctlGet(h, rel), rel).toThrow(TypeError);
    }
    // Hostile values.
    for (const v of ['1\0', 1.5, Number.NaN, [], [1, 'x'], {}, null, 'x'.repeat(5000)]) {
      // @ts-expect-error deliberately malformed values
      await expect(ns.sysctl.set('net.ipv4.ip_forward', v)).rejects.toSatisfy((e: unknown) => e instanceof TypeError || e instanceof RangeError);
    }
    expect(sysctl(ns, 'net.ipv4.ip_forward')).toBe('0');
  });

  it('reports what the kernel refuses as NetlinkErrors with op sysctl', async () => {
    const ns = await scope.ns('se');
    const missing = await ns.sysctl.get('net.ipv4.no_such_knob').catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(NetlinkError);
    expect((missing as NetlinkError).code).toBe('ENOENT');
    expect((missing as NetlinkError).op).toBe('sysctl');
    const dir = await ns.sysctl.get('net.ipv4.conf').catch((e: unknown) => e);
    expect((dir as NetlinkError).code).toBe('EISDIR');
    const bad = await ns.sysctl.set('net.ipv4.ip_forward', 'yes').catch((e: unknown) => e);
    expect((bad as NetlinkError).code).toBe('EINVAL');
    expect(sysctl(ns, 'net.ipv4.ip_forward')).toBe('0');
    const closed = await scope.ns('sc');
    closed.close();
    await expect(closed.sysctl.get('net.ipv4.ip_forward')).rejects.toMatchObject({ code: 'EBADF' });
  });
});
