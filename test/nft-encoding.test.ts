// Element and rule values are encoded natively, from their set's or selector's declared
// type (native/nft/datatypes.cc): checked here against independent references, net.isIP
// and ipam's parser for addresses, hand-made bytes for concatenations and nft's own
// listing for what lands in the kernel.
import { isIP } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { codec, nft, type Netns } from '../src';
import { encodeValue } from '../src/nft/datatypes';
import { parseIp } from '../src/network/ipam';
import { run, Scope } from './helpers';

const scope = new Scope();
afterAll(() => scope.cleanup());

describe('IPv6 values (native/nft/datatypes.cc)', () => {
  const tricky = [
    '::', '::1', '1::', '1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7::', '::2:3:4:5:6:7:8', '1:2:3:4:5:6:7:8:9', '1:2:3:4:5:6:7',
    ':::', '1:::2', '1::2::3', ':1:2:3:4:5:6:7', '1:2:3:4:5:6:7:', '12345::', 'fffff::', 'g::', 'FD00:91::77', 'fd00:91::1:0:0:5',
    '::ffff:192.0.2.1', '::192.0.2.1', '1:2:3:4:5:6:1.2.3.4', '1:2:3:4:5:6:7:1.2.3.4', '::1.2.3', '::01.2.3.4', '1.2.3.4',
    'fe80::1%eth0', 'fd00::/64', ' ::1', '::1 ', '', ':', '0:0:0:0:0:0:0:0', '::0:0',
  ];

  it('accepts exactly what net.isIP calls IPv6 (zone ids refused), with the bytes ipam.parseIp computes', () => {
    const rnd = (n: number) => Math.floor(Math.random() * n);
    const random = Array.from({ length: 20_000 }, () => {
      const g = Array.from({ length: 5 + rnd(5) }, () => rnd(0x1ffff).toString(16).slice(0, 1 + rnd(5)));
      const k = rnd(g.length);
      const s = rnd(3) === 0 ? g.join(':') : `${g.slice(0, k).join(':')}::${g.slice(k + rnd(4)).join(':')}`;
      return rnd(30) === 0 ? s.replace(/[^:]*$/, `${rnd(300)}.${rnd(300)}.1.2`) : s;
    });
    for (const s of [...tricky, ...random]) {
      let bytes: Buffer | undefined;
      try {
        bytes = encodeValue(['ipv6_addr'], s, 'address');
      } catch (e) {
        expect(e).toBeInstanceOf(TypeError);
        expect((e as Error).message).toContain('address must be an IPv6 address');
      }
      expect([s, bytes !== undefined]).toEqual([s, isIP(s) === 6 && !s.includes('%')]);
      if (bytes) expect(bytes.toString('hex')).toBe(parseIp(s).value.toString(16).padStart(32, '0'));
    }
  });
});

describe('IPv4 values (native/nft/datatypes.cc)', () => {
  const tricky = [
    '1.2.3.4', '0.0.0.0', '255.255.255.255', '10.0.0.1', '192.168.001.1', '256.1.1.1', '1.2.3', '1.2.3.4.5',
    '01.2.3.4', '1..2.3', 'a.b.c.d', '1.2.3.4 ', ' 1.2.3.4', '1.2.3.04', '0.0.0.00', '100.200.10.0', '1.2.3.-4',
    '', '1.2.3.4/5', '999.1.1.1', '1.2.3.1000', '.1.2.3', '1.2.3.', '１.2.3.4', '1.2.3.4\0',
  ];

  it('accepts exactly what net.isIP calls IPv4, with the right bytes', () => {
    const rnd = (n: number) => Math.floor(Math.random() * n);
    const random = Array.from({ length: 20_000 }, () => {
      const parts = Array.from({ length: 3 + rnd(3) }, () => (rnd(10) === 0 ? `0${rnd(30)}` : String(rnd(300))));
      const s = parts.join('.');
      return rnd(20) === 0 ? s.replace('.', String.fromCharCode(32 + rnd(90))) : s;
    });
    for (const s of [...tricky, ...random]) {
      let bytes: Buffer | undefined;
      try {
        bytes = encodeValue(['ipv4_addr'], s, 'address');
      } catch (e) {
        expect(e).toBeInstanceOf(TypeError);
        expect((e as Error).message).toContain('address must be an IPv4 address');
      }
      expect([s, bytes !== undefined]).toEqual([s, isIP(s) === 4]);
      if (bytes) expect([...bytes]).toEqual(s.split('.').map(Number));
    }
  });

  it('rejects what is not a string', () => {
    for (const v of [undefined, null, 16909060, ['1', '2', '3', '4'], { toString: () => '1.2.3.4' }]) {
      expect(() => encodeValue(['ipv4_addr'], v, 'address')).toThrow(TypeError);
    }
  });
});

