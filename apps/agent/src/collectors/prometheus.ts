import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import type { TEngineKind, TEngineSample } from '@fleetplane/contracts';

export type PromType = 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';

/** One exposition line: `name{labels} value`. Histogram lines keep their `_bucket`/`_sum`/`_count` names. */
export interface PromSample {
  name: string;
  /** The family the sample belongs to (the histogram's base name for its `_bucket`/`_sum`/`_count` lines). */
  family: string;
  type: PromType;
  labels: Record<string, string>;
  value: number;
}

export class PromParseError extends Error {
  override readonly name = 'PromParseError';
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const COMPOSITE_TYPE = /^#\s+TYPE\s+(\S+)\s+(histogram|summary)\s*$/i;

function parseValue(raw: string | undefined): number | null {
  if (raw === undefined) return null;
  if (/^\+?Inf$/i.test(raw)) return Infinity;
  if (/^-Inf$/i.test(raw)) return -Infinity;
  if (/^NaN$/i.test(raw)) return NaN;
  const n = Number(raw);
  return raw.trim() !== '' && !Number.isNaN(n) ? n : null;
}

/**
 * Parses Prometheus text into flat samples with parse-prometheus-text-format. That library folds a
 * histogram's label sets together and drops labelled `_sum`/`_count` lines (every vLLM histogram has a
 * `model_name` label), so histogram and summary families are declared `untyped` before parsing and their
 * lines come through one by one; the real type is restored afterwards.
 */
export function parsePrometheusSamples(text: string): PromSample[] {
  const composite = new Map<string, PromType>();
  const rewritten = text
    .split('\n')
    .map((line) => {
      const match = COMPOSITE_TYPE.exec(line.trim());
      if (!match) return line;
      composite.set(match[1]!, match[2]!.toLowerCase() as PromType);
      return `# TYPE ${match[1]} untyped`;
    })
    .join('\n');
  let families;
  try {
    // The library drops the final sample when the text does not end with a newline.
    families = parsePrometheusTextFormat(`${rewritten}\n`);
  } catch (err) {
    throw new PromParseError(`not Prometheus text format: ${(err as Error).message}`);
  }
  const samples: PromSample[] = [];
  let rejected = 0;
  for (const family of families) {
    if (!METRIC_NAME.test(family.name)) {
      rejected += family.metrics.length;
      continue;
    }
    const base = family.name.replace(/_(bucket|sum|count)$/, '');
    const compositeType = composite.get(family.name) ?? (base !== family.name ? composite.get(base) : undefined);
    for (const metric of family.metrics) {
      const value = parseValue(metric.value);
      if (value === null) {
        rejected++;
        continue;
      }
      samples.push({
        name: family.name,
        family: compositeType ? (composite.has(family.name) ? family.name : base) : family.name,
        type: compositeType ?? (family.type.toLowerCase() as PromType),
        labels: metric.labels ?? {},
        value,
      });
    }
  }
  if (samples.length === 0 && rejected > 0) throw new PromParseError('no valid samples: the response is not Prometheus text format');
  return samples;
}

// Labels that repeat one scheduler's numbers across its tensor/pipeline/expert-parallel ranks: a series
// that differs only in these is a copy, not more traffic. `engine` (vLLM data-parallel index) and
// `dp_rank` (SGLang) are independent schedulers and are summed.
const REPLICA_LABELS = ['tp_rank', 'pp_rank', 'moe_ep_rank', 'attn_tp_rank'];

function seriesKey(labels: Record<string, string>, drop: readonly string[]): string {
  return Object.keys(labels)
    .filter((k) => !drop.includes(k))
    .sort()
    .map((k) => `${k}=${labels[k]}`)
    .join(',');
}

/** Per independent scheduler, one value (lowest replica rank wins); null when the metric is absent. */
function perScheduler(samples: readonly PromSample[], name: string): number[] | null {
  const chosen = new Map<string, { rank: number; value: number }>();
  for (const s of samples) {
    if (s.name !== name || !Number.isFinite(s.value)) continue;
    const key = seriesKey(s.labels, REPLICA_LABELS);
    const rank = REPLICA_LABELS.reduce((acc, l) => acc * 1000 + Number(s.labels[l] ?? 0), 0);
    const current = chosen.get(key);
    if (!current || rank < current.rank) chosen.set(key, { rank, value: s.value });
  }
  return chosen.size === 0 ? null : [...chosen.values()].map((c) => c.value);
}

const sum = (values: number[] | null) => (values === null ? null : values.reduce((a, b) => a + b, 0));
const mean = (values: number[] | null) => (values === null ? null : values.reduce((a, b) => a + b, 0) / values.length);

function first(
  samples: readonly PromSample[],
  names: readonly string[],
  reduce: (v: number[] | null) => number | null,
): { value: number | null; source: string | null } {
  for (const name of names) {
    const value = reduce(perScheduler(samples, name));
    if (value !== null) return { value, source: name };
  }
  return { value: null, source: null };
}

const NAMES = {
  vllm: {
    running: ['vllm:num_requests_running'],
    waiting: ['vllm:num_requests_waiting'],
    swapped: ['vllm:num_requests_swapped'],
    kv: ['vllm:kv_cache_usage_perc', 'vllm:gpu_cache_usage_perc'],
    prompt: ['vllm:prompt_tokens_total'],
    generation: ['vllm:generation_tokens_total'],
    ttft: 'vllm:time_to_first_token_seconds',
  },
  sglang: {
    running: ['sglang:num_running_reqs'],
    waiting: ['sglang:num_queue_reqs'],
    swapped: [],
    kv: ['sglang:token_usage'],
    prompt: ['sglang:prompt_tokens_total'],
    generation: ['sglang:generation_tokens_total'],
    ttft: 'sglang:time_to_first_token_seconds',
  },
} as const;

export interface EngineMetricsSummary {
  engine: TEngineKind;
  modelName: string | null;
  runningRequests: number | null;
  waitingRequests: number | null;
  swappedRequests: number | null;
  kvCacheUsageFraction: number | null;
  /** Which metric the KV usage came from (vLLM renamed it). */
  kvCacheUsageSourceMetric: string | null;
  promptTokensTotal: number | null;
  generationTokensTotal: number | null;
  ttftSecondsSum: number | null;
  ttftSecondsCount: number | null;
  /** Finite TTFT buckets (cumulative, summed over schedulers), ascending; null when the engine has none. */
  ttftBuckets: { le: number; count: number }[] | null;
  requestsFinishedTotal: number | null;
  requestsFailedTotal: number | null;
  /** From vLLM's cache_config_info labels. */
  numGpuBlocks: number | null;
  blockSize: number | null;
}

/** A histogram's finite buckets, each bound summed over schedulers (the `sum by (le)` of PromQL). */
function histogramBuckets(samples: readonly PromSample[], name: string): { le: number; count: number }[] | null {
  const byLe = new Map<number, PromSample[]>();
  for (const s of samples) {
    if (s.name !== name || s.labels.le === undefined) continue;
    const le = s.labels.le === '+Inf' ? Infinity : Number(s.labels.le);
    if (!Number.isFinite(le) || le <= 0) continue;
    byLe.set(le, [...(byLe.get(le) ?? []), s]);
  }
  if (byLe.size === 0) return null;
  return [...byLe.entries()]
    .sort((a, b) => a[0] - b[0])
    .slice(0, 64)
    .map(([le, group]) => ({ le, count: sum(perScheduler(group, name)) ?? 0 }));
}

// vLLM counts every finished request in request_success_total by finished_reason; those that did not end
// normally (abort, error, ...) are the failures (engines-and-rollouts §4).
const NORMAL_FINISH = new Set(['stop', 'length']);

function requestCounters(engine: TEngineKind, own: readonly PromSample[]): { finished: number | null; failed: number | null } {
  if (engine === 'vllm') {
    const all = own.filter((s) => s.name === 'vllm:request_success_total');
    if (all.length === 0) return { finished: null, failed: null };
    const failed = all.filter((s) => !NORMAL_FINISH.has(s.labels.finished_reason ?? ''));
    return {
      finished: sum(perScheduler(all, 'vllm:request_success_total')),
      failed: failed.length ? sum(perScheduler(failed, 'vllm:request_success_total')) : 0,
    };
  }
  const finished = sum(perScheduler(own, 'sglang:num_requests_total'));
  return { finished, failed: finished === null ? null : (sum(perScheduler(own, 'sglang:num_aborted_requests_total')) ?? 0) };
}

/** The engines present in a scrape, each summarised over its data-parallel schedulers. */
export function summariseEngineMetrics(samples: readonly PromSample[]): EngineMetricsSummary[] {
  const out: EngineMetricsSummary[] = [];
  for (const engine of ['vllm', 'sglang'] as const) {
    const own = samples.filter((s) => s.name.startsWith(`${engine}:`));
    if (own.length === 0) continue;
    const n = NAMES[engine];
    const kv = first(own, n.kv, mean);
    const info = own.find((s) => s.name === 'vllm:cache_config_info')?.labels;
    const intLabel = (v: string | undefined) => (v !== undefined && /^\d+$/.test(v) ? Number(v) : null);
    const requests = requestCounters(engine, own);
    out.push({
      engine,
      modelName: own.find((s) => s.labels.model_name)?.labels.model_name?.slice(0, 256) || null,
      runningRequests: first(own, n.running, sum).value,
      waitingRequests: first(own, n.waiting, sum).value,
      swappedRequests: first(own, n.swapped, sum).value,
      // Fractions of per-scheduler pools of equal size: average them; clamp float noise.
      kvCacheUsageFraction: kv.value === null ? null : Math.min(1, Math.max(0, kv.value)),
      kvCacheUsageSourceMetric: kv.source,
      promptTokensTotal: first(own, n.prompt, sum).value,
      generationTokensTotal: first(own, n.generation, sum).value,
      ttftSecondsSum: sum(perScheduler(own, `${n.ttft}_sum`)),
      ttftSecondsCount: sum(perScheduler(own, `${n.ttft}_count`)),
      ttftBuckets: histogramBuckets(own, `${n.ttft}_bucket`),
      requestsFinishedTotal: requests.finished,
      requestsFailedTotal: requests.failed,
      numGpuBlocks: intLabel(info?.num_gpu_blocks),
      blockSize: intLabel(info?.block_size),
    });
  }
  return out;
}

export function toEngineSample(summary: EngineMetricsSummary, sampledAt: Date): TEngineSample {
  const nonNegative = (v: number | null) => (v === null || !Number.isFinite(v) || v < 0 ? null : v);
  return {
    sampledAt: sampledAt.toISOString(),
    engine: summary.engine,
    modelName: summary.modelName,
    runningRequests: nonNegative(summary.runningRequests),
    waitingRequests: nonNegative(summary.waitingRequests),
    kvCacheUsageFraction: summary.kvCacheUsageFraction,
    promptTokensTotal: nonNegative(summary.promptTokensTotal),
    generationTokensTotal: nonNegative(summary.generationTokensTotal),
    ttftSecondsSum: nonNegative(summary.ttftSecondsSum),
    ttftSecondsCount: nonNegative(summary.ttftSecondsCount),
    ttftBuckets: summary.ttftBuckets,
    requestsFinishedTotal: nonNegative(summary.requestsFinishedTotal),
    requestsFailedTotal: nonNegative(summary.requestsFailedTotal),
  };
}
