import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ZEngineSample } from '@fleetplane/contracts';
import { parsePrometheusSamples, PromParseError, summariseEngineMetrics, toEngineSample } from './prometheus';

const dir = new URL('../../test/fixtures/', import.meta.url);

describe('vLLM v0 fixture', () => {
  const text = readFileSync(new URL('vllm_v0_metrics_gpu_cache_usage.prom', dir), 'utf8');
  const expected = JSON.parse(readFileSync(new URL('vllm_v0_metrics_gpu_cache_usage.expected.json', dir), 'utf8')) as {
    sample_count: number;
    gauges: Array<{ name: string; labels: Record<string, string>; value: number }>;
    counters: Array<{ name: string; labels: Record<string, string>; value: number }>;
    histograms: Record<string, { buckets: number; sum: number }>;
    engine: string;
    summary: Record<string, unknown>;
  };
  const samples = parsePrometheusSamples(text);

  it('reads every sample, including the truncated histogram', () => {
    expect(samples).toHaveLength(expected.sample_count);
  });

  it('matches every listed gauge and counter with its labels', () => {
    const pick = (type: string) => samples.filter((s) => s.type === type).map((s) => ({ name: s.name, labels: s.labels, value: s.value }));
    expect(pick('gauge')).toEqual(expected.gauges);
    expect(pick('counter')).toEqual(expected.counters);
  });

  it('keeps labelled histogram lines', () => {
    for (const [name, want] of Object.entries(expected.histograms)) {
      const lines = samples.filter((s) => s.family === name && s.type === 'histogram');
      expect(lines.filter((s) => s.name === `${name}_bucket`)).toHaveLength(want.buckets);
      expect(lines.find((s) => s.name === `${name}_sum`)?.value).toBe(want.sum);
      expect(lines.find((s) => s.name === `${name}_sum`)?.labels).toEqual({ model_name: 'Qwen/Qwen2.5-Coder-1.5B-Instruct' });
    }
  });

  it('summarises exactly as expected.json says', () => {
    const [summary, ...rest] = summariseEngineMetrics(samples);
    expect(rest).toHaveLength(0);
    expect(summary!.engine).toBe(expected.engine);
    const s = expected.summary;
    expect(summary).toMatchObject({
      modelName: s.model_name,
      runningRequests: s.num_requests_running,
      waitingRequests: s.num_requests_waiting,
      swappedRequests: s.num_requests_swapped,
      kvCacheUsageFraction: s.kv_cache_usage_fraction,
      kvCacheUsageSourceMetric: s.kv_cache_usage_source_metric,
      numGpuBlocks: s.num_gpu_blocks,
      blockSize: s.block_size,
      promptTokensTotal: 148,
      generationTokensTotal: 955,
      ttftSecondsSum: null, // this excerpt has no TTFT histogram: not reported, not 0
      ttftSecondsCount: null,
    });
    expect(Object.keys(s).sort()).toEqual([
      'block_size',
      'kv_cache_usage_fraction',
      'kv_cache_usage_source_metric',
      'model_name',
      'num_gpu_blocks',
      'num_requests_running',
      'num_requests_swapped',
      'num_requests_waiting',
    ]);
    const wire = toEngineSample(summary!, new Date('2026-01-01T00:00:00Z'));
    expect(ZEngineSample.parse(wire)).toEqual(wire);
  });
});

