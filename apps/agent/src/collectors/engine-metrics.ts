import type { TEngineSample } from '@fleetplane/contracts';
import { HttpError, sendHttp } from '../api/http';
import { parsePrometheusSamples, summariseEngineMetrics, toEngineSample } from './prometheus';

export const ENGINE_METRICS_TIMEOUT_MS = 5000;
const MAX_METRICS_BYTES = 16 * 1024 * 1024;

export interface EngineCollection {
  samples: TEngineSample[];
  error: string | null;
}

/** Scrapes a vLLM or SGLang `/metrics` endpoint once. Never throws: failures come back as `error`. */
export async function collectEngineMetrics(
  url: string,
  now: Date = new Date(),
  timeoutMs = ENGINE_METRICS_TIMEOUT_MS,
): Promise<EngineCollection> {
  let text: string;
  try {
    const response = await sendHttp({
      method: 'GET',
      url,
      headers: { accept: 'text/plain;version=0.0.4' },
      timeoutMs,
      maxResponseBytes: MAX_METRICS_BYTES,
    });
    if (response.status !== 200) return { samples: [], error: `engine metrics at ${url} answered HTTP ${response.status}` };
    text = response.text;
  } catch (err) {
    const reason = err instanceof HttpError && err.kind === 'too_large' ? 'larger than 16 MiB; ignored' : (err as Error).message;
    return { samples: [], error: `cannot scrape engine metrics at ${url}: ${reason}` };
  }
  try {
    const summaries = summariseEngineMetrics(parsePrometheusSamples(text));
    if (summaries.length === 0)
      return {
        samples: [],
        error: `${url} serves no vllm:* or sglang:* metrics (is it the engine's /metrics? SGLang needs --enable-metrics)`,
      };
    return { samples: summaries.map((s) => toEngineSample(s, now)), error: null };
  } catch (err) {
    return { samples: [], error: `engine metrics at ${url} could not be parsed: ${(err as Error).message}` };
  }
}
