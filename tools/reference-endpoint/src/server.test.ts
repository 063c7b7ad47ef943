import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { EXACT_ANSWER_TASKS, TOOL_CASES, toolsFor } from '@fleetplane/validation';
import { E2E_BUCKETS, ITL_BUCKETS, TTFT_BUCKETS } from './metrics';
import { startReferenceEndpoint, type TReferenceEndpoint } from './server';

const MODEL = 'deepseek-ai/DeepSeek-V4-Flash';
let ep: TReferenceEndpoint;
beforeAll(async () => {
  ep = await startReferenceEndpoint({ maxModelLen: 4096, timing: { ttftBaseMs: 2, itlMs: 1, prefillMsPer1kTokens: 0 } });
});
afterAll(async () => {
  await ep?.close();
});
beforeEach(() => {
  ep.resetDegradations();
  ep.resetStats();
});

const post = (body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${ep.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
const task = EXACT_ANSWER_TASKS.find((t) => t.id === 'arith-mul')!;

/** Polls until the condition holds (timing on a shared machine is not predictable). */
async function waitFor(cond: () => boolean | Promise<boolean>, timeoutMs = 3000): Promise<void> {
  const t0 = performance.now();
  while (!(await cond())) {
    if (performance.now() - t0 > timeoutMs) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** The JSON payloads of an SSE body, [DONE] included as a string. */
async function events(res: Response): Promise<(Record<string, unknown> | string)[]> {
  const text = await res.text();
  expect(text.endsWith('data: [DONE]\n\n')).toBe(true);
  return text
    .split('\n\n')
    .filter(Boolean)
    .map((block) => {
      expect(block.startsWith('data: ')).toBe(true);
      const data = block.slice(6);
      return data === '[DONE]' ? data : (JSON.parse(data) as Record<string, unknown>);
    });
}

type TChunk = { object: string; choices: { delta: Record<string, unknown>; finish_reason: string | null }[]; usage?: unknown };

describe('OpenAI-compatible routes', () => {
  it('lists the served model the way vLLM does', async () => {
    const res = await fetch(`${ep.url}/v1/models`);
    const body = (await res.json()) as { object: string; data: Record<string, unknown>[] };
    expect(body.object).toBe('list');
    expect(body.data[0]).toMatchObject({ id: MODEL, object: 'model', owned_by: 'vllm', root: MODEL, parent: null, max_model_len: 4096 });
    expect(Array.isArray(body.data[0]!.permission)).toBe(true);
  });

  it('answers /health (200, empty; 503 when dead) and /version', async () => {
    let res = await fetch(`${ep.url}/health`);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('');
    ep.setDegradations({ dead: true });
    res = await fetch(`${ep.url}/health`);
    expect(res.status).toBe(503);
    expect((await post({ model: MODEL, messages: [{ role: 'user', content: 'x' }] })).status).toBe(503);
    expect(await (await fetch(`${ep.url}/version`)).json()).toEqual({ version: '0.11.2' });
  });

  it('answers non-streaming requests with usage', async () => {
    const res = await post({ model: MODEL, messages: [{ role: 'user', content: task.prompt }] }, { 'x-request-id': 'r-1' });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-request-id')).toBe('r-1');
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toMatchObject({
      id: 'chatcmpl-r-1',
      object: 'chat.completion',
      model: MODEL,
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content: '391', reasoning: null, tool_calls: [] },
          logprobs: null,
          finish_reason: 'stop',
          stop_reason: null,
        },
      ],
      usage: { prompt_tokens: expect.any(Number), completion_tokens: 1, total_tokens: expect.any(Number), prompt_tokens_details: null },
    });
  });

  it('streams role first, reasoning then content, finish_reason, a usage chunk and [DONE]', async () => {
    const res = await post({
      model: MODEL,
      stream: true,
      stream_options: { include_usage: true },
      chat_template_kwargs: { thinking: true },
      messages: [{ role: 'user', content: task.prompt }],
    });
    expect(res.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    const ev = await events(res);
    const chunks = ev.slice(0, -1) as unknown as TChunk[];
    expect(chunks.every((c) => c.object === 'chat.completion.chunk')).toBe(true);
    expect(chunks[0]!.choices[0]!.delta).toEqual({ role: 'assistant', content: '' });
    const deltas = chunks.filter((c) => c.choices.length).map((c) => c.choices[0]!.delta);
    const reasoning = deltas.map((d) => d.reasoning ?? '').join('');
    const content = deltas.map((d) => d.content ?? '').join('');
    expect(reasoning.length).toBeGreaterThan(10);
    expect(content).toBe('391');
    expect(deltas.findIndex((d) => d.content === '391')).toBeGreaterThan(deltas.findIndex((d) => typeof d.reasoning === 'string'));
    const finish = chunks.find((c) => c.choices[0]?.finish_reason);
    expect(finish!.choices[0]!.finish_reason).toBe('stop');
    const usage = chunks.at(-1)!;
    expect(usage.choices).toEqual([]);
    expect(usage.usage).toMatchObject({ completion_tokens: deltas.length ? expect.any(Number) : 0 });
    expect(ev.at(-1)).toBe('[DONE]');
  });

  it('omits the usage chunk unless asked, and stops at max_tokens with finish_reason length', async () => {
    const ev = await events(
      await post({ model: MODEL, stream: true, max_tokens: 5, ignore_eos: true, messages: [{ role: 'user', content: 'hi' }] }),
    );
    const chunks = ev.slice(0, -1) as unknown as TChunk[];
    expect(chunks.every((c) => c.choices.length === 1)).toBe(true);
    expect(chunks.at(-1)!.choices[0]!.finish_reason).toBe('length');
  });

  it('streams tool calls as an id/name fragment followed by argument fragments', async () => {
    const c = TOOL_CASES.find((x) => x.id === 'tool-weather-paris')!;
    const ev = await events(
      await post({ model: MODEL, stream: true, tools: toolsFor(c.offeredTools), messages: [{ role: 'user', content: c.prompt }] }),
    );
    const calls = (ev.slice(0, -1) as unknown as TChunk[]).flatMap(
      (ch) => (ch.choices[0]?.delta.tool_calls as Record<string, unknown>[] | undefined) ?? [],
    );
    expect(calls[0]).toEqual({
      index: 0,
      id: expect.stringMatching(/^chatcmpl-tool-/),
      type: 'function',
      function: { name: 'get_weather', arguments: '' },
    });
    for (const frag of calls.slice(1)) expect(Object.keys(frag).sort()).toEqual(['function', 'index']);
    expect(JSON.parse(calls.map((f) => (f.function as { arguments: string }).arguments).join(''))).toEqual({
      city: 'Paris',
      unit: 'celsius',
    });
    expect((ev.at(-2) as unknown as TChunk).choices[0]!.finish_reason).toBe('tool_calls');
  });
});

describe('errors in vLLM shape', () => {
  const expectError = async (res: Response, status: number, type: string, message: RegExp) => {
    expect(res.status).toBe(status);
    const body = (await res.json()) as { error: { message: string; type: string; param: unknown; code: number } };
    expect(body.error.type).toBe(type);
    expect(body.error.code).toBe(status);
    expect(body.error.message).toMatch(message);
    expect(Object.keys(body.error).sort()).toEqual(['code', 'message', 'param', 'type']);
  };

  it('rejects bad requests with 400 and unknown models with 404', async () => {
    await expectError(await post('{"model": '), 400, 'BadRequestError', /^Invalid JSON in request body/);
    await expectError(await post({ model: MODEL }), 400, 'BadRequestError', /^messages: /);
    await expectError(
      await post({ model: 'other', messages: [{ role: 'user', content: 'x' }] }),
      404,
      'NotFoundError',
      /^The model `other` does not exist\.$/,
    );
    await expectError(
      await post({ model: MODEL, messages: [{ role: 'user', content: 'word '.repeat(5000) }] }),
      400,
      'BadRequestError',
      /^This model's maximum context length is 4096 tokens\. However, your request has \d+ input tokens/,
    );
    await expectError(
      await post({ model: MODEL, max_tokens: 4000, messages: [{ role: 'user', content: 'word '.repeat(200) }] }),
      400,
      'BadRequestError',
      /^'max_tokens' or 'max_completion_tokens' is too large: 4000/,
    );
    expect((await fetch(`${ep.url}/v1/chat/completions`)).status).toBe(405);
    expect(await (await fetch(`${ep.url}/nope`)).json()).toEqual({ detail: 'Not Found' });
  });

  it('injects 5xx errors deterministically at the configured rate', async () => {
    ep.setDegradations({ errorRate5xx: 0.5 });
    const statuses = [];
    for (let i = 0; i < 40; i += 1)
      statuses.push((await post({ model: MODEL, max_tokens: 1, messages: [{ role: 'user', content: 'x' }] })).status);
    const errors = statuses.filter((s) => s === 500).length;
    expect(errors).toBeGreaterThan(8);
    expect(errors).toBeLessThan(32);
    expect(ep.stats().failed).toBe(errors);
  });
});

describe('admin API and bookkeeping', () => {
  it('validates, replaces and clears degradations over HTTP', async () => {
    const bad = await fetch(`${ep.url}/_ref/degradations`, { method: 'POST', body: JSON.stringify({ wrongAnswerRate: 2 }) });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { message: string } }).error.message).toMatch(/^wrongAnswerRate: /);
    const unknown = await fetch(`${ep.url}/_ref/degradations`, { method: 'POST', body: JSON.stringify({ slow: true }) });
    expect(unknown.status).toBe(400);
    const ok = await fetch(`${ep.url}/_ref/degradations`, { method: 'POST', body: JSON.stringify({ jitterMs: 5, addedLatencyMs: 10 }) });
    expect(await ok.json()).toEqual({ jitterMs: 5, addedLatencyMs: 10 });
    expect(ep.degradations()).toEqual({ jitterMs: 5, addedLatencyMs: 10 });
    await fetch(`${ep.url}/_ref/degradations`, { method: 'DELETE' });
    expect(await (await fetch(`${ep.url}/_ref/degradations`)).json()).toEqual({});
  });

  it('records per-request server timestamps and the peak number of open requests', async () => {
    // Hold each request open long enough that all five overlap.
    ep.setDegradations({ addedLatencyMs: 300 });
    await Promise.all(
      Array.from({ length: 5 }, (_, i) =>
        post(
          { model: MODEL, stream: true, max_tokens: 10, ignore_eos: true, messages: [{ role: 'user', content: 'x' }] },
          { 'x-request-id': `t-${i}` },
        ).then((r) => r.text()),
      ),
    );
    const stats = ep.stats();
    expect(stats.maxConcurrentRequests).toBe(5);
    expect(stats.inFlight).toBe(0);
    expect(stats.generationTokens).toBe(50);
    const timeline = (await (await fetch(`${ep.url}/_ref/timeline`)).json()) as {
      timeOrigin: number;
      entries: Record<string, number | string | null>[];
    };
    expect(timeline.entries.map((e) => e.id).sort()).toEqual(['t-0', 't-1', 't-2', 't-3', 't-4']);
    for (const e of timeline.entries) {
      expect(e.receivedAtMs as number).toBeLessThanOrEqual(e.scheduledAtMs as number);
      expect(e.scheduledAtMs as number).toBeLessThan(e.firstChunkSentAtMs as number);
      expect(e.firstChunkSentAtMs as number).toBeLessThanOrEqual(e.finishedAtMs as number);
      expect(e).toMatchObject({ status: 200, completionTokens: 10, finishReason: 'length', aborted: false });
    }
    expect(await (await fetch(`${ep.url}/_ref/stats`)).json()).toMatchObject({ completionRequests: 5, succeeded: 5 });
  });

  it('counts a client that disconnects mid-stream as aborted', async () => {
    const res = await post({ model: MODEL, stream: true, max_tokens: 2000, ignore_eos: true, messages: [{ role: 'user', content: 'x' }] });
    const reader = res.body!.getReader();
    await reader.read();
    await reader.cancel();
    await waitFor(() => ep.stats().aborted === 1);
    expect(ep.stats()).toMatchObject({ aborted: 1, inFlight: 0, running: 0 });
    expect(ep.requestTimeline[0]!.aborted).toBe(true);
  });

  it('enforces a global output-token budget', async () => {
    ep.setDegradations({ throughputCapTokensPerSec: 500 });
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: 2 }, () =>
        post({ model: MODEL, stream: true, max_tokens: 100, ignore_eos: true, messages: [{ role: 'user', content: 'x' }] }).then((r) =>
          r.text(),
        ),
      ),
    );
    // 200 tokens at 500 tok/s take at least 400 ms (without the cap: about 100 ms).
    expect(performance.now() - t0).toBeGreaterThan(380);
  });

  it('serves vLLM metrics with the exact bucket boundaries and live counters', async () => {
    const labels = '{model_name="deepseek-ai/DeepSeek-V4-Flash",engine="0"';
    const value = (text: string, series: string) => {
      const line = text.split('\n').find((l) => l.startsWith(`${series} `));
      expect(line, series).toBeDefined();
      return Number(line!.slice(series.length + 1));
    };
    // Prometheus counters are cumulative over the server's life, so compare before and after.
    const before = await ep.metricsText();
    await post({ model: MODEL, stream: true, max_tokens: 3, ignore_eos: true, messages: [{ role: 'user', content: 'x' }] }).then((r) =>
      r.text(),
    );
    const res = await fetch(`${ep.url}/metrics`);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await res.text();
    for (const name of ['vllm:num_requests_running', 'vllm:num_requests_waiting', 'vllm:kv_cache_usage_perc'])
      expect(text).toContain(`# TYPE ${name} gauge`);
    for (const name of ['vllm:prompt_tokens_total', 'vllm:generation_tokens_total', 'vllm:request_success_total'])
      expect(text).toContain(`# TYPE ${name} counter`);
    for (const name of ['vllm:time_to_first_token_seconds', 'vllm:inter_token_latency_seconds', 'vllm:e2e_request_latency_seconds']) {
      expect(text).toContain(`# HELP ${name} `);
      expect(text).toContain(`# TYPE ${name} histogram`);
    }
    const les = (metric: string) =>
      [...text.matchAll(new RegExp(`^${metric}_bucket\\{.*le="([^"]+)".*\\} `, 'gm'))]
        .map((m) => m[1])
        .filter((le) => le !== '+Inf')
        .map(Number);
    expect(les('vllm:time_to_first_token_seconds')).toEqual(TTFT_BUCKETS);
    expect(les('vllm:inter_token_latency_seconds')).toEqual(ITL_BUCKETS);
    expect(les('vllm:e2e_request_latency_seconds')).toEqual(E2E_BUCKETS);
    expect(TTFT_BUCKETS).toEqual([
      0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 20, 40, 80, 160, 640, 2560,
    ]);
    expect(ITL_BUCKETS).toEqual([0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 20, 40, 80]);
    const delta = (series: string) => value(text, series) - value(before, series);
    expect(delta(`vllm:generation_tokens_total${labels}}`)).toBe(3);
    expect(delta(`vllm:prompt_tokens_total${labels}}`)).toBe(7);
    expect(delta(`vllm:request_success_total${labels},finished_reason="length"}`)).toBe(1);
    expect(delta(`vllm:time_to_first_token_seconds_count${labels}}`)).toBe(1);
    expect(delta(`vllm:e2e_request_latency_seconds_count${labels}}`)).toBe(1);
    expect(value(text, `vllm:num_requests_running${labels}}`)).toBe(0);
  });
});

