// Every option of links.add / links.set / addresses.* / routes.* read back by iproute2
// (`ip -j -d`) as set, and netplumb's own decoding compared field by field with ip's.
import { existsSync, readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { NetlinkError, type Address, type Link, type Netns, type Route } from '../src';
import { ipj, run, Scope } from './helpers';

const scope = new Scope();
afterEach(() => scope.cleanup());

// ---- iproute2's view ------------------------------------------------------------

interface IpLink {
  ifindex: number;
  ifname: string;
  flags: string[];
  mtu: number;
  qdisc?: string;
  master?: string;
  operstate: string;
  group: string;
  txqlen?: number;
  address?: string;
  broadcast?: string;
  link?: string | null;
  link_index?: number;
  link_netnsid?: number;
  promiscuity?: number;
  min_mtu?: number;
  max_mtu?: number;
  linkinfo?: {
    info_kind?: string;
    info_data?: Record<string, unknown>;
    info_slave_kind?: string;
    info_slave_data?: Record<string, unknown>;
  };
  inet6_addr_gen_mode?: string;
  num_tx_queues?: number;
  num_rx_queues?: number;
  ifalias?: string;
}

function ipLinks(ns: Netns): IpLink[] {
  return ipj<IpLink[]>(ns.name!, 'link', 'show');
}

function ipLink(ns: Netns, name: string): IpLink {
  return ipj<IpLink[]>(ns.name!, 'link', 'show', 'dev', name)[0]!;
}

function names(ns: Netns): string[] {
  return ipLinks(ns).map((l) => l.ifname).sort();
}

const BRPORT_STATES = ['disabled', 'listening', 'learning', 'forwarding', 'blocking'];

/** netplumb's decoded link agrees with ip's JSON for it, field by field. */
function expectAgrees(ns: Netns, l: Link, all: IpLink[] = ipLinks(ns)): void {
  const byIndex = new Map(all.map((x) => [x.ifindex, x]));
  const x = byIndex.get(l.index);
  expect(x, `ip knows ifindex ${l.index} (${l.name})`).toBeDefined();
  if (!x) return;
  const got = {
    name: l.name,
    mtu: l.mtu,
    minMtu: l.minMtu,
    maxMtu: l.maxMtu,
    mac: l.mac,
    broadcast: l.broadcast,
    txqlen: l.txqlen,
    group: String(l.group ?? 0),
    up: l.up,
    lowerUp: l.lowerUp,
    operstate: l.operstate?.toUpperCase(),
    qdisc: l.qdisc,
    promiscuity: l.promiscuity,
    numTxQueues: l.numTxQueues,
    numRxQueues: l.numRxQueues,
    alias: l.alias,
    kind: l.kind,
    portKind: l.portKind,
    addrGenMode: l.addrGenMode,
    master: l.master === undefined ? undefined : byIndex.get(l.master)?.ifname,
  };
  const want = {
    name: x.ifname,
    mtu: x.mtu,
    minMtu: x.min_mtu,
    maxMtu: x.max_mtu,
    mac: x.address,
    broadcast: x.broadcast,
    txqlen: x.txqlen,
    group: x.group === 'default' ? '0' : x.group,
    up: x.flags.includes('UP'),
    lowerUp: x.flags.includes('LOWER_UP'),
    operstate: x.operstate,
    qdisc: x.qdisc,
    promiscuity: x.promiscuity,
    numTxQueues: x.num_tx_queues,
    numRxQueues: x.num_rx_queues,
    alias: x.ifalias,
    kind: x.linkinfo?.info_kind,
    portKind: x.linkinfo?.info_slave_kind,
    addrGenMode: x.inet6_addr_gen_mode,
    master: x.master,
  };
  expect(got, `link ${l.name}`).toEqual(want);
  // IFLA_LINK: ip names the parent when it lives here, else gives index + netnsid.
  if (l.linkNetnsId !== undefined) {
    expect([x.link_index, x.link_netnsid]).toEqual([l.link, l.linkNetnsId]);
  } else if (l.link !== undefined) {
    expect(x.link).toBe(byIndex.get(l.link)?.ifname ?? `if${l.link}`);
  } else {
    expect(x.link ?? x.link_index).toBeUndefined();
  }

  const data = x.linkinfo?.info_data ?? {};
  if (l.kind === 'bridge') {
    const b = l.bridge!;
    const have: Record<string, unknown> = {
      stp_state: b.stp ? 1 : 0,
      ageing_time: Math.round(b.ageingTime! * 100),
      forward_delay: Math.round(b.forwardDelay! * 100),
      priority: b.priority,
      vlan_filtering: b.vlanFiltering ? 1 : 0,
      mcast_snooping: b.multicastSnooping ? 1 : 0,
    };
    for (const [k, v] of Object.entries(have)) expect(data[k], `bridge ${l.name} ${k}`).toBe(v);
  }
  if (l.kind === 'vxlan') {
    const v = l.vxlan!;
    const dev = v.device === undefined ? undefined : byIndex.get(v.device)?.ifname;
    expect({
      id: v.vni,
      remote: v.remote,
      group: v.group,
      local: v.local,
      link: dev,
      port: v.dstport,
      port_range: v.srcPortRange ? { low: v.srcPortRange[0], high: v.srcPortRange[1] } : undefined,
      learning: v.learning,
      proxy: v.proxy,
      l2miss: v.l2miss,
      l3miss: v.l3miss,
      ttl: v.ttl,
      ageing: v.ageing,
      udp_csum: v.udpChecksum,
    }).toEqual({
      id: data.id,
      remote: data.remote,
      group: data.group,
      local: data.local,
      link: data.link,
      port: data.port,
      port_range: data.port_range,
      learning: data.learning,
      // ip prints these three only when set.
      proxy: data.proxy ?? false,
      l2miss: data.l2miss ?? false,
      l3miss: data.l3miss ?? false,
      ttl: data.ttl,
      ageing: data.ageing,
      udp_csum: data.udp_csum,
    });
  }
  if (l.kind === 'macvlan') {
    expect(l.macvlan?.mode).toBe(data.mode);
  }
  if (l.portKind === 'bridge') {
    const p = l.bridgePort!;
    const s = x.linkinfo!.info_slave_data!;
    expect({
      state: BRPORT_STATES[p.state!],
      priority: p.priority,
      cost: p.cost,
      hairpin: p.hairpin,
      learning: p.learning,
      flood: p.flood,
      isolated: p.isolated,
      proxyArp: p.proxyArp,
      proxyArpWifi: p.proxyArpWifi,
      neighSuppress: p.neighSuppress,
    }).toEqual({
      state: s.state,
      priority: s.priority,
      cost: s.cost,
      hairpin: s.hairpin,
      learning: s.learning,
      flood: s.flood,
      isolated: s.isolated,
      proxyArp: s.proxy_arp,
      proxyArpWifi: s.proxy_arp_wifi,
      neighSuppress: s.neigh_suppress,
    });
  }
}

/** links.list() and links.get() agree with `ip -j -d link show` for every link of ns. */
async function expectNamespaceAgrees(ns: Netns): Promise<void> {
  const all = ipLinks(ns);
  const listed = await ns.links.list();
  expect(listed.map((l) => l.index).sort()).toEqual(all.map((x) => x.ifindex).sort());
  for (const l of listed) {
    expectAgrees(ns, l, all);
    expectAgrees(ns, await ns.links.get(l.name), all);
  }
}

// ---- links.add ------------------------------------------------------------------

describe('links.add read back by ip -d', () => {
  it('veth: peer in another namespace, MAC/MTU/queues of both ends, master + up, port options, addrGenMode', async () => {
    const host = await scope.ns('h');
    const ctr = await scope.ns('c');
    await host.links.add({ kind: 'bridge', name: 'br0', up: true });
    const made = await host.links.add({
      kind: 'veth',
      name: 've0',
      mac: '02:00:00:00:01:01',
      mtu: 1400,
      numTxQueues: 1,
      numRxQueues: 1,
      master: 'br0',
      up: true,
      txqlen: 500,
      group: 7,
      alias: 'host end',
      addrGenMode: 'none',
      bridgePort: { hairpin: true, learning: false, flood: false, isolated: true },
      peer: {
        name: 'eth0',
        netns: ctr,
        mac: '02:00:00:00:01:02',
        mtu: 1300,
        numTxQueues: 2,
        numRxQueues: 3,
        up: true,
        txqlen: 700,
        group: 9,
        alias: 'container end',
      },
    });
    const h = ipLink(host, 've0');
    expect(h).toMatchObject({
      address: '02:00:00:00:01:01',
      mtu: 1400,
      num_tx_queues: 1,
      num_rx_queues: 1,
      master: 'br0',
      txqlen: 500,
      group: '7',
      ifalias: 'host end',
      inet6_addr_gen_mode: 'none',
      linkinfo: {
        info_kind: 'veth',
        info_slave_kind: 'bridge',
        info_slave_data: { hairpin: true, learning: false, flood: false, isolated: true },
      },
    });
    expect(h.flags).toContain('UP');
    expect(h.flags).toContain('LOWER_UP'); // the peer is up too
    const p = ipLink(ctr, 'eth0');
    expect(p).toMatchObject({
      address: '02:00:00:00:01:02',
      mtu: 1300,
      num_tx_queues: 2,
      num_rx_queues: 3,
      txqlen: 700,
      group: '9',
      ifalias: 'container end',
      link_index: h.ifindex,
      linkinfo: { info_kind: 'veth' },
    });
    expect(p.flags).toContain('UP');
    expect(names(host)).toEqual(['br0', 'lo', 've0']);
    expect(names(ctr)).toEqual(['eth0', 'lo']);
    // The link links.add returned is the link ip shows.
    expectAgrees(host, made);
    // Dumps filtered by master and by kind, as ip filters them.
    const ipNames = (...args: string[]) => ipj<IpLink[]>(host.name!, 'link', 'show', ...args).map((l) => l.ifname).sort();
    expect((await host.links.list({ master: 'br0' })).map((l) => l.name).sort()).toEqual(ipNames('master', 'br0'));
    expect((await host.links.list({ kind: 'veth' })).map((l) => l.name).sort()).toEqual(ipNames('type', 'veth'));
    expect((await host.links.list({ kind: 'bridge' })).map((l) => l.name).sort()).toEqual(ipNames('type', 'bridge'));
    await expectNamespaceAgrees(host);
    await expectNamespaceAgrees(ctr);
  });

  it('veth with both ends here; peer up without netns', async () => {
    const ns = await scope.ns('v');
    await ns.links.add({ kind: 'veth', name: 'a0', up: true, peer: { name: 'b0', up: true, mtu: 9000 } });
    expect(ipLink(ns, 'a0').flags).toEqual(expect.arrayContaining(['UP', 'LOWER_UP']));
    expect(ipLink(ns, 'b0')).toMatchObject({ mtu: 9000, link: 'a0' });
    expect(ipLink(ns, 'b0').flags).toContain('UP');
    await expectNamespaceAgrees(ns);
  });

  it('bridge: stp, ageingTime, forwardDelay, multicastSnooping, priority, mtu', async () => {
    const ns = await scope.ns('b');
    const made = await ns.links.add({
      kind: 'bridge',
      name: 'br1',
      mtu: 1450,
      bridge: { stp: true, ageingTime: 42, forwardDelay: 7.5, multicastSnooping: false, priority: 4096 },
    });
    const x = ipLink(ns, 'br1');
    expect(x.mtu).toBe(1450);
    // The link links.add returned (the kernel's echo) is the link ip shows.
    expectAgrees(ns, made);
    expect(x.linkinfo?.info_data).toMatchObject({
      stp_state: 1,
      ageing_time: 4200,
      forward_delay: 750,
      mcast_snooping: 0,
      priority: 4096,
    });
    await ns.links.add({ kind: 'bridge', name: 'br2', bridge: { stp: false, multicastSnooping: true } });
    expect(ipLink(ns, 'br2').linkinfo?.info_data).toMatchObject({ stp_state: 0, mcast_snooping: 1 });
    // links.set changes bridge options of an existing bridge.
    await ns.links.set('br2', { bridge: { ageingTime: 10, priority: 1 } });
    expect(ipLink(ns, 'br2').linkinfo?.info_data).toMatchObject({ ageing_time: 1000, priority: 1 });
    await expectNamespaceAgrees(ns);
  });

  it('bridge vlanFiltering: the kernel lacks it here; EOPNOTSUPP as NetlinkError, nothing left behind', async () => {
    const ns = await scope.ns('bv');
    const err = await ns.links.add({ kind: 'bridge', name: 'brv', bridge: { vlanFiltering: true } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NetlinkError);
    expect((err as NetlinkError).code).toBe('EOPNOTSUPP');
    expect((err as NetlinkError).op).toBe('RTM_NEWLINK');
    expect(names(ns)).toEqual(['lo']);
  });

  it('vxlan: vni, local, remote, dstport, srcPortRange, ttl, learning, proxy, l2miss, l3miss, udpChecksum, ageing', async () => {
    const ns = await scope.ns('x');
    await ns.links.add({
      kind: 'vxlan',
      name: 'vx0',
      vxlan: {
        vni: 4242,
        local: '192.168.77.1',
        remote: '192.168.77.2',
        dstport: 4789,
        srcPortRange: [5000, 6000],
        ttl: 9,
        learning: false,
        proxy: true,
        l2miss: true,
        l3miss: true,
        udpChecksum: true,
        ageing: 120,
      },
    });
    expect(ipLink(ns, 'vx0').linkinfo?.info_data).toMatchObject({
      id: 4242,
      local: '192.168.77.1',
      remote: '192.168.77.2',
      port: 4789,
      port_range: { low: 5000, high: 6000 },
      ttl: 9,
      learning: false,
      proxy: true,
      l2miss: true,
      l3miss: true,
      udp_csum: true,
      ageing: 120,
    });
    // The opposite booleans, and a multicast group on an underlay device.
    await ns.links.add({ kind: 'veth', name: 'u0', peer: { name: 'u1' } });
    await ns.links.add({
      kind: 'vxlan',
      name: 'vx1',
      vxlan: { vni: 7, group: '239.1.1.1', device: 'u0', dstport: 8472, learning: true, proxy: false, l2miss: false, l3miss: false, udpChecksum: false },
    });
    const d1 = ipLink(ns, 'vx1').linkinfo!.info_data!;
    expect(d1).toMatchObject({ id: 7, group: '239.1.1.1', link: 'u0', port: 8472, learning: true, udp_csum: false });
    // ip prints proxy, l2miss and l3miss only when they are on.
    expect([d1.proxy, d1.l2miss, d1.l3miss]).toEqual([undefined, undefined, undefined]);
    await expectNamespaceAgrees(ns);
  });

  it('macvlan on a veth end, in every mode', async () => {
    const ns = await scope.ns('m');
    await ns.links.add({ kind: 'veth', name: 'p0', peer: { name: 'p1' } });
    await ns.links.add({ kind: 'veth', name: 'q0', peer: { name: 'q1' } });
    for (const mode of ['bridge', 'private', 'vepa', 'source'] as const) {
      await ns.links.add({ kind: 'macvlan', name: `mv${mode}`, parent: 'p0', macvlan: { mode } });
      const x = ipLink(ns, `mv${mode}`);
      expect(x.link).toBe('p0');
      expect(x.linkinfo).toMatchObject({ info_kind: 'macvlan', info_data: { mode } });
    }
    // passthru takes the parent for itself: alone on its parent.
    await ns.links.add({ kind: 'macvlan', name: 'mvpass', parent: 'q0', macvlan: { mode: 'passthru' } });
    expect(ipLink(ns, 'mvpass').linkinfo).toMatchObject({ info_kind: 'macvlan', info_data: { mode: 'passthru' } });
    await expectNamespaceAgrees(ns);
  });

  it("kind 'other': raw infoData takes effect; an unknown kind fails with EOPNOTSUPP and extack", async () => {
    const ns = await scope.ns('o');
    // IFLA_BR_STP_STATE (5) = 1, encoded by hand: nla_len 8, nla_type 5, u32 1.
    const stp = Buffer.alloc(8);
    stp.writeUInt16LE(8, 0);
    stp.writeUInt16LE(5, 2);
    stp.writeUInt32LE(1, 4);
    await ns.links.add({ kind: 'other', type: 'bridge', name: 'ob0', infoData: stp });
    expect(ipLink(ns, 'ob0').linkinfo).toMatchObject({ info_kind: 'bridge', info_data: { stp_state: 1 } });

    const err = await ns.links.add({ kind: 'other', type: 'nosuchkind', name: 'ox0' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NetlinkError);
    expect((err as NetlinkError).code).toBe('EOPNOTSUPP');
    expect((err as NetlinkError).extack).toMatch(/unknown device type/i);
    expect(names(ns)).toEqual(['lo', 'ob0']);
  });
});

describe('links.add into another namespace', () => {
  it('a link created elsewhere gets its alias, addrGenMode and up there; its peer stays here', async () => {
    const host = await scope.ns('eh');
    const ctr = await scope.ns('ec');
    await host.links.add({
      kind: 'veth',
      name: 'eth1',
      netns: ctr,
      alias: 'made elsewhere',
      addrGenMode: 'none',
      up: true,
      peer: { name: 'vh1', up: true, alias: 'host side' },
    });
    expect(ipLink(ctr, 'eth1')).toMatchObject({ ifalias: 'made elsewhere', inet6_addr_gen_mode: 'none' });
    expect(ipLink(ctr, 'eth1').flags).toEqual(expect.arrayContaining(['UP', 'LOWER_UP']));
    expect(ipLink(host, 'vh1')).toMatchObject({ ifalias: 'host side' });
    expect(ipLink(host, 'vh1').flags).toContain('UP');
    // No autoconf ran: no link-local address on the link that asked for none.
    expect(ipj<{ addr_info: unknown[] }[]>(ctr.name!, 'addr', 'show', 'dev', 'eth1')[0]!.addr_info).toEqual([]);
    await expectNamespaceAgrees(host);
    await expectNamespaceAgrees(ctr);
  });
});

// ---- links.set / links.delete ----------------------------------------------------

describe('links.set read back by ip -d', () => {
  it('up/down, mtu, mac, rename, alias, txqlen, group, addrGenMode', async () => {
    const ns = await scope.ns('s');
    await ns.links.add({ kind: 'veth', name: 's0', peer: { name: 's1', up: true } });
    await ns.links.set('s0', { up: true });
    expect(ipLink(ns, 's0').flags).toContain('UP');
    await ns.links.set('s0', { mtu: 1280, mac: '02:aa:bb:cc:dd:ee', alias: 'changed', txqlen: 42, group: 3 });
    expect(ipLink(ns, 's0')).toMatchObject({ mtu: 1280, address: '02:aa:bb:cc:dd:ee', ifalias: 'changed', txqlen: 42, group: '3' });
    await ns.links.set('s0', { alias: '' });
    expect(ipLink(ns, 's0').ifalias).toBeUndefined();
    await ns.links.set('s0', { addrGenMode: 'none' });
    expect(ipLink(ns, 's0').inet6_addr_gen_mode).toBe('none');
    await ns.links.set('s0', { addrGenMode: 'random' });
    expect(ipLink(ns, 's0').inet6_addr_gen_mode).toBe('random');
    const index = ipLink(ns, 's0').ifindex;
    await ns.links.set('s0', { name: 'renamed0', up: false });
    const x = ipLink(ns, 'renamed0');
    expect(x.ifindex).toBe(index);
    expect(x.flags).not.toContain('UP');
    expect(names(ns)).toEqual(['lo', 'renamed0', 's1']);
    // By index too.
    await ns.links.set(index, { mtu: 1300, up: true });
    expect(ipLink(ns, 'renamed0').mtu).toBe(1300);
    expect(ipLink(ns, 'renamed0').flags).toContain('UP');
    await expectNamespaceAgrees(ns);
  });

  it('master, bridge-port options, nomaster', async () => {
    const ns = await scope.ns('sm');
    await ns.links.add({ kind: 'bridge', name: 'br0' });
    await ns.links.add({ kind: 'veth', name: 'p0', peer: { name: 'p1' } });
    await ns.links.set('p0', { master: 'br0' });
    expect(ipLink(ns, 'p0').master).toBe('br0');
    await ns.links.set('p0', { bridgePort: { hairpin: true, learning: false, flood: false, isolated: true, cost: 77, priority: 5 } });
    expect(ipLink(ns, 'p0').linkinfo?.info_slave_data).toMatchObject({
      hairpin: true, learning: false, flood: false, isolated: true, cost: 77, priority: 5,
    });
    await expectNamespaceAgrees(ns);
    await ns.links.set('p0', { bridgePort: { hairpin: false, learning: true, flood: true, isolated: false } });
    expect(ipLink(ns, 'p0').linkinfo?.info_slave_data).toMatchObject({ hairpin: false, learning: true, flood: true, isolated: false });
    // The proxy ARP / neighbour suppression flags, each on and off again.
    for (const flag of ['proxyArp', 'proxyArpWifi', 'neighSuppress'] as const) {
      await ns.links.set('p0', { bridgePort: { [flag]: true } });
      expect(ipLink(ns, 'p0').linkinfo?.info_slave_data, flag).toMatchObject({
        proxy_arp: flag === 'proxyArp', proxy_arp_wifi: flag === 'proxyArpWifi', neigh_suppress: flag === 'neighSuppress',
      });
      expect((await ns.links.get('p0')).bridgePort?.[flag]).toBe(true);
      await expectNamespaceAgrees(ns);
      await ns.links.set('p0', { bridgePort: { [flag]: false } });
    }
    await expect(ns.links.set('p0', { bridgePort: { proxyArpWifi: 1 as never } })).rejects.toBeInstanceOf(TypeError);
    await ns.links.set('p0', { master: null });
    expect(ipLink(ns, 'p0').master).toBeUndefined();
    expect(ipLink(ns, 'p0').linkinfo?.info_slave_kind).toBeUndefined();
    await expectNamespaceAgrees(ns);
  });

  it('moves a link into another namespace', async () => {
    const a = await scope.ns('ma');
    const b = await scope.ns('mb');
    await a.links.add({ kind: 'veth', name: 'mv0', peer: { name: 'mv1' } });
    await a.links.set('mv1', { netns: b });
    expect(names(a)).toEqual(['lo', 'mv0']);
    expect(names(b)).toEqual(['lo', 'mv1']);
    expect(ipLink(b, 'mv1').link_index).toBe(ipLink(a, 'mv0').ifindex);
    // Move and rename in one change.
    await b.links.set('mv1', { netns: a, name: 'back1' });
    expect(names(a)).toEqual(['back1', 'lo', 'mv0']);
    expect(names(b)).toEqual(['lo']);
    await expectNamespaceAgrees(a);
  });
});

describe('links.delete', () => {
  it('by name, by index and by group', async () => {
    const ns = await scope.ns('d');
    await ns.links.add({ kind: 'bridge', name: 'byname' });
    await ns.links.add({ kind: 'bridge', name: 'byindex' });
    await ns.links.add({ kind: 'bridge', name: 'g1', group: 42 });
    await ns.links.add({ kind: 'veth', name: 'g2', group: 42, peer: { name: 'g3', group: 42 } });
    await ns.links.add({ kind: 'bridge', name: 'other', group: 43 });
    await ns.links.delete('byname');
    expect(names(ns)).toEqual(['byindex', 'g1', 'g2', 'g3', 'lo', 'other']);
    await ns.links.delete(ipLink(ns, 'byindex').ifindex);
    expect(names(ns)).toEqual(['g1', 'g2', 'g3', 'lo', 'other']);
    await ns.links.delete({ group: 42 });
    expect(names(ns)).toEqual(['lo', 'other']);
    const err = await ns.links.delete('byname').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NetlinkError);
    expect((err as NetlinkError).code).toBe('ENODEV');
  });
});

// ---- what a quiesce and a bulk reap are made of -----------------------------------

describe('group, bridge-port state and flush, group delete: read back by ip -d and bridge', () => {
  /** The port's STP state as `bridge -j link` shows it. */
  const bridgeState = (ns: Netns, dev: string): string =>
    (JSON.parse(run('bridge', ['-n', ns.name!, '-j', 'link', 'show', 'dev', dev])) as { state: string }[])[0]!.state;
  const fdbOn = (ns: Netns, dev: string): string[] =>
    (JSON.parse(run('bridge', ['-n', ns.name!, '-j', 'fdb', 'show', 'dev', dev])) as { mac: string; flags?: string[]; state?: string }[])
      .filter((f) => f.state !== 'permanent')
      .map((f) => f.mac);

  async function bridged(prefix: string): Promise<Netns> {
    const ns = await scope.ns(prefix);
    await ns.links.add({ kind: 'bridge', name: 'br0', up: true });
    for (const p of ['p0', 'p1']) await ns.links.add({ kind: 'veth', name: p, master: 'br0', up: true, peer: { name: `${p}x`, up: true } });
    return ns;
  }

  it('states by name stay as set; disabled survives its own request but not a later RTM_NEWLINK', async () => {
    const ns = await bridged('ps');
    await ns.links.set('p0', { group: 77 });
    expect(ipLink(ns, 'p0').group).toBe('77');
    for (const state of ['listening', 'learning', 'forwarding', 'disabled'] as const) {
      await ns.links.set('p0', { bridgePort: { state } });
      expect(bridgeState(ns, 'p0'), state).toBe(state);
      expect(ipLink(ns, 'p0').linkinfo?.info_slave_data?.state, state).toBe(state);
    }
    await new Promise((r) => setTimeout(r, 200));
    expect(bridgeState(ns, 'p0')).toBe('disabled');
    // With STP off the kernel turns blocking into forwarding at once.
    await ns.links.set('p0', { bridgePort: { state: 'blocking' } });
    expect(bridgeState(ns, 'p0')).toBe('forwarding');
    // A group change and disabled in one links.set: the RTM_NEWLINK first, so it sticks.
    await ns.links.set('p0', { group: 78, bridgePort: { state: 'disabled' } });
    expect(bridgeState(ns, 'p0')).toBe('disabled');
    expect(ipLink(ns, 'p0').group).toBe('78');
    // Any later RTM_NEWLINK that changes the port re-enables it (NETDEV_CHANGE, the
    // bridge's carrier check): what a caller has to order around.
    await ns.links.set('p0', { alias: 'reaped' });
    expect(bridgeState(ns, 'p0')).toBe('forwarding');
    // By index too, and the other port untouched all along.
    await ns.links.set(ipLink(ns, 'p0').ifindex, { bridgePort: { state: 0 } });
    expect(bridgeState(ns, 'p0')).toBe('disabled');
    expect(bridgeState(ns, 'p1')).toBe('forwarding');
  });

  it('listening with flush: one RTM_NEWLINK stops the port and forgets what it learned', async () => {
    const ns = await bridged('pf');
    run('bridge', ['-n', ns.name!, 'fdb', 'add', '02:42:0a:00:00:09', 'dev', 'p1', 'master', 'dynamic']);
    run('bridge', ['-n', ns.name!, 'fdb', 'add', '02:42:0a:00:00:0a', 'dev', 'p0', 'master', 'dynamic']);
    expect(fdbOn(ns, 'p1')).toContain('02:42:0a:00:00:09');
    const sends = ns.socketStats().sends;
    await ns.links.set('p1', { group: 5, bridgePort: { state: 'listening', flush: true } });
    expect(ns.socketStats().sends - sends).toBe(1);
    expect(bridgeState(ns, 'p1')).toBe('listening');
    expect(fdbOn(ns, 'p1')).not.toContain('02:42:0a:00:00:09');
    expect(fdbOn(ns, 'p0')).toContain('02:42:0a:00:00:0a');
    expect(ipLink(ns, 'p1').group).toBe('5');
  });

  it('a state on a port that is down is ENETDOWN; bad states are TypeError/RangeError before sending', async () => {
    const ns = await bridged('pd');
    await ns.links.set('p0', { up: false });
    const e = (await ns.links.set('p0', { bridgePort: { state: 'forwarding' } }).catch((x: unknown) => x)) as NetlinkError;
    expect(e).toBeInstanceOf(NetlinkError);
    expect(e.code).toBe('ENETDOWN');
    expect(e.op).toBe('RTM_NEWLINK');
    const e2 = (await ns.links.set('p0', { bridgePort: { state: 'disabled' } }).catch((x: unknown) => x)) as NetlinkError;
    expect(e2.code).toBe('ENETDOWN');
    expect(e2.op).toBe('RTM_SETLINK');
    const sends = ns.socketStats().sends;
    await expect(ns.links.set('p1', { bridgePort: { state: 'off' as never } })).rejects.toThrow(/bridgePort\.state must be one of disabled, listening/);
    await expect(ns.links.set('p1', { bridgePort: { state: 5 } })).rejects.toBeInstanceOf(RangeError);
    await expect(ns.links.set('p1', { bridgePort: { flush: 1 as never } })).rejects.toThrow(/bridgePort\.flush must be a boolean/);
    expect(ns.socketStats().sends).toBe(sends);
  });

  it('in a batch: group moves, a disabled port and a group delete, in one sendmsg', async () => {
    const ns = await bridged('pb');
    await ns.links.add({ kind: 'veth', name: 'p2', master: 'br0', up: true, peer: { name: 'p2x', up: true } });
    const sends = ns.socketStats().sends;
    const p0 = ipLink(ns, 'p0').ifindex;
    await ns.batch()
      .links.set(p0, { group: 66, bridgePort: { state: 'disabled' } })
      .links.set('p1', { group: 66, bridgePort: { state: 'listening', flush: true } })
      .commit();
    // p0 by index; p1 by name needs no lookup (no disabled state, so no RTM_SETLINK).
    expect(ns.socketStats().sends - sends).toBe(1);
    expect([bridgeState(ns, 'p0'), bridgeState(ns, 'p1'), bridgeState(ns, 'p2')]).toEqual(['disabled', 'listening', 'forwarding']);
    expect(ipLinks(ns).filter((l) => l.group === '66').map((l) => l.ifname).sort()).toEqual(['p0', 'p1']);
    const before = ns.socketStats().sends;
    await ns.batch().links.delete({ group: 66 }).links.set('p2', { group: 67 }).commit();
    expect(ns.socketStats().sends - before).toBe(1);
    // The veth peers go with their host ends.
    expect(names(ns)).toEqual(['br0', 'lo', 'p2', 'p2x']);
    expect(ipLink(ns, 'p2').group).toBe('67');
  });
});

// ---- addresses ---------------------------------------------------------------------

interface IpAddrInfo {
  family: 'inet' | 'inet6';
  local: string;
  address?: string;
  prefixlen: number;
  broadcast?: string;
  scope: string;
  label?: string;
  metric?: number;
  valid_life_time: number;
  preferred_life_time: number;
  [flag: string]: unknown;
}

const FOREVER = 4294967295;
const IFA_FLAG_NAMES: [string, number][] = [
  ['secondary', 0x01], ['nodad', 0x02], ['optimistic', 0x04], ['dadfailed', 0x08], ['home', 0x10],
  ['deprecated', 0x20], ['tentative', 0x40], ['mngtmpaddr', 0x100], ['noprefixroute', 0x200], ['autojoin', 0x400],
];
const SCOPE_NAMES: Record<string, string> = { universe: 'global', site: 'site', link: 'link', host: 'host', nowhere: 'nowhere' };

/** `ip [-4|-6] addr show ARGS...`, one entry per address. */
function ipAddrs(ns: Netns, ...args: string[]): (IpAddrInfo & { ifindex: number })[] {
  const fam = args[0] === '-4' || args[0] === '-6' ? [args.shift()!] : [];
  return ipj<{ ifindex: number; addr_info: IpAddrInfo[] }[]>(ns.name!, ...fam, 'addr', 'show', ...args).flatMap((l) =>
    l.addr_info.map((a) => ({ ...a, ifindex: l.ifindex })),
  );
}

/** The same addresses, in the same terms: netplumb's list against ip's. */
function expectAddressesAgree(mine: Address[], theirs: (IpAddrInfo & { ifindex: number })[]): void {
  const key = (index: number, local: string, len: number) => `${index} ${local}/${len}`;
  expect(mine.map((a) => key(a.index, a.address, a.prefixlen)).sort()).toEqual(
    theirs.map((a) => key(a.ifindex, a.local, a.prefixlen)).sort(),
  );
  for (const a of mine) {
    const x = theirs.find((t) => key(t.ifindex, t.local, t.prefixlen) === key(a.index, a.address, a.prefixlen))!;
    const flags = Object.fromEntries(IFA_FLAG_NAMES.map(([n, bit]) => [n, (a.flags & bit) !== 0]));
    expect({
      family: a.family === 4 ? 'inet' : 'inet6',
      peer: a.peer,
      broadcast: a.broadcast,
      label: a.label,
      scope: typeof a.scope === 'string' ? SCOPE_NAMES[a.scope] : String(a.scope),
      metric: a.metric,
      dynamic: (a.flags & 0x80) === 0, // not IFA_F_PERMANENT
      ...flags,
    }, `${a.cidr}`).toEqual({
      family: x.family,
      peer: x.address,
      broadcast: x.broadcast,
      label: x.label,
      scope: x.scope,
      metric: x.metric,
      dynamic: x.dynamic === true,
      ...Object.fromEntries(IFA_FLAG_NAMES.map(([n]) => [n, x[n] === true])),
    });
    // Lifetimes count down; the two reads are a moment apart.
    for (const [mineL, theirsL] of [[a.validLifetime, x.valid_life_time], [a.preferredLifetime, x.preferred_life_time]] as const) {
      if (mineL === undefined) expect(theirsL).toBe(FOREVER);
      else expect(Math.abs(mineL - theirsL)).toBeLessThanOrEqual(1);
    }
  }
}

async function addrNamespace(prefix: string): Promise<Netns> {
  const ns = await scope.ns(prefix);
  await ns.links.add({ kind: 'veth', name: 'a0', up: true, peer: { name: 'a1', up: true } });
  return ns;
}

describe('addresses read back by ip addr', () => {
  it('IPv4: prefix, broadcast (explicit and true), label, scope, lifetimes, metric, peer', async () => {
    const ns = await addrNamespace('a4');
    await ns.addresses.add('a0', '10.9.0.1/24', { broadcast: '10.9.0.200', metric: 55 });
    await ns.addresses.add('a0', '10.9.1.1/24', { broadcast: true, label: 'a0:one', scope: 'link', validLifetime: 300, preferredLifetime: 200 });
    await ns.addresses.add('a0', '10.9.2.1/32', { peer: '10.9.2.2' });
    await ns.addresses.add('a0', '10.9.3.1/16', { scope: 'host', noprefixroute: true });
    const x = ipAddrs(ns, 'dev', 'a0').filter((a) => a.family === 'inet');
    const at = (local: string) => x.find((a) => a.local === local)!;
    expect(at('10.9.0.1')).toMatchObject({ prefixlen: 24, broadcast: '10.9.0.200', metric: 55, scope: 'global', label: 'a0' });
    expect(at('10.9.1.1')).toMatchObject({ prefixlen: 24, broadcast: '10.9.1.255', label: 'a0:one', scope: 'link', dynamic: true });
    expect(at('10.9.1.1').valid_life_time).toBeGreaterThan(295);
    expect(at('10.9.1.1').valid_life_time).toBeLessThanOrEqual(300);
    expect(at('10.9.1.1').preferred_life_time).toBeGreaterThan(195);
    expect(at('10.9.1.1').preferred_life_time).toBeLessThanOrEqual(200);
    expect(at('10.9.2.1')).toMatchObject({ prefixlen: 32, address: '10.9.2.2' });
    expect(at('10.9.3.1')).toMatchObject({ prefixlen: 16, scope: 'host', noprefixroute: true });
    // The metric went on the prefix route; noprefixroute made none.
    const routes = ipj<{ dst: string; metric?: number }[]>(ns.name!, 'route', 'show', 'dev', 'a0');
    expect(routes.find((r) => r.dst === '10.9.0.0/24')?.metric).toBe(55);
    expect(routes.find((r) => r.dst === '10.9.0.0/16')).toBeUndefined();
    expectAddressesAgree(await ns.addresses.list({ dev: 'a0', family: 4 }), x);
  });

  it('IPv6: prefix, nodad, noprefixroute, lifetimes, metric', async () => {
    const ns = await addrNamespace('a6');
    await ns.links.set('a1', { addrGenMode: 'none' });
    await ns.addresses.add('a0', 'fd00:9::1/64', { nodad: true, metric: 300 });
    await ns.addresses.add('a0', 'fd00:9:1::1/48', { nodad: true, noprefixroute: true, validLifetime: 600, preferredLifetime: 0 });
    await ns.addresses.add('a1', 'fd00:9::2/64');
    const x = ipAddrs(ns, '-6', 'dev', 'a0');
    const at = (local: string) => x.find((a) => a.local === local)!;
    expect(at('fd00:9::1')).toMatchObject({ prefixlen: 64, nodad: true, metric: 300, scope: 'global' });
    expect(at('fd00:9::1').tentative).toBeUndefined();
    expect(at('fd00:9:1::1')).toMatchObject({ prefixlen: 48, nodad: true, noprefixroute: true, deprecated: true, preferred_life_time: 0 });
    expect(at('fd00:9:1::1').valid_life_time).toBeGreaterThan(595);
    // Without nodad, DAD runs: tentative at first.
    expect(ipAddrs(ns, '-6', 'dev', 'a1').find((a) => a.local === 'fd00:9::2')).toMatchObject({ prefixlen: 64, tentative: true });
    const r6 = ipj<{ dst: string; metric?: number }[]>(ns.name!, '-6', 'route', 'show', 'dev', 'a0');
    expect(r6.find((r) => r.dst === 'fd00:9::/64')?.metric).toBe(300);
    expect(r6.find((r) => r.dst === 'fd00:9::/48')).toBeUndefined();
    expectAddressesAgree(await ns.addresses.list({ dev: 'a0', family: 6 }), x);
    expectAddressesAgree(await ns.addresses.list({ family: 6 }), ipAddrs(ns, '-6'));
  });

  it('replace updates in place; delete removes; list filters by dev and family as ip does', async () => {
    const ns = await addrNamespace('ar');
    await ns.addresses.add('a0', '10.8.0.1/24', { validLifetime: 100, preferredLifetime: 100 });
    const dup = await ns.addresses.add('a0', '10.8.0.1/24').catch((e: unknown) => e);
    expect((dup as NetlinkError).code).toBe('EEXIST');
    await ns.addresses.replace('a0', '10.8.0.1/24', { metric: 9 });
    const after = ipAddrs(ns, '-4', 'dev', 'a0');
    expect(after).toHaveLength(1);
    expect(after[0]).toMatchObject({ local: '10.8.0.1', metric: 9, valid_life_time: FOREVER });
    // replace also creates.
    await ns.addresses.replace('a1', '10.8.0.2/24');
    await ns.addresses.add('a1', 'fd00:8::2/64', { nodad: true });
    expectAddressesAgree(await ns.addresses.list(), ipAddrs(ns));
    expectAddressesAgree(await ns.addresses.list({ dev: 'a1' }), ipAddrs(ns, 'dev', 'a1'));
    expectAddressesAgree(await ns.addresses.list({ family: 4 }), ipAddrs(ns, '-4'));
    expectAddressesAgree(await ns.addresses.list({ dev: 'a1', family: 6 }), ipAddrs(ns, '-6', 'dev', 'a1'));
    await ns.addresses.delete('a0', '10.8.0.1/24');
    await ns.addresses.delete('a1', 'fd00:8::2/64');
    expect(ipAddrs(ns, '-4', 'dev', 'a0')).toEqual([]);
    expect(ipAddrs(ns, '-6', 'dev', 'a1').map((a) => a.local)).not.toContain('fd00:8::2');
    const gone = await ns.addresses.delete('a0', '10.8.0.1/24').catch((e: unknown) => e);
    expect(gone).toBeInstanceOf(NetlinkError);
    expect((gone as NetlinkError).code).toBe('EADDRNOTAVAIL');
    expectAddressesAgree(await ns.addresses.list(), ipAddrs(ns));
  });
});

// ---- routes ------------------------------------------------------------------------

interface IpRoute {
  type?: string;
  dst: string;
  gateway?: string;
  dev?: string;
  table?: string;
  protocol?: string;
  scope?: string;
  prefsrc?: string;
  metric?: number;
  flags: string[];
  metrics?: { mtu?: number }[];
}

/** iproute2's number names (rt_protos): where the distribution keeps them, else none. */
function namesFile(file: string): Map<string, number> {
  const m = new Map<string, number>();
  const path = [`/etc/iproute2/${file}`, `/usr/share/iproute2/${file}`, `/usr/lib/iproute2/${file}`].find((f) => existsSync(f));
  for (const line of path ? readFileSync(path, 'utf8').split('\n') : []) {
    const [num, name] = line.replace(/#.*/, '').trim().split(/\s+/);
    if (num && name) m.set(name, Number(num));
  }
  return m;
}
const RT_PROTOS = namesFile('rt_protos');
const RT_TABLES = new Map([['main', 254], ['local', 255], ['default', 253]]);
const numberOf = (names: Map<string, number>, v: string | undefined) => (v === undefined ? undefined : names.get(v) ?? Number(v));

/** `ip [-4|-6] route show ARGS...` */
function ipRoutes(ns: Netns, ...args: string[]): IpRoute[] {
  const fam = args[0] === '-4' || args[0] === '-6' ? [args.shift()!] : [];
  return ipj<IpRoute[]>(ns.name!, ...fam, 'route', 'show', ...args);
}

/** A route in comparable terms; ip's dst '10.0.0.1' is netplumb's '10.0.0.1/32'. */
function normIp(r: IpRoute, defaults: { table: number; dev?: string; protocol?: string }): Record<string, unknown> {
  const dst = r.dst === 'default' || r.dst.includes('/') ? r.dst : `${r.dst}/${r.dst.includes(':') ? 128 : 32}`;
  return {
    type: r.type,
    dst,
    gateway: r.gateway,
    dev: r.dev ?? defaults.dev,
    table: r.table === undefined ? defaults.table : numberOf(RT_TABLES, r.table),
    protocol: numberOf(RT_PROTOS, r.protocol ?? defaults.protocol),
    scope: r.scope === 'global' ? 'universe' : r.scope,
    prefsrc: r.prefsrc,
    metric: r.metric,
    onlink: r.flags.includes('onlink'),
    mtu: r.metrics?.find((m) => m.mtu !== undefined)?.mtu,
  };
}

async function normMine(ns: Netns, r: Route): Promise<Record<string, unknown>> {
  const protocol = typeof r.protocol === 'number' ? r.protocol : numberOf(RT_PROTOS, r.protocol);
  return {
    type: r.type,
    dst: r.dst,
    gateway: r.gateway,
    dev: r.oif === undefined ? undefined : (await ns.links.get(r.oif)).name,
    table: r.table,
    protocol,
    scope: r.scope,
    prefsrc: r.prefsrc,
    metric: r.metric,
    onlink: r.onlink,
    mtu: r.mtu,
  };
}

const byJson = (a: unknown, b: unknown) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1);

/** The same routes: netplumb's list against ip's (which leaves out the table and dev it was filtered by). */
async function expectRoutesAgree(ns: Netns, mine: Route[], theirs: IpRoute[], filtered: { table?: number; dev?: string; protocol?: string } = {}): Promise<void> {
  expect(theirs.length).toBeGreaterThan(0);
  const m = (await Promise.all(mine.map((r) => normMine(ns, r)))).sort(byJson);
  const t = theirs.map((r) => normIp(r, { ...filtered, table: filtered.table ?? 254 })).sort(byJson);
  expect(m).toEqual(t);
}

async function routeNamespace(prefix: string): Promise<Netns> {
  const ns = await scope.ns(prefix);
  await ns.links.add({ kind: 'veth', name: 'r0', up: true, addrGenMode: 'none', peer: { name: 'r1', up: true } });
  await ns.addresses.add('r0', '10.10.0.1/24');
  await ns.addresses.add('r0', 'fd00:10::1/64', { nodad: true });
  return ns;
}

describe('routes read back by ip route', () => {
  it('IPv4: default, prefix, gateway, dev, prefsrc, metric, table, protocol, scope, types, onlink, mtu', async () => {
    const ns = await routeNamespace('r4');
    await ns.routes.add({ dst: 'default', gateway: '10.10.0.2' });
    await ns.routes.add({ dst: '10.20.0.0/16', gateway: '10.10.0.2', dev: 'r0', prefsrc: '10.10.0.1', metric: 7, table: 100, protocol: 'static', mtu: 1400 });
    await ns.routes.add({ dst: '10.21.0.0/16', dev: 'r0', table: 1000, scope: 'link', protocol: 99 });
    await ns.routes.add({ dst: '10.30.0.0/16', type: 'blackhole' });
    await ns.routes.add({ dst: '10.31.0.0/16', type: 'unreachable', table: 1000 });
    await ns.routes.add({ dst: '10.32.0.1', type: 'local', dev: 'r0', table: 100 });
    await ns.routes.add({ dst: '10.33.0.0/16', gateway: '10.99.0.1', dev: 'r0', onlink: true });
    const main = ipRoutes(ns);
    const at = (rs: IpRoute[], dst: string) => rs.find((r) => r.dst === dst);
    expect(at(main, 'default')).toMatchObject({ type: 'unicast', gateway: '10.10.0.2', dev: 'r0', protocol: 'boot', scope: 'global' });
    expect(at(main, '10.30.0.0/16')).toMatchObject({ type: 'blackhole', protocol: 'boot' });
    expect(at(main, '10.33.0.0/16')).toMatchObject({ gateway: '10.99.0.1', dev: 'r0', flags: ['onlink'] });
    const t100 = ipRoutes(ns, 'table', '100');
    expect(at(t100, '10.20.0.0/16')).toMatchObject({
      type: 'unicast', gateway: '10.10.0.2', dev: 'r0', prefsrc: '10.10.0.1', metric: 7, protocol: 'static', metrics: [{ mtu: 1400 }],
    });
    expect(at(t100, '10.32.0.1')).toMatchObject({ type: 'local', dev: 'r0', scope: 'host' });
    const t1000 = ipRoutes(ns, 'table', '1000');
    expect(at(t1000, '10.21.0.0/16')).toMatchObject({ type: 'unicast', dev: 'r0', scope: 'link' });
    expect(numberOf(RT_PROTOS, at(t1000, '10.21.0.0/16')?.protocol)).toBe(99); // 'openr' where rt_protos names it
    expect(at(t1000, '10.31.0.0/16')).toMatchObject({ type: 'unreachable' });

    await expectRoutesAgree(ns, await ns.routes.list({ family: 4 }), ipRoutes(ns, '-4'));
    await expectRoutesAgree(ns, await ns.routes.list({ table: 100 }), ipRoutes(ns, 'table', '100'), { table: 100 });
    await expectRoutesAgree(ns, await ns.routes.list({ table: 1000 }), ipRoutes(ns, 'table', '1000'), { table: 1000 });
    await expectRoutesAgree(ns, await ns.routes.list({ table: 'all', family: 4 }), ipRoutes(ns, '-4', 'table', 'all'));
    await expectRoutesAgree(ns, await ns.routes.list({ family: 4, dev: 'r0' }), ipRoutes(ns, '-4', 'dev', 'r0'), { dev: 'r0' });
    await expectRoutesAgree(ns, await ns.routes.list({ family: 4, protocol: 'boot' }), ipRoutes(ns, '-4', 'proto', 'boot'), { protocol: 'boot' });
    await expectRoutesAgree(ns, await ns.routes.list({ family: 4, type: 'blackhole' }), ipRoutes(ns, '-4', 'type', 'blackhole'));
    await expectRoutesAgree(
      ns, await ns.routes.list({ family: 4, table: 'all', type: 'local' }), ipRoutes(ns, '-4', 'table', 'all', 'type', 'local'),
    );
  });

  it('IPv6: default, prefix, gateway, metric, table, types, mtu', async () => {
    const ns = await routeNamespace('r6');
    await ns.routes.add({ dst: 'default6', gateway: 'fd00:10::2' });
    await ns.routes.add({ dst: 'fd00:20::/64', gateway: 'fd00:10::2', dev: 'r0', metric: 3, table: 100, protocol: 'static', mtu: 1300 });
    await ns.routes.add({ dst: 'fd00:30::/48', type: 'blackhole' });
    await ns.routes.add({ dst: 'fd00:31::/48', type: 'unreachable', table: 1000 });
    await ns.routes.add({ dst: 'fd00:32::1', type: 'local', dev: 'r0', table: 100 });
    await ns.routes.add({ dst: 'fd00:33::/64', dev: 'r0', prefsrc: 'fd00:10::1' });
    const main = ipRoutes(ns, '-6');
    const at = (rs: IpRoute[], dst: string) => rs.find((r) => r.dst === dst);
    expect(at(main, 'default')).toMatchObject({ gateway: 'fd00:10::2', dev: 'r0', protocol: 'boot' });
    expect(at(main, 'fd00:30::/48')).toMatchObject({ type: 'blackhole' });
    expect(at(main, 'fd00:33::/64')).toMatchObject({ dev: 'r0', prefsrc: 'fd00:10::1' });
    const t100 = ipRoutes(ns, '-6', 'table', '100');
    expect(at(t100, 'fd00:20::/64')).toMatchObject({ gateway: 'fd00:10::2', metric: 3, protocol: 'static', metrics: [{ mtu: 1300 }] });
    expect(at(t100, 'fd00:32::1')).toMatchObject({ type: 'local', dev: 'r0' });
    expect(at(ipRoutes(ns, '-6', 'table', '1000'), 'fd00:31::/48')).toMatchObject({ type: 'unreachable' });
    await expectRoutesAgree(ns, await ns.routes.list({ family: 6 }), main);
    await expectRoutesAgree(ns, await ns.routes.list({ family: 6, table: 'all' }), ipRoutes(ns, '-6', 'table', 'all'));
    await expectRoutesAgree(ns, await ns.routes.list({ family: 6, table: 100 }), ipRoutes(ns, '-6', 'table', '100'), { table: 100 });
  });

  it('replace, append, delete', async () => {
    const ns = await routeNamespace('rr');
    await ns.routes.add({ dst: '10.40.0.0/16', gateway: '10.10.0.2', metric: 5 });
    const dup = await ns.routes.add({ dst: '10.40.0.0/16', gateway: '10.10.0.3', metric: 5 }).catch((e: unknown) => e);
    expect((dup as NetlinkError).code).toBe('EEXIST');
    await ns.routes.replace({ dst: '10.40.0.0/16', gateway: '10.10.0.3', metric: 5 });
    expect(ipRoutes(ns, '10.40.0.0/16')).toMatchObject([{ gateway: '10.10.0.3', metric: 5 }]);
    // IPv6 append adds a second next hop to the same route (multipath).
    await ns.routes.add({ dst: 'fd00:40::/64', gateway: 'fd00:10::2' });
    await ns.routes.append({ dst: 'fd00:40::/64', gateway: 'fd00:10::3' });
    const mp = ipj<{ dst: string; nexthops?: { gateway: string }[] }[]>(ns.name!, '-6', 'route', 'show', 'fd00:40::/64');
    expect(mp[0]!.nexthops?.map((n) => n.gateway).sort()).toEqual(['fd00:10::2', 'fd00:10::3']);
    // IPv4 append adds a second route with the same prefix and metric (NLM_F_APPEND), listed after the first.
    await ns.routes.append({ dst: '10.40.0.0/16', gateway: '10.10.0.4', metric: 5 });
    expect(ipRoutes(ns, '10.40.0.0/16').map((r) => r.gateway)).toEqual(['10.10.0.3', '10.10.0.4']);
    await ns.routes.delete({ dst: '10.40.0.0/16', gateway: '10.10.0.4' });
    expect(ipRoutes(ns, '10.40.0.0/16').map((r) => r.gateway)).toEqual(['10.10.0.3']);
    await ns.routes.delete({ dst: '10.40.0.0/16' });
    await ns.routes.delete({ dst: 'fd00:40::/64' });
    expect(ipRoutes(ns, '10.40.0.0/16')).toEqual([]);
    expect(ipRoutes(ns, '-6', 'fd00:40::/64')).toEqual([]);
    const gone = await ns.routes.delete({ dst: '10.40.0.0/16' }).catch((e: unknown) => e);
    expect(gone).toBeInstanceOf(NetlinkError);
    expect((gone as NetlinkError).code).toBe('ESRCH');
  });

  it('routes.get answers as ip route get does', async () => {
    const ns = await routeNamespace('rg');
    await ns.addresses.add('r0', '10.10.5.1/24');
    await ns.routes.add({ dst: 'default', gateway: '10.10.0.2' });
    await ns.routes.add({ dst: '10.50.0.0/16', gateway: '10.10.0.9', prefsrc: '10.10.5.1' });
    await ns.routes.add({ dst: 'fd00:50::/64', gateway: 'fd00:10::9' });
    for (const dst of ['10.50.1.1', '10.10.0.77', '8.8.8.8', 'fd00:50::1', 'fd00:10::5']) {
      const mine = await ns.routes.get(dst);
      const [x] = ipj<{ dst: string; gateway?: string; dev: string; prefsrc?: string }[]>(ns.name!, 'route', 'get', dst);
      expect({
        dst: mine.dst.replace(/\/(32|128)$/, ''),
        gateway: mine.gateway,
        dev: (await ns.links.get(mine.oif!)).name,
        prefsrc: mine.prefsrc,
      }, dst).toEqual({ dst: x!.dst, gateway: x!.gateway, dev: x!.dev, prefsrc: x!.prefsrc });
    }
    // With a source address and an output device.
    const viaSrc = await ns.routes.get('10.60.0.1', { src: '10.10.5.1', dev: 'r0' });
    const [y] = ipj<{ gateway?: string; dev: string; prefsrc?: string }[]>(ns.name!, 'route', 'get', '10.60.0.1', 'from', '10.10.5.1', 'oif', 'r0');
    expect([viaSrc.gateway, viaSrc.prefsrc]).toEqual([y!.gateway, y!.prefsrc]);
    const none = await ns.routes.get('fd00:99::1').catch((e: unknown) => e);
    expect(none).toBeInstanceOf(NetlinkError);
    expect((none as NetlinkError).code).toBe('ENETUNREACH');
  });
});
