// Ownership: netplumb changes only what it owns. With someone else's nftables table
// (made by nft -f), iptables-nft's tables, a policy-routing rule and route table, and
// a link whose alias looks like ours, every netplumb operation — nftables transactions
// on its own table, and Networks create/attach/publish/detach/gc/remove — leaves them
// byte-identical as nft, iptables-nft-save and ip print them.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Netns, Networks, nft } from '../src';
import { run, Scope } from './helpers';

const scope = new Scope();
let host: Netns;
let c1: Netns;
let c2: Netns;
let stateDir: string;

const FOREIGN_RULESET = `
table inet other {
  comment "someone else's"
  set blocked { type ipv4_addr; flags interval; elements = { 10.99.0.0/16, 192.0.2.7 } }
  map ports { type inet_service : verdict; elements = { 22 : accept, 23 : drop } }
  chain input {
    type filter hook input priority filter - 10; policy accept;
    ip saddr @blocked drop
    tcp dport vmap @ports
  }
  chain their_forward {
    type filter hook forward priority filter; policy accept;
    ct state invalid drop
  }
  chain their_post {
    type nat hook postrouting priority srcnat + 5; policy accept;
    oifname "ext0" masquerade
  }
}
table ip netplumbx {
  chain c {
    type filter hook output priority 0; policy accept;
    meta mark 0x42 accept
  }
}
`;

const FOREIGN_CMDS = [
  ['iptables-nft', '-A', 'INPUT', '-s', '10.0.0.0/8', '-p', 'tcp', '--dport', '22', '-j', 'ACCEPT'],
  ['iptables-nft', '-A', 'FORWARD', '-m', 'conntrack', '--ctstate', 'RELATED,ESTABLISHED', '-j', 'ACCEPT'],
  ['iptables-nft', '-N', 'DOCKER-USER'],
  ['iptables-nft', '-A', 'DOCKER-USER', '-j', 'RETURN'],
  ['iptables-nft', '-I', 'FORWARD', '-j', 'DOCKER-USER'],
  ['iptables-nft', '-t', 'nat', '-A', 'POSTROUTING', '-s', '172.30.0.0/16', '!', '-o', 'ext0', '-j', 'MASQUERADE'],
  ['iptables-nft', '-t', 'nat', '-A', 'PREROUTING', '-p', 'tcp', '--dport', '8080', '-j', 'DNAT', '--to-destination', '172.30.0.2:80'],
  ['ip6tables-nft', '-A', 'INPUT', '-s', 'fd00::/8', '-j', 'DROP'],
  ['ip', 'link', 'add', 'ext0', 'type', 'veth', 'peer', 'name', 'ext1'],
  ['ip', 'link', 'set', 'ext0', 'alias', 'netplumbx:not-ours'],
  ['ip', 'link', 'set', 'ext1', 'alias', 'netplumb'],
  ['ip', 'addr', 'add', '192.0.2.1/24', 'dev', 'ext0'],
  ['ip', 'link', 'set', 'ext0', 'up'],
  ['ip', 'link', 'set', 'ext1', 'up'],
  ['ip', 'rule', 'add', 'from', '10.200.0.0/16', 'table', '200', 'pref', '1000'],
  ['ip', 'route', 'add', '10.201.0.0/16', 'via', '192.0.2.254', 'dev', 'ext0', 'table', '200'],
  ['ip', 'route', 'add', 'blackhole', '10.202.0.0/16', 'table', '200'],
  ['ip', 'route', 'add', '10.203.0.0/16', 'via', '192.0.2.254', 'dev', 'ext0'],
];

function inHost(cmd: string[], input?: string): string {
  return run('ip', ['netns', 'exec', host.name!, ...cmd], input);
}

/** Everything that is not netplumb's, as its own tools print it. */
function foreign(): string {
  const tables = ['inet other', 'ip netplumbx', 'ip filter', 'ip nat', 'ip6 filter'];
  return [
    ...tables.map((t) => inHost(['nft', '-a', 'list', 'table', ...t.split(' ')])),
    // iptables-nft-save prints a timestamp in its comment lines.
    ...['iptables-nft-save', 'ip6tables-nft-save'].map((c) => inHost([c]).split('\n').filter((l) => !l.startsWith('#')).join('\n')),
    inHost(['ip', 'rule', 'show']),
    inHost(['ip', 'route', 'show', 'table', '200']),
    inHost(['ip', 'route', 'show', 'exact', '10.203.0.0/16']),
    inHost(['ip', '-d', 'link', 'show', 'ext0']),
    inHost(['ip', '-d', 'link', 'show', 'ext1']),
    inHost(['ip', '-4', 'addr', 'show', 'dev', 'ext0']),
  ].join('\n----\n');
}

function ours(): string {
  return inHost(['nft', 'list', 'table', 'inet', 'netplumb']);
}

let before = '';

