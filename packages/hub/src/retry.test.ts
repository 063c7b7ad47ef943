import { describe, expect, it } from 'vitest';
import { backoffDelayMs, createRetryingFetch, isNetworkError, parseRetryAfter } from './retry';

describe('backoffDelayMs', () => {
  const policy = { baseDelayMs: 100, maxDelayMs: 1000 };
  it('doubles per attempt with equal jitter and a cap', () => {
    expect(backoffDelayMs(1, policy, () => 0)).toBe(50);
    expect(backoffDelayMs(1, policy, () => 1)).toBe(100);
    expect(backoffDelayMs(3, policy, () => 0)).toBe(200);
    expect(backoffDelayMs(3, policy, () => 1)).toBe(400);
    expect(backoffDelayMs(10, policy, () => 1)).toBe(1000);
    expect(backoffDelayMs(10, policy, () => 0)).toBe(500);
  });
});

describe('parseRetryAfter', () => {
  it('reads seconds and HTTP dates', () => {
    expect(parseRetryAfter('120')).toBe(120);
    expect(parseRetryAfter(null)).toBeNull();
    expect(parseRetryAfter('soon')).toBeNull();
    const now = Date.parse('2026-05-01T00:00:00Z');
    expect(parseRetryAfter('Fri, 01 May 2026 00:00:30 GMT', now)).toBe(30);
    expect(parseRetryAfter('Fri, 01 May 2026 00:00:00 GMT', now + 5000)).toBe(0);
  });
});

describe('createRetryingFetch', () => {
  const policy = { attempts: 3, baseDelayMs: 1, maxDelayMs: 2, maxRetryAfterSeconds: 1 };
  const scripted = (steps: Array<Response | Error>) => {
    const calls: string[] = [];
    const f = (async (input: string | URL | Request) => {
      calls.push(String(input));
      const step = steps.shift();
      if (!step) throw new Error('no more steps');
      if (step instanceof Error) throw step;
      return step;
    }) as typeof fetch;
    return { f, calls };
  };

  it('retries 5xx and network errors, then returns the success', async () => {
    const { f, calls } = scripted([new Response('x', { status: 503 }), new TypeError('fetch failed'), new Response('ok')]);
    const rf = createRetryingFetch({ fetch: f, policy });
    const res = await rf('http://h/x');
    expect(await res.text()).toBe('ok');
    expect(calls).toHaveLength(3);
    expect(rf.lastFailure).toBeNull();
  });

  it('returns the last failure after the attempts and records the Hub error code', async () => {
    const fail = () => new Response('{}', { status: 502, headers: { 'X-Error-Code': 'Oops', 'X-Error-Message': 'bad gateway' } });
    const { f, calls } = scripted([fail(), fail(), fail(), fail()]);
    const rf = createRetryingFetch({ fetch: f, policy });
    expect((await rf('http://h/x')).status).toBe(502);
    expect(calls).toHaveLength(3);
    expect(rf.lastFailure).toEqual({ status: 502, errorCode: 'Oops', message: 'bad gateway', retryAfterSeconds: null });
  });

  it('does not retry 4xx, nor a 429 whose Retry-After exceeds the cap', async () => {
    const { f, calls } = scripted([new Response('', { status: 404 }), new Response('', { status: 429, headers: { 'Retry-After': '60' } })]);
    const rf = createRetryingFetch({ fetch: f, policy });
    expect((await rf('http://h/a')).status).toBe(404);
    expect((await rf('http://h/b')).status).toBe(429);
    expect(calls).toHaveLength(2);
    expect(rf.lastFailure?.retryAfterSeconds).toBe(60);
  });

  it('gives up on network errors after the attempts', async () => {
    const { f } = scripted([new TypeError('fetch failed'), new TypeError('fetch failed'), new TypeError('fetch failed')]);
    await expect(createRetryingFetch({ fetch: f, policy })('http://h/x')).rejects.toThrow('fetch failed');
    expect(isNetworkError(Object.assign(new Error('x'), { code: 'ECONNRESET' }))).toBe(true);
    expect(isNetworkError(new DOMException('stop', 'AbortError'))).toBe(false);
  });
});
