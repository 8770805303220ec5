import { mkdtempSync, rmSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { Networks } from '../src';
import { run, Scope } from './helpers';

const scope = new Scope();
const dirs: string[] = [];
afterEach(async () => {
  await scope.cleanup();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function stateDir(): string {
  const d = mkdtempSync('/run/np-reopen-');
  dirs.push(d);
  return d;
}

describe('Networks: reconcile and shared state', () => {
  it('open() re-makes a network\'s chains and published ports after the ruleset was flushed', async () => {
    const host = await scope.ns('rh');
    const dir = stateDir();
    let nets = await Networks.open({ stateDir: dir, host });
    const net = await nets.create({ name: 'r1', subnet: '10.91.0.0/24' });
    const c = await scope.ns('rc');
    const ep = await net.attach(c, { publish: [{ hostPort: 8088, containerPort: 80 }] });
    nets.close();
    const before = run('ip', ['netns', 'exec', host.name!, 'nft', 'list', 'table', 'inet', 'netplumb']);
    run('ip', ['netns', 'exec', host.name!, 'nft', 'flush', 'ruleset']);
    nets = await Networks.open({ stateDir: dir, host });
    const after = run('ip', ['netns', 'exec', host.name!, 'nft', 'list', 'table', 'inet', 'netplumb']);
    expect(after).toBe(before);
    expect(after).toContain(`tcp . 8088 : ${ep.ip} . 80`);
    await nets.get('r1').detach(ep);
    await nets.remove('r1');
    nets.close();
  });

  it('two controllers on one state directory never hand out the same address', async () => {
    const host = await scope.ns('sh');
    const dir = stateDir();
    const a = await Networks.open({ stateDir: dir, host });
    const b = await Networks.open({ stateDir: dir, host });
    await a.create({ name: 's1', subnet: '10.92.0.0/24' });
    const ips: string[] = [];
    for (let i = 0; i < 4; i++) {
      const ctl = i % 2 ? a : b;
      await ctl.refresh(); // get() answers from the state as last read; attach rereads it anyway
      const c = await scope.ns('sc');
      ips.push((await ctl.get('s1').attach(c)).ip);
    }
    expect(new Set(ips).size).toBe(4);
    await a.refresh();
    expect(a.inspect('s1').endpoints.map((e) => e.ip).sort()).toEqual([...ips].sort());
    a.close();
    b.close();
  });
});
