// Example payloads for tests and benchmarks (`@fleetplane/contracts/testing`): one place that knows what a
// complete, valid reading looks like, so a field added to the contract is added to every builder at once.
import type { TGpuSample } from './agent/telemetry.schema';

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
