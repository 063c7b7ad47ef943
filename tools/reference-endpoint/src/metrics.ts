import { Counter, Gauge, Histogram, Registry } from 'prom-client';

/** Bucket boundaries (seconds) exactly as vLLM's V1 loggers.py declares them. */
export const TTFT_BUCKETS = [
  0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 20, 40, 80, 160, 640, 2560,
];
export const ITL_BUCKETS = [0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 20, 40, 80];
/** vLLM's request_latency_buckets (from memory of loggers.py; not in the domain reference). */
export const E2E_BUCKETS = [0.3, 0.5, 0.8, 1, 1.5, 2, 2.5, 5, 10, 15, 20, 30, 40, 50, 60, 120, 240, 480, 960, 1920, 7680];

export interface TEngineGauges {
  running(): number;
  waiting(): number;
  kvUsage(): number;
}

/**
 * vLLM's Prometheus metrics on a private registry (so several endpoints in one process do not
 * collide). Labels: model_name and engine (the data-parallel engine index, "0" here).
 */
export class EngineMetrics {
  readonly registry = new Registry();
  private readonly labels: { model_name: string; engine: string };
  private readonly promptTokens: Counter<'model_name' | 'engine'>;
  private readonly generationTokens: Counter<'model_name' | 'engine'>;
  private readonly success: Counter<'model_name' | 'engine' | 'finished_reason'>;
  private readonly ttft;
  private readonly itl;
  private readonly e2e;

  constructor(
    modelName: string,
    gauges: TEngineGauges,
    info: { cacheConfig: Record<string, string> | null; artifact: { root: string; digest: string | null } | null } = {
      cacheConfig: null,
      artifact: null,
    },
  ) {
    this.labels = { model_name: modelName, engine: '0' };
    const labelNames = ['model_name', 'engine'] as const;
    const registers = [this.registry];
    const labels = this.labels;
    new Gauge({
      name: 'vllm:num_requests_running',
      help: 'Number of requests in model execution batches.',
      labelNames,
      registers,
      collect() {
        this.set(labels, gauges.running());
      },
    });
    new Gauge({
      name: 'vllm:num_requests_waiting',
      help: 'Number of requests waiting to be processed.',
      labelNames,
      registers,
      collect() {
        this.set(labels, gauges.waiting());
      },
    });
    new Gauge({
      name: 'vllm:kv_cache_usage_perc',
      help: 'KV-cache usage. 1 means 100 percent usage.',
      labelNames,
      registers,
      collect() {
        this.set(labels, gauges.kvUsage());
      },
    });
    this.promptTokens = new Counter({
      name: 'vllm:prompt_tokens_total',
      help: 'Number of prefill tokens processed.',
      labelNames,
      registers,
    });
    this.generationTokens = new Counter({
      name: 'vllm:generation_tokens_total',
      help: 'Number of generation tokens processed.',
      labelNames,
      registers,
    });
    this.success = new Counter({
      name: 'vllm:request_success_total',
      help: 'Count of successfully processed requests.',
      labelNames: ['model_name', 'engine', 'finished_reason'],
      registers,
    });
    new Counter({
      name: 'vllm:num_preemptions_total',
      help: 'Cumulative number of preemption from the engine.',
      labelNames,
      registers,
    }).inc(labels, 0);
    // zero() creates the labelled series up front, as prometheus_client does, so empty histograms still list their buckets.
    const histogram = (name: string, help: string, buckets: number[]) => {
      const h = new Histogram({ name, help, labelNames, buckets, registers });
      h.zero(labels);
      return h.labels(labels);
    };
    this.ttft = histogram('vllm:time_to_first_token_seconds', 'Histogram of time to first token in seconds.', TTFT_BUCKETS);
    this.itl = histogram('vllm:inter_token_latency_seconds', 'Histogram of inter-token latency in seconds.', ITL_BUCKETS);
    this.e2e = histogram('vllm:e2e_request_latency_seconds', 'Histogram of e2e request latency in seconds.', E2E_BUCKETS);
    if (info.cacheConfig) {
      // vLLM: one label per CacheConfig field (stringified) plus engine, value 1, emitted after engine init.
      const cacheLabels = { ...info.cacheConfig, engine: '0' };
      new Gauge({
        name: 'vllm:cache_config_info',
        help: 'Information of the LLMEngine CacheConfig',
        labelNames: Object.keys(cacheLabels),
        registers,
      }).set(cacheLabels, 1);
    }
    if (info.artifact) {
      // Not a vLLM metric: the stand-in's own statement of what it loaded, for the agent's cross-check.
      new Gauge({
        name: 'reference_endpoint:artifact_info',
        help: 'The artifact directory this reference endpoint serves and its digest',
        labelNames: ['model_name', 'root', 'artifact_digest'],
        registers,
      }).set({ model_name: modelName, root: info.artifact.root, artifact_digest: info.artifact.digest ?? '' }, 1);
    }
    this.promptTokens.inc(labels, 0);
    this.generationTokens.inc(labels, 0);
    for (const reason of ['stop', 'length', 'abort']) this.success.inc({ ...labels, finished_reason: reason }, 0);
  }

  prompt(tokens: number): void {
    this.promptTokens.inc(this.labels, tokens);
  }

  /** One emitted chunk carrying `tokens` tokens, `gapS` seconds after the previous one (spread evenly over its tokens). */
  tokens(tokens: number, gapS: number | null): void {
    if (tokens <= 0) return;
    this.generationTokens.inc(this.labels, tokens);
    if (gapS !== null) for (let i = 0; i < tokens; i += 1) this.itl.observe(gapS / tokens);
  }

  firstToken(ttftS: number): void {
    this.ttft.observe(ttftS);
  }

  finished(reason: string, e2eS: number): void {
    this.success.inc({ ...this.labels, finished_reason: reason });
    this.e2e.observe(e2eS);
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
