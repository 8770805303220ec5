// A real etcd cluster for tests and benchmarks: N members of Debian's etcd-server on
// 127.0.0.1 of the caller's namespace (inside the sandbox of scripts/in-netns.mjs), data
// on a tmpfs, each member a foreground child process killed by pid at the end. Optionally
// TLS with client certificates made by openssl, and TCP relays that can cut one client
// off from every member and let it back (a host losing its way to etcd).
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** A free TCP port on 127.0.0.1 (bound and released: etcd binds it a moment later). */
export async function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** Where etcd's data goes: the sandbox's /run is a tmpfs of its own (in-netns.mjs); else the OS temp dir. */
function scratch(tag) {
  const base = process.env.NETPLUMB_SANDBOX === '1' ? '/run' : (process.env.TMPDIR ?? '/tmp');
  return mkdtempSync(path.join(base, `${tag}-`));
}

/** Finds etcd and etcdctl (Debian's etcd-server and etcd-client) or says how to get them. */
export function etcdBinaries() {
  const find = (name) => {
    for (const dir of ['/usr/bin', '/usr/local/bin', '/usr/sbin']) {
      if (existsSync(path.join(dir, name))) return path.join(dir, name);
    }
    return undefined;
  };
  const etcd = find('etcd');
  const etcdctl = find('etcdctl');
  return { etcd, etcdctl, missing: !etcd || !etcdctl ? 'etcd/etcdctl not found: apt-get install etcd-server etcd-client' : undefined };
}

/**
 * A CA, a server certificate for 127.0.0.1 and a client certificate, made by openssl in
 * `dir`. Returns the file paths.
 */
