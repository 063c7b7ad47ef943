import { createServer, type AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { STRICT_NETWORK_POLICY, type NetworkPolicy } from '@fleetplane/net';
import { ZCheckResult, type TCheckDefinitionInput, type TCheckResult } from '@fleetplane/contracts';
import { EXACT_ANSWER_TASKS } from './data/exact-answer-tasks';
import { TOOL_CASES } from './data/tool-cases';
import { runCheck, type TRunContext } from './run-check';
import { spawnReferenceEndpoint, type TRefProcess } from './testing/reference-endpoint-process';

// The reference endpoint runs as a child process with fast timing so the whole file takes seconds.
let ref: TRefProcess;
beforeAll(async () => {
  ref = await spawnReferenceEndpoint({ maxModelLen: 8192, ttftMs: 5, itlMs: 1, prefillMsPer1k: 0.5, seed: 3 });
});
afterAll(async () => {
  await ref?.close();
});
beforeEach(async () => {
  await ref.resetDegradations();
  await ref.resetStats();
});

// The endpoints under test listen on loopback, which only an admin setting allows.
const LOOPBACK: NetworkPolicy = { allowLoopback: true, internalServices: [] };
const ctx = (over: Partial<TRunContext> = {}): TRunContext => ({
  baseUrl: ref.url,
  servedModelName: 'deepseek-ai/DeepSeek-V4-Flash',
  engine: 'vllm',
  engineVersion: '0.11.2',
  minEngineVersion: '0.11.0',
  maxContextTokens: 8192,
  concurrencyCap: 4,
  requestTimeoutMs: 15_000,
  network: LOOPBACK,
  ...over,
});

const run = (check: TCheckDefinitionInput, over: Partial<TRunContext> = {}) => runCheck(check, ctx(over));

function expectVerdict(r: TCheckResult, verdict: TCheckResult['verdict']) {
  expect(r.verdict, r.explanation).toBe(verdict);
  // Every result must be storable as-is: it satisfies the contract (and survives a JSON round trip).
  expect(ZCheckResult.parse(JSON.parse(JSON.stringify(r)))).toEqual(r);
}

describe('endpoint check', () => {
  it('passes on a healthy endpoint with a recent enough engine', async () => {
    const r = await run({ key: 'endpoint', kind: 'endpoint' });
    expectVerdict(r, 'pass');
    expect(r.explanation).toContain('/v1/models serves "deepseek-ai/DeepSeek-V4-Flash" (max_model_len 8192)');
    expect(r.explanation).toContain('engine version 0.11.2 meets the minimum 0.11.0');
    expect(r.metrics).toMatchObject({ reportedVersion: '0.11.2', healthStatus: 200, probeOk: true });
    expect(r.score).toBe(1);
  });

  it('fails when the engine is dead', async () => {
    await ref.setDegradations({ dead: true });
    const r = await run({ key: 'endpoint', kind: 'endpoint' });
    expectVerdict(r, 'fail');
    expect(r.explanation).toContain('[fail] /health answered 503');
    expect(r.explanation).toMatch(/\[fail\] a test completion failed: HTTP 503: The engine is dead/);
  });

  it('fails on an engine older than the artifact needs, a wrong model name, or too little context', async () => {
    const r = await run(
      { key: 'endpoint', kind: 'endpoint' },
      { minEngineVersion: '0.12.0', servedModelName: 'deepseek-ai/DeepSeek-V4-Pro', maxContextTokens: 131072 },
    );
    expectVerdict(r, 'fail');
    expect(r.explanation).toContain('engine version 0.11.2 is older than the required minimum 0.12.0');
    expect(r.explanation).toContain('/v1/models serves "deepseek-ai/DeepSeek-V4-Flash", not "deepseek-ai/DeepSeek-V4-Pro"');
  });

  it('does not run against an endpoint the network policy refuses, and says so once', async () => {
    const before = (await ref.stats()).totalRequests;
    const strict = await run({ key: 'endpoint', kind: 'endpoint' }, { network: STRICT_NETWORK_POLICY });
    expectVerdict(strict, 'error');
    expect(strict.explanation).toMatch(/^Not run: the endpoint was refused by network policy: 127\.0\.0\.1 is a loopback address/);
    expect(strict.samples).toEqual([]);
    // A name resolving to loopback first and a metadata address second is refused as a whole.
    const named = await run(
      { key: 'exact', kind: 'exact_answer', params: { limit: 1 } },
      {
        baseUrl: `http://vllm.test:${new URL(ref.url).port}`,
        resolve: async () => [
          { address: '127.0.0.1', family: 4 },
          { address: 'fd00:ec2::254', family: 6 },
        ],
      },
    );
    expectVerdict(named, 'error');
    expect(named.explanation).toContain('fd00:ec2::254 is a cloud instance-metadata address (vllm.test)');
    // Every request counts, the stats request itself too: nothing but that one arrived in between.
    expect((await ref.stats()).totalRequests).toBe(before + 1);
  });

  it('reports an unreachable endpoint as failed steps, not a crash', async () => {
    const port = await new Promise<number>((resolve) => {
      const srv = createServer().listen(0, '127.0.0.1', () => {
        const p = (srv.address() as AddressInfo).port;
        srv.close(() => resolve(p));
      });
    });
    const r = await run({ key: 'endpoint', kind: 'endpoint' }, { baseUrl: `http://127.0.0.1:${port}` });
    expectVerdict(r, 'fail');
    expect(r.explanation).toMatch(/\/v1\/models did not answer with a model list \(connect ECONNREFUSED 127\.0\.0\.1:\d+\)/);
  });
});

describe('exact_answer check', () => {
  it('scores every shipped task correct on a healthy endpoint and respects the concurrency cap', async () => {
    const progress: { done: number; total: number }[] = [];
    const r = await run(
      { key: 'exact', kind: 'exact_answer', params: { parallelism: 16 }, thresholds: { minAccuracy: 1 } },
      { concurrencyCap: 3, onProgress: (p) => progress.push(p) },
    );
    expectVerdict(r, 'pass');
    expect(r.score).toBe(1);
    expect(r.samples).toHaveLength(EXACT_ANSWER_TASKS.length);
    expect(r.samples.every((s) => s.promptTokens !== null && s.promptTokens > 0)).toBe(true);
    const stats = await ref.stats();
    expect(stats.maxConcurrentRequests).toBeLessThanOrEqual(3);
    expect(stats.maxConcurrentRequests).toBe(3);
    expect(progress.at(-1)).toEqual({ done: EXACT_ANSWER_TASKS.length, total: EXACT_ANSWER_TASKS.length });
  });

  it('fails under wrong answers and lists them', async () => {
    await ref.setDegradations({ wrongAnswerRate: 0.5 });
    const r = await run({ key: 'exact', kind: 'exact_answer', params: { repeats: 2 }, thresholds: { minAccuracy: 0.9 } });
    expectVerdict(r, 'fail');
    const accuracy = r.metrics.accuracy as number;
    expect(accuracy).toBeGreaterThan(0.2);
    expect(accuracy).toBeLessThan(0.8);
    // Wrong answers are chosen by hash(seed, prompt): identical across repeats, so no noise.
    expect(r.metrics.repeatAccuracies).toEqual([accuracy, accuracy]);
    expect(r.explanation).toMatch(/^Accuracy \d+\/94: \d+\.\d% \(limit ≥ 90\.0%\): fail/);
    expect(r.explanation).toContain('Wrong answers:');
    expect(r.explanation).toMatch(/- [a-z0-9-]+ \(repeat 1\): expected .+, got ".+"/);
  });

  it('is an error (not a model failure) when no request gets through', async () => {
    await ref.setDegradations({ addedLatencyMs: 2000 });
    const r = await run({ key: 'exact', kind: 'exact_answer', params: { limit: 2 } }, { requestTimeoutMs: 200 });
    expectVerdict(r, 'error');
    expect(r.explanation).toBe('No exact-answer request succeeded (2 tried): timed out after 200 ms');
  });

  it('rejects unknown task ids', async () => {
    const r = await run({ key: 'exact', kind: 'exact_answer', params: { taskIds: ['arith-mul', 'nope'] } });
    expectVerdict(r, 'error');
    expect(r.explanation).toBe('Unknown exact-answer task ids: nope');
  });
});

describe('long_context check', () => {
  const check = (over: object = {}): TCheckDefinitionInput => ({
    key: 'needles',
    kind: 'long_context',
    params: { contextLengths: [2048, 4096], depths: [0, 0.5, 1], ...over },
    thresholds: { minScore: 1 },
  });

  it('finds every needle and reads prompt sizes from usage', async () => {
    const r = await run(check());
    expectVerdict(r, 'pass');
    const cells = r.metrics.cells as { contextLength: number; depth: number; score: number; promptTokens: number }[];
    expect(cells).toHaveLength(6);
    for (const c of cells) {
      expect(c.score).toBe(1);
      expect(c.promptTokens).toBeLessThanOrEqual(c.contextLength);
      expect(c.promptTokens).toBeGreaterThan(c.contextLength * 0.95);
    }
    expect(r.explanation).toMatch(/^Needle retrieval 100% overall over 6 cells/);
  });

  it('fails only the far cells when needles beyond N tokens are lost', async () => {
    await ref.setDegradations({ loseNeedlesBeyondTokens: 3000 });
    const r = await run(check());
    expectVerdict(r, 'fail');
    const cells = r.metrics.cells as { contextLength: number; depth: number; score: number }[];
    expect(cells.filter((c) => c.score < 1).map((c) => [c.contextLength, c.depth])).toEqual([[4096, 1]]);
    expect(r.explanation).toContain('Failing cells: 4K at depth 100% (score 0%).');
    expect(r.explanation).toContain('4K (');
  });

  it('resolves "max" to the cluster maximum and skips longer lengths with a note', async () => {
    const r = await run(check({ contextLengths: [16384, 'max'], depths: [0.5] }));
    expectVerdict(r, 'pass');
    expect(r.metrics.lengths).toEqual([8192]);
    expect(r.metrics.skippedLengths).toEqual([16384]);
    expect(r.explanation).toContain("Skipped 16K (16384 tokens): above the cluster's maximum of 8192 tokens.");
    const [cell] = r.metrics.cells as { promptTokens: number }[];
    expect(cell!.promptTokens + 64).toBeLessThanOrEqual(8192);
  });
});

describe('tool_calling check', () => {
  it('passes every case streaming and not', async () => {
    const r = await run({ key: 'tools', kind: 'tool_calling' });
    expectVerdict(r, 'pass');
    expect(r.samples).toHaveLength(TOOL_CASES.length * 2);
    expect(r.metrics.byMode).toEqual({ non_stream: { passed: 6, total: 6 }, stream: { passed: 6, total: 6 } });
    const streamed = r.samples.find((s) => s.stream && s.caseId === 'tool-calendar')!;
    expect(streamed.got).toContain('create_calendar_event({"title":"Rollout review"');
  });

  it('fails when tool-call arguments are malformed JSON', async () => {
    await ref.setDegradations({ malformedToolCallJson: true });
    const r = await run({ key: 'tools', kind: 'tool_calling', params: { caseIds: ['tool-weather-paris'] } });
    expectVerdict(r, 'fail');
    expect(r.score).toBe(0);
    expect(r.explanation).toMatch(/- tool-weather-paris \(non-streaming\): arguments are not valid JSON/);
    expect(r.explanation).toMatch(/- tool-weather-paris \(streaming\): arguments are not valid JSON .*\{'city':'Paris','unit':'celsius'/);
  });
});

describe('reasoning_modes check', () => {
  it('passes: correct in both modes, reasoning only when thinking', async () => {
    const r = await run({ key: 'reasoning', kind: 'reasoning_modes' });
    expectVerdict(r, 'pass');
    expect(r.metrics.byMode).toMatchObject({
      non_thinking: { correct: 6, total: 6, withReasoning: 0 },
      thinking: { correct: 6, total: 6, withReasoning: 6 },
    });
  });

  it('fails when reasoning leaks into non-thinking mode', async () => {
    await ref.setDegradations({ reasoningLeak: true });
    const r = await run({ key: 'reasoning', kind: 'reasoning_modes', params: { promptIds: ['reason-youngest', 'reason-socks'] } });
    expectVerdict(r, 'fail');
    expect(r.explanation).toContain('Reasoning leaked into 2 non-thinking answers: fail');
    expect(r.explanation).toContain('- reason-youngest (non_thinking): reasoning present in non-thinking mode');
  });

  it('fails on wrong answers in either mode', async () => {
    await ref.setDegradations({ wrongAnswerRate: 1 });
    const r = await run({ key: 'reasoning', kind: 'reasoning_modes', params: { promptIds: ['reason-lily-pads'] } });
    expectVerdict(r, 'fail');
    expect(r.explanation).toContain('- reason-lily-pads (thinking): wrong answer: expected 47, got "95"');
  });
});

describe('performance check', () => {
  const perf = (thresholds: object, params: object = {}): TCheckDefinitionInput => ({
    key: 'perf',
    kind: 'performance',
    params: { concurrencyLevels: [1, 4], inputTokens: 256, outputTokens: 32, requestsPerLevel: 8, slos: { ttftMs: 1000 }, ...params },
    thresholds,
  });

  it('measures every level with exact output lengths and passes generous limits', async () => {
    const r = await run(perf({ maxTtftP99Ms: 1000, maxTpotP99Ms: 50, maxErrorRate: 0, minGoodputRatio: 1, minOutputThroughputTokS: 100 }));
    expectVerdict(r, 'pass');
    const levels = r.metrics.levels as Record<
      string,
      Record<string, unknown> & { ttftMs: Record<string, number>; tpotMs: Record<string, number> }
    >;
    expect(Object.keys(levels).sort()).toEqual(['1', '4']);
    expect(levels['4']!.completed).toBe(8);
    expect(levels['4']!.totalOutputTokens).toBe(8 * 32);
    expect(levels['4']!.totalInputTokens).toBeGreaterThan(8 * 200);
    expect(levels['4']!.ttftMs.p99).toBeGreaterThan(4);
    // 32 tokens at ~1 ms apart: TPOT is about a millisecond (timers are coarse, so allow slack).
    expect(levels['1']!.tpotMs.median).toBeGreaterThan(0.5);
    expect(levels['1']!.tpotMs.median).toBeLessThan(25);
    for (const s of r.samples) {
      expect(s.ok).toBe(true);
      expect(s.completionTokens).toBe(32);
      expect(s.ttftMs!).toBeLessThanOrEqual(s.e2eMs!);
    }
    expect((await ref.stats()).maxConcurrentRequests).toBe(4);
  });

  it('fails the TTFT gate under added latency', async () => {
    await ref.setDegradations({ addedLatencyMs: 250 });
    const r = await run(perf({ maxTtftP99Ms: 200 }, { concurrencyLevels: [2], requestsPerLevel: 4 }));
    expectVerdict(r, 'fail');
    expect(r.explanation).toMatch(/TTFT p99 at concurrency 2: \d+ ms \(limit ≤ 200 ms\): fail/);
    const level = (r.metrics.levels as Record<string, { ttftMs: { p99: number } }>)['2']!;
    expect(level.ttftMs.p99).toBeGreaterThanOrEqual(250);
  });

  it('fails the throughput floor under a global token cap', async () => {
    await ref.setDegradations({ throughputCapTokensPerSec: 400 });
    const r = await run(perf({ minOutputThroughputTokS: 800 }, { concurrencyLevels: [4], requestsPerLevel: 8 }));
    expectVerdict(r, 'fail');
    expect(r.explanation).toMatch(/Output throughput at concurrency 4: \d+\.\d tok\/s \(limit ≥ 800\.0 tok\/s\): fail/);
    // 256 tokens at 400 tok/s take at least 640 ms, so the measured rate cannot exceed the cap.
    expect((r.metrics.levels as Record<string, { outputThroughput: number }>)['4']!.outputThroughput).toBeLessThanOrEqual(400);
  });

  it('fails the error-rate gate under injected 5xx errors', async () => {
    await ref.setDegradations({ errorRate5xx: 0.5 });
    const r = await run(perf({ maxErrorRate: 0.01 }, { concurrencyLevels: [4], requestsPerLevel: 16 }));
    expectVerdict(r, 'fail');
    expect(r.explanation).toMatch(/Error rate at concurrency 4: \d+\.\d% \(limit ≤ 1\.0%\): fail/);
    expect(r.samples.some((s) => s.error?.startsWith('HTTP 500: Internal server error (injected'))).toBe(true);
  });

  it('never exceeds the cluster cap, clamping higher levels', async () => {
    const r = await run(perf({}, { concurrencyLevels: [2, 16], requestsPerLevel: 12 }), { concurrencyCap: 3 });
    expectVerdict(r, 'pass');
    expect(r.metrics.concurrencyLevels).toEqual([2, 3]);
    expect(r.explanation).toContain("Concurrency 16 was limited to the cluster's validation cap of 3.");
    expect((await ref.stats()).maxConcurrentRequests).toBe(3);
  });

  it('needs SLOs to judge goodput', async () => {
    const r = await run({
      key: 'perf',
      kind: 'performance',
      params: { concurrencyLevels: [1], inputTokens: 64, outputTokens: 4 },
      thresholds: { minGoodputRatio: 0.9 },
    });
    expectVerdict(r, 'error');
    expect(r.explanation).toContain('minGoodputRatio needs params.slos');
  });
});

describe('cancellation and bad input', () => {
  it('stops promptly when the signal aborts and reports no verdict', async () => {
    await ref.setDegradations({ addedLatencyMs: 5000 });
    const ac = new AbortController();
    let abortedAt = 0;
    // Cancel once the endpoint holds a full cap of requests (4), whatever the machine's speed.
    const poll = setInterval(() => {
      void ref.stats().then((s) => {
        if (s.inFlight >= 4 && !ac.signal.aborted) {
          abortedAt = performance.now();
          ac.abort();
        }
      });
    }, 20);
    const r = await run({ key: 'exact', kind: 'exact_answer' }, { signal: ac.signal });
    clearInterval(poll);
    expect(performance.now() - abortedAt).toBeLessThan(1000);
    expectVerdict(r, 'skipped');
    expect(r.explanation).toMatch(/^Cancelled: the exact-answer check stopped after \d+ of 47 requests; no verdict\.$/);
    // The in-flight requests were really aborted on the wire.
    await new Promise((res) => setTimeout(res, 100));
    const stats = await ref.stats();
    expect(stats.inFlight).toBe(0);
    expect(stats.aborted).toBe(4);
  });

  it('skips without any request when already cancelled', async () => {
    const ac = new AbortController();
    ac.abort();
    const r = await run(
      { key: 'perf', kind: 'performance', params: { concurrencyLevels: [1], inputTokens: 64, outputTokens: 4 } },
      { signal: ac.signal },
    );
    expectVerdict(r, 'skipped');
    expect((await ref.stats()).completionRequests).toBe(0);
  });

  it('turns invalid definitions and contexts into error results', async () => {
    const bad = await runCheck({ key: 'Bad Key', kind: 'exact_answer' } as TCheckDefinitionInput, ctx());
    expectVerdict(bad, 'error');
    expect(bad.explanation).toMatch(/^Invalid check definition: key: Check keys use/);
    const badCtx = await runCheck({ key: 'e', kind: 'endpoint' }, ctx({ concurrencyCap: 0 }));
    expectVerdict(badCtx, 'error');
    expect(badCtx.explanation).toMatch(/^Invalid run context: concurrencyCap/);
  });
});

describe('cluster concurrency cap, measured at the server', () => {
  // Each kind asks for more parallelism than the cap allows; the endpoint counts the most requests it
  // had open at once. Exactly the cap: the check did run requests concurrently, and never more.
  const cases: TCheckDefinitionInput[] = [
    { key: 'exact', kind: 'exact_answer', params: { parallelism: 12 } },
    { key: 'needle', kind: 'long_context', params: { contextLengths: [1024, 2048], depths: [0, 0.5, 1], parallelism: 12 } },
    { key: 'tools', kind: 'tool_calling', params: { parallelism: 12 } },
    { key: 'modes', kind: 'reasoning_modes', params: { parallelism: 12 } },
    { key: 'perf', kind: 'performance', params: { concurrencyLevels: [1, 12], inputTokens: 64, outputTokens: 8, requestsPerLevel: 12 } },
  ];
  for (const check of cases) {
    it(`${check.kind} keeps at most the cap (2) open`, async () => {
      await ref.setDegradations({ addedLatencyMs: 15 }); // requests overlap even on a fast endpoint
      const r = await run(check, { concurrencyCap: 2 });
      expect(r.verdict, r.explanation).not.toBe('error');
      const stats = await ref.stats();
      expect(stats.completionRequests).toBeGreaterThanOrEqual(4);
      expect(stats.maxConcurrentRequests).toBe(2);
    });
  }
});
