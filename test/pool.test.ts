import { afterEach, describe, expect, it } from 'vitest';
import { Netns, NetnsPool } from '../src';
import { fdCount, ipj, run, Scope, uniq } from './helpers';

const scope = new Scope();
afterEach(() => scope.cleanup());

describe('NetnsPool', () => {
  it('hands out prepared namespaces (lo up, IPv6 off) and refills in the background', async () => {
    // The addon's namespace thread keeps one fd (its home namespace) from first use on.
    (await Netns.create()).close();
    const fds = fdCount();
    const pool = await NetnsPool.create({ size: 4 });
    expect(pool.ready).toBe(4);
    const names = Array.from({ length: 6 }, () => uniq('pool'));
    const taken = await Promise.all(names.map((n) => pool.take(n)));
    taken.forEach((ns, i) => {
      scope.handles.push(ns);
      scope.names.push(names[i]!);
    });
    const listed = run('ip', ['netns', 'list']);
    for (const n of names) {
      expect(listed).toContain(n);
      const lo = ipj<{ ifname: string; flags: string[] }[]>(n, 'link', 'show', 'lo')[0]!;
      expect(lo.flags).toContain('UP');
      expect(run('ip', ['netns', 'exec', n, 'sysctl', '-n', 'net.ipv6.conf.default.disable_ipv6']).trim()).toBe('1');
      // A link made in it later gets no IPv6 address at all.
      run('ip', ['-n', n, 'link', 'add', 'd0', 'type', 'bridge']);
      run('ip', ['-n', n, 'link', 'set', 'd0', 'up']);
      expect(ipj<unknown[]>(n, '-6', 'addr', 'show', 'dev', 'd0')).toEqual([]);
    }
    expect(new Set(taken.map((t) => t.id)).size).toBe(6);
    await pool.fill();
    expect(pool.ready).toBe(4);
    await pool.close();
    await scope.cleanup();
    expect(fdCount()).toBe(fds);
  });

  it('lowWater defers refilling until the pool runs low, then tops it up', async () => {
    const pool = await NetnsPool.create({ size: 4, lowWater: 2, sysctls: {} });
    const a = await pool.take();
    await new Promise((r) => setTimeout(r, 100));
    expect(pool.ready).toBe(3); // still above low water: nothing made during the burst
    const b = await pool.take();
    const c = await pool.take();
    await pool.fill();
    expect(pool.ready).toBe(4);
    [a, b, c].forEach((n) => n.close());
    await pool.close();
    await expect(NetnsPool.create({ size: 2, lowWater: 3 })).rejects.toBeInstanceOf(RangeError);
  });

  it('anonymous takes; bad options are typed errors; a closed pool refuses', async () => {
    await expect(NetnsPool.create({ size: 0 })).rejects.toBeInstanceOf(RangeError);
    await expect(NetnsPool.create({ loUp: 'yes' as unknown as boolean })).rejects.toBeInstanceOf(TypeError);
    const pool = await NetnsPool.create({ size: 1, sysctls: {} });
    const ns = await pool.take();
    expect(ns.name).toBeUndefined();
    expect((await ns.links.get('lo')).up).toBe(true);
    ns.close();
    await pool.close();
    await expect(pool.take()).rejects.toThrow(/closed/);
  });
});
