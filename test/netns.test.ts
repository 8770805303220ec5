import { spawn, spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { NetlinkError, Netns } from '../src';
import { fdCount, ip, ipj, run, Scope, uniq } from './helpers';

const scope = new Scope();
afterEach(() => scope.cleanup());

function mounts(): string {
  return readFileSync('/proc/self/mountinfo', 'utf8');
}

describe('Netns.create (named)', () => {
  it('makes a namespace that ip netns lists and ip netns exec enters', async () => {
    const ns = await scope.ns('c');
    expect(ns.name).toBeDefined();
    expect(ns.path).toBe(`/run/netns/${ns.name}`);
    expect(run('ip', ['netns', 'list'])).toContain(ns.name);
    const links = JSON.parse(run('ip', ['netns', 'exec', ns.name!, 'ip', '-j', 'link'])) as { ifname: string }[];
    expect(links.map((l) => l.ifname)).toEqual(['lo']);
    // The netns directory is a shared mount point, as ip netns makes it.
    const line = mounts().split('\n').find((l) => l.split(' ')[4] === '/run/netns');
    expect(line).toMatch(/shared:/);
  });

  it('creates 50 namespaces concurrently, each holding only lo, reads never cross', async () => {
    const names = Array.from({ length: 50 }, () => uniq('p'));
    const handles = await Promise.all(names.map((n) => Netns.create(n)));
    handles.forEach((h, i) => {
      scope.handles.push(h);
      scope.names.push(names[i]!);
    });
    const listed = run('ip', ['netns', 'list']);
    for (const n of names) {
      expect(listed).toContain(n);
      expect(ipj<{ ifname: string }[]>(n, 'link').map((l) => l.ifname)).toEqual(['lo']);
    }
    expect(await Netns.list()).toEqual(expect.arrayContaining(names));
    // Give each namespace a distinct link made by iproute2, then read all concurrently.
    names.forEach((n, i) => ip(n, 'link', 'add', `br${i}`, 'type', 'bridge'));
    const all = await Promise.all(handles.map((h) => h.links.list()));
    all.forEach((links, i) => {
      expect(links.map((l) => l.name).sort()).toEqual([`br${i}`, 'lo']);
      expect(links.find((l) => l.name === `br${i}`)?.kind).toBe('bridge');
    });
    // Distinct namespaces have distinct identities.
    const ids = new Set(handles.map((h) => h.id));
    expect(ids.size).toBe(50);
  });

  it('EEXIST for a duplicate name; the original stays intact', async () => {
    const ns = await scope.ns('d');
    ip(ns.name!, 'link', 'add', 'keep0', 'type', 'bridge');
    const err = await Netns.create(ns.name!).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NetlinkError);
    expect((err as NetlinkError).code).toBe('EEXIST');
    expect((err as NetlinkError).errno).toBe(17);
    expect(ipj<{ ifname: string }[]>(ns.name!, 'link').map((l) => l.ifname)).toContain('keep0');
  });

  it('rejects names that could escape the netns directory, before touching anything', async () => {
    const before = run('ip', ['netns', 'list']);
    for (const bad of ['', '.', '..', '../x', 'a/b', '/abs', 'nul\0x', 'x'.repeat(256)]) {
      await expect(Netns.create(bad)).rejects.toBeInstanceOf(TypeError);
      await expect(Netns.delete(bad)).rejects.toBeInstanceOf(TypeError);
    }
    // @ts-expect-error wrong type on purpose
    await expect(Netns.create(42)).rejects.toBeInstanceOf(TypeError);
    expect(run('ip', ['netns', 'list'])).toBe(before);
  });

  it('a failed create leaves no file, mount or namespace behind', async () => {
    // The netns directory path runs through a regular file: mkdir fails.
    const file = `/run/${uniq('f')}`;
    writeFileSync(file, '');
    const before = mounts();
    const err = await Netns.create('x', { netnsDir: `${file}/netns` }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NetlinkError);
    expect((err as NetlinkError).code).toBe('ENOTDIR');
    expect(mounts()).toBe(before);

    // A directory where the bind mount itself fails (not a tmpfs we may mount over:
    // /proc/sys is read-only for us), checked for leftovers.
    const dir = `/run/${uniq('ro')}`;
    mkdirSync(dir);
    run('mount', ['-t', 'tmpfs', '-o', 'ro', 'none', dir]);
    const err2 = await Netns.create('y', { netnsDir: dir }).catch((e: unknown) => e);
    expect(err2).toBeInstanceOf(NetlinkError);
    expect(existsSync(`${dir}/y`)).toBe(false);
    run('umount', [dir]);
  });

  it('supports a custom netns directory', async () => {
    const dir = `/run/${uniq('dir')}`;
    const name = uniq('cd');
    const ns = await Netns.create(name, { netnsDir: dir });
    expect(ns.path).toBe(`${dir}/${name}`);
    expect(await Netns.list({ netnsDir: dir })).toEqual([name]);
    const again = await Netns.open(name, { netnsDir: dir });
    expect(again.sameAs(ns)).toBe(true);
    again.close();
    ns.close();
    await Netns.delete(name, { netnsDir: dir });
    expect(await Netns.list({ netnsDir: dir })).toEqual([]);
  });

  it('makes the directory shared again after it was unmounted (propagation is remembered per mount)', async () => {
    const dir = `/run/${uniq('shr')}`;
    const propagation = (): string | undefined =>
      mounts().split('\n').find((l) => l.split(' ')[4] === dir)?.split(' - ')[0];
    const a = uniq('sa');
    (await Netns.create(a, { netnsDir: dir })).close();
    expect(propagation()).toMatch(/shared:/);
    await Netns.delete(a, { netnsDir: dir });
    // Someone unmounts the directory's own bind mount: it is a plain directory again.
    run('umount', [dir]);
    expect(propagation()).toBeUndefined();
    const b = uniq('sb');
    (await Netns.create(b, { netnsDir: dir })).close();
    expect(propagation()).toMatch(/shared:/);
    // A namespace mounted there propagates into a mount namespace cloned afterwards.
    const seen = run('unshare', ['--mount', '--propagation', 'unchanged', 'ls', dir]);
    expect(seen.split('\n')).toContain(b);
    await Netns.delete(b, { netnsDir: dir });
    run('umount', [dir]);
  });
});

