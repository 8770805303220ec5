import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Scope } from './helpers';
import { buildLayout, nftIn, nftJson, normalise, T } from './nft-helpers';

const scope = new Scope();
afterEach(() => scope.cleanup());

// The project's verified reference ruleset (a copy of shared/nft-layout.nft, see its header).
const LAYOUT = path.join(__dirname, 'fixtures', 'nft-layout.nft');

describe('reference layout', () => {
  it('built through the API, nft -j lists exactly what nft -f makes of the reference file', async () => {
    const mine = await scope.ns('nl');
    const ref = await scope.ns('nr');
    const handles = await buildLayout(mine);
    nftIn(ref.name!, ['-f', '-'], readFileSync(LAYOUT, 'utf8'));
    const a = normalise(nftJson(mine.name!, 'table', 'inet', T));
    const b = normalise(nftJson(ref.name!, 'table', 'inet', T));
    expect(a).toEqual(b);
    expect((a as unknown[]).length).toBe(1 + 9 + 12 + 20);
    expect(JSON.stringify(a)).toContain('"n1_guard"');
    // Every added rule came back with its handle.
    expect(handles.filter((h) => h !== undefined)).toHaveLength(20);
  });
});
