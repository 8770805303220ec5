// Name resolution by DNS (docs/dns.md), checked with real resolvers from inside container
// namespaces: dig (A, AAAA, PTR, forwarding, refusals) and glibc's getent through the
// resolv.conf and hosts file the library writes, bind-mounted as a runtime mounts them.
// Topology as in network.test.ts: a host namespace H (bridges, the resolver), an outside
// namespace O (the fake upstream), containers as namespaces. The resolver runs in H: the
// standalone `netplumb dns` through ip netns exec, the in-process Resolver in a child
// node process started there; the test process (in the sandbox's own namespace) is the
// "other process" that changes the state.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EndpointInfo, type Network, Networks, Netns, Resolver } from '../src';
import { ContainerShell, dig, DigLoop, digUntil, Proc, ROOT } from './dns-helpers';
import { ip as ipcmd, Scope, tryRun } from './helpers';
import { exec, HOST_IP, joinOutside, OUT_IP } from './traffic';

const haveDig = tryRun('dig', ['-v']).status === 0;
const scope = new Scope();
const dirs: string[] = [];
const procs: Proc[] = [];
const CLI = path.join(ROOT, 'dist', 'cli.js');
const UPSTREAM = path.join(ROOT, 'test', 'fixtures', 'fake-upstream.mjs');