const V1_TWO_ENGINES = `# HELP vllm:num_requests_running Number of requests in model execution batches.
# TYPE vllm:num_requests_running gauge
vllm:num_requests_running{engine="0",model_name="deepseek-ai/DeepSeek-V4-Flash"} 3.0
vllm:num_requests_running{engine="1",model_name="deepseek-ai/DeepSeek-V4-Flash"} 5.0
# TYPE vllm:num_requests_waiting gauge
vllm:num_requests_waiting{engine="0",model_name="deepseek-ai/DeepSeek-V4-Flash"} 1.0
vllm:num_requests_waiting{engine="1",model_name="deepseek-ai/DeepSeek-V4-Flash"} 0.0
# TYPE vllm:kv_cache_usage_perc gauge
vllm:kv_cache_usage_perc{engine="0",model_name="deepseek-ai/DeepSeek-V4-Flash"} 0.25
vllm:kv_cache_usage_perc{engine="1",model_name="deepseek-ai/DeepSeek-V4-Flash"} 0.75
# TYPE vllm:prompt_tokens_total counter
vllm:prompt_tokens_total{engine="0",model_name="deepseek-ai/DeepSeek-V4-Flash"} 1000.0
vllm:prompt_tokens_total{engine="1",model_name="deepseek-ai/DeepSeek-V4-Flash"} 500.0
# TYPE vllm:prompt_tokens_created gauge
vllm:prompt_tokens_created{engine="0",model_name="deepseek-ai/DeepSeek-V4-Flash"} 1.7e9
# TYPE vllm:generation_tokens_total counter
vllm:generation_tokens_total{engine="0",model_name="deepseek-ai/DeepSeek-V4-Flash"} 4000.0
vllm:generation_tokens_total{engine="1",model_name="deepseek-ai/DeepSeek-V4-Flash"} 2000.0
# HELP vllm:time_to_first_token_seconds Histogram of time to first token in seconds.
# TYPE vllm:time_to_first_token_seconds histogram
vllm:time_to_first_token_seconds_bucket{engine="0",le="0.1",model_name="deepseek-ai/DeepSeek-V4-Flash"} 2.0
vllm:time_to_first_token_seconds_bucket{engine="0",le="+Inf",model_name="deepseek-ai/DeepSeek-V4-Flash"} 10.0
vllm:time_to_first_token_seconds_count{engine="0",model_name="deepseek-ai/DeepSeek-V4-Flash"} 10.0
vllm:time_to_first_token_seconds_sum{engine="0",model_name="deepseek-ai/DeepSeek-V4-Flash"} 4.5
vllm:time_to_first_token_seconds_bucket{engine="1",le="0.1",model_name="deepseek-ai/DeepSeek-V4-Flash"} 1.0
vllm:time_to_first_token_seconds_bucket{engine="1",le="+Inf",model_name="deepseek-ai/DeepSeek-V4-Flash"} 6.0
vllm:time_to_first_token_seconds_count{engine="1",model_name="deepseek-ai/DeepSeek-V4-Flash"} 6.0
vllm:time_to_first_token_seconds_sum{engine="1",model_name="deepseek-ai/DeepSeek-V4-Flash"} 1.5`;

const SGLANG_TP = `# HELP sglang:num_running_reqs The number of running requests.
# TYPE sglang:num_running_reqs gauge
sglang:num_running_reqs{model_name="ds-v4",tp_rank="0",pp_rank="0"} 7.0
sglang:num_running_reqs{model_name="ds-v4",tp_rank="1",pp_rank="0"} 7.0
# TYPE sglang:num_queue_reqs gauge
sglang:num_queue_reqs{model_name="ds-v4",tp_rank="0",pp_rank="0"} 2.0
sglang:num_queue_reqs{model_name="ds-v4",tp_rank="1",pp_rank="0"} 2.0
# TYPE sglang:token_usage gauge
sglang:token_usage{model_name="ds-v4",tp_rank="0",pp_rank="0"} 0.61
sglang:token_usage{model_name="ds-v4",tp_rank="1",pp_rank="0"} 0.61
# TYPE sglang:prompt_tokens_total counter
sglang:prompt_tokens_total{model_name="ds-v4",tp_rank="0",pp_rank="0"} 12345.0
# TYPE sglang:generation_tokens_total counter
sglang:generation_tokens_total{model_name="ds-v4",tp_rank="0",pp_rank="0"} 67890.0
# TYPE sglang:time_to_first_token_seconds histogram
sglang:time_to_first_token_seconds_sum{model_name="ds-v4",tp_rank="0",pp_rank="0"} 30.5
sglang:time_to_first_token_seconds_bucket{le="0.5",model_name="ds-v4",tp_rank="0",pp_rank="0"} 50.0
sglang:time_to_first_token_seconds_bucket{le="+Inf",model_name="ds-v4",tp_rank="0",pp_rank="0"} 100.0
sglang:time_to_first_token_seconds_count{model_name="ds-v4",tp_rank="0",pp_rank="0"} 100.0
`;