describe('Netns.open / fromPid / current / delete / list', () => {
  it('opens by name and by path; both refer to the same namespace', async () => {
    const ns = await scope.ns('o');
    const byName = await Netns.open(ns.name!);
    const byPath = await Netns.open(`/run/netns/${ns.name}`);
    expect(byName.sameAs(ns)).toBe(true);
    expect(byPath.sameAs(ns)).toBe(true);
    byName.close();
    byPath.close();
  });

  it('ENOENT for a missing namespace, EINVAL for a file that is not one', async () => {
    const e1 = await Netns.open(uniq('missing')).catch((e: unknown) => e);
    expect((e1 as NetlinkError).code).toBe('ENOENT');
    const e2 = await Netns.delete(uniq('missing')).catch((e: unknown) => e);
    expect((e2 as NetlinkError).code).toBe('ENOENT');
    const e3 = await Netns.open('/proc/self/status').catch((e: unknown) => e);
    expect((e3 as NetlinkError).code).toBe('EINVAL');
    const e4 = await Netns.open('/proc/self/ns/uts').catch((e: unknown) => e);
    expect((e4 as NetlinkError).code).toBe('EINVAL');
  });

  it('fromPid opens the namespace a process runs in', async () => {
    const ns = await scope.ns('pid');
    const child = spawn('ip', ['netns', 'exec', ns.name!, 'sleep', '30'], { stdio: 'ignore' });
    try {
      // Wait until the child has entered the namespace (ip netns exec, then exec sleep).
      let h: Netns | undefined;
      for (let i = 0; i < 100; i++) {
        const comm = readFileSync(`/proc/${child.pid}/comm`, 'utf8').trim();
        if (comm === 'sleep') {
          h = await Netns.fromPid(child.pid!);
          break;
        }
        await new Promise((r) => setTimeout(r, 20));
      }
      expect(h?.sameAs(ns)).toBe(true);
      h?.close();
    } finally {
      child.kill();
    }
    await expect(Netns.fromPid(-1)).rejects.toBeInstanceOf(RangeError);
    await expect(Netns.fromPid(1.5)).rejects.toBeInstanceOf(TypeError);
  });

  it('current() is the caller namespace; named namespaces differ from it', async () => {
    const cur = await Netns.current();
    const self = await Netns.open('/proc/self/ns/net');
    expect(cur.sameAs(self)).toBe(true);
    const ns = await scope.ns('cur');
    expect(ns.sameAs(cur)).toBe(false);
    cur.close();
    self.close();
  });

  it('delete removes the name; ip netns no longer lists it; handles stay usable', async () => {
    const name = uniq('del');
    const ns = await Netns.create(name);
    ip(name, 'link', 'add', 'stay0', 'type', 'bridge');
    await Netns.delete(name);
    expect(run('ip', ['netns', 'list'])).not.toContain(name);
    expect(existsSync(`/run/netns/${name}`)).toBe(false);
    // The namespace lives on while this handle holds it.
    expect((await ns.links.list()).map((l) => l.name)).toContain('stay0');
    ns.close();
  });

  it('bind() names an anonymous namespace (ip netns attach); EEXIST when taken', async () => {
    const anon = await Netns.create();
    const name = uniq('bind');
    const named = await anon.bind(name);
    scope.handles.push(named);
    scope.names.push(name);
    expect(named.name).toBe(name);
    expect(named.sameAs(anon)).toBe(true);
    expect(run('ip', ['netns', 'list'])).toContain(name);
    ip(name, 'link', 'add', 'seen0', 'type', 'bridge');
    expect((await anon.links.list()).map((l) => l.name)).toContain('seen0');
    const e = await anon.bind(name).catch((x: unknown) => x);
    expect((e as NetlinkError).code).toBe('EEXIST');
    // The named handle shares the route socket anon has open (one socket, one port id),
    // and keeps it when anon closes.
    const port = anon.socketStats().portId;
    expect(named.socketStats().portId).toBe(port);
    anon.close();
    expect((await named.links.list()).map((l) => l.name)).toContain('seen0');
    expect(named.socketStats().portId).toBe(port);
  });

  it('anonymous namespaces have no name and are isolated', async () => {
    const a = await Netns.create();
    const b = await Netns.create();
    expect(a.name).toBeUndefined();
    expect(a.sameAs(b)).toBe(false);
    expect((await a.links.list()).map((l) => l.name)).toEqual(['lo']);
    a.close();
    b.close();
  });
});

