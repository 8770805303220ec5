// IPAM: pure computation, so these tests check against hand-worked tables and invariants
// (every address handed out once, lowest first, never the reserved ones).
import { describe, expect, it } from 'vitest';
import {
  AddressInUseError, AddressNotInPoolError, AddressPool, DEFAULT_ADDRESS_POOLS, NoSubnetAvailableError, PoolExhaustedError,
  contains, formatIp, macFromIp, macFromIp6, normalizeIp, nthAddress, overlaps, parseCidr, parseIp, pickSubnet, ulaPools,
} from '../src/network';
import { randomMac } from '../src/network/ipam';

/** Allocates until the pool is exhausted; returns the addresses in order. */
function drain(pool: AddressPool, owner = (i: number) => `c${i}`): string[] {
  const out: string[] = [];
  for (let i = 0; ; i++) {
    try {
      out.push(pool.allocate(owner(i)));
    } catch (e) {
      expect(e).toBeInstanceOf(PoolExhaustedError);
      return out;
    }
  }
}

describe('parsing and formatting', () => {
  it.each([
    ['10.0.0.1', 4, 0x0a000001n, '10.0.0.1'],
    ['255.255.255.255', 4, 0xffffffffn, '255.255.255.255'],
    ['0.0.0.0', 4, 0n, '0.0.0.0'],
    ['::', 6, 0n, '::'],
    ['::1', 6, 1n, '::1'],
    ['0000:0000::0001', 6, 1n, '::1'],
    ['FD00:0:0:0:0:0:0:1', 6, (0xfd00n << 112n) | 1n, 'fd00::1'],
    ['2001:db8:0:0:1:0:0:1', 6, 0x20010db8000000000001000000000001n, '2001:db8::1:0:0:1'], // first of equal runs
    ['2001:db8:0:1:1:1:1:1', 6, 0x20010db8000000010001000100010001n, '2001:db8:0:1:1:1:1:1'], // one zero group stays
    ['::ffff:10.1.2.3', 6, 0xffff0a010203n, '::ffff:10.1.2.3'],
    ['64:ff9b::192.0.2.33', 6, 0x0064ff9b0000000000000000c0000221n, '64:ff9b::c000:221'],
    ['1:2:3:4:5:6:7::', 6, 0x00010002000300040005000600070000n, '1:2:3:4:5:6:7:0'],
  ] as const)('%s', (text, family, value, canonical) => {
    expect(parseIp(text)).toEqual({ family, value });
    expect(formatIp(value, family)).toBe(canonical);
    expect(normalizeIp(text)).toBe(canonical);
  });

  it.each([
    '', '1.2.3', '1.2.3.4.5', '256.1.1.1', '01.2.3.4', '1.2.3.4 ', ' 1.2.3.4', '1.2.3.-1', '1:2:3:4:5:6:7:8:9',
    '1::2::3', ':::', '12345::', 'fe80::1%eth0', '::ffff:1.2.3', 'g::1', '1:2:3:4:5:6:7:8::', '10.0.0.1/24',
  ])('rejects %j with a TypeError', (bad) => {
    expect(() => parseIp(bad)).toThrow(TypeError);
  });

  it('rejects non-strings', () => {
    expect(() => parseIp(167772161)).toThrow(TypeError);
    expect(() => parseIp(undefined)).toThrow(TypeError);
  });

  it('parseCidr clears host bits and takes a bare address as a host prefix', () => {
    expect(parseCidr('172.17.5.9/16')).toEqual({ family: 4, network: '172.17.0.0', prefixlen: 16, cidr: '172.17.0.0/16' });
    expect(parseCidr('10.1.2.3')).toEqual({ family: 4, network: '10.1.2.3', prefixlen: 32, cidr: '10.1.2.3/32' });
    expect(parseCidr('10.1.2.3/0').cidr).toBe('0.0.0.0/0');
    expect(parseCidr('FD00:ABCD::99/64').cidr).toBe('fd00:abcd::/64');
    expect(parseCidr('2001:db8::1/128').cidr).toBe('2001:db8::1/128');
    expect(() => parseCidr('10.0.0.0/33')).toThrow(RangeError);
    expect(() => parseCidr('::/129')).toThrow(RangeError);
    expect(() => parseCidr('10.0.0.0/')).toThrow(TypeError);
    expect(() => parseCidr('10.0.0.0/8/8')).toThrow(TypeError);
    expect(() => parseCidr('10.0.0.0/-1')).toThrow(TypeError);
  });

  it('nthAddress counts from the network address, negative from the end', () => {
    expect(nthAddress('172.17.0.0/16', 1)).toBe('172.17.0.1');
    expect(nthAddress('172.17.0.0/16', 256)).toBe('172.17.1.0');
    expect(nthAddress('172.17.0.0/16', -1)).toBe('172.17.255.255');
    expect(nthAddress('172.17.0.0/16', -2)).toBe('172.17.255.254');
    expect(nthAddress('fd00::/64', 2n ** 63n)).toBe('fd00::8000:0:0:0');
    expect(nthAddress('fd00::/64', -1)).toBe('fd00::ffff:ffff:ffff:ffff');
    expect(() => nthAddress('10.0.0.0/30', 4)).toThrow(RangeError);
    expect(() => nthAddress('10.0.0.0/30', -5)).toThrow(RangeError);
    expect(() => nthAddress('10.0.0.0/30', 1.5)).toThrow(TypeError);
  });

  it('macFromIp is 02:42 then the four IPv4 bytes, as Docker derives it', () => {
    expect(macFromIp('172.17.0.2')).toBe('02:42:ac:11:00:02');
    expect(macFromIp('10.255.0.1')).toBe('02:42:0a:ff:00:01');
    expect(macFromIp('192.168.176.254')).toBe('02:42:c0:a8:b0:fe');
    expect(() => macFromIp('fd00::2')).toThrow(TypeError);
    expect(() => macFromIp('nope')).toThrow(TypeError);
  });

  it('macFromIp6 is 02:42 then the host part when it fits in 32 bits: distinct addresses of a subnet, distinct MACs', () => {
    expect(macFromIp6('fd00:91::2', 'fd00:91::/64')).toBe('02:42:00:00:00:02');
    expect(macFromIp6('fd00:91::1:ff', 'fd00:91::/64')).toBe('02:42:00:01:00:ff');
    expect(macFromIp6('fd00:91::ffff:ffff', 'fd00:91::/64')).toBe('02:42:ff:ff:ff:ff');
    // The same low 32 bits, but not the same host part: no derived MAC (a random one).
    expect(macFromIp6('fd00:91::1:0:0:2', 'fd00:91::/64')).toBeUndefined();
    // The host part, not the low bits: a /120 whose first address ends in ...:100.
    expect(macFromIp6('fd00:98::105', 'fd00:98::100/120')).toBe('02:42:00:00:00:05');
    // Every host part below 2^32 of a subnet maps to its own MAC (a sample, both ends).
    const seen = new Set<string>();
    for (const h of [0n, 1n, 2n, 255n, 256n, 65535n, 65536n, 0xfffffffen, 0xffffffffn]) {
      seen.add(macFromIp6(formatIp((0xfd00n << 112n) + h, 6), 'fd00::/64')!);
    }
    expect(seen.size).toBe(9);
    expect(() => macFromIp6('fd00:92::2', 'fd00:91::/64')).toThrow(AddressNotInPoolError);
    expect(() => macFromIp6('10.0.0.2', '10.0.0.0/24')).toThrow(TypeError);
  });

  it('randomMac is locally administered, unicast, 06:...: never a derived 02:42 MAC', () => {
    let n = 0;
    const fake = (k: number) => Uint8Array.from({ length: k }, () => n++ & 0xff);
    expect(randomMac(fake)).toBe('06:00:01:02:03:04');
    const m = parseInt(randomMac((k) => new Uint8Array(k).fill(0xff)).slice(0, 2), 16);
    expect([m & 1, m & 2]).toEqual([0, 2]);
  });

  it('ulaPools: /64s of a unique local /48 (RFC 4193) whose global id is the seed\'s hash, stable for a seed', () => {
    const [a] = ulaPools('machine-1/netplumb');
    expect(a!.size).toBe(64);
    expect(a!.base).toMatch(/^fd[0-9a-f]{2}:[0-9a-f]{1,4}:[0-9a-f]{1,4}::\/48$/);
    expect(ulaPools('machine-1/netplumb')).toEqual([a]);
    expect(ulaPools('machine-2/netplumb')[0]!.base).not.toBe(a!.base);
    expect(contains('fd00::/8', a!.base)).toBe(true);
    expect(pickSubnet({ pools: [a!] })).toBe(a!.base.replace('/48', '/64'));
  });
});

