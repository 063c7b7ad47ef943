// Builders for the health tests (not exported from the package).
import { unreportedReading, type GpuReading, type XidObservation } from './types';

export const UUID = 'GPU-5117a000-1c2d-4e5f-8a9b-0c1d2e3f4a5b';
export const OTHER_UUID = 'GPU-00000000-1111-2222-3333-444444444444';
export const NOW = new Date('2026-05-01T12:00:00.000Z');

export function secondsBefore(seconds: number, from: Date = NOW): Date {
  return new Date(from.getTime() - seconds * 1000);
}

/** A healthy, busy H100 serving under vLLM (--gpu-memory-utilization 0.9), sampled 5 s ago. */
export function makeReading(overrides: Partial<GpuReading> = {}): GpuReading {
  return {
    sampledAt: secondsBefore(5),
    uuid: UUID,
    index: 0,
    name: 'NVIDIA H100 80GB HBM3',
    memoryTotalMib: 81559,
    memoryUsedMib: 74100,
    utilizationGpuPct: 96,
    utilizationMemoryPct: 41,
    temperatureC: 64,
    powerDrawW: 512.4,
    powerLimitW: 700,
    smClockMhz: 1980,
    eccCorrectedVolatile: 0,
    eccUncorrectedVolatile: 0,
    clocksEventReasons: 0,
    remappedRowsCorrectable: 0,
    remappedRowsUncorrectable: 0,
    remappedRowsPending: false,
    remappedRowsFailure: false,
    ...overrides,
  };
}

/** Every optional field unreported, as on a card printing [N/A] everywhere. */
export function makeBareReading(overrides: Partial<GpuReading> = {}): GpuReading {
  const { sampledAt, uuid, index, name } = makeReading();
  return { ...unreportedReading({ sampledAt, uuid, index, name }), ...overrides };
}

export function makeXid(xid: number, secondsAgo: number, overrides: Partial<XidObservation> = {}): XidObservation {
  return { occurredAt: secondsBefore(secondsAgo), xid, gpuUuid: UUID, message: `test XID ${xid}`, ...overrides };
}

/**
 * Values transcribed from the real nvidia-smi captures in /work/shared/fixtures (the *.expected.json
 * rows), so the rules are checked against what real cards print, not only against our own builders.
 */
export const CAPTURED: Record<string, Partial<GpuReading>> = {
  // smi_h100_sxm_1gpu_wide_idle: idle H100, mask 0x1 (GpuIdle), remapped rows reported as No/No.
  h100Idle: {
    name: 'NVIDIA H100 80GB HBM3',
    memoryTotalMib: 81559,
    memoryUsedMib: 0,
    utilizationGpuPct: 0,
    utilizationMemoryPct: 0,
    temperatureC: 41,
    powerDrawW: 69.85,
    powerLimitW: 700,
    smClockMhz: 345,
    clocksEventReasons: 0x1,
    eccCorrectedVolatile: 0,
    eccUncorrectedVolatile: 0,
    remappedRowsCorrectable: 0,
    remappedRowsUncorrectable: 0,
    remappedRowsPending: false,
    remappedRowsFailure: false,
  },
  // smi_h100_mig_enabled_wide_load: MIG on, utilisation [N/A].
  h100MigLoad: {
    name: 'NVIDIA H100 80GB HBM3',
    memoryTotalMib: 81559,
    memoryUsedMib: 11125,
    utilizationGpuPct: null,
    utilizationMemoryPct: null,
    temperatureC: 53,
    powerDrawW: 433.78,
    powerLimitW: 700,
    smClockMhz: 1980,
    clocksEventReasons: 0,
    eccCorrectedVolatile: 0,
    eccUncorrectedVolatile: 0,
    remappedRowsCorrectable: null,
    remappedRowsUncorrectable: null,
    remappedRowsPending: null,
    remappedRowsFailure: null,
  },
  // smi_rtx2080super_swpowercap_wide_idle: SwPowerCap (0x4) set while idling at 39 W of 250 W.
  rtx2080SwPowerCapIdle: {
    name: 'NVIDIA GeForce RTX 2080 SUPER',
    memoryTotalMib: 8192,
    memoryUsedMib: 214,
    utilizationGpuPct: 0,
    utilizationMemoryPct: 9,
    temperatureC: 40,
    powerDrawW: 39.32,
    powerLimitW: 250,
    smClockMhz: 765,
    clocksEventReasons: 0x4,
    eccCorrectedVolatile: null,
    eccUncorrectedVolatile: null,
    remappedRowsCorrectable: null,
    remappedRowsUncorrectable: null,
    remappedRowsPending: null,
    remappedRowsFailure: null,
  },
  // smi_rtx4080super_wide_load: consumer card under load, no remap support.
  rtx4080Load: {
    name: 'NVIDIA GeForce RTX 4080 SUPER',
    memoryTotalMib: 16376,
    memoryUsedMib: 1474,
    utilizationGpuPct: 7,
    utilizationMemoryPct: 2,
    temperatureC: 46,
    powerDrawW: 84.24,
    powerLimitW: 320,
    smClockMhz: 2805,
    clocksEventReasons: 0,
    eccCorrectedVolatile: null,
    eccUncorrectedVolatile: null,
    remappedRowsCorrectable: null,
    remappedRowsUncorrectable: null,
    remappedRowsPending: null,
    remappedRowsFailure: null,
  },
};
