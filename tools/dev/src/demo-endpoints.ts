// One reference endpoint per demo cluster, on the port the seed gave it, so a new user can run a
// validation suite from the dashboard and see real numbers without a GPU.
import { setTimeout as sleep } from 'node:timers/promises';
import { startReferenceEndpoint, type TReferenceEndpoint } from '@fleetplane/reference-endpoint';
import { DEMO_CLUSTERS } from './seed-demo-fleet';

/** Quick enough that `smoke` finishes in well under a minute, slow enough for visible latency curves. */
export const DEMO_TIMING = { ttftBaseMs: 25, prefillMsPer1kTokens: 1, itlMs: 2, streamInterval: 1 } as const;

export interface DemoEndpoints {
  endpoints: { cluster: string; url: string }[];
  /** Ports that were already taken (e.g. a second `npm start`); those clusters just show endpoint errors. */
  skipped: { cluster: string; port: number; reason: string }[];
  close(): Promise<void>;
}

export async function startDemoEndpoints(opts: { host?: string } = {}): Promise<DemoEndpoints> {
  const started: { cluster: string; ep: TReferenceEndpoint }[] = [];
  const skipped: DemoEndpoints['skipped'] = [];
  for (const c of DEMO_CLUSTERS) {
    try {
      const ep = await startReferenceEndpoint({
        host: opts.host ?? '127.0.0.1',
        port: c.endpointPort,
        servedModelName: c.servedModelName,
        // The reference server speaks vLLM's or SGLang's dialect; other engines get vLLM's, which they mimic.
        engine: c.engine === 'sglang' ? 'sglang' : 'vllm',
        engineVersion: c.engineVersion,
        maxModelLen: c.maxContextTokens,
        // A KV cache sized so the demo's light traffic shows on the dashboard's KV gauge (a real cache of a
        // few million tokens would read ~0% under a handful of chat requests).
        kvCacheTokens: 4096,
        timing: DEMO_TIMING,
      });
      started.push({ cluster: c.name, ep });
    } catch (e) {
      skipped.push({ cluster: c.name, port: c.endpointPort, reason: (e as Error).message });
    }
  }
  return {
    endpoints: started.map((s) => ({ cluster: s.cluster, url: s.ep.url })),
    skipped,
    close: async () => {
      await Promise.all(started.map((s) => s.ep.close()));
    },
  };
}

const DEMO_PROMPTS = [
  'Summarise the trade-offs of FP8 versus FP4 weights for DeepSeek V4 Flash on Hopper GPUs.',
  'Write a haiku about a GPU that keeps throttling.',
  'Explain tensor parallelism to a new SRE in three sentences.',
  'List five checks to run before rolling out a new model revision.',
];

/** A shared context of a few hundred words, so each request holds a realistic slice of the KV cache. */
const DEMO_CONTEXT = Array.from(
  { length: 40 },
  (_, i) =>
    `Runbook entry ${i + 1}: drain the node, check nvidia-smi for Xid and ECC counters, compare TTFT p99 with the baseline, then return the node to the pool.`,
).join(' ');

/**
 * Steady chat traffic to each demo endpoint that answers, so tokens/s, KV-cache use and running
 * requests move on the dashboard too (the agents scrape these endpoints' /metrics). Two clients per
 * endpoint, each sending a request with a long shared context and a few hundred output tokens, then
 * pausing 0.3–1.5 s. Non-streaming: the reference server then costs one timer per request, which keeps
 * the demo light on a small machine. Returns a stop function.
 */
export function startDemoTraffic(say: (msg: string) => void): () => Promise<void> {
  const stop = new AbortController();
  const pause = (ms: number) =>
    sleep(ms, undefined, { signal: stop.signal }).then(
      () => true,
      () => false,
    );
  const loops = DEMO_CLUSTERS.flatMap((c, i) =>
    [0, 1].map(async (client) => {
      const url = `http://127.0.0.1:${c.endpointPort}/v1/chat/completions`;
      let failures = 0;
      while (await pause(300 + Math.random() * 1200)) {
        try {
          const res = await fetch(url, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({
              model: c.servedModelName,
              messages: [
                { role: 'system', content: DEMO_CONTEXT.slice(0, 2000 + Math.floor(Math.random() * 3000)) },
                { role: 'user', content: DEMO_PROMPTS[(i + client + Math.floor(Math.random() * 4)) % DEMO_PROMPTS.length] },
              ],
              max_tokens: 300 + Math.floor(Math.random() * 600),
              // vLLM's extension, honoured by the reference server: generate max_tokens, like a long answer.
              ignore_eos: true,
            }),
            signal: AbortSignal.any([stop.signal, AbortSignal.timeout(30_000)]),
          });
          await res.arrayBuffer();
          failures = 0;
        } catch {
          if (stop.signal.aborted) break;
          // No endpoint on this port (or it stopped): back off quietly, keep trying now and then.
          failures += 1;
          if (failures === 3 && client === 0)
            say(`demo: no inference endpoint answers on port ${c.endpointPort}; ${c.name} shows GPU telemetry only`);
          if (!(await pause(Math.min(60_000, 2000 * failures)))) break;
        }
      }
    }),
  );
  return async () => {
    stop.abort();
    await Promise.allSettled(loops);
  };
}
