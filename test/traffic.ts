// Real traffic between named namespaces, with bounded timeouts: TCP servers that answer
// with the peer address they saw (socat), connects, pings, and commands run inside a
// namespace. Async, so that checks expected to time out can run side by side.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { normalizeIp, type Netns } from '../src';
import { ip, nsenterArgs, tryRun } from './helpers';

/** Whether socat is installed (traffic tests skip without it). */
export const haveSocat = tryRun('socat', ['-V']).status === 0;

function nameOf(ns: Netns): string {
  if (!ns.name) throw new Error('traffic helpers need a named namespace');
  return ns.name;
}

/** Runs a command inside a namespace (`ip netns exec`); never throws. */
export function exec(ns: Netns, cmd: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('ip', ['netns', 'exec', nameOf(ns), ...cmd], { encoding: 'utf8' }, (err, stdout, stderr) => {
      const status = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      resolve({ status, stdout, stderr });
    });
  });
}

/** TCP servers answering each connection with the peer address they saw ($SOCAT_PEERADDR). */
export class Servers {
  readonly #procs: ChildProcess[] = [];

  /** Starts a server on `port` in `ns` (IPv4; with family 6, IPv6 only) and waits until it listens. */
  async serve(ns: Netns, port: number, family: 4 | 6 = 4): Promise<void> {
    const listen = family === 6 ? `TCP6-LISTEN:${port},fork,reuseaddr,ipv6only=1` : `TCP-LISTEN:${port},fork,reuseaddr`;
    const p = spawn('ip', ['netns', 'exec', nameOf(ns), 'socat', listen, 'SYSTEM:echo $SOCAT_PEERADDR'], { stdio: 'ignore' });
    this.#procs.push(p);
    await listening(ns, port, family);
  }

  /** A UDP echo server on `port` (both families) in `ns`: each datagram comes back to its sender. */
  echoUdp(ns: Netns, port: number): void {
    this.#procs.push(spawn('ip', ['netns', 'exec', nameOf(ns), 'socat', `UDP6-LISTEN:${port},fork,reuseaddr`, 'PIPE'], { stdio: 'ignore' }));
  }

  /** Stops every server. */
  stop(): void {
    for (const p of this.#procs) p.kill();
    this.#procs.length = 0;
  }
}

/** Waits (2 s at most) until something listens on a TCP port in `ns` (of that family). */
export async function listening(ns: Netns, port: number, family: 4 | 6 = 4): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if ((await exec(ns, ['ss', `-Htln${family}`, `sport = :${port}`])).stdout.trim()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`nothing listens on ${port} in ${ns.name}`);
}

/**
 * Connects with a bounded timeout (IPv6 when `addr` is an IPv6 address); returns what the
 * server said, or null. A server's IPv6 peer address ("[2001:0db8:...]") comes back in
 * canonical text.
 */
export async function connect(from: Netns, addr: string, port: number): Promise<string | null> {
  const target = addr.includes(':') ? `TCP6:[${addr}]:${port}` : `TCP:${addr}:${port}`;
  const r = await exec(from, ['timeout', '5', 'socat', '-T2', '-', `${target},connect-timeout=1`]);
  if (r.status !== 0) return null;
  const said = r.stdout.trim();
  const v6 = /^\[([0-9a-fA-F:.]+)\]$/.exec(said);
  return v6 ? normalizeIp(v6[1]!) : said;
}

/** One ping, one second at most: whether it was answered. */
export async function ping(from: Netns, addr: string): Promise<boolean> {
  return (await exec(from, ['ping', '-n', '-q', '-c1', '-W1', addr])).status === 0;
}

let nsswitch: string | undefined;

/**
 * Runs a command inside `ns` with `hostsFile` bind-mounted over /etc/hosts (in a private
 * mount namespace), as a container runtime would: name resolution as the container sees
 * it. Hosts are looked up in that file only (no DNS, whose timeouts would stall a miss).
 */
export function withHosts(ns: Netns, hostsFile: string, cmd: string): Promise<{ status: number; stdout: string; stderr: string }> {
  if (!nsswitch) {
    // The sandbox's tmpfs over /run: gone with the sandbox.
    nsswitch = `/run/np-nsswitch-${process.pid}.conf`;
    writeFileSync(nsswitch, 'hosts: files\n');
  }
  const script = `mount --bind "$0" /etc/hosts && mount --bind "$1" /etc/nsswitch.conf && exec timeout 5 ${cmd}`;
  return exec(ns, ['unshare', '--mount', 'sh', '-c', script, hostsFile, nsswitch]);
}

/** The host address on the uplink, and the outside namespace's. */
export const HOST_IP = '192.0.2.1';
export const OUT_IP = '192.0.2.2';

/** The same, IPv6 (documentation prefix). */
export const HOST_IP6 = '2001:db8::1';
export const OUT_IP6 = '2001:db8::2';

/**
 * Joins a "host" namespace to an "outside" one by a veth: uplink HOST_IP/24 in the host,
 * eth0 OUT_IP/24 outside; lo up on both sides. With `ipv6`, also HOST_IP6/64 and
 * OUT_IP6/64 (no DAD: usable at once).
 */
export function joinOutside(host: Netns, outside: Netns, o: { ipv6?: boolean } = {}): void {
  const H = nameOf(host);
  const O = nameOf(outside);
  ip(H, 'link', 'add', 'uplink', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', O);
  ip(H, 'addr', 'add', `${HOST_IP}/24`, 'dev', 'uplink');
  ip(O, 'addr', 'add', `${OUT_IP}/24`, 'dev', 'eth0');
  if (o.ipv6) {
    ip(H, 'addr', 'add', `${HOST_IP6}/64`, 'dev', 'uplink', 'nodad');
    ip(O, 'addr', 'add', `${OUT_IP6}/64`, 'dev', 'eth0', 'nodad');
  }
  for (const [ns, dev] of [[H, 'uplink'], [H, 'lo'], [O, 'eth0'], [O, 'lo']] as const) ip(ns, 'link', 'set', dev, 'up');
}

/**
 * A node script run inside `ns` (nsenter), for servers that listen in a namespace's
 * own sockets (the DNS resolver, the loopback proxy): `ready` is its first stdout line,
 * `stop` sends SIGTERM and waits for it to exit.
 */
export function spawnIn(ns: Netns, script: string): { ready: Promise<string>; stop(): Promise<void> } {
  const child = spawn('nsenter', nsenterArgs(nameOf(ns), [process.execPath, '-e', script]), { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  const exited = new Promise<void>((r) => child.on('exit', () => r()));
  const ready = new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const nl = out.indexOf('\n');
      if (nl >= 0) resolve(out.slice(0, nl));
    });
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    void exited.then(() => reject(new Error(`exited before ready: ${err}`)));
  });
  return {
    ready,
    async stop() {
      child.kill('SIGTERM');
      await exited;
    },
  };
}