describe('overlaps and contains', () => {
  it.each([
    ['10.0.0.0/8', '10.1.0.0/16', true],
    ['10.1.0.0/16', '10.0.0.0/8', true],
    ['10.0.0.0/24', '10.0.1.0/24', false],
    ['10.0.0.0/23', '10.0.1.0/24', true],
    ['10.0.0.0/24', '10.0.0.255', true],
    ['10.0.0.0/24', '10.0.1.0', false],
    ['0.0.0.0/0', '192.168.1.1/32', true],
    ['172.17.0.0/16', '172.16.0.0/12', true],
    ['172.16.0.0/16', '172.17.0.0/16', false],
    ['192.168.0.0/20', '192.168.16.0/20', false],
    ['fd00::/64', 'fd00::1/128', true],
    ['fd00::/64', 'fd00:0:0:1::/64', false],
    ['fd00::/8', 'fdff:ffff::/32', true],
    ['::/0', '10.0.0.0/8', false], // families never overlap
    ['10.0.0.0/8', '::ffff:10.0.0.1', false],
  ])('overlaps(%s, %s) = %s', (a, b, want) => {
    expect(overlaps(a, b)).toBe(want);
    expect(overlaps(b, a)).toBe(want);
  });

  it.each([
    ['10.0.0.0/8', '10.1.0.0/16', true],
    ['10.1.0.0/16', '10.0.0.0/8', false],
    ['10.0.0.0/24', '10.0.0.0/24', true],
    ['10.0.0.0/24', '10.0.0.7', true],
    ['10.0.0.0/24', '10.0.1.7', false],
    ['10.0.0.0/23', '10.0.1.0/24', true],
    ['10.0.1.0/24', '10.0.0.0/23', false],
    ['fd00::/64', 'fd00::abcd', true],
    ['fd00::/64', 'fd00:0:0:1::1', false],
    ['::/0', '10.0.0.1', false],
  ])('contains(%s, %s) = %s', (outer, inner, want) => {
    expect(contains(outer, inner)).toBe(want);
  });

  it('host bits given in either argument do not matter', () => {
    expect(contains('10.0.0.77/24', '10.0.0.200/25')).toBe(true);
    expect(overlaps('10.0.0.200/25', '10.0.0.129/32')).toBe(true);
    expect(overlaps('10.0.0.200/25', '10.0.0.1/32')).toBe(false); // 10.0.0.200/25 is 10.0.0.128/25
  });
});

