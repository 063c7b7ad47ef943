import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { buildManifest } from './manifest';

describe('buildManifest', () => {
  it('digests the files as the agent checks a load command: sha256 of sorted "path\\tsize\\tsha256\\n" lines', () => {
    const a = { path: 'model-Q4_K_M.gguf', size: 2_374_528, sha256: 'a'.repeat(64) };
    const b = { path: 'config.json', size: 120, sha256: 'b'.repeat(64) };
    const wire = createHash('sha256')
      .update(`config.json\t120\t${'b'.repeat(64)}\nmodel-Q4_K_M.gguf\t2374528\t${'a'.repeat(64)}\n`)
      .digest('hex');
    expect(buildManifest([a, b]).digest).toBe(wire);
    expect(buildManifest([b, a]).digest).toBe(wire);
  });
});