export function makeCerts(dir) {
  mkdirSync(dir, { recursive: true });
  const f = (n) => path.join(dir, n);
  const ossl = (...args) => execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  ossl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=netplumb test CA', '-keyout', f('ca.key'), '-out', f('ca.crt'));
  const leaf = (name, cn, ext) => {
    writeFileSync(f(`${name}.ext`), ext);
    ossl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', `/CN=${cn}`, '-keyout', f(`${name}.key`), '-out', f(`${name}.csr`));
    ossl('x509', '-req', '-in', f(`${name}.csr`), '-CA', f('ca.crt'), '-CAkey', f('ca.key'), '-CAcreateserial', '-days', '2', '-extfile', f(`${name}.ext`), '-out', f(`${name}.crt`));
  };
  leaf('server', 'etcd', 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n');
  leaf('client', 'netplumb', 'extendedKeyUsage=clientAuth\n');
  // A client certificate from a CA the cluster does not trust.
  ossl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=stranger', '-keyout', f('stranger.key'), '-out', f('stranger.crt'));
  return { ca: f('ca.crt'), cert: f('server.crt'), key: f('server.key'), clientCert: f('client.crt'), clientKey: f('client.key'), strangerCert: f('stranger.crt'), strangerKey: f('stranger.key') };
}

/**
 * Starts an n-member cluster and waits until every member is healthy.
 * Options: { members = 3, tls = false, log }.
 */
export async function startCluster(opts = {}) {
  const { etcd, etcdctl, missing } = etcdBinaries();
  if (missing) throw new Error(missing);
  const n = opts.members ?? 3;
  const dir = scratch('np-etcd');
  const certs = opts.tls ? makeCerts(path.join(dir, 'pki')) : undefined;
  const scheme = certs ? 'https' : 'http';
  const members = [];
  for (let i = 0; i < n; i++) members.push({ name: `m${i}`, client: await freePort(), peer: await freePort() });
  const initial = members.map((m) => `${m.name}=http://127.0.0.1:${m.peer}`).join(',');
  const token = `np-${process.pid}-${Date.now()}`;
  const start = (m) => {
    const args = [
      '--name', m.name, '--data-dir', path.join(dir, m.name),
      '--listen-client-urls', `${scheme}://127.0.0.1:${m.client}`, '--advertise-client-urls', `${scheme}://127.0.0.1:${m.client}`,
      '--listen-peer-urls', `http://127.0.0.1:${m.peer}`, '--initial-advertise-peer-urls', `http://127.0.0.1:${m.peer}`,
      '--initial-cluster', initial, '--initial-cluster-state', m.started ? 'existing' : 'new', '--initial-cluster-token', token,
      '--logger', 'zap', '--log-outputs', 'stderr', '--log-level', 'error',
      // Short elections on loopback: a killed member's leadership moves within a second.
      '--heartbeat-interval', '50', '--election-timeout', '500',
    ];
    if (certs) args.push('--cert-file', certs.cert, '--key-file', certs.key, '--client-cert-auth', '--trusted-ca-file', certs.ca);
    const child = spawn(etcd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    m.stderr = '';
    child.stderr.on('data', (d) => {
      m.stderr = (m.stderr + d).slice(-4000);
      if (opts.log) process.stderr.write(`[etcd ${m.name}] ${d}`);
    });
    m.child = child;
    m.pid = child.pid;
    m.started = true;
    m.exited = new Promise((r) => child.once('exit', r));
  };
  for (const m of members) start(m);
  const endpoints = members.map((m) => `${scheme}://127.0.0.1:${m.client}`);
  const ctlArgs = certs ? ['--cacert', certs.ca, '--cert', certs.clientCert, '--key', certs.clientKey] : [];
  const cluster = {
    dir,
    certs,
    members,
    endpoints,
    /** etcdctl against the given endpoints (default all), stdout. */
    ctl(args, eps = endpoints) {
      return execFileSync(etcdctl, ['--endpoints', eps.join(','), ...ctlArgs, ...args], { encoding: 'utf8', env: { ...process.env, ETCDCTL_API: '3' }, stdio: ['ignore', 'pipe', 'pipe'] });
    },
    /** etcdctl get --prefix, as { key: value }. */
    dump(prefix) {
      const out = JSON.parse(cluster.ctl(['get', '--prefix', prefix, '-w', 'json']));
      const kvs = {};
      for (const kv of out.kvs ?? []) kvs[Buffer.from(kv.key, 'base64').toString()] = Buffer.from(kv.value, 'base64').toString();
      return kvs;
    },
    /** The cluster's current revision. */
    revision() {
      return Number(JSON.parse(cluster.ctl(['endpoint', 'status', '-w', 'json'], [endpoints.find((_, i) => !members[i].killed)]))[0].Status.header.revision);
    },
    /** SIGKILLs member i by pid and waits for it to be gone. */
    async kill(i) {
      const m = members[i];
      m.killed = true;
      m.child.kill('SIGKILL');
      await m.exited;
    },
    /** Starts a killed member again (its data dir kept). */
    async restart(i) {
      const m = members[i];
      m.killed = false;
      start(m);
      await waitHealthy([endpoints[i]]);
    },
    /** Kills every member by pid, waits for them, deletes the data. */
    async stop() {
      for (const m of members) if (m.child.exitCode === null && m.child.signalCode === null) m.child.kill('SIGKILL');
      await Promise.all(members.map((m) => m.exited));
      for (const r of relays) r.close();
      rmSync(dir, { recursive: true, force: true });
    },
    /** TLS material for the control plane (PEM contents). */
    tls() {
      return certs ? { ca: readFileSync(certs.ca), cert: readFileSync(certs.clientCert), key: readFileSync(certs.clientKey) } : undefined;
    },
    /** A relay to every member: endpoints through it, cut() and heal(). */
    async relay() {
      const r = await makeRelay(members.map((m) => m.client), scheme);
      relays.push(r);
      return r;
    },
  };
  const relays = [];
  async function waitHealthy(eps) {
    const deadline = Date.now() + 20_000;
    for (;;) {
      try {
        cluster.ctl(['endpoint', 'health', '--command-timeout', '2s'], eps);
        return;
      } catch (e) {
        const dead = members.find((m) => m.child.exitCode !== null);
        if (dead) throw new Error(`etcd member ${dead.name} exited (${dead.child.exitCode}): ${dead.stderr}`);
        if (Date.now() > deadline) throw new Error(`etcd cluster not healthy after 20 s: ${e.message}`);
        await sleep(100);
      }
    }
  }
  try {
    await waitHealthy(endpoints);
  } catch (e) {
    await cluster.stop();
    throw e;
  }
  return cluster;
}

// TCP relays 127.0.0.1:new -> 127.0.0.1:port, one per member. cut() closes every
// connection and stops listening (new connections are refused); heal() listens again
// on the same ports.
async function makeRelay(ports, scheme) {
  const socks = new Set();
  const servers = [];
  const listen = async (i, port, target) => {
    const s = net.createServer((c) => {
      const up = net.connect(target, '127.0.0.1');
      socks.add(c);
      socks.add(up);
      const end = () => {
        c.destroy();
        up.destroy();
        socks.delete(c);
        socks.delete(up);
      };
      c.on('error', end).on('close', end);
      up.on('error', end).on('close', end);
      c.pipe(up);
      up.pipe(c);
    });
    await new Promise((resolve, reject) => {
      s.once('error', reject);
      s.listen(port, '127.0.0.1', resolve);
    });
    servers[i] = s;
    return s.address().port;
  };
  const local = [];
  for (let i = 0; i < ports.length; i++) local.push(await listen(i, 0, ports[i]));
  let up = true;
  return {
    endpoints: local.map((p) => `${scheme}://127.0.0.1:${p}`),
    async cut() {
      if (!up) return;
      up = false;
      await Promise.all(servers.map((s) => new Promise((r) => s.close(r))).concat(Promise.resolve([...socks].forEach((c) => c.destroy()))));
    },
    async heal() {
      if (up) return;
      for (let i = 0; i < ports.length; i++) await listen(i, local[i], ports[i]);
      up = true;
    },
    close() {
      for (const c of socks) c.destroy();
      for (const s of servers) s.close();
    },
  };
}
