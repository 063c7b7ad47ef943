import { readFile } from 'node:fs/promises';
import { basename, isAbsolute, join } from 'node:path';
import { ARTIFACT_IDENTITY_FILE, ZArtifactIdentityFile, type TSupervisedEngineKind } from '@fleetplane/contracts';
import { HttpError, sendHttp } from '../api/http';
import { parsePrometheusSamples } from '../collectors/prometheus';

/**
 * Talking to the serving engine over its own HTTP API: readiness as each engine really signals it
 * (docs/engine.md, engines-and-rollouts.md §2) and what it says it serves.
 */

export type ProbeResult = { ok: true; status: number; text: string } | { ok: false; status: number | null; reason: string };

export async function probe(
  url: string,
  opts: { timeoutMs: number; method?: 'GET' | 'POST'; body?: unknown; signal?: AbortSignal },
): Promise<ProbeResult> {
  try {
    const res = await sendHttp({
      method: opts.method ?? 'GET',
      url,
      headers: opts.body !== undefined ? { 'content-type': 'application/json' } : {},
      body: opts.body !== undefined ? JSON.stringify(opts.body) : undefined,
      timeoutMs: opts.timeoutMs,
      signal: opts.signal,
      maxResponseBytes: 4 * 1024 * 1024,
    });
    if (res.status >= 200 && res.status < 300) return { ok: true, status: res.status, text: res.text };
    return { ok: false, status: res.status, reason: `HTTP ${res.status}${res.text ? `: ${res.text.slice(0, 200)}` : ''}` };
  } catch (err) {
    return { ok: false, status: null, reason: err instanceof HttpError ? `${err.kind}: ${err.message}` : (err as Error).message };
  }
}

/**
 * The endpoint that says "loaded" for each engine. vLLM refuses connections until up, then /health is
 * 200; SGLang and llama.cpp answer 503 while loading; NIM splits live and ready; mlx-lm's /health is
 * 200 before the model is loaded, so it has none (the 1-token completion is its readiness).
 */
export function readinessPath(kind: TSupervisedEngineKind): string | null {
  switch (kind) {
    case 'nim':
      return '/v1/health/ready';
    case 'mlx':
      return null;
    default:
      return '/health';
  }
}

export interface ModelCard {
  id: string;
  root: string | null;
  maxModelLen: number | null;
}

export function parseModels(text: string): ModelCard[] {
  const body = JSON.parse(text) as { data?: unknown };
  if (!Array.isArray(body.data)) throw new Error('/v1/models has no data list');
  return body.data.flatMap((c: unknown) => {
    if (!c || typeof c !== 'object' || typeof (c as { id?: unknown }).id !== 'string') return [];
    const card = c as { id: string; root?: unknown; max_model_len?: unknown; meta?: { n_ctx_train?: unknown } | null };
    const maxLen =
      typeof card.max_model_len === 'number'
        ? card.max_model_len
        : typeof card.meta?.n_ctx_train === 'number'
          ? card.meta.n_ctx_train
          : null;
    return [
      {
        id: card.id,
        root: typeof card.root === 'string' ? card.root : null,
        maxModelLen: maxLen !== null && Number.isInteger(maxLen) && maxLen >= 0 ? maxLen : null,
      },
    ];
  });
}

/**
 * The artifact digest of a directory: its identity file, or the model cache's completion marker beside it
 * (`<cache>/artifacts/<digest>` with `<digest>.complete.json`, written last, after every file verified).
 * Null when neither says so.
 */
export async function readDirectoryDigest(dir: string): Promise<string | null> {
  if (!isAbsolute(dir)) return null;
  const readDigest = async (file: string) => {
    try {
      const parsed = ZArtifactIdentityFile.pick({ digest: true }).safeParse(JSON.parse(await readFile(file, 'utf8')));
      return parsed.success ? parsed.data.digest : null;
    } catch {
      return null;
    }
  };
  const own = await readDigest(join(dir, ARTIFACT_IDENTITY_FILE));
  if (own) return own;
  const trimmed = dir.replace(/\/+$/, '');
  const marker = await readDigest(`${trimmed}.complete.json`);
  return marker && basename(trimmed) === marker ? marker : null;
}

export interface ServedIdentity {
  modelIds: string[];
  root: string | null;
  artifactDigest: string | null;
  maxModelLen: number | null;
  cacheConfig: Record<string, string> | null;
}

const DIGEST = /^[0-9a-f]{64}$/;

/**
 * What the engine itself says it serves: /v1/models ids, `root` and max_model_len; the artifact digest
 * of the directory `root` names (read from its identity file, so a hand-started engine on another
 * directory shows up as what it is), else an `artifact_digest` metrics label; vLLM's
 * `vllm:cache_config_info` labels. Null when /v1/models does not answer.
 */
export async function readServedIdentity(baseUrl: string, kind: TSupervisedEngineKind, timeoutMs = 5000): Promise<ServedIdentity | null> {
  const models = await probe(`${baseUrl}/v1/models`, { timeoutMs });
  if (!models.ok) return null;
  let cards: ModelCard[];
  try {
    cards = parseModels(models.text);
  } catch {
    return null;
  }
  const root = cards.find((c) => c.root)?.root ?? null;
  let digest = root ? await readDirectoryDigest(root) : null;
  let cacheConfig: Record<string, string> | null = null;
  if (kind !== 'mlx') {
    const metrics = await probe(`${baseUrl}/metrics`, { timeoutMs });
    if (metrics.ok) {
      try {
        for (const s of parsePrometheusSamples(metrics.text)) {
          if (s.family === 'vllm:cache_config_info') {
            cacheConfig = Object.fromEntries(
              Object.entries(s.labels)
                .slice(0, 64)
                .map(([k, v]) => [k.slice(0, 64), v.slice(0, 256)]),
            );
          }
          if (!digest && typeof s.labels.artifact_digest === 'string' && DIGEST.test(s.labels.artifact_digest))
            digest = s.labels.artifact_digest;
        }
      } catch {
        // Metrics that do not parse leave the cache config unknown; the rest of the identity stands.
      }
    }
  }
  return {
    modelIds: cards.map((c) => c.id.slice(0, 256)).slice(0, 64),
    root: root ? root.slice(0, 4096) : null,
    artifactDigest: digest,
    maxModelLen: cards[0]?.maxModelLen ?? null,
    cacheConfig,
  };
}