beforeAll(async () => {
  host = await scope.ns('oh');
  c1 = await scope.ns('oc');
  c2 = await scope.ns('oc');
  inHost(['nft', '-f', '-'], FOREIGN_RULESET);
  for (const cmd of FOREIGN_CMDS) inHost(cmd);
  stateDir = mkdtempSync(path.join(tmpdir(), 'np-owner-'));
  before = foreign();
  expect(before).toContain('DOCKER-USER');
  expect(before).toContain('192.0.2.7');
});

afterAll(async () => {
  await scope.cleanup();
  if (stateDir) rmSync(stateDir, { recursive: true, force: true });
});

describe('ownership: what is not netplumb\'s stays byte-identical', () => {
  it('nftables transactions on a table of its own: create, fill, change, delete', async () => {
    const t = { family: 'inet' as const, table: 'mine' };
    let tx = host.nft.transaction();
    tx.addTable({ family: 'inet', name: 'mine', comment: 'netplumb test' });
    tx.addSet({ ...t, name: 's', key: 'ipv4_addr', flags: ['interval'] });
    tx.addSet({ ...t, name: 'm', key: 'inet_service', map: 'verdict' });
    tx.addChain({ ...t, name: 'in', type: 'filter', hook: 'input', priority: 'filter', policy: 'accept' });
    tx.addRule({ ...t, chain: 'in', rule: [nft.ip.saddr.in('s'), nft.counter(), nft.drop()] });
    tx.addElements({ ...t, set: 's', elements: [{ key: '10.98.0.0/16' }] });
    const { handles } = await tx.commit();
    expect(inHost(['nft', 'list', 'table', 'inet', 'mine'])).toContain('10.98.0.0/16');
    expect(foreign()).toBe(before);

    tx = host.nft.transaction();
    tx.addElements({ ...t, set: 's', elements: [{ key: '10.97.0.0/16' }] });
    tx.deleteElements({ ...t, set: 's', elements: [{ key: '10.98.0.0/16' }] });
    tx.replaceRule({ ...t, chain: 'in', handle: handles[4]!, rule: [nft.ip.saddr.in('s'), nft.accept()] });
    await tx.commit();
    expect(foreign()).toBe(before);

    // A failing transaction (a table that is not there) changes nothing anywhere.
    tx = host.nft.transaction();
    tx.addElements({ ...t, set: 's', elements: [{ key: '10.96.0.0/16' }] });
    tx.deleteChain({ family: 'inet', table: 'nosuch', name: 'x' });
    await expect(tx.commit()).rejects.toMatchObject({ code: 'ENOENT' });
    expect(inHost(['nft', 'list', 'table', 'inet', 'mine'])).not.toContain('10.96.0.0/16');
    expect(foreign()).toBe(before);

    tx = host.nft.transaction();
    tx.destroyTable({ family: 'inet', name: 'mine' });
    await tx.commit();
    expect(inHost(['nft', 'list', 'tables'])).not.toContain('mine');
    expect(foreign()).toBe(before);
  });

  it('Networks: open, create, attach with published ports, detach, gc, remove', async () => {
    const nets = await Networks.open({ stateDir, host });
    try {
      expect(foreign()).toBe(before);
      const n1 = await nets.create({ name: 'n1', subnet: '10.88.0.0/16', mtu: 1500 });
      const n2 = await nets.create({ name: 'n2', subnet: '10.89.0.0/24', internal: true, mtu: 1500 });
      expect(foreign()).toBe(before);

      const ep = await n1.attach(c1, {
        name: 'web',
        publish: [
          { hostPort: 8080, containerPort: 80 },
          { hostIp: '127.0.0.1', hostPort: 8081, containerPort: 81, protocol: 'udp' },
          { hostPort: [9000, 9002], containerPort: 9000 },
        ],
      });
      expect(ours()).toContain(ep.ip);
      expect(ours()).toContain('8080');
      expect(foreign()).toBe(before);

      await n1.attach(c2, { name: 'db' });
      await n2.attach(c2, { ifname: 'eth1' });
      expect(foreign()).toBe(before);

      await n1.detach(c1);
      expect(ours()).not.toContain('8080');
      expect(foreign()).toBe(before);

      // gc collects an orphan carrying our tag, and nothing else (ext0/ext1 look alike).
      inHost(['ip', 'link', 'add', 'orphan0', 'type', 'veth', 'peer', 'name', 'orphan1']);
      inHost(['ip', 'link', 'set', 'orphan0', 'alias', 'netplumb:ep:0123456789ab']);
      const collected = await nets.gc();
      expect(collected.links).toEqual(['orphan0']);
      expect(foreign()).toBe(before);

      await n1.detach(c2);
      await n2.detach(c2);
      await nets.remove('n1');
      await nets.remove('n2');
      expect(nets.list()).toEqual([]);
      expect(foreign()).toBe(before);
    } finally {
      nets.close();
    }
    // Reopening reconciles with the kernel and still touches nothing foreign.
    const again = await Networks.open({ stateDir, host });
    again.close();
    expect(foreign()).toBe(before);
  });
});
