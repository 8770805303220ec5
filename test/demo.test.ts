import { execFile, spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';

describe('netplumb demo', () => {
  it('builds the scenario in its own nested sandbox, every check passes, JSON output', async () => {
    const env = { ...process.env };
    delete env.NETPLUMB_SANDBOX; // so the CLI makes a sandbox of its own inside this one
    // Asynchronously: a worker blocked in spawnSync for as long as the demo may take on a
    // loaded machine misses vitest's RPC deadline.
    const r = await new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
      const p = execFile(process.execPath, [path.resolve(__dirname, '../dist/cli.js'), 'demo', '--json'], { encoding: 'utf8', env, timeout: 60_000 },
        (_err, stdout, stderr) => resolve({ status: p.exitCode, stdout, stderr }));
    });
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { ok: boolean; checks: { what: string; ok: boolean; saw: string }[]; timings: Record<string, number> };
    expect(out.ok).toBe(true);
    expect(out.checks.map((c) => c.what)).toEqual([
      'c1 -> c2 on the default bridge',
      'web resolves "db" (user-defined network)',
      'web -> db by name, port 7000',
      'c1 does not resolve "c2" (default network: no names)',
      'outside -> 192.0.2.1:8080 published to web:80',
      'web -> outside (masquerade)',
      'c1 -> web by its IP (other network)',
      'outside -> web by its IP (direct access)',
    ]);
    expect(out.checks.every((c) => c.ok)).toBe(true);
    expect(out.timings['attach, median (ms)']).toBeGreaterThan(0);
  });

  it('prints usage for no command and refuses unknown ones', () => {
    const cli = path.resolve(__dirname, '../dist/cli.js');
    expect(spawnSync(process.execPath, [cli], { encoding: 'utf8' }).status).toBe(1);
    const r = spawnSync(process.execPath, [cli, 'nope'], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/unknown command/);
    expect(spawnSync(process.execPath, [cli, 'version'], { encoding: 'utf8' }).stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });
});
