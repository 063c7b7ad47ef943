import { setMaxListeners } from 'node:events';
import { findNetworkPolicyError, guardedConnection, STRICT_NETWORK_POLICY, type NetworkPolicy, type Resolver } from '@fleetplane/net';
import {
  ZCheckDefinition,
  ZCheckKind,
  ZValidationTarget,
  type TCheckDefinitionInput,
  type TCheckResult,
  type TProgress,
  type TValidationTargetInput,
} from '@fleetplane/contracts';
import { ProgressTracker, type TCheckEnv, type TCheckOutcome } from './checks/check-env';
import { runEndpointCheck } from './checks/endpoint.check';
import { runExactAnswerCheck } from './checks/exact-answer.check';
import { runLongContextCheck } from './checks/long-context.check';
import { runPerformanceCheck } from './checks/performance.check';
import { runReasoningModesCheck } from './checks/reasoning-modes.check';
import { runToolCallingCheck } from './checks/tool-calling.check';

/** The run context: the endpoint to validate plus cancellation and progress hooks. */
export interface TRunContext extends TValidationTargetInput {
  signal?: AbortSignal;
  onProgress?: (p: TProgress) => void;
  /** Where the endpoint may be; strict (no loopback) when not given. */
  network?: NetworkPolicy;
  /** Host name resolver (tests). */
  resolve?: Resolver;
}

/**
 * Resolves and checks the endpoint's host once before a check starts, so a refused endpoint gives one
 * clear explanation instead of a failure per request. (Each connection is still checked when it is made.)
 */
async function endpointRefusal(baseUrl: string, network: NetworkPolicy, resolve: Resolver | undefined): Promise<string | null> {
  try {
    const url = new URL(baseUrl);
    const guard = { policy: network, ...(resolve ? { resolve } : {}) };
    const { host, lookup } = guardedConnection(url, guard);
    await new Promise<void>((ok, fail) => lookup(host, { all: true }, (err) => (err ? fail(err) : ok())));
    return null;
  } catch (err) {
    return findNetworkPolicyError(err)?.message ?? null;
  }
}

function result(
  check: { key: string; kind: TCheckResult['kind']; required: boolean; thresholds: object },
  startedAt: Date,
  t0: number,
  o: TCheckOutcome,
): TCheckResult {
  return {
    key: check.key,
    kind: check.kind,
    required: check.required,
    verdict: o.verdict,
    score: o.score,
    thresholds: { ...check.thresholds },
    metrics: o.metrics,
    samples: o.samples,
    explanation: o.explanation,
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    durationMs: Math.round((performance.now() - t0) * 1000) / 1000,
  };
}

/**
 * Runs one check against the endpoint. Independent and idempotent: it reads only its definition and
 * the context, so a worker can run checks as separate jobs and retry them. Never throws for
 * endpoint trouble or bad input; those become verdict "error" with an explanation.
 */
export async function runCheck(check: TCheckDefinitionInput, ctx: TRunContext): Promise<TCheckResult> {
  const startedAt = new Date();
  const t0 = performance.now();
  const parsedCheck = ZCheckDefinition.safeParse(check);
  const rawKind = ZCheckKind.safeParse((check as { kind?: unknown }).kind);
  const fallback = {
    key: String((check as { key?: unknown }).key ?? 'unknown'),
    kind: rawKind.success ? rawKind.data : ('endpoint' as const),
    required: true,
    thresholds: {},
  };
  if (!parsedCheck.success) {
    return result(fallback, startedAt, t0, {
      verdict: 'error',
      score: null,
      metrics: {},
      samples: [],
      explanation: `Invalid check definition: ${parsedCheck.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`,
    });
  }
  const def = parsedCheck.data;
  const { signal, onProgress, network = STRICT_NETWORK_POLICY, resolve, ...plain } = ctx;
  const parsedTarget = ZValidationTarget.safeParse(plain);
  if (!parsedTarget.success) {
    return result(def, startedAt, t0, {
      verdict: 'error',
      score: null,
      metrics: {},
      samples: [],
      explanation: `Invalid run context: ${parsedTarget.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`,
    });
  }
  const target = parsedTarget.data;
  if (signal?.aborted)
    return result(def, startedAt, t0, {
      verdict: 'skipped',
      score: null,
      metrics: { cancelled: true },
      samples: [],
      explanation: 'Cancelled before the check started; no verdict.',
    });
  const refusal = await endpointRefusal(target.baseUrl, network, resolve);
  if (refusal)
    return result(def, startedAt, t0, {
      verdict: 'error',
      score: null,
      metrics: { refusedByNetworkPolicy: true },
      samples: [],
      explanation: `Not run: the endpoint was ${refusal}.`,
    });
  // One listener on the caller's signal per check; every request listens on this internal one
  // (hundreds at a time under load, hence no listener limit).
  const internal = new AbortController();
  setMaxListeners(0, internal.signal);
  const forward = () => internal.abort(signal?.reason);
  signal?.addEventListener('abort', forward, { once: true });
  const env: TCheckEnv = {
    target,
    conn: {
      baseUrl: target.baseUrl,
      apiKey: target.apiKey,
      timeoutMs: target.requestTimeoutMs,
      signal: internal.signal,
      network,
      ...(resolve ? { resolve } : {}),
    },
    signal: internal.signal,
    t0,
    progress: new ProgressTracker(onProgress),
  };
  try {
    let outcome: TCheckOutcome;
    switch (def.kind) {
      case 'endpoint':
        outcome = await runEndpointCheck(def, env);
        break;
      case 'exact_answer':
        outcome = await runExactAnswerCheck(def, env);
        break;
      case 'long_context':
        outcome = await runLongContextCheck(def, env);
        break;
      case 'tool_calling':
        outcome = await runToolCallingCheck(def, env);
        break;
      case 'reasoning_modes':
        outcome = await runReasoningModesCheck(def, env);
        break;
      case 'performance':
        outcome = await runPerformanceCheck(def, env);
        break;
    }
    return result(def, startedAt, t0, outcome);
  } catch (err) {
    return result(def, startedAt, t0, {
      verdict: 'error',
      score: null,
      metrics: {},
      samples: [],
      explanation: `The check crashed: ${(err as Error).stack ?? String(err)}`,
    });
  } finally {
    signal?.removeEventListener('abort', forward);
  }
}