describe('AddressPool: exhaustive small subnets', () => {
  it('/29: gateway .1, hands out .2-.6 lowest first, never network or broadcast', () => {
    const pool = new AddressPool('10.0.0.0/29');
    expect(pool.gateway).toBe('10.0.0.1');
    expect(pool.capacity).toBe(5n);
    expect(drain(pool)).toEqual(['10.0.0.2', '10.0.0.3', '10.0.0.4', '10.0.0.5', '10.0.0.6']);
    expect(pool.allocated).toBe(5);
    expect(pool.has('10.0.0.1')).toBe(true);
    expect(pool.has('10.0.0.0')).toBe(false);
    expect(pool.has('10.0.0.7')).toBe(false);
  });

  it('/30: one address besides the gateway', () => {
    const pool = new AddressPool('192.168.1.4/30');
    expect(pool.subnet.cidr).toBe('192.168.1.4/30');
    expect(pool.gateway).toBe('192.168.1.5');
    expect(drain(pool)).toEqual(['192.168.1.6']);
  });

  it('/30 without a gateway: both middle addresses', () => {
    expect(drain(new AddressPool('192.168.1.4/30', { gateway: null }))).toEqual(['192.168.1.5', '192.168.1.6']);
  });

  it('/31 has no network or broadcast address (RFC 3021)', () => {
    const pool = new AddressPool('10.9.9.8/31');
    expect(pool.gateway).toBe('10.9.9.8');
    expect(drain(pool)).toEqual(['10.9.9.9']);
    expect(drain(new AddressPool('10.9.9.8/31', { gateway: null }))).toEqual(['10.9.9.8', '10.9.9.9']);
  });

  it('/32: the one address is the gateway, or the only allocation', () => {
    const pool = new AddressPool('10.9.9.9/32');
    expect(pool.gateway).toBe('10.9.9.9');
    expect(pool.capacity).toBe(0n);
    expect(() => pool.allocate('a')).toThrow(PoolExhaustedError);
    expect(drain(new AddressPool('10.9.9.9/32', { gateway: null }))).toEqual(['10.9.9.9']);
  });

  it('network, broadcast and the gateway are refused as preferred addresses, naming what they are', () => {
    const pool = new AddressPool('10.0.0.0/29');
    for (const [addr, role] of [['10.0.0.0', 'network'], ['10.0.0.7', 'broadcast'], ['10.0.0.1', 'gateway']] as const) {
      const err = (() => {
        try {
          pool.allocate('x', addr);
        } catch (e) {
          return e;
        }
        return undefined;
      })() as AddressInUseError;
      expect(err).toBeInstanceOf(AddressInUseError);
      expect(err.reserved).toBe(role);
      expect(err.code).toBe('EADDRINUSE');
      expect(err.message).toContain(role);
    }
    expect(pool.allocated).toBe(0);
  });

  it('an explicit gateway and reserved addresses are skipped; the default gateway address is then free', () => {
    const pool = new AddressPool('10.0.0.0/29', { gateway: '10.0.0.6', reserved: ['10.0.0.2', '10.0.0.6', '10.0.0.0'] });
    expect(pool.gateway).toBe('10.0.0.6');
    expect(pool.capacity).toBe(4n);
    expect(drain(pool)).toEqual(['10.0.0.1', '10.0.0.3', '10.0.0.4', '10.0.0.5']);
    expect(() => pool.release('10.0.0.2')).toThrow(AddressInUseError);
    expect(() => new AddressPool('10.0.0.0/29', { gateway: '10.0.1.1' })).toThrow(AddressNotInPoolError);
    expect(() => new AddressPool('10.0.0.0/29', { gateway: '10.0.0.7' })).toThrow(AddressInUseError);
    expect(() => new AddressPool('10.0.0.0/29', { reserved: ['10.0.1.1'] })).toThrow(AddressNotInPoolError);
  });

  it('a range confines dynamic allocation; explicit addresses may be anywhere in the subnet', () => {
    const pool = new AddressPool('10.0.0.0/24', { range: '10.0.0.128/30' });
    expect(pool.range.cidr).toBe('10.0.0.128/30');
    expect(pool.gateway).toBe('10.0.0.1');
    expect(pool.allocate('s', '10.0.0.50')).toBe('10.0.0.50');
    expect(drain(pool)).toEqual(['10.0.0.128', '10.0.0.129', '10.0.0.130', '10.0.0.131']);
    expect(pool.release('10.0.0.50')).toBe(true);
    expect(() => pool.allocate('t')).toThrow(PoolExhaustedError); // .50 is outside the range
    expect(() => new AddressPool('10.0.0.0/24', { range: '10.0.1.0/25' })).toThrow(RangeError);
    expect(() => new AddressPool('10.0.0.0/24', { range: 'fd00::/120' })).toThrow(RangeError);
    // A range at the subnet's edge still never yields network or broadcast.
    expect(drain(new AddressPool('10.0.0.0/24', { range: '10.0.0.252/30' }))).toEqual(['10.0.0.252', '10.0.0.253', '10.0.0.254']);
    expect(drain(new AddressPool('10.0.0.0/24', { range: '10.0.0.0/30' }))).toEqual(['10.0.0.2', '10.0.0.3']);
  });
});

