import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { calculateBenchmarkMetrics } from '@fleetplane/domain';
import { runCheck, runLoadLevel } from '@fleetplane/validation';
import { startReferenceEndpoint, type TReferenceEndpoint } from './server';

// The endpoint listens on loopback, which the validation client's network policy only allows when told.
const LOOPBACK = { allowLoopback: true, internalServices: [] };

// The benchmark's join in miniature: client-side timings (vLLM bench rules) against the server's own clock.
let ep: TReferenceEndpoint;
beforeAll(async () => {
  ep = await startReferenceEndpoint({ timing: { ttftBaseMs: 20, itlMs: 2, prefillMsPer1kTokens: 0 } });
});
afterAll(async () => {
  await ep?.close();
});

describe('client timings against server timestamps', () => {
  it('joins every request by X-Request-Id, and the client never sees tokens before the server sent them', async () => {
    ep.resetStats();
    const run = await runLoadLevel(
      { baseUrl: ep.url, timeoutMs: 10_000, network: LOOPBACK },
      { model: 'deepseek-ai/DeepSeek-V4-Flash', concurrency: 4, requests: 12, inputTokens: 128, outputTokens: 16 },
    );
    expect(run.outcomes).toHaveLength(12);
    const server = new Map(ep.requestTimeline.map((e) => [e.id, e]));
    for (const o of run.outcomes) {
      const s = server.get(o.requestId)!;
      expect(s, o.requestId).toBeDefined();
      const serverTtft = s.firstChunkSentAtMs! - s.receivedAtMs;
      // 20 ms configured; libuv measures timers from the loop's cached clock, so on a busy box one can fire up to a
      // couple of ms early by performance.now() (CI saw 18.7).
      expect(serverTtft).toBeGreaterThanOrEqual(17);
      // st is taken before the request leaves and TTFT after the chunk arrives.
      expect(o.ttftMs!).toBeGreaterThanOrEqual(serverTtft);
      expect(o.usage).toEqual({ promptTokens: s.promptTokens, completionTokens: 16 });
    }
    const m = calculateBenchmarkMetrics(
      run.outcomes.map((o) => ({
        ok: o.ok,
        ttftMs: o.ttftMs,
        itlMs: o.itlMs,
        e2eMs: o.e2eMs,
        promptTokens: o.usage?.promptTokens ?? null,
        completionTokens: o.usage?.completionTokens ?? null,
      })),
      { durationMs: run.durationMs },
    );
    expect(m.completed).toBe(12);
    expect(m.totalOutputTokens).toBe(12 * 16);
    expect(ep.stats().maxConcurrentRequests).toBe(4);
  });

  it('runs a check in-process against the endpoint (the same engine the worker uses)', async () => {
    const r = await runCheck(
      { key: 'tools', kind: 'tool_calling', params: { caseIds: ['tool-flights'] } },
      {
        baseUrl: ep.url,
        servedModelName: 'deepseek-ai/DeepSeek-V4-Flash',
        engine: 'vllm',
        engineVersion: '0.11.2',
        maxContextTokens: 131072,
        concurrencyCap: 2,
        network: LOOPBACK,
      },
    );
    expect(r.verdict, r.explanation).toBe('pass');
  });
});
