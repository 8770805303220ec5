// The hot path of publishing a port, checked against slower, obvious references: the
// one-pass IPv4 parser against net.isIP, and elements packed into one Buffer against the
// same elements sent as objects (the bytes native code encodes must not differ).
import { isIP } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { nft, type Netns, type NftTransaction } from '../src';
import { native } from '../src/binding';
import { ipv4Bytes, ipv6Bytes } from '../src/nft/datatypes';
import { parseIp } from '../src/network/ipam';
import { run, Scope } from './helpers';

const scope = new Scope();
afterAll(() => scope.cleanup());

describe('ipv6Bytes', () => {
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
        bytes = ipv6Bytes(s, 'address');
      } catch (e) {
        expect(e).toBeInstanceOf(TypeError);
        expect((e as Error).message).toContain('address must be an IPv6 address');
      }
      expect([s, bytes !== undefined]).toEqual([s, isIP(s) === 6 && !s.includes('%')]);
      if (bytes) expect(bytes.toString('hex')).toBe(parseIp(s).value.toString(16).padStart(32, '0'));
    }
  });
});

describe('ipv4Bytes', () => {
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
        bytes = ipv4Bytes(s, 'address');
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
      expect(() => ipv4Bytes(v, 'address')).toThrow(TypeError);
    }
  });
});

describe('elements packed for the native side', () => {
  let ns: Netns;
  const t = { family: 'inet' as const, table: 'enc' };

  // The operations a transaction sends, and the same with every packed element list
  // turned back into objects; both must encode to the same batch.
  async function bothWays(fill: (tx: NftTransaction) => void): Promise<{ packed: number; a: Buffer; b: Buffer }> {
    const tx = ns.nft.transaction();
    tx.addTable({ family: 'inet', name: 'enc' });
    fill(tx);
    const ops = (await tx.build()) as Record<string, unknown>[];
    let packed = 0;
    const unpacked = ops.map((op) => {
      if (!(op.packed instanceof Buffer)) return op;
      packed++;
      const buf = op.packed;
      const elements = [];
      for (let off = 0; off < buf.length;) {
        const flags = buf.readUInt32LE(off);
        const [kl, kel, dl] = [buf.readUInt16LE(off + 4), buf.readUInt16LE(off + 6), buf.readUInt16LE(off + 8)];
        off += 10;
        const el: Record<string, unknown> = { key: buf.subarray(off, (off += kl)), flags };
        if (kel) el.keyEnd = buf.subarray(off, (off += kel));
        if (dl) el.data = buf.subarray(off, (off += dl));
        elements.push(el);
      }
      const { packed: _p, ...rest } = op;
      return { ...rest, elements };
    });
    return { packed, a: native.nftEncodeBatch(ops), b: native.nftEncodeBatch(unpacked) };
  }

  it('maps, sets, concatenations and intervals encode the same packed or not', async () => {
    ns = await scope.ns('enc');
    const r = await bothWays((tx) => {
      tx.addSet({ ...t, name: 'm', key: { typeof: [nft.ip.daddr, nft.meta.l4proto, nft.th.dport] }, map: { typeof: [nft.ip.daddr, nft.th.dport] } });
      tx.addSet({ ...t, name: 's', key: 'ipv4_addr' });
      tx.addSet({ ...t, name: 'i', key: 'ipv4_addr', flags: ['interval'] });
      tx.addElements({ ...t, set: 'm', elements: [{ key: ['10.0.0.1', 'tcp', 80], value: ['172.16.0.2', 8080] }, { key: ['10.0.0.2', 'udp', 53], value: ['172.16.0.3', 53] }] });
      tx.addElements({ ...t, set: 's', elements: [{ key: '10.1.0.1' }, { key: '10.1.0.2' }] });
      tx.addElements({ ...t, set: 'i', elements: [{ key: '10.2.0.0/16' }, { key: '10.3.0.1-10.3.0.9' }] });
      tx.deleteElements({ ...t, set: 's', elements: [{ key: '10.1.0.2' }] });
    });
    expect(r.packed).toBe(4);
    expect(r.a.equals(r.b)).toBe(true);
  });

  it('elements with a timeout, a comment or a verdict go as objects', async () => {
    const r = await bothWays((tx) => {
      tx.addSet({ ...t, name: 'tmo', key: 'ipv4_addr', timeout: 60_000 });
      tx.addSet({ ...t, name: 'v', key: 'ipv4_addr', map: 'verdict' });
      tx.addChain({ ...t, name: 'c' });
      tx.addElements({ ...t, set: 'tmo', elements: [{ key: '10.0.0.1', timeout: 5_000 }] });
      tx.addElements({ ...t, set: 'tmo', elements: [{ key: '10.0.0.2', comment: 'x' }] });
      tx.addElements({ ...t, set: 'v', elements: [{ key: '10.0.0.3', value: { verdict: 'jump', chain: 'c' } }] });
    });
    expect(r.packed).toBe(0);
  });

  it('a packed commit lands in the kernel as nft lists it', async () => {
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
  });
});
