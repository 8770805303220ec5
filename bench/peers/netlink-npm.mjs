// The `netlink` npm package (0.3.x), where it can: it has no way into a namespace, so
// only the host side of the attach is measured (one RTM_NEWLINK: the veth pair with
// its peer placed in the container's namespace by IFLA_NET_NS_FD, master and up).
// The namespaces themselves are made and removed untimed with `ip`; nothing inside
// them (address, lo, eth0 up, route) is done. Reported as partial.
import { closeSync, openSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { run, now, wallNow } from '../lib/util.mjs';

const require = createRequire(import.meta.url);
let nl;
let sock;
let rtStructs;

// The package's attribute streams, flattened into one Buffer.
function bytes(data) {
  const s = new nl.AttrStream();
  s.emit(data);
  return Buffer.concat(s.bufs);
}

function vethInfo(peerNsFd) {
  const peer = new nl.AttrStream();
  rtStructs.formatLinkMessage({ kind: 'link', data: {}, attrs: { ifname: 'eth0', netNsFd: peerNsFd } }, peer);
  const data = bytes(nl.ifla.formatVethInfo({ peer: Buffer.concat(peer.bufs) }));
  return bytes(nl.ifla.formatInfo({ kind: 'veth', data }));
}

function makeNamespaces(ctx) {
  run('ip', ['-batch', '-'], { input: ctx.containers.map((c) => `netns add ${c.ns}\n`).join('') });
}

function removeNamespaces() {
  run('ip', ['-all', 'netns', 'delete']);
}

export default {
  id: 'netlink-npm',
  label: 'netlink npm (host side only)',
  scope: 'host',
  partial: 'host side only: 1 of the 7 steps (veth + master + up); no namespace support',
  bulkMethod: 'every RTM_DELLINK in flight at once (Promise.all), namespaces removed untimed',
  async prepare() {
    try {
      nl = require('netlink');
      rtStructs = require(path.join(path.dirname(require.resolve('netlink')), 'rt', 'structs.js'));
      const version = require(path.join(path.dirname(require.resolve('netlink')), '..', 'package.json')).version;
      if (!/^0\.3\./.test(version)) return `netlink ${version} found, the bench is written for 0.3.x`;
      sock = nl.createRtNetlink();
      return undefined;
    } catch (e) {
      return `the netlink npm package is not usable here (not installed? add netlink@0.3 to devDependencies): ${e.message.split('\n')[0]}`;
    }
  },
  async attach(ctx) {
    makeNamespaces(ctx);
    const flags = nl.FlagsNew.CREATE | nl.FlagsNew.EXCL;
    const times = [];
    for (const c of ctx.containers) {
      const t0 = now();
      const fd = openSync(path.join(ctx.netnsDir, c.ns), 'r');
      try {
        await sock.newLink(
          { flags: { up: true }, change: { up: true } },
          { ifname: c.veth, master: ctx.bridgeIndex, linkinfo: vethInfo(fd) },
          { flags },
        );
      } finally {
        closeSync(fd);
      }
      times.push(now() - t0);
    }
    return times;
  },
  async teardown(ctx) {
    const times = [];
    for (const c of ctx.containers) {
      const t0 = now();
      await sock.delLink({}, { ifname: c.veth });
      times.push(now() - t0);
    }
    removeNamespaces();
    return times;
  },
  async bulkTeardown(ctx) {
    const startedAt = wallNow();
    const t0 = now();
    await Promise.all(ctx.containers.map((c) => sock.delLink({}, { ifname: c.veth })));
    const ms = now() - t0;
    removeNamespaces();
    // Every veth was gone when the last ack came; what follows is untimed.
    return { startedAt, ms, settled: true };
  },
  async finish() {
    sock?.socket?.close?.();
    sock = undefined;
  },
};