describe('AddressPool: owners, release, reuse', () => {
  it('release frees for reuse, lowest free first, and is idempotent', () => {
    const pool = new AddressPool('10.0.0.0/28');
    const got = drain(pool);
    expect(got).toHaveLength(13);
    expect(pool.release('10.0.0.9')).toBe(true);
    expect(pool.release('10.0.0.4')).toBe(true);
    expect(pool.release('10.0.0.4')).toBe(false);
    expect(pool.has('10.0.0.4')).toBe(false);
    expect(pool.allocate('n1')).toBe('10.0.0.4');
    expect(pool.allocate('n2')).toBe('10.0.0.9');
    expect(() => pool.allocate('n3')).toThrow(PoolExhaustedError);
  });

  it('lowest free is kept across interleaved releases, claims and allocations (checked against a model)', () => {
    const pool = new AddressPool('10.0.0.0/26', { reserved: ['10.0.0.20'] });
    const model = new Map<number, string>(); // host part -> owner
    const usable = (h: number) => h >= 2 && h <= 62 && h !== 20;
    let seed = 12345;
    const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) % n);
    for (let step = 0; step < 3000; step++) {
      const op = rnd(10);
      if (op < 5) {
        const lowest = [...Array(63).keys()].find((h) => usable(h) && !model.has(h));
        if (lowest === undefined) {
          expect(() => pool.allocate(`o${step}`)).toThrow(PoolExhaustedError);
        } else {
          expect(pool.allocate(`o${step}`)).toBe(`10.0.0.${lowest}`);
          model.set(lowest, `o${step}`);
        }
      } else if (op < 8) {
        const h = rnd(64);
        if (h === 1 || h === 20) expect(() => pool.release(`10.0.0.${h}`)).toThrow(AddressInUseError); // gateway, reserved
        else expect(pool.release(`10.0.0.${h}`)).toBe(model.delete(h));
      } else {
        const h = rnd(64);
        if (usable(h) && !model.has(h)) {
          pool.claim(`10.0.0.${h}`, `k${step}`);
          model.set(h, `k${step}`);
        }
      }
      expect(pool.allocated).toBe(model.size);
    }
    expect(pool.allocations()).toEqual([...model].sort((a, b) => a[0] - b[0]).map(([h, o]) => [`10.0.0.${h}`, o]));
  });

  it('a taken preferred address names its owner and changes nothing', () => {
    const pool = new AddressPool('10.0.0.0/24');
    expect(pool.allocate('web', '10.0.0.10')).toBe('10.0.0.10');
    let err: unknown;
    try {
      pool.allocate('db', '10.0.0.10');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(AddressInUseError);
    expect((err as AddressInUseError).owner).toBe('web');
    expect((err as AddressInUseError).address).toBe('10.0.0.10');
    expect((err as Error).message).toMatch(/10\.0\.0\.10 in 10\.0\.0\.0\/24 is already allocated to "web"/);
    expect(() => pool.allocate('web', '10.0.0.10')).toThrow(AddressInUseError); // allocate never returns a held address
    expect(pool.ownerOf('10.0.0.10')).toBe('web');
    expect(pool.allocated).toBe(1);
    // Dynamic allocation steps over it.
    expect([pool.allocate('a'), pool.allocate('b')]).toEqual(['10.0.0.2', '10.0.0.3']);
    for (let i = 4; i < 10; i++) pool.allocate(`f${i}`);
    expect(pool.allocate('after')).toBe('10.0.0.11');
  });

  it('preferred addresses outside the subnet, of the other family, or malformed are typed errors', () => {
    const pool = new AddressPool('10.0.0.0/24');
    expect(() => pool.allocate('x', '10.0.1.5')).toThrow(AddressNotInPoolError);
    expect(() => pool.allocate('x', 'fd00::5')).toThrow(AddressNotInPoolError);
    expect(() => pool.allocate('x', '10.0.0.300')).toThrow(TypeError);
    expect(() => pool.allocate('', '10.0.0.5')).toThrow(TypeError);
    expect(() => pool.claim('10.0.1.5', 'x')).toThrow(AddressNotInPoolError);
    expect(pool.allocated).toBe(0);
    expect(pool.has('10.0.1.5')).toBe(false);
    expect(pool.has('fd00::1')).toBe(false);
  });

  it('claim is idempotent for the same owner and refuses another', () => {
    const pool = new AddressPool('10.0.0.0/24');
    expect(pool.claim('10.0.0.7', 'a')).toBe('10.0.0.7');
    expect(pool.claim('10.0.0.7', 'a')).toBe('10.0.0.7');
    expect(pool.allocated).toBe(1);
    expect(() => pool.claim('10.0.0.7', 'b')).toThrow(/allocated to "a"/);
    expect(() => pool.claim('10.0.0.1', 'a')).toThrow(AddressInUseError);
    expect(() => pool.release('10.0.0.7', 'b')).toThrow(AddressInUseError);
    expect(pool.release('10.0.0.7', 'a')).toBe(true);
  });

  it('an owner may hold several addresses; releaseOwner frees them all', () => {
    const pool = new AddressPool('10.0.0.0/24');
    pool.allocate('a');
    pool.allocate('b');
    pool.allocate('a', '10.0.0.100');
    expect(pool.addressesOf('a')).toEqual(['10.0.0.2', '10.0.0.100']);
    expect(pool.releaseOwner('a')).toEqual(['10.0.0.2', '10.0.0.100']);
    expect(pool.addressesOf('a')).toEqual([]);
    expect(pool.allocations()).toEqual([['10.0.0.3', 'b']]);
    expect(pool.allocate('c')).toBe('10.0.0.2');
  });

  it('toJSON/fromJSON round-trips, and a state with a double allocation is refused', () => {
    const pool = new AddressPool('10.0.0.77/24', { range: '10.0.0.64/26', reserved: ['10.0.0.65'] });
    pool.allocate('a');
    pool.allocate('b', '10.0.0.9');
    const state = JSON.parse(JSON.stringify(pool)) as ReturnType<AddressPool['toJSON']>;
    expect(state).toEqual({
      subnet: '10.0.0.0/24', gateway: '10.0.0.1', range: '10.0.0.64/26', reserved: ['10.0.0.65'],
      allocations: [['10.0.0.9', 'b'], ['10.0.0.64', 'a']],
    });
    const again = AddressPool.fromJSON(state);
    expect(again.allocations()).toEqual(pool.allocations());
    expect(again.allocate('c')).toBe('10.0.0.66');
    expect(() => AddressPool.fromJSON({ ...state, allocations: [['10.0.0.9', 'b'], ['10.0.0.9', 'z']] })).toThrow(AddressInUseError);
    expect(() => AddressPool.fromJSON({ ...state, allocations: [['10.0.0.1', 'b']] })).toThrow(/gateway/);
    expect(AddressPool.fromJSON({ subnet: '10.1.0.0/30', gateway: null, reserved: [], allocations: [] }).gateway).toBeUndefined();
  });
});