describe('engine summaries', () => {
  it('sums vLLM data-parallel engines and averages their KV usage', () => {
    const [s] = summariseEngineMetrics(parsePrometheusSamples(V1_TWO_ENGINES));
    expect(s).toMatchObject({
      engine: 'vllm',
      modelName: 'deepseek-ai/DeepSeek-V4-Flash',
      runningRequests: 8,
      waitingRequests: 1,
      kvCacheUsageFraction: 0.5,
      kvCacheUsageSourceMetric: 'vllm:kv_cache_usage_perc',
      promptTokensTotal: 1500,
      generationTokensTotal: 6000,
      ttftSecondsSum: 6,
      ttftSecondsCount: 16,
      swappedRequests: null,
    });
  });

  it('prefers the new vLLM KV metric when both are exposed', () => {
    const both = `${V1_TWO_ENGINES}\nvllm:gpu_cache_usage_perc{engine="0",model_name="m"} 0.99\n`;
    expect(summariseEngineMetrics(parsePrometheusSamples(both))[0]!.kvCacheUsageSourceMetric).toBe('vllm:kv_cache_usage_perc');
  });

  it('reads SGLang names and does not multiply by tensor-parallel ranks', () => {
    const [s] = summariseEngineMetrics(parsePrometheusSamples(SGLANG_TP));
    expect(s).toMatchObject({
      engine: 'sglang',
      modelName: 'ds-v4',
      runningRequests: 7,
      waitingRequests: 2,
      kvCacheUsageFraction: 0.61,
      kvCacheUsageSourceMetric: 'sglang:token_usage',
      promptTokensTotal: 12345,
      generationTokensTotal: 67890,
      ttftSecondsSum: 30.5,
      ttftSecondsCount: 100,
    });
  });

  it('sums SGLang data-parallel ranks', () => {
    const dp = SGLANG_TP.replace(/tp_rank="1",pp_rank="0"/g, 'tp_rank="0",pp_rank="0",dp_rank="1"');
    expect(summariseEngineMetrics(parsePrometheusSamples(dp))[0]!.runningRequests).toBe(14);
  });

  it('sums TTFT buckets by bound across data-parallel engines (without +Inf, which is the count)', () => {
    const [s] = summariseEngineMetrics(parsePrometheusSamples(V1_TWO_ENGINES));
    expect(s!.ttftBuckets).toEqual([{ le: 0.1, count: 3 }]);
    const [g] = summariseEngineMetrics(parsePrometheusSamples(SGLANG_TP));
    expect(g!.ttftBuckets).toEqual([{ le: 0.5, count: 50 }]);
  });

  it('counts finished and failed requests: vLLM reasons outside stop/length, SGLang aborted requests', () => {
    const vllm = `${V1_TWO_ENGINES}
# TYPE vllm:request_success_total counter
vllm:request_success_total{engine="0",finished_reason="stop",model_name="m"} 90.0
vllm:request_success_total{engine="0",finished_reason="length",model_name="m"} 5.0
vllm:request_success_total{engine="0",finished_reason="abort",model_name="m"} 3.0
vllm:request_success_total{engine="1",finished_reason="error",model_name="m"} 2.0
`;
    expect(summariseEngineMetrics(parsePrometheusSamples(vllm))[0]).toMatchObject({ requestsFinishedTotal: 100, requestsFailedTotal: 5 });
    expect(summariseEngineMetrics(parsePrometheusSamples(V1_TWO_ENGINES))[0]).toMatchObject({
      requestsFinishedTotal: null,
      requestsFailedTotal: null,
    });
    const sglang = `${SGLANG_TP}
# TYPE sglang:num_requests_total counter
sglang:num_requests_total{model_name="ds-v4",tp_rank="0",pp_rank="0"} 40.0
sglang:num_requests_total{model_name="ds-v4",tp_rank="1",pp_rank="0"} 40.0
# TYPE sglang:num_aborted_requests_total counter
sglang:num_aborted_requests_total{model_name="ds-v4",tp_rank="0",pp_rank="0"} 4.0
`;
    expect(summariseEngineMetrics(parsePrometheusSamples(sglang))[0]).toMatchObject({ requestsFinishedTotal: 40, requestsFailedTotal: 4 });
  });

  it('finds nothing in unrelated metrics and refuses non-metrics', () => {
    expect(
      summariseEngineMetrics(parsePrometheusSamples('# TYPE process_cpu_seconds_total counter\nprocess_cpu_seconds_total 12.5\n')),
    ).toEqual([]);
    expect(() => parsePrometheusSamples('<html><body>Not Found</body></html>')).toThrow(PromParseError);
    expect(parsePrometheusSamples('')).toEqual([]);
  });
});
