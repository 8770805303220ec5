import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Scope } from './helpers';
import { buildLayout, layout6, nftIn, nftJson, normalise, T } from './nft-helpers';

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

  it('dual stack: the IPv6 reference minus its IPv6 lines is the IPv4 reference, object for object', async () => {
    const v4 = await scope.ns('n4');
    const stripped = await scope.ns('ns');
    // Each family-specific object and rule of IPv4 has its twin (no lo_pub6), plus one rule
    // that keeps [::1] out of the DNAT (the userland proxy serves it), and nothing else.
    const lines = (t: string) => t.split('\n').filter((l) => l.trim() !== '' && !l.trimStart().startsWith('#')).length;
    expect(lines(layout6('dual')) - lines(layout6('base'))).toBe(4);
    expect(lines(layout6('base')) - lines(layout6('ipv4'))).toBe(4 + 1 + 2 + 1);
    nftIn(v4.name!, ['-f', '-'], readFileSync(LAYOUT, 'utf8'));
    nftIn(stripped.name!, ['-f', '-'], layout6('ipv4'));
    expect(normalise(nftJson(stripped.name!, 'table', 'inet', T))).toEqual(normalise(nftJson(v4.name!, 'table', 'inet', T)));
  });

  it('dual stack: built through the API, nft -j lists exactly what nft -f makes of the IPv6 reference', async () => {
    const mine = await scope.ns('nl6');
    const ref = await scope.ns('nr6');
    const handles = await buildLayout(mine, { ip6: true });
    nftIn(ref.name!, ['-f', '-'], layout6('dual'));
    const a = normalise(nftJson(mine.name!, 'table', 'inet', T));
    const b = normalise(nftJson(ref.name!, 'table', 'inet', T));
    expect(a).toEqual(b);
    // table, 13 sets and maps, 12 chains, 27 rules.
    expect((a as unknown[]).length).toBe(1 + 13 + 12 + 27);
    expect(JSON.stringify(a)).toContain('"fd00:88::"');
    expect(handles.filter((h) => h !== undefined)).toHaveLength(27);
  });
});