describe('AddressPool: large subnets', () => {
  it('a /16 hands out all 65533 addresses in order, quickly', () => {
    const pool = new AddressPool('172.17.0.0/16');
    const t0 = performance.now();
    const got = drain(pool);
    const ms = performance.now() - t0;
    expect(got).toHaveLength(65533);
    expect(got[0]).toBe('172.17.0.2');
    expect(got[253]).toBe('172.17.0.255');
    expect(got[254]).toBe('172.17.1.0');
    expect(got[got.length - 1]).toBe('172.17.255.254');
    expect(new Set(got).size).toBe(got.length);
    expect(ms).toBeLessThan(2000);
    // Release a scattered tenth, then reallocate: lowest first, each O(log n).
    const freed = got.filter((_, i) => i % 10 === 3);
    for (const a of freed) pool.release(a);
    const t1 = performance.now();
    const again = freed.map((_, i) => pool.allocate(`r${i}`));
    expect(again).toEqual(freed);
    expect(performance.now() - t1).toBeLessThan(1000);
  });

  it('IPv6 /64: gateway ::1, allocation from ::2 without materialising 2^64 addresses', () => {
    const pool = new AddressPool('fd00:dead:beef::/64');
    expect(pool.gateway).toBe('fd00:dead:beef::1');
    expect(pool.capacity).toBe(2n ** 64n - 2n);
    const got = Array.from({ length: 1000 }, (_, i) => pool.allocate(`c${i}`));
    expect(got[0]).toBe('fd00:dead:beef::2');
    expect(got[999]).toBe('fd00:dead:beef::3e9');
    expect(() => pool.allocate('x', 'fd00:dead:beef::')).toThrow(AddressInUseError); // subnet-router anycast
    const last = 'fd00:dead:beef:0:ffff:ffff:ffff:ffff';
    expect(pool.allocate('top', last)).toBe(last); // no broadcast in IPv6
    expect(pool.allocate('upper', 'FD00:DEAD:BEEF:0:8000::1')).toBe('fd00:dead:beef:0:8000::1');
    expect(pool.has('fd00:dead:beef:0:8000:0:0:1')).toBe(true);
    expect(pool.release('fd00:dead:beef::2')).toBe(true);
    expect(pool.allocate('y')).toBe('fd00:dead:beef::2');
    expect(pool.allocate('z')).toBe('fd00:dead:beef::3ea');
    expect(() => pool.allocate('x', 'fd00:dead:bef0::1')).toThrow(AddressNotInPoolError);
  });

  it('IPv6 /127 and /128 use every address', () => {
    expect(drain(new AddressPool('fd00::/127', { gateway: null }))).toEqual(['fd00::', 'fd00::1']);
    expect(drain(new AddressPool('fd00::/126'))).toEqual(['fd00::2', 'fd00::3']);
    expect(drain(new AddressPool('fd00::5/128', { gateway: null }))).toEqual(['fd00::5']);
  });
});

