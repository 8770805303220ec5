// The hosts files a runtime bind-mounts on a container's /etc/hosts, checked as a running
// container sees them: a shell kept alive in the container's namespace and a private
// mount namespace with the file bind-mounted (unshare -m inside ip netns exec), asked
// with glibc's getent after peers join and after a network is left. Two bugs of the
// earlier writer: (1) a rewrite by rename gave the file a new inode, and the bind mount
// kept showing the old one forever; (2) after a detach from its second network, a
// container's own file kept that network's names.
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Network, Networks, type Netns } from '../src';
import { ContainerShell } from './dns-helpers';
import { Scope } from './helpers';

const scope = new Scope();
const dirs: string[] = [];
let nets: Networks;
let A: Network, B: Network;
let files: string;

afterAll(async () => {
  await nets?.close();
  await scope.cleanup();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

beforeAll(async () => {
  const H = await scope.ns('hh');
  const stateDir = mkdtempSync('/run/np-hosts-state-');
  files = mkdtempSync('/run/np-hosts-files-');
  dirs.push(stateDir, files);
  nets = await Networks.open({ host: H, stateDir });
  A = await nets.create({ name: 'front', subnet: '10.84.0.0/24' });
  B = await nets.create({ name: 'back', subnet: '10.85.0.0/24' });
});

const ino = (f: string): number => statSync(f).ino;
const lookup = async (sh: ContainerShell, name: string): Promise<string | null> => {
  const r = await sh.run(`getent ahostsv4 ${name}`);
  return r.status === 0 ? r.out.split(/\s+/)[0]! : null;
};

describe('hosts files seen from a running container (bind-mounted on /etc/hosts)', () => {
  it('bug 1: rewrites keep the inode, so a running container sees peers join and leave', async () => {
    const c: Netns = await scope.ns('hc');
    const file = path.join(files, 'c1', 'hosts');
    const ep = await A.attach(c, { name: 'c1', hostsFile: file, hostsFileScope: 'members' });
    await nets.flushHosts();
    const before = ino(file);
    const sh = await ContainerShell.start(c, { hosts: file });
    try {
      expect(await lookup(sh, 'c1')).toBe(ep.ip);
      expect(await lookup(sh, 'peer')).toBeNull();
      const p = await scope.ns('hp');
      const peer = await A.attach(p, { name: 'peer', aliases: ['cache'] });
      await nets.flushHosts();
      expect(ino(file)).toBe(before);
      expect(await lookup(sh, 'peer')).toBe(peer.ip);
      expect(await lookup(sh, 'cache')).toBe(peer.ip);
      // A shorter file after the peer leaves: no tail of the longer one is left behind.
      await A.detach(p);
      await nets.flushHosts();
      expect(ino(file)).toBe(before);
      expect(await lookup(sh, 'peer')).toBeNull();
      expect(await lookup(sh, 'cache')).toBeNull();
      expect(readFileSync(file, 'utf8')).toBe(nets.hostsFor(c, { scope: 'members' }));
      // The default scope: the container's own names, which follow its own networks.
      const d = await scope.ns('hd');
      const own = path.join(files, 'd', 'hosts');
      const dA = await A.attach(d, { name: 'd', hostsFile: own });
      await nets.flushHosts();
      const sh2 = await ContainerShell.start(d, { hosts: own });
      try {
        expect(readFileSync(own, 'utf8')).not.toContain('c1');
        expect((await sh2.run('getent ahostsv4 d')).out).toContain(dA.ip);
        const dB = await B.attach(d, { name: 'd', ifname: 'eth1', aliases: ['d-back'] });
        await nets.flushHosts();
        expect(await lookup(sh2, 'd-back')).toBe(dB.ip);
        expect((await sh2.run('getent ahostsv4 d')).out).toContain(dB.ip);
      } finally {
        await sh2.stop();
      }
    } finally {
      await sh.stop();
    }
  });

  it('bug 2: after a detach from its second network, a container\u2019s own file loses that network\u2019s names', async () => {
    const c = await scope.ns('hc');
    const q = await scope.ns('hq');
    const file = path.join(files, 'c2', 'hosts');
    // The file is kept by the endpoint on A; the endpoint on B has none of its own: the
    // case the earlier writer missed (it rewrote only files of B's remaining members).
    await A.attach(c, { name: 'c2', hostsFile: file, hostsFileScope: 'members' });
    await B.attach(c, { name: 'c2', ifname: 'eth1' });
    // Written before q comes: q's attach alone must have c's file rewritten (a member of B
    // whose file is kept by its endpoint on A).
    await nets.flushHosts();
    const qep = await B.attach(q, { name: 'q' });
    await nets.flushHosts();
    const sh = await ContainerShell.start(c, { hosts: file });
    try {
      expect(await lookup(sh, 'q')).toBe(qep.ip);
      await B.detach(c);
      await nets.flushHosts();
      expect(nets.hostsFor(c, { scope: 'members' })).not.toContain('\tq');
      expect(await lookup(sh, 'q')).toBeNull();
      expect(readFileSync(file, 'utf8')).not.toContain('\tq');
      // Left for good: the file goes with its last endpoint.
      await A.detach(c);
      await nets.flushHosts();
      expect(() => statSync(file)).toThrow(/ENOENT/);
    } finally {
      await sh.stop();
    }
  });
});
