// The one table of names for the kernel's numbers (scripts/gen-constants.mjs) is what
// both languages read: src/constants.ts and native/constants.h must be exactly what the
// script writes from the uapi headers of this machine. (That each public union names
// exactly its table's entries is checked by the compiler: src/types.ts, src/nft/constants.ts.)
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { native } from '../src/binding';
import { codec } from '../src';
import { SCOPES } from '../src/constants';

const root = path.dirname(__dirname);

describe('the one table of named constants', () => {
  it('src/constants.ts and native/constants.h are what scripts/gen-constants.mjs writes', () => {
    const r = spawnSync(process.execPath, [path.join(root, 'scripts', 'gen-constants.mjs'), '--check'], { encoding: 'utf8' });
    expect(r.stderr, 'run npm run constants').toBe('');
    expect(r.status).toBe(0);
  });

  it('native code names values from the same table (a route scope decoded, a macvlan mode encoded)', () => {
    // RTM_NEWADDR with scope 253 (RT_SCOPE_LINK): native code names it from native/constants.h.
    const steps = native.encodeRtnlSteps([{ op: 'addrAdd', index: 1, address: '10.0.0.1', prefixlen: 24, scope: SCOPES.link }]);
    expect(steps.readUInt8(16 + 3)).toBe(SCOPES.link);
    const link = codec.encodeLinkDelete(1);
    expect(link.length).toBeGreaterThan(16);
    expect(() => native.encodeRtnlSteps([{ op: 'linkAdd', name: 'm', kind: 'macvlan', link: 1, macvlan: { mode: 'nope' as never } }]))
      .toThrow(/must be one of private, vepa, bridge, passthru, source/);
  });
});