describe('AddressPool: concurrent async callers', () => {
  it('200 concurrent attaches through an async wrapper never get the same address', async () => {
    const pool = new AddressPool('10.88.0.0/24');
    // What an attach does: some awaits (netlink round trips) around a synchronous allocation.
    const attach = async (id: string): Promise<string> => {
      await new Promise((r) => setTimeout(r, Math.random() * 5));
      const ip = pool.allocate(id);
      await new Promise((r) => setImmediate(r));
      return ip;
    };
    const ids = Array.from({ length: 253 }, (_, i) => `ctr${i}`);
    const results = await Promise.allSettled([...ids, 'one-too-many'].map(attach));
    const ok = results.filter((r): r is PromiseFulfilledResult<string> => r.status === 'fulfilled').map((r) => r.value);
    const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(ok).toHaveLength(253);
    expect(new Set(ok).size).toBe(253);
    expect(ok).not.toContain('10.88.0.1');
    expect(failed).toHaveLength(1);
    expect(failed[0]!.reason).toBeInstanceOf(PoolExhaustedError);
    // Owners match what each caller got.
    results.forEach((r, i) => {
      if (r.status === 'fulfilled') expect(pool.ownerOf(r.value)).toBe(i < 253 ? ids[i] : 'one-too-many');
    });
  });

  it('concurrent callers asking for the same preferred address: one wins, the others are told who', async () => {
    const pool = new AddressPool('10.88.0.0/24');
    const results = await Promise.allSettled(
      Array.from({ length: 20 }, async (_, i) => {
        await new Promise((r) => setTimeout(r, Math.random() * 5));
        return pool.allocate(`c${i}`, '10.88.0.42');
      }),
    );
    const won = results.findIndex((r) => r.status === 'fulfilled');
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    for (const r of results) {
      if (r.status === 'rejected') {
        expect(r.reason).toBeInstanceOf(AddressInUseError);
        expect((r.reason as AddressInUseError).owner).toBe(`c${won}`);
      }
    }
  });
});

