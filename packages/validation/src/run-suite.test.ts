import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NetworkPolicy } from '@fleetplane/net';
import { ZEvidenceBundle } from '@fleetplane/contracts';
import { compareToBaseline, verifyEvidence } from '@fleetplane/domain';
import { DEFAULT_BASELINE_GATES, builtinSuite } from './data/suites';
import type { TRunContext } from './run-check';
import { buildEvidence, runSuite } from './run-suite';
import { spawnReferenceEndpoint, type TRefProcess } from './testing/reference-endpoint-process';

let vllm: TRefProcess;
let sglang: TRefProcess;
beforeAll(async () => {
  [vllm, sglang] = await Promise.all([
    spawnReferenceEndpoint({ maxModelLen: 16384, ttftMs: 5, itlMs: 1, prefillMsPer1k: 0.5 }),
    spawnReferenceEndpoint({ engine: 'sglang', engineVersion: '0.5.3', maxModelLen: 16384, ttftMs: 5, itlMs: 1, apiKey: 'sk-local' }),
  ]);
});
afterAll(async () => {
  await Promise.all([vllm?.close(), sglang?.close()]);
});

// The endpoints under test listen on loopback, which only an admin setting allows.
const LOOPBACK: NetworkPolicy = { allowLoopback: true, internalServices: [] };
const ctx = (baseUrl: string, over: Partial<TRunContext> = {}): TRunContext => ({
  baseUrl,
  servedModelName: 'deepseek-ai/DeepSeek-V4-Flash',
  engine: 'vllm',
  engineVersion: '0.11.2',
  minEngineVersion: '0.11.0',
  maxContextTokens: 16384,
  concurrencyCap: 8,
  requestTimeoutMs: 15_000,
  network: LOOPBACK,
  ...over,
});

describe('runSuite with the built-in smoke suite', () => {
  it('passes end to end, seals evidence, and gates a slower candidate against it', async () => {
    const smoke = builtinSuite('smoke')!;
    const started: string[] = [];
    const done: string[] = [];
    const c = ctx(vllm.url);
    const baseline = await runSuite(smoke, c, {
      onCheckStart: (ch) => started.push(ch.key),
      onCheckDone: (r) => done.push(`${r.key}:${r.verdict}`),
    });
    expect(baseline.verdict, baseline.results.map((r) => `${r.key}: ${r.explanation}`).join('\n\n')).toBe('pass');
    expect(started).toEqual(smoke.checks.map((ch) => ch.key));
    expect(done).toEqual(smoke.checks.map((ch) => `${ch.key}:pass`));
    expect(baseline.summary).toBe('Pass: all 6 required checks passed.');

    const sealed = buildEvidence({ run: baseline, ctx: { ...c, apiKey: 'secret-never-stored' }, runId: 'run-base' });
    expect(ZEvidenceBundle.parse(sealed.bundle)).toEqual(sealed.bundle);
    expect(sealed.canonical).not.toContain('secret-never-stored');
    expect(verifyEvidence(sealed.bundle, sealed.digest)).toBe(true);

    // The same suite against a degraded endpoint: every check still passes its absolute limits,
    // but the baseline comparison catches the TTFT regression.
    await vllm.setDegradations({ addedLatencyMs: 120 });
    const candidate = await runSuite(smoke, c);
    await vllm.resetDegradations();
    const comparison = compareToBaseline({
      candidate: candidate.results,
      baseline: baseline.results,
      gates: DEFAULT_BASELINE_GATES,
      baselineRunId: 'run-base',
    });
    const ttft = comparison.gates.filter((g) => g.metric.endsWith('ttftMs.p99'));
    expect(ttft.map((g) => g.metric)).toEqual(['levels.1.ttftMs.p99', 'levels.4.ttftMs.p99']);
    expect(ttft.every((g) => g.verdict === 'fail')).toBe(true);
    expect(ttft[0]!.explanation).toMatch(/^TTFT p99 at concurrency 1 \d+ ms vs baseline \d+(\.\d+)? ms \(\+\d+\.\d%, limit \+10%\): fail$/);
    expect(comparison.gates.find((g) => g.label === 'Exact-answer accuracy')!.verdict).toBe('pass');
    expect(comparison.verdict).toBe('fail');
    const candidateEvidence = buildEvidence({ run: candidate, ctx: c, baseline: comparison });
    expect(candidateEvidence.bundle.verdict).toBe('fail');
    expect(candidateEvidence.bundle.summary).toMatch(/Baseline: Worse than the baseline beyond the limit/);
    expect(candidateEvidence.digest).not.toBe(sealed.digest);
  }, 30_000);
});

describe('an SGLang-flavoured endpoint with an API key', () => {
  it('reads reasoning_content, falls back to the recorded version, and sends the bearer token', async () => {
    const c = ctx(sglang.url, { engine: 'sglang', engineVersion: '0.5.3', minEngineVersion: '0.5.0', apiKey: 'sk-local' });
    const run = await runSuite(
      {
        name: 'sglang-mini',
        version: 1,
        checks: [
          { key: 'endpoint', kind: 'endpoint' },
          { key: 'reasoning', kind: 'reasoning_modes', params: { promptIds: ['reason-widgets'] } },
          { key: 'tools', kind: 'tool_calling', params: { caseIds: ['tool-order'] } },
        ],
      },
      c,
    );
    expect(run.verdict, run.results.map((r) => r.explanation).join('\n')).toBe('pass');
    expect(run.results[0]!.explanation).toContain("[note] /version unavailable; using the cluster's recorded engine version 0.5.3");
    expect(run.results[1]!.metrics.byMode).toMatchObject({ thinking: { withReasoning: 1 } });

    const noKey = await runSuite({ name: 'x-x', version: 1, checks: [{ key: 'endpoint', kind: 'endpoint' }] }, { ...c, apiKey: undefined });
    expect(noKey.verdict).toBe('fail');
    expect(noKey.results[0]!.explanation).toContain('HTTP 401: Unauthorized');
  });
});