afterAll(async () => {
  for (const p of procs) await p.stop('SIGKILL');
  await scope.cleanup();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function tmpDir(prefix: string): string {
  const d = mkdtempSync(`/run/${prefix}-`);
  dirs.push(d);
  return d;
}

function start(ns: Netns, cmd: string[]): Proc {
  const p = new Proc(ns, cmd);
  procs.push(p);
  return p;
}

/** `netplumb dns` in H, with the fake upstreams of O (the silent one first: failover). */
async function standalone(H: Netns, stateDir: string): Promise<Proc> {
  const p = start(H, [process.execPath, CLI, 'dns', '--state-dir', stateDir, '--upstream', `${OUT_IP}:5353`, '--upstream', OUT_IP, '--timeout', '400']);
  await p.waitFor(/ready/);
  return p;
}

describe.skipIf(!haveDig)('dns: the resolver on each network gateway', () => {
  let H: Netns, O: Netns;
  let nets: Networks;
  let stateDir: string;
  let A: Network, B: Network;
  let files: string;
  const c: Record<string, { ns: Netns; ep: EndpointInfo }> = {};
  let cli: Proc;

  const attach = async (net: Network, key: string, opts: Parameters<Network['attach']>[1] = {}): Promise<void> => {
    const ns = c[key]?.ns ?? (await scope.ns('nd'));
    c[key] = { ns, ep: await net.attach(ns, opts) };
  };

  beforeAll(async () => {
    H = await scope.ns('dh');
    O = await scope.ns('do');
    joinOutside(H, O);
    ipcmd(H.name!, 'route', 'add', 'default', 'via', OUT_IP);
    await start(O, [process.execPath, UPSTREAM, OUT_IP, '53']).waitFor(/ready/);
    await start(O, [process.execPath, UPSTREAM, OUT_IP, '5353', 'silent']).waitFor(/ready/);
    stateDir = tmpDir('np-dns-state');
    files = tmpDir('np-dns-files');
    nets = await Networks.open({ host: H, stateDir });
    A = await nets.create({ name: 'app', subnet: '10.88.0.0/24', ipv6Subnet: 'fd00:88::/64' });
    B = await nets.create({ name: 'other', subnet: '10.89.0.0/24' });
    await attach(A, 'web', { name: 'web', aliases: ['www'] });
    await attach(A, 'db', { name: 'db', hostsFile: path.join(files, 'db', 'hosts'), resolvConf: path.join(files, 'db', 'resolv.conf') });
    await attach(B, 'x', { name: 'x' });
    await attach(A, 'multi', { name: 'multi' });
    await attach(B, 'multi', { name: 'multi', ifname: 'eth1' });
    await nets.flushHosts();
    cli = await standalone(H, stateDir);
  });

  afterAll(async () => {
    await nets?.close();
  });

  it('the in-process Resolver refuses networks of another namespace, and says where to run', async () => {
    const e = await Resolver.open({ networks: nets }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(Error);
    expect((e as Error).message).toMatch(/another network namespace.*ip netns exec/);
  });

  it('A, AAAA and PTR for names and aliases, case-insensitive, name.network too, TTL 0, authoritative', async () => {
    const gw = A.info.gateway;
    const db = c.db!.ns;
    const [a, alias, upper, suffixed, aaaa, ptr, ptr6, viaV6] = await Promise.all([
      dig(db, gw, ['web', 'A']),
      dig(db, gw, ['www', 'A']),
      dig(db, gw, ['WeB.ApP', 'A']),
      dig(db, gw, ['web.app', 'A']),
      dig(db, gw, ['web', 'AAAA']),
      dig(db, gw, ['-x', c.web!.ep.ip]),
      dig(db, gw, ['-x', c.web!.ep.ip6!]),
      dig(db, A.info.ipv6Gateway!, ['db', 'A']),
    ]);
    expect(a.status).toBe('NOERROR');
    expect(a.answers).toEqual([['web.', '0', 'IN', 'A', c.web!.ep.ip]]);
    expect(a.flags).toContain('aa');
    expect(alias.answers[0]?.[4]).toBe(c.web!.ep.ip);
    // The question's case is echoed (0x20), the answer is the same.
    expect(upper.answers).toEqual([['WeB.ApP.', '0', 'IN', 'A', c.web!.ep.ip]]);
    expect(suffixed.answers[0]?.[4]).toBe(c.web!.ep.ip);
    expect(aaaa.answers).toEqual([['web.', '0', 'IN', 'AAAA', c.web!.ep.ip6]]);
    expect(ptr.answers[0]?.slice(3)).toEqual(['PTR', 'web.']);
    expect(ptr6.answers[0]?.slice(3)).toEqual(['PTR', 'web.']);
    // Over IPv6 to the v6 gateway: the source is the container's v6 address, a member too.
    expect(viaV6.answers[0]?.[4]).toBe(c.db!.ep.ip);
  });

  it('a name on two networks answers with the address on the asker\u2019s network', async () => {
    const [fromA, fromB] = await Promise.all([
      dig(c.web!.ns, A.info.gateway, ['multi']),
      dig(c.x!.ns, B.info.gateway, ['multi']),
    ]);
    const ips = nets.inspect('app').endpoints.concat(nets.inspect('other').endpoints).filter((e) => e.name === 'multi').map((e) => e.ip);
    expect(ips.length).toBe(2);
    expect(fromA.answers.map((r) => r[4])).toEqual([ips.find((i) => i.startsWith('10.88.'))]);
    expect(fromB.answers.map((r) => r[4])).toEqual([ips.find((i) => i.startsWith('10.89.'))]);
    // x is on B only: A's names are not its to see.
    const notMine = await dig(c.x!.ns, B.info.gateway, ['web']);
    expect(notMine.answers.map((r) => r[4])).not.toContain(c.web!.ep.ip);
  });

  it('members only: another network, the host and the outside get no answer at all', async () => {
    ipcmd(O.name!, 'route', 'add', '10.88.0.0/24', 'via', HOST_IP);
    const [otherNet, fromHost, fromOut] = await Promise.all([
      dig(c.x!.ns, A.info.gateway, ['web'], { timeSec: 1 }),
      // Sent from H itself: no firewall in the way (output path), only the member check.
      dig(H, A.info.gateway, ['web'], { timeSec: 1 }),
      dig(O, A.info.gateway, ['web'], { timeSec: 1 }),
    ]);
    expect([otherNet.status, fromHost.status, fromOut.status]).toEqual(['TIMEOUT', 'TIMEOUT', 'TIMEOUT']);
  });

  it('getent (glibc) through the written resolv.conf and hosts file: names by DNS, the hosts file holds its own name only', async () => {
    const resolv = readFileSync(path.join(files, 'db', 'resolv.conf'), 'utf8');
    expect(resolv).toMatch(new RegExp(`^nameserver ${A.info.gateway.replace(/\./g, '\\.')}$`, 'm'));
    expect(resolv).toMatch(/^options ndots:0/m);
    const hosts = readFileSync(path.join(files, 'db', 'hosts'), 'utf8');
    expect(hosts).toContain(`${c.db!.ep.ip}\tdb`);
    expect(hosts).toContain(`${c.db!.ep.ip6}\tdb`);
    expect(hosts).not.toContain('web');
    const sh = await ContainerShell.start(c.db!.ns, { hosts: path.join(files, 'db', 'hosts'), resolvConf: path.join(files, 'db', 'resolv.conf') });
    try {
      const [web, www, self, rev, nx] = [
        await sh.run('getent hosts web'),
        await sh.run('getent ahostsv4 www'),
        await sh.run('getent hosts db'),
        await sh.run(`getent hosts ${c.web!.ep.ip}`),
        await sh.run('getent hosts nosuchname'),
      ];
      expect(web.out.split(/\s+/)).toEqual(expect.arrayContaining([expect.stringMatching(/^(10\.88\.0\.\d+|fd00:88::\w+)$/), 'web']));
      expect(www.out).toContain(c.web!.ep.ip);
      // From the file: its own addresses (glibc asks IPv6 first).
      expect(self.out.split(/\s+/)[0]).toBe(c.db!.ep.ip6);
      expect(rev.out.trim().split(/\s+/)).toEqual([c.web!.ep.ip, 'web']);
      expect(nx.status).toBe(2);
    } finally {
      await sh.stop();
    }
  });

  it('forwards the rest upstream: answers, NXDOMAIN passed through, TCP after a truncated answer, failover and SERVFAIL', async () => {
    const db = c.db!.ns;
    const gw = A.info.gateway;
    const t = Date.now();
    const [ok, nx, tc, tcp, silent] = await Promise.all([
      dig(db, gw, ['foo.example.test']),
      dig(db, gw, ['nx.example.test']),
      // No TCP retry by dig itself: the resolver asked the upstream over TCP.
      dig(db, gw, ['+ignore', 'tc.example.test']),
      dig(db, gw, ['+tcp', 'bar.example.test']),
      dig(db, gw, ['silent.example.test'], { timeSec: 3 }),
    ]);
    // The silent upstream is asked first (400 ms), then the answering one.
    expect(ok.status).toBe('NOERROR');
    expect(ok.answers[0]?.slice(3)).toEqual(['A', '198.51.100.7']);
    expect(nx.status).toBe('NXDOMAIN');
    expect(tc.flags).not.toContain('tc');
    expect(tc.answers[0]?.slice(3)).toEqual(['A', '198.51.100.9']);
    expect(tcp.answers[0]?.slice(3)).toEqual(['A', '198.51.100.7']);
    expect(silent.status).toBe('SERVFAIL');
    expect(Date.now() - t).toBeLessThan(3000);
  });

  it('ANY and zone transfers are refused; an internal network does not forward', async () => {
    const db = c.db!.ns;
    const gw = A.info.gateway;
    const [any, axfr] = await Promise.all([dig(db, gw, ['web', 'ANY']), exec(db, ['dig', '+tries=1', '+time=2', `@${gw}`, 'app', 'AXFR'])]);
    expect(any.status).toBe('REFUSED');
    expect(axfr.stdout).toMatch(/Transfer failed/);
    const I = await nets.create({ name: 'inner', subnet: '10.87.0.0/24', internal: true });
    await attach(I, 'i1', { name: 'i1' });
    await attach(I, 'i2', { name: 'i2' });
    // The new network's listener and i2 come with the resolver's next read of the state.
    const local = await digUntil(c.i1!.ns, I.info.gateway, ['i2'], (d) => d.answers[0]?.[4] === c.i2!.ep.ip);
    expect(local.answers[0]?.[4], local.out).toBe(c.i2!.ep.ip);
    const out = await dig(c.i1!.ns, I.info.gateway, ['foo.example.test']);
    expect(out.status).toBe('REFUSED');
  });

  it('the standalone process follows another process\u2019s changes within 100 ms: a new container resolves, a removed one is NXDOMAIN', async () => {
    const db = c.db!.ns;
    // late.app: our zone, so the answer before and after is ours (NXDOMAIN), not the upstream's.
    let loop = await DigLoop.start(db, A.info.gateway, 'late.app');
    // The name exists once the attach has returned (its endpoint is marked ready as its
    // last step); its removal begins as the detach is called.
    await attach(A, 'late', { name: 'late' });
    let t0 = Date.now();
    const seen = await loop.first(t0, (s) => s === 'NOERROR');
    loop = await DigLoop.start(db, A.info.gateway, 'late.app');
    t0 = Date.now();
    await A.detach(c.late!.ns);
    const gone = await loop.first(t0, (s) => s === 'NXDOMAIN');
    console.log(`standalone follow: new name answered after ${seen} ms, removed name NXDOMAIN after ${gone} ms`);
    expect(seen).toBeLessThan(100);
    expect(gone).toBeLessThan(100);
  });

  it('killed and restarted, the standalone process answers again with nothing lost', async () => {
    expect(await cli.stop('SIGKILL')).toBeNull();
    expect((await dig(c.db!.ns, A.info.gateway, ['web'], { timeSec: 1 })).status).toBe('TIMEOUT');
    cli = await standalone(H, stateDir);
    const [web, multi] = await Promise.all([dig(c.db!.ns, A.info.gateway, ['web']), dig(c.x!.ns, B.info.gateway, ['multi'])]);
    expect(web.answers[0]?.[4]).toBe(c.web!.ep.ip);
    expect(multi.answers[0]?.[4]).toMatch(/^10\.89\./);
    // SIGTERM: a clean stop.
    expect(await cli.stop('SIGTERM')).toBe(0);
    cli = await standalone(H, stateDir);
  });

  it('the in-process Resolver (a launcher in H) serves its controller and follows other processes', async () => {
    const script = `
      const { Networks, Resolver } = require(${JSON.stringify(path.join(ROOT, 'dist'))});
      (async () => {
        const nets = await Networks.open({ stateDir: ${JSON.stringify(stateDir)} });
        const r = await Resolver.open({ networks: nets, port: 5300, upstreams: [${JSON.stringify(OUT_IP)}], timeoutMs: 400 });
        console.log('ready ' + r.listeners.map((l) => l.address).join(','));
        await new Promise((res) => process.once('SIGTERM', res));
        await r.close();
        await nets.close();
      })().catch((e) => { console.error(e); process.exit(1); });`;
    const child = start(H, [process.execPath, '-e', script]);
    await child.waitFor(/ready/);
    expect(child.out).toContain(A.info.gateway);
    const [web, fwd] = await Promise.all([dig(c.db!.ns, A.info.gateway, ['web'], { port: 5300 }), dig(c.db!.ns, A.info.gateway, ['foo.example.test'], { port: 5300 })]);
    expect(web.answers[0]?.[4]).toBe(c.web!.ep.ip);
    expect(fwd.answers[0]?.[4]).toBe('198.51.100.7');
    const loop = await DigLoop.start(c.db!.ns, A.info.gateway, 'later.app', 5300);
    await attach(A, 'later', { name: 'later' });
    const t0 = Date.now();
    expect(await loop.first(t0, (s) => s === 'NOERROR')).toBeLessThan(100);
    expect(await child.stop('SIGTERM')).toBe(0);
  });

  it('a network removed stops being served; a new one is served without restart', async () => {
    const N = await nets.create({ name: 'fresh', subnet: '10.86.0.0/24' });
    await attach(N, 'f1', { name: 'f1' });
    await attach(N, 'f2', { name: 'f2' });
    // The resolver follows the state: asked until it answers with f2's address (the
    // follow test times this).
    const r = await digUntil(c.f1!.ns, N.info.gateway, ['f2'], (d) => d.answers[0]?.[4] === c.f2!.ep.ip);
    expect(r.status).toBe('NOERROR');
    expect(r.answers[0]?.[4], r.out).toBe(c.f2!.ep.ip);
    await N.detach(c.f1!.ns);
    await N.detach(c.f2!.ns);
    for (let i = 0; i < 30 && !/listening on .*10\.86\.0\.1:53 \(fresh\)/.test(cli.err); i++) await new Promise((res) => setTimeout(res, 100));
    expect(cli.err).toMatch(/listening on .*10\.86\.0\.1:53 \(fresh\)/);
    await nets.remove('fresh');
    // The listeners are reported once a second when they change.
    await new Promise((res) => setTimeout(res, 1300));
    const last = cli.err.trim().split('\n').filter((l) => l.includes('listening on')).pop();
    expect(last).toContain('(app)');
    expect(last).not.toContain('(fresh)');
  });
});
