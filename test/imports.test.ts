// src/'s import graph: every module in a layer, run-time imports only downward, no
// cycle (scripts/check-imports.mjs, which npm test also runs before the suite).
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';

const script = pathToFileURL(path.join(path.dirname(__dirname), 'scripts', 'check-imports.mjs')).href;

describe('the import graph of src/', () => {
  it('is layered (binding, primitives, nft, namespaces, networks, entry points) and has no cycle', async () => {
    const { check } = (await import(script)) as { check: () => { modules: number; problems: string[] } };
    const r = check();
    expect(r.problems).toEqual([]);
    expect(r.modules).toBeGreaterThan(50);
  });

  it('finds a cycle and an import that goes up a layer', async () => {
    const { mkdtempSync, mkdirSync, writeFileSync } = await import('node:fs');
    const os = await import('node:os');
    const src = mkdtempSync(path.join(os.tmpdir(), 'imports-'));
    mkdirSync(path.join(src, 'nft'));
    writeFileSync(path.join(src, 'links.ts'), "import { x } from './routes';\nexport const y = x;\n");
    writeFileSync(path.join(src, 'routes.ts'), "import { y } from './links';\nimport type { Z } from './netns';\nexport const x = y;\n");
    writeFileSync(path.join(src, 'spec.ts'), "import { n } from './nft/nft';\nexport const s = n;\n");
    writeFileSync(path.join(src, 'nft', 'nft.ts'), 'export const n = 1;\n');
    writeFileSync(path.join(src, 'netns.ts'), "import { y } from './links';\nexport type Z = typeof y;\n");
    const { check } = (await import(script)) as { check: (src: string) => { problems: string[] } };
    const problems = check(src).problems;
    expect(problems).toContain('spec (primitives) imports nft/nft (nft), a higher layer');
    expect(problems.some((p) => p.startsWith('import cycle: ') && p.includes('links') && p.includes('routes'))).toBe(true);
    // A type-only import is no edge: netns -> links -> routes -> (type) netns is no cycle.
    expect(problems.filter((p) => p.includes('netns'))).toEqual([]);
  });
});
