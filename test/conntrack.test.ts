// Connection tracking over ctnetlink, checked with conntrack(8) and real UDP traffic:
// entries conntrack(8) inserts are listed and deleted by filter; a bridge network's
// detach flushes the stale DNAT of a published UDP port, so the next container that
// publishes it gets the very next datagram of a flow that never stopped.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { type ConntrackEntry, Netns, Networks } from '../src';
import { conntrackFilters } from '../src/network/ports';
import { ip as ipcmd, run, Scope, tryRun } from './helpers';
import { exec, haveSocat, HOST_IP, HOST_IP6, joinOutside, OUT_IP, OUT_IP6 } from './traffic';

const scope = new Scope();
const procs: ChildProcess[] = [];
const dirs: string[] = [];
const haveConntrack = tryRun('conntrack', ['--version']).status === 0;

afterAll(async () => {
  for (const p of procs) p.kill();
  await scope.cleanup();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A conntrack entry as `conntrack -L` prints it, parsed. */
interface Listed {
  protocol: string;
  original: { src: string; dst: string; srcPort?: number; dstPort?: number };
  reply: { src: string; dst: string; srcPort?: number; dstPort?: number };
}

/** `conntrack -L` inside a namespace (conntrack-tools, independent of netplumb). */
function conntrackL(ns: Netns): Listed[] {
  const out = run('ip', ['netns', 'exec', ns.name!, 'conntrack', '-L']);
  return out.split('\n').filter((l) => l.trim()).map((line) => {
    const words = line.trim().split(/\s+/);
    const kv = words.filter((w) => w.includes('=')).map((w) => w.split('=') as [string, string]);
    const half = (from: number) => {
      const get = (k: string) => kv.slice(from).find(([key]) => key === k)?.[1];
      const sp = get('sport');
      const dp = get('dport');
      return { src: get('src')!, dst: get('dst')!, ...(sp && { srcPort: Number(sp) }), ...(dp && { dstPort: Number(dp) }) };
    };
    const second = kv.findIndex(([k], i) => k === 'src' && i > 0);
    return { protocol: words[0]!, original: half(0), reply: half(second) };
  });
}

/** conntrack -I of one flow `proto src:sport -> dst:dport` answered by `rsrc:rsport`. */
function insert(ns: Netns, proto: 'udp' | 'tcp' | 'sctp', src: string, sport: number, dst: string, dport: number, rsrc: string, rsport: number): void {
  const extra = proto === 'udp' ? [] : ['--state', 'ESTABLISHED', ...(proto === 'sctp' ? ['--orig-vtag', '1', '--reply-vtag', '2'] : [])];
  run('ip', [
    'netns', 'exec', ns.name!, 'conntrack', '-I', '-p', proto, '-s', src, '-d', dst, '--sport', String(sport), '--dport', String(dport),
    '--reply-src', rsrc, '--reply-dst', src, '--reply-port-src', String(rsport), '--reply-port-dst', String(sport), '-t', '120', ...extra,
  ]);
}

const key = (e: Listed | ConntrackEntry) =>
  `${e.protocol} ${e.original.src}:${e.original.srcPort}>${e.original.dst}:${e.original.dstPort} / ${e.reply.src}:${e.reply.srcPort}>${e.reply.dst}:${e.reply.dstPort}`;
const keys = (l: (Listed | ConntrackEntry)[]) => l.map(key).sort();

describe.skipIf(!haveConntrack)('conntrack: list and delete by filter', () => {
  const C = '172.18.0.2';
  const OTHER = '172.18.0.3';

  it('lists what conntrack -L lists; deletes exactly the matches, by reply source, reply port and original port', async () => {
    const ns = await scope.ns('ct');
    insert(ns, 'udp', '10.1.0.5', 1000, HOST_IP, 9999, C, 53); // the one DNATed to C:53
    insert(ns, 'udp', '10.1.0.6', 1000, HOST_IP, 9998, C, 53); // another flow to C:53
    insert(ns, 'udp', '10.1.0.5', 1001, HOST_IP, 9999, C, 54); // C, other port
    insert(ns, 'udp', '10.1.0.5', 1002, HOST_IP, 9999, OTHER, 53); // other container
    insert(ns, 'tcp', '10.1.0.5', 1003, HOST_IP, 9999, C, 53); // other protocol
    // The kernel's filter compares ports for tcp and udp only: sctp is checked natively.
    insert(ns, 'sctp', '10.1.0.5', 1004, HOST_IP, 9999, C, 53);
    insert(ns, 'sctp', '10.1.0.5', 1005, HOST_IP, 9999, C, 54);

    const all = conntrackL(ns);
    expect(all).toHaveLength(7);
    expect(keys(await ns.conntrack.list())).toEqual(keys(all));
    const udpToC = all.filter((e) => e.protocol === 'udp' && e.reply.src === C);
    expect(keys(await ns.conntrack.list({ protocol: 'udp', replySrc: C }))).toEqual(keys(udpToC));
    const [one] = await ns.conntrack.list({ protocol: 'udp', replySrc: C, replySrcPort: 54 });
    expect(one).toMatchObject({ protocol: 'udp', original: { src: '10.1.0.5', srcPort: 1001, dstPort: 9999 }, reply: { src: C, srcPort: 54 } });
    expect(one!.id).toBeTypeOf('number');
    expect(one!.timeout).toBeGreaterThan(60);

    // UDP flows answered by C:53: two of them, in one sendmsg.
    expect(await ns.conntrack.delete({ protocol: 'udp', replySrc: C, replySrcPort: 53 })).toBe(2);
    let left = conntrackL(ns);
    expect(keys(left)).toEqual(keys(all.filter((e) => !(e.protocol === 'udp' && e.reply.src === C && e.reply.srcPort === 53))));
    // By original destination port: the udp flows to 9999 that remain (C:54 and OTHER:53).
    expect(await ns.conntrack.delete({ protocol: 'udp', origDstPort: 9999 })).toBe(2);
    left = conntrackL(ns);
    expect(left.map((e) => e.protocol).sort()).toEqual(['sctp', 'sctp', 'tcp']);
    // sctp by reply port: only the one answered from port 53.
    expect(await ns.conntrack.delete({ protocol: 'sctp', replySrc: C, replySrcPort: 53 })).toBe(1);
    left = conntrackL(ns);
    expect(keys(left)).toEqual(keys(all.filter((e) => e.protocol === 'tcp' || (e.protocol === 'sctp' && e.reply.srcPort === 54))));
  });

  it('a filter that matches nothing deletes nothing; bad filters are typed errors and delete nothing', async () => {
    const ns = await scope.ns('cz');
    insert(ns, 'udp', '10.1.0.5', 1000, HOST_IP, 9999, C, 53);
    const before = keys(conntrackL(ns));
    expect(await ns.conntrack.delete({ protocol: 'udp', replySrc: OTHER })).toBe(0);
    expect(await ns.conntrack.delete({ protocol: 'tcp', replySrc: C })).toBe(0);
    expect(await ns.conntrack.delete({ protocol: 'udp', replySrc: C, replySrcPort: 5353 })).toBe(0);
    expect(await ns.conntrack.delete({ protocol: 'udp', origDstPort: 9998 })).toBe(0);
    // And in a namespace whose table is empty.
    const empty = await scope.ns('ce');
    expect(await empty.conntrack.delete({ protocol: 'udp' })).toBe(0);
    expect(await empty.conntrack.list()).toEqual([]);

    const bad: [unknown, ErrorConstructor][] = [
      [undefined, TypeError],
      [null, TypeError],
      ['udp', TypeError],
      [{}, TypeError], // delete needs a protocol
      [{ protocol: 'icmp' }, TypeError],
      [{ protocol: 17 }, TypeError],
      [{ family: 4, protocol: 'udp', replySrc: 'fd00::1' }, TypeError],
      [{ family: 6, protocol: 'udp', replySrc: C }, TypeError],
      [{ protocol: 'udp', replySrc: 'fd00::1%eth0' }, TypeError],
      [{ family: 5, protocol: 'udp' }, TypeError],
      [{ protocol: 'udp', replySrc: '10.0.0.300' }, TypeError],
      [{ protocol: 'udp', replySrc: 42 }, TypeError],
      [{ protocol: 'udp', replySrcPort: '53' }, TypeError],
      [{ protocol: 'udp', replySrcPort: 1.5 }, TypeError],
      [{ protocol: 'udp', replySrcPort: 0 }, RangeError],
      [{ protocol: 'udp', origDstPort: 65536 }, RangeError],
      [{ protocol: 'udp', replysrc: C }, TypeError], // a misspelt field must not widen the match
    ];
    for (const [filter, kind] of bad) {
      const e = await ns.conntrack.delete(filter as never).catch((x: unknown) => x);
      expect(e, JSON.stringify(filter)).toBeInstanceOf(kind);
    }
    await expect(ns.conntrack.list({ replySrcPort: 53 })).rejects.toBeInstanceOf(TypeError); // ports need a protocol
    expect(keys(conntrackL(ns))).toEqual(before);
  });
});

describe.skipIf(!haveConntrack)('conntrack: IPv6 entries', () => {
  it('listed and deleted by a filter of their family; the other family\'s entries are untouched', async () => {
    const ns = await scope.ns('c6');
    const C6 = 'fd00:90::2';
    insert(ns, 'udp', 'fd00::5', 1000, '2001:db8::1', 9999, C6, 53);
    insert(ns, 'udp', 'fd00::6', 1000, '2001:db8::1', 9998, C6, 53);
    insert(ns, 'udp', 'fd00::5', 1001, '2001:db8::1', 9999, 'fd00:90::3', 53);
    insert(ns, 'udp', '10.1.0.5', 1000, HOST_IP, 9999, '172.18.0.2', 53);
    const all = conntrackL(ns);
    expect(all).toHaveLength(4);
    const six = all.filter((e) => e.original.src.includes(':'));
    const listed = await ns.conntrack.list({ family: 6 });
    expect(keys(listed)).toEqual(keys(six));
    expect(listed.every((e) => e.family === 6)).toBe(true);
    // Without a family: IPv4, as before IPv6 was there.
    expect(keys(await ns.conntrack.list())).toEqual(keys(all.filter((e) => !e.original.src.includes(':'))));
    // The family follows replySrc's.
    expect(await ns.conntrack.delete({ protocol: 'udp', replySrc: C6, replySrcPort: 53 })).toBe(2);
    expect(keys(conntrackL(ns))).toEqual(keys(all.filter((e) => e.reply.src !== C6)));
    expect(await ns.conntrack.delete({ family: 6, protocol: 'udp' })).toBe(1);
    expect(conntrackL(ns).map((e) => e.original.src)).toEqual(['10.1.0.5']);
  });
});

describe('conntrack filters of an endpoint', () => {
  it('one per UDP/SCTP container port, none for TCP; a wide range by address only', () => {
    const ip = '10.97.0.2';
    expect(conntrackFilters({ ip, publish: [{ hostPort: 80, containerPort: 80 }] })).toEqual([]);
    expect(conntrackFilters({
      ip,
      publish: [
        { hostPort: 53, containerPort: 53, protocol: 'udp' },
        { hostIp: '127.0.0.1', hostPort: 5353, containerPort: 53, protocol: 'udp' }, // same container port: one filter
        { hostPort: 9, containerPort: 9, protocol: 'sctp' },
      ],
    })).toEqual([
      { protocol: 'udp', replySrc: ip, replySrcPort: 53 },
      { protocol: 'sctp', replySrc: ip, replySrcPort: 9 },
    ]);
    expect(conntrackFilters({ ip, publish: [{ hostPort: [10000, 10999], containerPort: 10000, protocol: 'udp' }] }))
      .toEqual([{ protocol: 'udp', replySrc: ip }]);
  });

  it('a dual-stack endpoint: the filters of each family its ports are published on, by that family\'s address', () => {
    const ip = '10.97.0.2';
    const ip6 = 'fd00:97::2';
    expect(conntrackFilters({
      ip,
      ip6,
      publish: [
        { hostPort: 53, containerPort: 53, protocol: 'udp' }, // both families
        { hostIp: '::', hostPort: 5353, containerPort: 5353, protocol: 'udp' }, // IPv6 only
        { hostIp: '0.0.0.0', hostPort: 9, containerPort: 9, protocol: 'sctp' }, // IPv4 only
      ],
    })).toEqual([
      { protocol: 'udp', replySrc: ip, replySrcPort: 53 },
      { protocol: 'udp', replySrc: ip6, replySrcPort: 53 },
      { protocol: 'udp', replySrc: ip6, replySrcPort: 5353 },
      { protocol: 'sctp', replySrc: ip, replySrcPort: 9 },
    ]);
    expect(conntrackFilters({ ip: '', ip6, publish: [{ hostPort: 53, containerPort: 53, protocol: 'udp' }] }))
      .toEqual([{ protocol: 'udp', replySrc: ip6, replySrcPort: 53 }]);
  });
});

/** A UDP receiver in a namespace (socat), collecting what arrives. */
class Receiver {
  text = '';

  static async start(ns: Netns, port: number, family: 4 | 6 = 4): Promise<Receiver> {
    const r = new Receiver();
    const recv = family === 6 ? `UDP6-RECV:${port}` : `UDP-RECV:${port}`;
    const p = spawn('ip', ['netns', 'exec', ns.name!, 'socat', '-u', recv, 'STDOUT'], { stdio: ['ignore', 'pipe', 'ignore'] });
    procs.push(p);
    p.stdout!.on('data', (d: Buffer) => (r.text += d.toString()));
    for (let i = 0; i < 100; i++) {
      if ((await exec(ns, ['ss', '-Huln', `sport = :${port}`])).stdout.trim()) return r;
      await new Promise((res) => setTimeout(res, 20));
    }
    throw new Error(`no UDP receiver on ${port} in ${ns.name}`);
  }

  /** Whether `msg` arrives within `ms`. */
  async got(msg: string, ms = 2000): Promise<boolean> {
    for (let t = 0; t < ms; t += 20) {
      if (this.text.split('\n').includes(msg)) return true;
      await new Promise((res) => setTimeout(res, 20));
    }
    return false;
  }
}

describe.skipIf(!haveConntrack || !haveSocat)('conntrack: detach flushes the DNAT of published UDP ports', () => {
  it('a new container publishing the port gets the next datagram of the same flow', async () => {
    const H = await scope.ns('th');
    const O = await scope.ns('to');
    joinOutside(H, O);
    ipcmd(H.name!, 'route', 'add', 'default', 'via', OUT_IP);
    const stateDir = mkdtempSync('/run/np-ct-');
    dirs.push(stateDir);
    const nets = await Networks.open({ host: H, stateDir });
    const net = await nets.create({ name: 'udp', subnet: '10.97.0.0/24' });
    const publish = [{ hostPort: 9999, containerPort: 9999, protocol: 'udp' as const }];

    // The same source port every time: one flow, one conntrack entry.
    const send = (msg: string) => exec(O, ['sh', '-c', `echo ${msg} | timeout 2 socat -u - UDP-SENDTO:${HOST_IP}:9999,sourceport=40000,reuseaddr`]);
    const flow = (l: Listed[]) => l.filter((e) => e.protocol === 'udp' && e.original.src === OUT_IP && e.original.srcPort === 40000);

    const c1 = await scope.ns('tc');
    const ep1 = await net.attach(c1, { ip: '10.97.0.2', publish });
    const rx1 = await Receiver.start(c1, 9999);
    await send('a1');
    expect(await rx1.got('a1')).toBe(true);
    await send('a2');
    expect(await rx1.got('a2')).toBe(true);
    const before = flow(conntrackL(H));
    expect(before).toHaveLength(1);
    expect(before[0]).toMatchObject({ original: { dst: HOST_IP, dstPort: 9999 }, reply: { src: ep1.ip, srcPort: 9999, dst: OUT_IP, dstPort: 40000 } });

    await net.detach(c1);
    // The entry that DNATs the flow to 10.97.0.2 is gone with the container.
    expect(flow(conntrackL(H))).toEqual([]);

    // Another container (another address) publishes the same port.
    const c2 = await scope.ns('tc');
    const ep2 = await net.attach(c2, { ip: '10.97.0.3', publish });
    const rx2 = await Receiver.start(c2, 9999);
    await send('b1');
    expect(await rx2.got('b1')).toBe(true);
    const after = flow(conntrackL(H));
    expect(after).toHaveLength(1);
    expect(after[0]!.reply).toMatchObject({ src: ep2.ip, srcPort: 9999 });
    expect(rx1.text).not.toContain('b1');
    nets.close();
  });

  it('over IPv6 too: the next container publishing the port gets the next datagram of the same IPv6 flow', async () => {
    const H = await scope.ns('th');
    const O = await scope.ns('to');
    joinOutside(H, O, { ipv6: true });
    ipcmd(H.name!, '-6', 'route', 'add', 'default', 'via', OUT_IP6);
    const stateDir = mkdtempSync('/run/np-ct-');
    dirs.push(stateDir);
    const nets = await Networks.open({ host: H, stateDir });
    const net = await nets.create({ name: 'udp6', subnet: '10.98.0.0/24', ipv6Subnet: 'fd00:98::/64' });
    const publish = [{ hostPort: 9999, containerPort: 9999, protocol: 'udp' as const }];
    const send = (msg: string) => exec(O, ['sh', '-c', `echo ${msg} | timeout 2 socat -u - UDP6-SENDTO:[${HOST_IP6}]:9999,sourceport=40000,reuseaddr`]);
    const flow = (l: Listed[]) => l.filter((e) => e.protocol === 'udp' && e.original.src === OUT_IP6 && e.original.srcPort === 40000);

    const c1 = await scope.ns('tc');
    const ep1 = await net.attach(c1, { ip6: 'fd00:98::2', publish });
    const rx1 = await Receiver.start(c1, 9999, 6);
    await send('a1');
    expect(await rx1.got('a1')).toBe(true);
    expect(flow(conntrackL(H))[0]).toMatchObject({ original: { dst: HOST_IP6, dstPort: 9999 }, reply: { src: ep1.ip6, srcPort: 9999 } });

    await net.detach(c1);
    expect(flow(conntrackL(H))).toEqual([]);

    const c2 = await scope.ns('tc');
    const ep2 = await net.attach(c2, { ip6: 'fd00:98::3', publish });
    const rx2 = await Receiver.start(c2, 9999, 6);
    await send('b1');
    expect(await rx2.got('b1')).toBe(true);
    expect(flow(conntrackL(H))[0]!.reply).toMatchObject({ src: ep2.ip6, srcPort: 9999 });
    expect(rx1.text).not.toContain('b1');
    nets.close();
  });
});
