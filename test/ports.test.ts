// Published ports: validation, the bindings a mapping makes per address family (each one
// dnat element and one store key), and their reassembly from the maps on a rebuild. Pure
// computation, checked against hand-worked cases; the kernel side is test/ipv6.test.ts.
import { describe, expect, it } from 'vitest';
import { portElements } from '../src/network/firewall';
import { checkPorts, portBindings, portKey } from '../src/network/ports';
import { mergePorts } from '../src/network/rebuild';

describe('published ports over both families', () => {
  it('checkPorts: IPv6 host addresses in canonical text; ::1 accepted (the proxy\'s, no element); IPv4-mapped addresses refused, prefixes and zones too', () => {
    expect(checkPorts([{ hostIp: '2001:DB8:0:0::1', hostPort: 80, containerPort: 80 }])[0]!.hostIp).toBe('2001:db8::1');
    expect(checkPorts([{ hostIp: '0.0.0.0', hostPort: 80, containerPort: 80 }])[0]!.hostIp).toBe('0.0.0.0');
    expect(checkPorts([{ hostIp: '::', hostPort: 80, containerPort: 80 }])[0]!.hostIp).toBe('::');
    expect(checkPorts([{ hostIp: '0:0::1', hostPort: 80, containerPort: 80 }])[0]!.hostIp).toBe('::1');
    // A port on ::1 is served by the LoopbackProxy: a store key, and no nftables element.
    expect(portElements({ ip: '10.0.0.2', ip6: 'fd00::2', publish: [{ hostIp: '::1', hostPort: 80, containerPort: 80 }] })).toEqual([]);
    for (const bad of ['::ffff:10.0.0.1', 'fe80::1%eth0', '2001:db8::/64', '10.0.0.0/8', 'host']) {
      expect(() => checkPorts([{ hostIp: bad, hostPort: 80, containerPort: 80 }]), bad).toThrow(TypeError);
    }
  });

  it('bindings: no hostIp is every family the endpoint has; 0.0.0.0 and :: one family; an address its own', () => {
    const publish = checkPorts([
      { hostPort: 8080, containerPort: 80 },
      { hostIp: '0.0.0.0', hostPort: 8081, containerPort: 80 },
      { hostIp: '::', hostPort: 8082, containerPort: 80, protocol: 'udp' },
      { hostIp: '2001:db8::1', hostPort: [9000, 9001], containerPort: 90 },
    ]);
    expect(portBindings(publish, true, true).map(portKey)).toEqual([
      'tcp/*/8080', 'tcp/::/8080', 'tcp/*/8081', 'udp/::/8082', 'tcp/2001:db8::1/9000', 'tcp/2001:db8::1/9001',
    ]);
    // An IPv4-only endpoint: exactly the keys it always had (no IPv6 binding at all).
    expect(portBindings([{ hostPort: 8080, containerPort: 80 }, { hostIp: '127.0.0.1', hostPort: 8081, containerPort: 80 }], true, false).map(portKey))
      .toEqual(['tcp/*/8080', 'tcp/127.0.0.1/8081']);
    expect(portBindings([{ hostPort: 8080, containerPort: 80 }], false, true)).toEqual([{ family: 6, protocol: 'tcp', hostPort: 8080, containerPort: 80 }]);
  });

  it('elements: an IPv4-only endpoint makes the IPv4 elements only; a dual-stack one the twins, pub once per family and port', () => {
    const publish = [{ hostPort: 8080, containerPort: 80 }, { hostPort: 8081, containerPort: 80 }];
    expect(portElements({ ip: '10.0.0.2', publish }).map((e) => e.set)).toEqual(['dnat4_any', 'pub4', 'dnat4_any']);
    expect(portElements({ ip: '10.0.0.2', ip6: 'fd00::2', publish })).toEqual([
      { set: 'dnat4_any', el: { key: ['tcp', 8080], value: ['10.0.0.2', 80] } },
      { set: 'pub4', el: { key: ['10.0.0.2', 'tcp', 80] } },
      { set: 'dnat6_any', el: { key: ['tcp', 8080], value: ['fd00::2', 80] } },
      { set: 'pub6', el: { key: ['fd00::2', 'tcp', 80] } },
      { set: 'dnat4_any', el: { key: ['tcp', 8081], value: ['10.0.0.2', 80] } },
      { set: 'dnat6_any', el: { key: ['tcp', 8081], value: ['fd00::2', 80] } },
    ]);
    expect(portElements({ ip: '', ip6: 'fd00::2', publish: [{ hostIp: '2001:db8::1', hostPort: 1, containerPort: 2 }] }).map((e) => e.set))
      .toEqual(['dnat6_ip', 'pub6']);
  });

  it('a rebuild merges the two families\' bindings of a port back into the mapping attach stored', () => {
    const any4 = { hostIp: '0.0.0.0', hostPort: 8080, containerPort: 80, protocol: 'tcp' as const };
    const any6 = { hostIp: '::', hostPort: 8080, containerPort: 80, protocol: 'tcp' as const };
    const only6 = { hostIp: '::', hostPort: 8082, containerPort: 80, protocol: 'tcp' as const };
    const bound = { hostIp: '2001:db8::1', hostPort: 9000, containerPort: 90, protocol: 'tcp' as const };
    const strip = ({ hostIp: _h, ...m }: typeof any4) => m;
    expect(mergePorts([any4], [any6, only6, bound], true, true)).toEqual([strip(any4), only6, bound]);
    expect(mergePorts([any4], [], true, false)).toEqual([strip(any4)]);
    expect(mergePorts([any4], [], true, true)).toEqual([any4]);
    expect(mergePorts([], [any6], false, true)).toEqual([strip(any6)]);
  });
});
