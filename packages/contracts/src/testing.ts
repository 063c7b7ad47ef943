// Example payloads for tests and benchmarks (`@fleetplane/contracts/testing`): one place that knows what a
// complete, valid reading looks like, so a field added to the contract is added to every builder at once.
import type { TGpuSample } from './agent/telemetry.schema';
import type { TNodeStateReport } from './agent/commands.schema';

/** A healthy, busy H100 as the agent reports it after one nvidia-smi query; `over` replaces any field. */
export function exampleGpuSample(over: Partial<TGpuSample> & Pick<TGpuSample, 'uuid' | 'sampledAt'>): TGpuSample {
  return {
    index: 0,
    name: 'NVIDIA H100 80GB HBM3',
    pciBusId: '00000000:18:00.0',
    memoryTotalMib: 81559,
    memoryUsedMib: 70_000,
    utilizationGpuPct: 90,
    utilizationMemoryPct: 40,
    temperatureC: 60,
    powerDrawW: 500,
    powerLimitW: 700,
    smClockMhz: 1980,
    eccCorrectedVolatile: 0,
    eccUncorrectedVolatile: 0,
    clocksEventReasons: 0,
    remappedRowsCorrectable: 0,
    remappedRowsUncorrectable: 0,
    remappedRowsPending: false,
    remappedRowsFailure: false,
    ...over,
  };
}

/**
 * A node whose vLLM engine is ready and serves `flash` (no artifact digest), observed now, with an empty
 * model cache; `over` replaces engine fields, `observedAt` and the served artifact's `digest`.
 */
export function exampleNodeStateReport(
  over: Partial<TNodeStateReport['engine']> & { observedAt?: Date; digest?: string | null } = {},
): TNodeStateReport {
  const { observedAt, digest, ...engine } = over;
  return {
    observedAt: (observedAt ?? new Date()).toISOString(),
    engine: {
      state: 'ready',
      kind: 'vllm',
      version: '0.25.0',
      endpointUrl: 'http://127.0.0.1:8000',
      served: {
        modelIds: ['flash'],
        root: '/var/cache/fleetplane/a',
        artifactDigest: digest ?? null,
        maxModelLen: 131072,
        cacheConfig: { block_size: '16' },
      },
      restarts: 0,
      lastError: null,
      lastLoadSeconds: 12.5,
      ...engine,
    },
    cache: { totalBytes: 1000, freeBytes: 500, artifacts: [] },
  };
}
