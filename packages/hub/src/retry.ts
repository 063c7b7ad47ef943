import { setTimeout as sleepTimer } from 'node:timers/promises';

export interface RetryPolicy {
  /** Total attempts including the first (default 4). */
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** A 429 whose Retry-After is longer than this is reported instead of waited for. */
  maxRetryAfterSeconds: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 4, baseDelayMs: 500, maxDelayMs: 15_000, maxRetryAfterSeconds: 30 };

/**
 * Exponential backoff with "equal jitter": half the exponential step is fixed, half random, so retries
 * from many workers spread out but never collapse to zero delay. `attempt` counts from 1.
 */
export function backoffDelayMs(
  attempt: number,
  policy: Pick<RetryPolicy, 'baseDelayMs' | 'maxDelayMs'>,
  random: () => number = Math.random,
): number {
  const exp = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(exp / 2 + (exp / 2) * random());
}

/** Retry-After as seconds (delta-seconds or HTTP-date); null when absent or unparseable. */
export function parseRetryAfter(header: string | null, now: number = Date.now()): number | null {
  if (!header) return null;
  const trimmed = header.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed);
  const at = Date.parse(trimmed);
  if (Number.isNaN(at)) return null;
  return Math.max(0, Math.ceil((at - now) / 1000));
}

export function isRetryableStatus(status: number): boolean {
  return status === 429 || status === 408 || (status >= 500 && status <= 599);
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return sleepTimer(ms, undefined, { signal });
}

/** Network-level failures (DNS, refused, reset, premature close, timeouts) that deserve a retry. */
export function isNetworkError(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  if (err.name === 'AbortError') return false;
  if (err.name === 'TimeoutError') return true;
  const code = (err as { code?: string }).code ?? (err.cause as { code?: string } | undefined)?.code;
  if (
    code &&
    /^(ECONNRESET|ECONNREFUSED|EPIPE|ETIMEDOUT|ENOTFOUND|EAI_AGAIN|EHOSTUNREACH|ENETUNREACH|UND_ERR_\w+|ERR_STREAM_PREMATURE_CLOSE)$/.test(
      code,
    )
  )
    return true;
  return err instanceof TypeError && /fetch failed|terminated|other side closed|socket/i.test(err.message);
}

export interface FetchFailure {
  status: number;
  errorCode: string | null;
  message: string;
  retryAfterSeconds: number | null;
}

/**
 * A fetch that retries network errors, 5xx and 429 (honouring Retry-After up to a cap) with backoff,
 * and remembers the last failed response so callers that go through hub.js can still see the Hub's
 * X-Error-Code. Non-retryable statuses are returned as-is.
 */
export function createRetryingFetch(options: {
  fetch?: typeof fetch;
  policy?: Partial<RetryPolicy>;
  signal?: AbortSignal;
  timeoutMs?: number;
  random?: () => number;
  onRetry?: (info: { url: string; attempt: number; delayMs: number; reason: string }) => void;
}): typeof fetch & { lastFailure: FetchFailure | null } {
  const policy = { ...DEFAULT_RETRY, ...options.policy };
  const base = options.fetch ?? fetch;
  const wrapped = (async (input: Parameters<typeof fetch>[0], init?: RequestInit) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    for (let attempt = 1; ; attempt++) {
      const signals = [options.signal, init?.signal, options.timeoutMs ? AbortSignal.timeout(options.timeoutMs) : undefined].filter(
        (s): s is AbortSignal => s !== undefined && s !== null,
      );
      let res: Response;
      try {
        res = await base(input, { ...init, signal: signals.length > 0 ? AbortSignal.any(signals) : undefined });
      } catch (err) {
        if (attempt >= policy.attempts || !isNetworkError(err) || options.signal?.aborted) throw err;
        const delayMs = backoffDelayMs(attempt, policy, options.random);
        options.onRetry?.({ url, attempt, delayMs, reason: err instanceof Error ? err.message : String(err) });
        await sleep(delayMs, options.signal);
        continue;
      }
      if (res.ok || res.status === 304) {
        wrapped.lastFailure = null;
        return res;
      }
      const retryAfter = parseRetryAfter(res.headers.get('retry-after'));
      wrapped.lastFailure = {
        status: res.status,
        errorCode: res.headers.get('x-error-code'),
        message: res.headers.get('x-error-message') ?? res.statusText,
        retryAfterSeconds: retryAfter,
      };
      const tooLong = res.status === 429 && retryAfter !== null && retryAfter > policy.maxRetryAfterSeconds;
      if (!isRetryableStatus(res.status) || attempt >= policy.attempts || tooLong) return res;
      const delayMs = retryAfter !== null ? retryAfter * 1000 : backoffDelayMs(attempt, policy, options.random);
      await res.body?.cancel();
      options.onRetry?.({ url, attempt, delayMs, reason: `HTTP ${res.status}` });
      await sleep(delayMs, options.signal);
    }
  }) as typeof fetch & { lastFailure: FetchFailure | null };
  wrapped.lastFailure = null;
  return wrapped;
}
