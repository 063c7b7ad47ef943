// One reference endpoint per demo cluster, on the port the seed gave it, so a new user can run a
// validation suite from the dashboard and see real numbers without a GPU.
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