describe('element values, encoded natively with the set\'s types', () => {
  let ns: Netns;
  const t = { family: 'inet' as const, table: 'enc' };

  it('concatenations are laid out in whole registers, intervals as start and end keys', async () => {
    ns = await scope.ns('enc');
    const tx = ns.nft.transaction();
    tx.addTable({ family: 'inet', name: 'enc' });
    tx.addSet({ ...t, name: 'm', key: { typeof: [nft.ip.daddr, nft.meta.l4proto, nft.th.dport] }, map: { typeof: [nft.ip.daddr, nft.th.dport] } });
    tx.addSet({ ...t, name: 'i', key: 'ipv4_addr', flags: ['interval'] });
    tx.addElements({ ...t, set: 'm', elements: [{ key: ['10.0.0.1', 'tcp', 80], value: ['172.16.0.2', 8080] }] });
    tx.addElements({ ...t, set: 'i', elements: [{ key: '10.2.0.0/16' }, { key: '10.3.0.1-10.3.0.9' }] });
    const msgs = codec.decodeNftMessages(await codec.encodeNftTransaction(tx));
    const els = msgs.filter((m) => m.msg === 'NFT_MSG_NEWSETELEM').map((m) => m.object as { set: string; elements: { key: Buffer; data?: Buffer; flags: number }[] });
    const m = els.find((e) => e.set === 'm')!.elements[0]!;
    // ipv4_addr . inet_proto . inet_service: 4 bytes, 1 byte padded to 4, 2 bytes padded to 4.
    expect(m.key.toString('hex')).toBe('0a000001' + '06000000' + '00500000');
    expect((m.data as Buffer).toString('hex')).toBe('ac100002' + '1f900000');
    const i = els.find((e) => e.set === 'i')!.elements.map((e) => [e.key.toString('hex'), e.flags]);
    // A range is its first key, then the key after its last flagged NFT_SET_ELEM_INTERVAL_END.
    expect(i).toEqual([['0a020000', 0], ['0a030000', 1], ['0a030001', 0], ['0a03000a', 1]]);
  });

  it('a value that does not fit its set is a TypeError or RangeError naming the element, and nothing is sent', async () => {
    const tx = ns.nft.transaction();
    tx.addTable({ family: 'inet', name: 'enc' });
    tx.addSet({ ...t, name: 'p', key: ['ipv4_addr', 'inet_service'] });
    tx.commitSync();
    const bad = ns.nft.transaction();
    bad.addElements({ ...t, set: 'p', elements: [{ key: ['10.0.0.1', 80] }, { key: ['10.0.0.300', 80] }] });
    expect(() => bad.commitSync()).toThrow(/ops\[0\]\.elements\[1\]\.key\[0\] must be an IPv4 address/);
    const big = ns.nft.transaction();
    big.addElements({ ...t, set: 'p', elements: [{ key: ['10.0.0.1', 70000] }] });
    await expect(big.commit()).rejects.toBeInstanceOf(RangeError);
    expect((await ns.nft.getSet('inet', 'enc', 'p')).elements).toEqual([]);
  });

  it('what a commit sends lands in the kernel as nft lists it, and lists back as the values given', async () => {
    const tx = ns.nft.transaction();
    tx.addTable({ family: 'inet', name: 'enc' });
    tx.addSet({ ...t, name: 'm', key: { typeof: [nft.ip.daddr, nft.meta.l4proto, nft.th.dport] }, map: { typeof: [nft.ip.daddr, nft.th.dport] } });
    tx.addSet({ ...t, name: 'i', key: 'ipv4_addr', flags: ['interval'] });
    tx.commitSync();
    const tx2 = ns.nft.transaction();
    tx2.addElements({ ...t, set: 'm', elements: [{ key: ['10.0.0.1', 'tcp', 80], value: ['172.16.0.2', 8080] }] });
    tx2.addElements({ ...t, set: 'i', elements: [{ key: '10.2.0.0/16' }] });
    tx2.commitSync();
    const list = (kind: string, set: string) => run('ip', ['netns', 'exec', ns.name!, 'nft', 'list', kind, 'inet', 'enc', set]).replace(/\s+/g, ' ');
    expect(list('map', 'm')).toContain('elements = { 10.0.0.1 . tcp . 80 : 172.16.0.2 . 8080 }');
    expect(list('set', 'i')).toContain('elements = { 10.2.0.0/16 }');
    expect((await ns.nft.getSet('inet', 'enc', 'm')).elements).toEqual([{ key: ['10.0.0.1', 'tcp', 80], value: ['172.16.0.2', 8080] }]);
    expect((await ns.nft.getSet('inet', 'enc', 'i')).elements).toEqual([{ key: '10.2.0.0/16' }]);
  });
});
