import { describe, expect, it } from 'vitest';
import { ZValidationSuite, type TEvidenceBundle } from '@fleetplane/contracts';
import { canonicalJson, sealEvidence, sha256Hex, verifyEvidence } from './evidence';

describe('canonicalJson', () => {
  it('sorts keys at every depth and drops undefined members', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { z: 1, y: undefined, x: 2 }], c: 'é' } })).toBe(
      '{"a":{"c":"é","d":[3,{"x":2,"z":1}]},"b":1}',
    );
    expect(canonicalJson([undefined, null, true])).toBe('[null,null,true]');
  });
  it('is independent of insertion order', () => {
    expect(canonicalJson({ x: 1, y: 2 })).toBe(canonicalJson({ y: 2, x: 1 }));
  });
  it('refuses values JSON cannot carry', () => {
    expect(() => canonicalJson({ a: [1, Number.NaN] })).toThrow('Cannot encode NaN at $.a[1] as canonical JSON');
    expect(() => canonicalJson({ f: () => 1 })).toThrow(/function at \$\.f/);
  });
});

describe('sha256Hex', () => {
  it('matches the standard test vector', () => {
    expect(sha256Hex('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });
});

describe('sealEvidence', () => {
  const bundle: TEvidenceBundle = {
    schemaVersion: 1,
    runId: 'run-1',
    suite: ZValidationSuite.parse({ name: 'smoke', version: 1, checks: [{ key: 'endpoint', kind: 'endpoint' }] }),
    target: {
      baseUrl: 'http://127.0.0.1:8000',
      servedModelName: 'deepseek-ai/DeepSeek-V4-Flash',
      engine: 'vllm',
      engineVersion: '0.11.2',
      minEngineVersion: null,
      maxContextTokens: 131072,
      concurrencyCap: 16,
      clusterId: null,
      artifactDigest: null,
    },
    startedAt: '2026-05-01T10:00:00.000Z',
    finishedAt: '2026-05-01T10:05:00.000Z',
    verdict: 'pass',
    summary: 'Pass: all 1 required checks passed.',
    checks: [],
    baseline: null,
    generator: { name: '@fleetplane/validation', version: '0.0.0' },
  };

  it('hashes the canonical JSON and verifies', () => {
    const sealed = sealEvidence(bundle);
    expect(sealed.digest).toBe(`sha256:${sha256Hex(sealed.canonical)}`);
    expect(sealed.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(verifyEvidence(bundle, sealed.digest)).toBe(true);
    expect(verifyEvidence({ ...bundle, verdict: 'fail' }, sealed.digest)).toBe(false);
    // Key order in the input does not change the digest.
    const reordered = Object.fromEntries(Object.entries(bundle).reverse()) as TEvidenceBundle;
    expect(sealEvidence(reordered).digest).toBe(sealed.digest);
  });

  it('rejects a malformed bundle', () => {
    expect(() => sealEvidence({ ...bundle, verdict: 'maybe' } as unknown as TEvidenceBundle)).toThrow();
  });
});
