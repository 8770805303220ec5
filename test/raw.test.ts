// The batch machinery under Netns#rawRequest: several messages in one sendmsg, every
// reply and ack matched to its step, the kernel's extended-ack text kept.
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { codec, NetlinkError } from '../src';
import { ipj, Scope, tryRun } from './helpers';
import { messages, strace, zeroSeqPid } from './strace';

const scope = new Scope();
afterEach(() => scope.cleanup());

const RTM_NEWLINK = 16;
const NLM_F_ACK = 0x4;
const root = path.join(__dirname, '..');

/** get lo, get a link that does not exist, and a dump carrying ifi_index (refused under strict checking). */
function threeMessages(): Buffer {
  return Buffer.concat([codec.encodeLinkGet('lo'), codec.encodeLinkGet('nosuch0'), codec.encodeLinkDump({ index: 1 })]);
}

describe('Netns#rawRequest', () => {
  it('sends three messages in one sendmsg and matches every answer to its step', async () => {
    const ns = await scope.ns('raw');
    const before = ns.socketStats().sends;
    const steps = await ns.rawRequest(threeMessages());
    expect(ns.socketStats().sends).toBe(before + 1);
    expect(steps).toHaveLength(3);

    // Step 0: one RTM_NEWLINK for lo, as iproute2 sees lo in that namespace.
    expect(steps[0]!.error).toBeUndefined();
    expect(steps[0]!.replies).toHaveLength(1);
    expect(steps[0]!.replies[0]!.readUInt16LE(4)).toBe(RTM_NEWLINK);
    const [lo] = codec.decodeLinks(steps[0]!.replies[0]!);
    const ipLo = ipj<{ ifindex: number; ifname: string }[]>(ns.name!, 'link', 'show', 'dev', 'lo')[0]!;
    expect(lo).toMatchObject({ name: 'lo', index: ipLo.ifindex });

    // Step 1: ENODEV, as iproute2 is told for the same link.
    const e1 = steps[1]!.error!;
    expect(e1).toBeInstanceOf(NetlinkError);
    expect(e1).toMatchObject({ code: 'ENODEV', errno: 19, op: 'RTM_GETLINK', step: 1 });
    expect(steps[1]!.replies).toEqual([]);
    expect(tryRun('ip', ['-n', ns.name!, 'link', 'show', 'dev', 'nosuch0']).stderr).toMatch(/does not exist/);

    // Step 2: EINVAL with the kernel's extended-ack text.
    const e2 = steps[2]!.error!;
    expect(e2).toBeInstanceOf(NetlinkError);
    expect(e2).toMatchObject({ code: 'EINVAL', op: 'RTM_GETLINK', step: 2 });
    expect(e2.extack).toMatch(/device index not supported for link dumps/);
    expect(e2.message).toContain(e2.extack);
    expect(steps[2]!.replies).toEqual([]);

    // The socket is in step with the kernel afterwards.
    expect((await ns.links.get('lo')).index).toBe(ipLo.ifindex);
  });

  it('strace sees exactly one sendmsg carrying the three messages, numbered in order', () => {
    // A separate process, so strace sees only this exchange (the addon, without the facade).
    const script = `
      const b = require('node-gyp-build')(${JSON.stringify(root)});
      b.rtnlRaw(b.nsCurrent(), Buffer.from(process.argv[1], 'hex')).then((steps) => {
        console.log(JSON.stringify(steps.map((s) => ({ replies: s.replies.length, errno: s.error && s.error.errno }))));
      });`;
    const sent = threeMessages();
    const { calls, stdout } = strace([process.execPath, '-e', script, sent.toString('hex')], ['sendmsg'], 'write');
    expect(JSON.parse(stdout)).toEqual([{ replies: 1 }, { replies: 0, errno: 19 }, { replies: 0, errno: 22 }]);
    const netlink = calls.filter((c) => c.line.includes('AF_NETLINK'));
    expect(netlink).toHaveLength(1);
    const wire = netlink[0]!.data;
    const msgs = messages(wire);
    expect(msgs).toHaveLength(3);
    expect(msgs[1]!.seq).toBe(msgs[0]!.seq + 1);
    expect(msgs[2]!.seq).toBe(msgs[0]!.seq + 2);
    // Byte for byte what was passed in, but numbered and with NLM_F_ACK on each.
    const expected = Buffer.from(sent);
    for (const m of messages(expected)) expected.writeUInt16LE(m.flags | NLM_F_ACK, m.off + 6);
    expect(zeroSeqPid(wire).toString('hex')).toBe(expected.toString('hex'));
  });

  it('rejects a buffer that is not a well-formed message sequence with TypeError, sending nothing', async () => {
    const ns = await scope.ns('rawbad');
    const good = codec.encodeLinkGet('lo');
    const withLen = (len: number): Buffer => {
      const b = Buffer.from(good);
      b.writeUInt32LE(len, 0);
      return b;
    };
    const withType = (type: number): Buffer => {
      const b = Buffer.from(good);
      b.writeUInt16LE(type, 4);
      return b;
    };
    const noRequest = Buffer.from(good);
    noRequest.writeUInt16LE(0, 6);
    const bad: [Buffer, RegExp][] = [
      [Buffer.alloc(0), /no netlink message/],
      [Buffer.alloc(10), /too short for a netlink header/],
      [Buffer.concat([good, Buffer.alloc(8)]), /message 1 .*too short/],
      [withLen(1000), /nlmsg_len 1000 does not fit/],
      [withLen(8), /nlmsg_len 8/],
      [withType(3), /control message/],
      [noRequest, /NLM_F_REQUEST/],
      [Buffer.concat([good, withLen(4096)]), /message 1 \(offset 48\)/],
    ];
    const before = ns.socketStats().sends;
    for (const [buf, msg] of bad) {
      const err = await ns.rawRequest(buf).catch((e: unknown) => e);
      expect(err, msg.source).toBeInstanceOf(TypeError);
      expect((err as Error).message).toMatch(msg);
    }
    // @ts-expect-error wrong type on purpose
    await expect(ns.rawRequest('00')).rejects.toBeInstanceOf(TypeError);
    expect(ns.socketStats().sends).toBe(before);
  });

  it('a closed handle fails with EBADF', async () => {
    const ns = await scope.ns('rawcl');
    ns.close();
    const err = await ns.rawRequest(codec.encodeLinkGet('lo')).catch((e: unknown) => e);
    expect((err as NetlinkError).code).toBe('EBADF');
  });
});