describe('engine flavours, API keys and queueing', () => {
  it('uses reasoning_content and has no /version for SGLang; requires the API key when set', async () => {
    const sg = await startReferenceEndpoint({ engine: 'sglang', apiKey: 'k', timing: { ttftBaseMs: 1, itlMs: 0 } });
    try {
      expect((await fetch(`${sg.url}/version`)).status).toBe(404);
      const unauth = await fetch(`${sg.url}/v1/models`);
      expect(unauth.status).toBe(401);
      expect(await unauth.json()).toEqual({ error: 'Unauthorized' });
      expect((await fetch(`${sg.url}/health`)).status).toBe(200);
      const res = await fetch(`${sg.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: 'Bearer k', 'content-type': 'application/json' },
        body: JSON.stringify({
          model: MODEL,
          chat_template_kwargs: { thinking: true },
          messages: [{ role: 'user', content: task.prompt }],
        }),
      });
      const body = (await res.json()) as { choices: { message: Record<string, unknown> }[] };
      expect(body.choices[0]!.message.reasoning_content).toEqual(expect.any(String));
      expect(body.choices[0]!.message).not.toHaveProperty('reasoning');
    } finally {
      await sg.close();
    }
  });

  it('groups tokens per chunk with a stream interval, sending the first token alone', async () => {
    const si = await startReferenceEndpoint({ timing: { ttftBaseMs: 1, itlMs: 3, streamInterval: 4 } });
    try {
      const res = await fetch(`${si.url}/v1/chat/completions`, {
        method: 'POST',
        body: JSON.stringify({
          model: MODEL,
          stream: true,
          stream_options: { include_usage: true },
          max_tokens: 13,
          ignore_eos: true,
          messages: [{ role: 'user', content: 'x' }],
        }),
      });
      const chunks = (await events(res)).slice(0, -1) as unknown as TChunk[];
      const contents = chunks.map((c) => c.choices[0]?.delta.content).filter((c): c is string => typeof c === 'string' && c !== '');
      expect(contents[0]!.trim().length).toBeLessThanOrEqual(4); // one token: at most 4 characters
      expect(contents.length).toBeLessThanOrEqual(4); // 1 + 4 + 4 + 4 tokens
      expect(contents.length).toBeGreaterThanOrEqual(2);
      expect((chunks.at(-1)!.usage as { completion_tokens: number }).completion_tokens).toBe(13);
    } finally {
      await si.close();
    }
  });

  it('queues requests beyond max_num_seqs and reports them as waiting', async () => {
    const q = await startReferenceEndpoint({ maxNumSeqs: 1, timing: { ttftBaseMs: 1, itlMs: 2 } });
    try {
      const send = () =>
        fetch(`${q.url}/v1/chat/completions`, {
          method: 'POST',
          body: JSON.stringify({
            model: MODEL,
            stream: true,
            max_tokens: 40,
            ignore_eos: true,
            messages: [{ role: 'user', content: 'x' }],
          }),
        }).then((r) => r.text());
      const all = Promise.all([send(), send()]);
      await waitFor(async () => /^vllm:num_requests_waiting\{[^}]*\} 1$/m.test(await q.metricsText()));
      expect(q.stats()).toMatchObject({ running: 1, waiting: 1 });
      await all;
      const [a, b] = q.requestTimeline;
      expect(b!.scheduledAtMs!).toBeGreaterThanOrEqual(a!.finishedAtMs!);
    } finally {
      await q.close();
    }
  });
});
