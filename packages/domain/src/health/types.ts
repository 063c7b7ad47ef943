// Inputs mirror the agent wire contract field for field, so ingest code can pass a parsed sample
// straight in. null always means "the card did not report it" (nvidia-smi [N/A]), never zero.

/** One nvidia-smi sample of one GPU. */
export interface GpuReading {
  sampledAt: Date;
  uuid: string;
  index: number;
  name: string;
  memoryTotalMib: number | null;
  memoryUsedMib: number | null;
  utilizationGpuPct: number | null;
  utilizationMemoryPct: number | null;
  temperatureC: number | null;
  powerDrawW: number | null;
  powerLimitW: number | null;
  smClockMhz: number | null;
  eccCorrectedVolatile: number | null;
  eccUncorrectedVolatile: number | null;
  /** `clocks_event_reasons.active` as an integer (the agent parses the 0x… hex). */
  clocksEventReasons: number | null;
  remappedRowsCorrectable: number | null;
  remappedRowsUncorrectable: number | null;
  remappedRowsPending: boolean | null;
  remappedRowsFailure: boolean | null;
  /**
   * Error markers nvidia-smi printed instead of values (`[GPU requires reset]` for `temperature.gpu`):
   * the GPU is in trouble, unlike a plain null. Absent or empty: none (agents before v1 revision 2).
   */
  errorStates?: ReadonlyArray<{ field: string; marker: string }>;
}

/** A reading with nothing reported but its identity: the base for partial readings (e.g. an ECC history). */
export function unreportedReading(identity: Pick<GpuReading, 'sampledAt' | 'uuid' | 'index' | 'name'>): GpuReading {
  return {
    ...identity,
    memoryTotalMib: null,
    memoryUsedMib: null,
    utilizationGpuPct: null,
    utilizationMemoryPct: null,
    temperatureC: null,
    powerDrawW: null,
    powerLimitW: null,
    smClockMhz: null,
    eccCorrectedVolatile: null,
    eccUncorrectedVolatile: null,
    clocksEventReasons: null,
    remappedRowsCorrectable: null,
    remappedRowsUncorrectable: null,
    remappedRowsPending: null,
    remappedRowsFailure: null,
  };
}

/** One `NVRM: Xid (PCI:…): NN, …` kernel line, already mapped to a GPU when the PCI id matched. */
export interface XidObservation {
  occurredAt: Date;
  xid: number;
  gpuUuid: string | null;
  message: string;
}

/** Same members as the Prisma `HealthStatus` enum. */
export const HEALTH_STATUSES = ['unknown', 'healthy', 'warning', 'critical', 'offline'] as const;
export type HealthStatus = (typeof HEALTH_STATUSES)[number];
/** A GPU cannot be "offline" on its own: offline is a property of the node that reports it. */
export type GpuStatus = Exclude<HealthStatus, 'offline'>;
export type NodeStatus = HealthStatus;
export type ClusterStatus = HealthStatus;

export type ReasonSeverity = 'warning' | 'critical';

/** Stable reason codes. They end up in alert fingerprints, so never rename one. */
export const HEALTH_REASON_CODES = [
  'gpu_error_state',
  'ecc_uncorrected',
  'row_remap_failure',
  'row_remap_pending',
  'xid_critical',
  'temperature_high',
  'thermal_throttle',
  'power_throttle',
  'memory_pressure',
  'ecc_correctable_burst',
  'xid_warning',
  'xid_repeated',
  'no_data',
  'node_offline',
  'node_never_seen',
  'clock_skew',
  'gpu_critical',
  'gpu_warning',
  'gpu_unknown',
] as const;
export type HealthReasonCode = (typeof HEALTH_REASON_CODES)[number];

export interface HealthReason {
  code: HealthReasonCode;
  severity: ReasonSeverity;
  /** Plain English with the numbers, e.g. "Temperature 91 °C ≥ 87 °C". */
  message: string;
  value?: number;
  threshold?: number;
}

export interface HealthResult<TStatus extends HealthStatus> {
  status: TStatus;
  reasons: HealthReason[];
}