describe('pickSubnet', () => {
  it('with nothing to avoid: 172.17.0.0/16, like docker0', () => {
    expect(pickSubnet()).toBe('172.17.0.0/16');
    expect(pickSubnet({ avoid: [] })).toBe('172.17.0.0/16');
  });

  it('steps over routed and used subnets, including ones that only partly overlap', () => {
    expect(pickSubnet({ avoid: ['172.17.0.0/16'] })).toBe('172.18.0.0/16');
    expect(pickSubnet({ avoid: ['172.17.0.0/16', '172.18.5.0/24', '172.19.255.255'] })).toBe('172.20.0.0/16');
    // A wide route covering several candidates at once.
    expect(pickSubnet({ avoid: ['172.16.0.0/12'] })).toBe('192.168.0.0/20');
    expect(pickSubnet({ avoid: ['172.16.0.0/12', '192.168.0.0/20', '192.168.17.0/24'] })).toBe('192.168.32.0/20');
    // Order of avoid does not matter; unrelated and IPv6 routes are ignored.
    expect(pickSubnet({ avoid: ['fd00::/8', '192.168.17.0/24', '10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/20'] })).toBe('192.168.32.0/20');
    // A default route overlaps everything.
    expect(() => pickSubnet({ avoid: ['0.0.0.0/0'] })).toThrow(NoSubnetAvailableError);
  });

  it('takes the avoid list of a busy host without trying each candidate against each route', () => {
    // Every /24 of 10.0.0.0/8 but the last is routed: the answer is the last one.
    const avoid: string[] = [];
    for (let i = 0; i < 65535; i++) avoid.push(`10.${i >> 8}.${i & 255}.0/24`);
    const t0 = performance.now();
    expect(pickSubnet({ pools: [{ base: '10.0.0.0/8', size: 24 }], avoid })).toBe('10.255.255.0/24');
    expect(performance.now() - t0).toBeLessThan(2000);
  });

  it('exhausting the default pools is a typed error', () => {
    const avoid = [...DEFAULT_ADDRESS_POOLS.map((p) => p.base)];
    expect(() => pickSubnet({ avoid })).toThrow(NoSubnetAvailableError);
    expect(() => pickSubnet({ avoid })).toThrow(/192\.168\.0\.0\/16 as \/20/);
  });

  it('IPv6 pools, and pools whose base is not aligned to size', () => {
    expect(pickSubnet({ pools: [{ base: 'fd00:1::/48', size: 64 }], avoid: ['fd00:1::/64', 'fd00:1:0:1::5'] })).toBe('fd00:1:0:2::/64');
    expect(pickSubnet({ pools: [{ base: '10.10.0.7/16', size: 24 }], avoid: ['10.10.0.0/23'] })).toBe('10.10.2.0/24');
  });

  it('bad pools and avoid entries are TypeError/RangeError', () => {
    expect(() => pickSubnet({ pools: [{ base: '10.0.0.0/16', size: 8 }] })).toThrow(RangeError);
    expect(() => pickSubnet({ pools: [{ base: '10.0.0.0/16', size: 33 }] })).toThrow(RangeError);
    expect(() => pickSubnet({ pools: [{ base: '10.0.0.0/16', size: 16.5 }] })).toThrow(RangeError);
    expect(() => pickSubnet({ pools: [{ base: 'nope', size: 24 }] })).toThrow(TypeError);
    expect(() => pickSubnet({ avoid: ['10.0.0.0/40'] })).toThrow(RangeError);
    expect(() => pickSubnet({ avoid: 'x' as unknown as string[] })).toThrow(TypeError);
  });
});
