import { describe, expect, it } from 'vitest';
import { ZBaselineGate, ZCheckDefinition, ZJsonSchema, ZValidationSuite, ZValidationTarget } from './index';

describe('ZCheckDefinition', () => {
  it('fills nested defaults when params and thresholds are omitted', () => {
    expect(ZCheckDefinition.parse({ key: 'exact', kind: 'exact_answer' })).toEqual({
      key: 'exact',
      kind: 'exact_answer',
      required: true,
      params: { repeats: 1, thinking: false, maxTokens: 512, temperature: 0, parallelism: 8 },
      thresholds: { minAccuracy: 0.9 },
    });
    const tools = ZCheckDefinition.parse({ key: 't', kind: 'tool_calling', thresholds: {} });
    expect(tools.kind === 'tool_calling' && tools.params.modes).toEqual(['non_stream', 'stream']);
  });

  it('requires per-kind params where there is no sensible default', () => {
    expect(ZCheckDefinition.safeParse({ key: 'lc', kind: 'long_context' }).success).toBe(false);
    expect(
      ZCheckDefinition.safeParse({ key: 'p', kind: 'performance', params: { concurrencyLevels: [], inputTokens: 1, outputTokens: 1 } })
        .success,
    ).toBe(false);
    const lc = ZCheckDefinition.parse({ key: 'lc', kind: 'long_context', params: { contextLengths: [8192, 'max'], depths: [0, 1] } });
    expect(lc.kind === 'long_context' && lc.thresholds).toEqual({ minScore: 1, mode: 'every_cell' });
  });

  it('rejects unknown kinds, bad keys and out-of-range thresholds', () => {
    expect(ZCheckDefinition.safeParse({ key: 'x', kind: 'vibes' }).success).toBe(false);
    expect(ZCheckDefinition.safeParse({ key: 'Bad Key', kind: 'endpoint' }).success).toBe(false);
    expect(ZCheckDefinition.safeParse({ key: 'x', kind: 'exact_answer', thresholds: { minAccuracy: 1.5 } }).success).toBe(false);
    expect(ZCheckDefinition.safeParse({ key: 'x', kind: 'long_context', params: { contextLengths: ['min'], depths: [0] } }).success).toBe(
      false,
    );
  });
});

describe('ZValidationSuite', () => {
  it('refuses duplicate check keys and empty suites', () => {
    const dup = ZValidationSuite.safeParse({
      name: 'dup',
      version: 1,
      checks: [
        { key: 'a', kind: 'endpoint' },
        { key: 'a', kind: 'endpoint' },
      ],
    });
    expect(dup.success).toBe(false);
    expect(dup.error?.issues[0]).toMatchObject({ path: ['checks', 1, 'key'], message: 'Duplicate check key "a"' });
    expect(ZValidationSuite.safeParse({ name: 'empty', version: 1, checks: [] }).success).toBe(false);
  });
});

describe('ZBaselineGate', () => {
  it('needs a relative or absolute limit and a dot path', () => {
    expect(ZBaselineGate.safeParse({ label: 'x', checkKey: 'p', metric: 'levels.*.ttftMs.p99', better: 'lower' }).success).toBe(false);
    expect(
      ZBaselineGate.safeParse({ label: 'x', checkKey: 'p', metric: 'levels..p99', better: 'lower', maxRegressionPct: 10 }).success,
    ).toBe(false);
    expect(
      ZBaselineGate.parse({ label: 'x', checkKey: 'p', metric: 'levels.*.ttftMs.p99', better: 'lower', maxRegressionPct: 10 }),
    ).toMatchObject({ noiseK: 1, unit: 'ratio', required: true });
  });
});

describe('ZValidationTarget and ZJsonSchema', () => {
  it('validates the run target', () => {
    const t = ZValidationTarget.parse({
      baseUrl: 'http://10.0.0.5:8000',
      servedModelName: 'm',
      engine: 'vllm',
      engineVersion: '0.11.2',
      maxContextTokens: 131072,
      concurrencyCap: 16,
    });
    expect(t.requestTimeoutMs).toBe(600_000);
    expect(ZValidationTarget.safeParse({ ...t, baseUrl: 'ftp://x' }).success).toBe(false);
    expect(ZValidationTarget.safeParse({ ...t, concurrencyCap: 0 }).success).toBe(false);
  });

  it('accepts the supported JSON-schema subset and rejects other keywords', () => {
    expect(
      ZJsonSchema.safeParse({
        type: 'object',
        properties: { a: { type: ['string', 'null'], enum: ['x', null] } },
        required: ['a'],
        additionalProperties: false,
      }).success,
    ).toBe(true);
    expect(ZJsonSchema.safeParse({ type: 'string', pattern: '^a' }).success).toBe(false);
  });
});
