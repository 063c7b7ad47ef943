import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { canonicalManifest, manifestDigest } from './manifest-digest';

const a = { path: 'config.json', sizeBytes: 12, sha256: 'a'.repeat(64) };
const b = { path: 'model-00001-of-00002.safetensors', sizeBytes: 5000, sha256: 'b'.repeat(64) };
const c = { path: 'Z.md', sizeBytes: 1, sha256: 'c'.repeat(64) };

describe('manifestDigest', () => {
  it('hashes tab-separated lines sorted by path', () => {
    const text = canonicalManifest([b, a, c]);
    expect(text).toBe(
      `Z.md\t1\t${'c'.repeat(64)}\nconfig.json\t12\t${'a'.repeat(64)}\nmodel-00001-of-00002.safetensors\t5000\t${'b'.repeat(64)}\n`,
    );
    expect(manifestDigest([b, a, c])).toBe(createHash('sha256').update(text).digest('hex'));
  });

  it('does not depend on input order but does depend on every field', () => {
    const base = manifestDigest([a, b]);
    expect(manifestDigest([b, a])).toBe(base);
    expect(manifestDigest([a, { ...b, sizeBytes: 5001 }])).not.toBe(base);
    expect(manifestDigest([a, { ...b, sha256: 'd'.repeat(64) }])).not.toBe(base);
    expect(manifestDigest([a, { ...b, path: 'other.safetensors' }])).not.toBe(base);
    expect(manifestDigest([])).toBe(createHash('sha256').update('').digest('hex'));
  });

  it('rejects duplicate paths', () => {
    expect(() => manifestDigest([a, { ...a }])).toThrow(/Duplicate path in manifest: config.json/);
  });
});
