import type { TEndpointCheck, TRequestSample } from '@fleetplane/contracts';
import { meetsMinimumVersion } from '@fleetplane/domain';
import { chatCompletion, getEndpoint, newRequestId, type TJsonResponse } from '../client/chat-client';
import { cancelledOutcome, clip, sampleFromOutcome, type TCheckEnv, type TCheckOutcome } from './check-env';

interface TStep {
  name: string;
  ok: boolean;
  detail: string;
}

interface TModelEntry {
  id?: unknown;
  max_model_len?: unknown;
}

function getSample(path: string, r: TJsonResponse, startedAt: number, t0: number): TRequestSample {
  return {
    caseId: `GET ${path}`,
    startOffsetMs: Math.max(0, Math.round((startedAt - t0) * 1000) / 1000),
    ttftMs: null,
    itlMs: [],
    e2eMs: Math.round((performance.now() - startedAt) * 1000) / 1000,
    promptTokens: null,
    completionTokens: null,
    ok: r.ok,
    ...(r.error ? { error: clip(r.error, 2000) } : {}),
    ...(r.status !== null ? { httpStatus: r.status } : {}),
  };
}

/**
 * The endpoint serves the expected model, is healthy, runs an engine version at or above the
 * artifact's minimum, and can generate at all.
 */
export async function runEndpointCheck(check: TEndpointCheck, env: TCheckEnv): Promise<TCheckOutcome> {
  const { target, conn } = env;
  const p = check.params;
  const steps: TStep[] = [];
  const samples: TRequestSample[] = [];
  const metrics: Record<string, unknown> = {};
  const total = 2 + (p.requireHealth ? 1 : 0) + (p.probeCompletion ? 1 : 0);
  env.progress.setTotal(total);
  const get = async (path: string) => {
    const at = performance.now();
    const r = await getEndpoint(conn, path);
    samples.push(getSample(path, r, at, env.t0));
    env.progress.tick();
    return r;
  };
  const cancelled = () => env.signal?.aborted === true;

  // 1. The served model name (and its context length) from /v1/models.
  const models = await get('/v1/models');
  if (cancelled()) return cancelledOutcome('the endpoint check', env.progress.snapshot, metrics, samples);
  const data = (models.body as { data?: TModelEntry[] } | null)?.data;
  if (!models.ok || !Array.isArray(data)) {
    steps.push({ name: 'models', ok: false, detail: `/v1/models did not answer with a model list (${models.error ?? 'no "data" array'})` });
  } else {
    const ids = data.map((m) => String(m.id));
    metrics.models = ids;
    const entry = data.find((m) => m.id === target.servedModelName);
    if (!entry) {
      steps.push({
        name: 'models',
        ok: false,
        detail: `/v1/models serves ${ids.map((i) => `"${i}"`).join(', ') || 'no models'}, not "${target.servedModelName}"`,
      });
    } else {
      const maxLen = typeof entry.max_model_len === 'number' ? entry.max_model_len : null;
      metrics.maxModelLen = maxLen;
      steps.push({
        name: 'models',
        ok: true,
        detail: `/v1/models serves "${target.servedModelName}"${maxLen !== null ? ` (max_model_len ${maxLen})` : ''}`,
      });
      if (p.requireMaxModelLenAtLeastClusterMax && maxLen !== null) {
        steps.push({
          name: 'context',
          ok: maxLen >= target.maxContextTokens,
          detail:
            maxLen >= target.maxContextTokens
              ? `max_model_len ${maxLen} covers the cluster's configured ${target.maxContextTokens} tokens`
              : `max_model_len ${maxLen} is below the cluster's configured ${target.maxContextTokens} tokens`,
        });
      }
    }
  }

  // 2. Health: vLLM answers 200 while the engine lives and 503 once it is dead.
  if (p.requireHealth) {
    const health = await get('/health');
    if (cancelled()) return cancelledOutcome('the endpoint check', env.progress.snapshot, metrics, samples);
    metrics.healthStatus = health.status;
    steps.push({
      name: 'health',
      ok: health.status === 200,
      detail: health.status === 200 ? '/health answered 200' : `/health answered ${health.status ?? `nothing (${health.error})`}`,
    });
  }

  // 3. Engine version: /version when the engine has it (vLLM), else the cluster's recorded version.
  const version = await get('/version');
  if (cancelled()) return cancelledOutcome('the endpoint check', env.progress.snapshot, metrics, samples);
  const reported =
    typeof (version.body as { version?: unknown } | null)?.version === 'string' ? (version.body as { version: string }).version : null;
  metrics.reportedVersion = reported;
  if (reported === null && p.requireVersionEndpoint) {
    steps.push({ name: 'version', ok: false, detail: `/version did not report a version (${version.error ?? 'no "version" field'})` });
  }
  const effective = reported ?? target.engineVersion;
  metrics.engineVersion = effective;
  const notes: string[] = [];
  if (reported === null) notes.push(`/version unavailable; using the cluster's recorded engine version ${target.engineVersion}`);
  else if (reported !== target.engineVersion)
    notes.push(`the endpoint reports ${target.engine} ${reported} but the cluster record says ${target.engineVersion}`);
  const minimum = p.minEngineVersion ?? target.minEngineVersion;
  metrics.minEngineVersion = minimum ?? null;
  if (minimum) {
    const req = meetsMinimumVersion(effective, minimum);
    metrics.versionOk = req.ok;
    steps.push({
      name: 'min-version',
      ok: req.ok === true,
      detail: req.ok === null ? `${req.explanation}, so compatibility is unproven` : req.explanation,
    });
  } else {
    notes.push('no minimum engine version was given for this artifact');
  }

  // 4. One tiny generation: a server can answer HTTP while its engine cannot generate.
  if (p.probeCompletion) {
    const o = await chatCompletion(
      conn,
      {
        model: target.servedModelName,
        messages: [{ role: 'user', content: 'Reply with the single word OK.' }],
        max_tokens: 16,
        temperature: 0,
      },
      { requestId: newRequestId('probe') },
    );
    env.progress.tick();
    if (o.aborted === 'cancelled') return cancelledOutcome('the endpoint check', env.progress.snapshot, metrics, samples);
    samples.push({ ...sampleFromOutcome(o, env.t0), caseId: 'probe', got: clip(o.content) });
    metrics.probeOk = o.ok;
    steps.push({
      name: 'probe',
      ok: o.ok,
      detail: o.ok ? `a test completion succeeded in ${Math.round(o.e2eMs ?? 0)} ms` : `a test completion failed: ${o.error}`,
    });
  }

  const passed = steps.filter((s) => s.ok).length;
  const verdict = passed === steps.length ? 'pass' : 'fail';
  metrics.steps = steps;
  const lines = steps.map((s) => `[${s.ok ? 'pass' : 'fail'}] ${s.detail}`);
  for (const n of notes) lines.push(`[note] ${n}`);
  return {
    verdict,
    score: steps.length ? passed / steps.length : null,
    metrics,
    samples,
    explanation: `${verdict === 'pass' ? 'Endpoint OK' : 'Endpoint not OK'}: ${passed} of ${steps.length} checks passed.\n${lines.join('\n')}`,
  };
}