describe('handle lifetime', () => {
  it('close() releases the namespace fd and sockets; closed handles fail with EBADF', async () => {
    const base = fdCount();
    const ns = await Netns.create();
    await ns.links.list(); // opens the route socket
    expect(fdCount()).toBe(base + 2);
    ns.close();
    ns.close(); // idempotent
    expect(fdCount()).toBe(base);
    expect(ns.closed).toBe(true);
    const err = await ns.links.list().catch((e: unknown) => e);
    expect((err as NetlinkError).code).toBe('EBADF');
  });

  it('works with await using and using', async () => {
    const base = fdCount();
    {
      await using ns = await Netns.create();
      await ns.links.get('lo');
      expect(fdCount()).toBe(base + 2);
    }
    expect(fdCount()).toBe(base);
    {
      using ns = await Netns.create();
      await ns.links.list();
    }
    expect(fdCount()).toBe(base);
  });

  it('many handles opened and closed leak nothing', async () => {
    const ns = await scope.ns('leak');
    const base = fdCount();
    for (let i = 0; i < 200; i++) {
      const h = await Netns.open(ns.name!);
      await h.links.get('lo');
      h.close();
    }
    expect(fdCount()).toBe(base);
  });

  it('a request in flight survives close() and its socket closes after it', async () => {
    const ns = await Netns.create();
    const base = fdCount();
    const p = ns.links.list();
    ns.close();
    // The request either completes (it had its socket) or fails cleanly with EBADF.
    const r = await p.then((l) => l.length, (e: NetlinkError) => e.code);
    expect([1, 'EBADF']).toContain(r);
    expect(fdCount()).toBeLessThanOrEqual(base - 1);
  });
});

describe('privileges', () => {
  // Under scripts/asan-test.sh the addon needs the ASan runtime preloaded, and a process
  // that drops its capabilities at exec runs in secure-execution mode, which ignores
  // LD_PRELOAD: this one case cannot load the sanitized addon.
  it.skipIf(process.env.NETPLUMB_SANITIZED === '1')('a process without any capability reads its own namespace (no setns back into it)', async () => {
    const ns = await scope.ns('cap');
    ip(ns.name!, 'link', 'add', 'capbr0', 'type', 'bridge');
    // The addon directly, in a child with every capability dropped for good.
    const script = `
      const b = require('node-gyp-build')(${JSON.stringify(path.join(__dirname, '..'))});
      const caps = require('fs').readFileSync('/proc/self/status', 'utf8').match(/CapEff:\\s*(\\w+)/)[1];
      b.linkList(b.nsCurrent(), {}).then((l) => console.log(JSON.stringify({ caps, links: l.map((x) => x.name) })));`;
    const r = spawnSync(
      'ip',
      ['netns', 'exec', ns.name!, 'setpriv', '--securebits=+noroot,+noroot_locked', '--bounding-set=-all',
        '--inh-caps=-all', '--', process.execPath, '-e', script],
      { encoding: 'utf8' },
    );
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toEqual({ caps: '0000000000000000', links: ['lo', 'capbr0'] });
  });
});

describe('threads', () => {
  it('no JS or libuv thread moves: every thread of the process stays home', async () => {
    const homeNs = readlinkSync('/proc/self/ns/net');
    const handles = await Promise.all(Array.from({ length: 8 }, () => Netns.create()));
    await Promise.all(handles.map((h) => h.links.list()));
    const tasks = readdirSync(`/proc/${process.pid}/task`);
    expect(tasks.length).toBeGreaterThan(1);
    for (const t of tasks) {
      expect(readlinkSync(`/proc/${process.pid}/task/${t}/ns/net`)).toBe(homeNs);
    }
    handles.forEach((h) => h.close());
  });
});
