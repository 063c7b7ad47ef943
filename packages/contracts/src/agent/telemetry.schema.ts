import { z } from 'zod';
import { ZHostname } from '../inventory/node.schema';
import { ZGpuUuid } from '../inventory/gpu.schema';
import {
  MAX_ENGINE_SAMPLES_PER_BATCH,
  MAX_GPU_ERROR_MARKER_LENGTH,
  MAX_GPU_ERROR_STATES,
  MAX_GPU_SAMPLES_PER_BATCH,
  MAX_XID_EVENTS_PER_BATCH,
  MAX_XID_MESSAGE_LENGTH,
  MAX_XID_RAW_LINE_LENGTH,
} from './agent-api';
import { ZNormalisedPciBusId } from './pci-bus-id';
import { ZAgentVersionString } from './enroll.schema';

// Every reading is nullable and null means "not reported" (nvidia-smi printed [N/A], the engine does not
// expose the metric, ...). A real 0 is a reading; the agent must never turn "unknown" into 0.
const reading = <T extends z.ZodType>(schema: T) => schema.nullable();
const count = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const percent = z.number().min(0).max(100);
const timestamp = z.iso.datetime({ message: 'Use an ISO 8601 UTC timestamp such as 2026-01-01T00:00:00.000Z' });

/**
 * A bracketed marker nvidia-smi printed in place of a value that says the GPU is in trouble
 * (`[GPU requires reset]`, `[Unknown Error]`, `[GPU is lost]`, …), as opposed to one that only means
 * "not reported" (`[N/A]`, `[Not Supported]`, …), which is a plain null. The reading itself stays null.
 */
export const ZGpuErrorState = z.strictObject({
  /** The nvidia-smi field (canonical name) that printed the marker, e.g. `temperature.gpu`. */
  field: z.string().min(1).max(128),
  /** Exactly as printed, brackets included. */
  marker: z.string().min(3).max(MAX_GPU_ERROR_MARKER_LENGTH),
});
export type TGpuErrorState = z.infer<typeof ZGpuErrorState>;

export const ZGpuSample = z.strictObject({
  sampledAt: timestamp,
  uuid: ZGpuUuid,
  index: z.number().int().min(0).max(255),
  name: z.string().min(1).max(128),
  pciBusId: ZNormalisedPciBusId,
  memoryTotalMib: reading(z.number().int().min(0).max(4_194_304)),
  memoryUsedMib: reading(z.number().int().min(0).max(4_194_304)),
  utilizationGpuPct: reading(percent),
  utilizationMemoryPct: reading(percent),
  temperatureC: reading(z.number().min(-50).max(150)),
  powerDrawW: reading(z.number().min(0).max(10_000)),
  powerLimitW: reading(z.number().min(0).max(10_000)),
  smClockMhz: reading(z.number().int().min(0).max(10_000)),
  eccCorrectedVolatile: reading(count),
  eccUncorrectedVolatile: reading(count),
  /** NVML clocks-event (throttle) reasons bitmask: 0x1 GpuIdle, 0x4 SwPowerCap, 0x8 HwSlowdown, 0x20 SwThermal, 0x40 HwThermal, 0x80 HwPowerBrake. */
  clocksEventReasons: reading(count),
  remappedRowsCorrectable: reading(count),
  remappedRowsUncorrectable: reading(count),
  remappedRowsPending: reading(z.boolean()),
  remappedRowsFailure: reading(z.boolean()),
  /**
   * Added in v1 revision 2 (optional so older agents' samples stay valid): the error markers of this sample.
   * Absent or empty means none.
   */
  errorStates: z.array(ZGpuErrorState).max(MAX_GPU_ERROR_STATES).optional(),
});
export type TGpuSample = z.infer<typeof ZGpuSample>;

/**
 * `xid`: an `NVRM: Xid (…): NN, …` line. `fallen_off_bus`: a kernel message saying the GPU has fallen off
 * the bus without an Xid line of its own (`NVRM: GPU 0000:3b:00.0: GPU has fallen off the bus.`); it is
 * sent with `xid` 79, the code NVIDIA documents for exactly that fault.
 */
export const XID_EVENT_KINDS = ['xid', 'fallen_off_bus'] as const;
export const ZXidEventKind = z.enum(XID_EVENT_KINDS);
export type TXidEventKind = z.infer<typeof ZXidEventKind>;

/** The Xid NVIDIA documents as "GPU has fallen off the bus": what a `fallen_off_bus` event carries. */
export const FALLEN_OFF_BUS_XID = 79;

export const ZXidEvent = z.strictObject({
  /**
   * From the kernel log's own timestamp when the line has one. When it has none the agent could read
   * (no prefix, a month name it does not know), the time the agent read the line, with `undated: true`.
   */
  occurredAt: timestamp,
  pciBusId: ZNormalisedPciBusId,
  /** Joined on the normalised PCI id; null when the agent does not know which GPU sits there. */
  gpuUuid: ZGpuUuid.nullable(),
  xid: z.number().int().min(1).max(65_535),
  pid: z.number().int().min(0).max(2_147_483_647).nullable(),
  processName: z.string().min(1).max(256).nullable(),
  message: z.string().max(MAX_XID_MESSAGE_LENGTH),
  rawLine: z.string().min(1).max(MAX_XID_RAW_LINE_LENGTH),
  // The fields below were added in v1 revision 2; optional so older agents' batches stay valid.
  /** Absent means `xid`. */
  kind: ZXidEventKind.optional(),
  /** MIG: the GPU instance the line names (`NVRM: Xid (PCI:0000:01:00 GPU-I:05): …` → 5); absent or null otherwise. */
  gpuInstanceId: z.number().int().min(0).max(255).nullable().optional(),
  /** True when the line carried no timestamp the agent could read: `occurredAt` is then only when it was read. */
  undated: z.boolean().optional(),
});
export type TXidEvent = z.infer<typeof ZXidEvent>;

export const ENGINE_KINDS = ['vllm', 'sglang'] as const;
export const ZEngineKind = z.enum(ENGINE_KINDS);
export type TEngineKind = z.infer<typeof ZEngineKind>;

const nonNegative = z.number().min(0).max(Number.MAX_VALUE);

/** One scrape of an engine's /metrics, summed over its data-parallel engines. Counters are cumulative. */
export const ZEngineSample = z.strictObject({
  sampledAt: timestamp,
  engine: ZEngineKind,
  modelName: z.string().min(1).max(256).nullable(),
  runningRequests: reading(nonNegative),
  waitingRequests: reading(nonNegative),
  kvCacheUsageFraction: reading(z.number().min(0).max(1)),
  promptTokensTotal: reading(nonNegative),
  generationTokensTotal: reading(nonNegative),
  ttftSecondsSum: reading(nonNegative),
  ttftSecondsCount: reading(nonNegative),
  // Optional (telemetry v1 revision 3): older agents omit them and still parse. Canary analysis needs them.
  /** Cumulative TTFT histogram buckets without +Inf (that one is ttftSecondsCount), ascending bounds. */
  ttftBuckets: z
    .array(z.strictObject({ le: z.number().positive().max(Number.MAX_VALUE), count: nonNegative }))
    .max(64)
    .nullable()
    .optional(),
  /** Finished requests, cumulative (vLLM request_success_total over every finished_reason; SGLang num_requests_total). */
  requestsFinishedTotal: reading(nonNegative).optional(),
  /** Of those, failed ones (vLLM finished_reason outside stop / length; SGLang num_aborted_requests_total). */
  requestsFailedTotal: reading(nonNegative).optional(),
});
export type TEngineSample = z.infer<typeof ZEngineSample>;

export const ZAgentHostFacts = z.strictObject({
  hostname: ZHostname,
  agentVersion: ZAgentVersionString,
  driverVersion: ZAgentVersionString.nullable(),
  cudaVersion: ZAgentVersionString.nullable(),
});
export type TAgentHostFacts = z.infer<typeof ZAgentHostFacts>;

export const ZTelemetryBatch = z.strictObject({
  /** Idempotency key, fixed when the agent enqueues the batch: a retried batch is acknowledged, not stored twice. */
  batchId: z.uuid(),
  sentAt: timestamp,
  host: ZAgentHostFacts,
  gpuSamples: z.array(ZGpuSample).max(MAX_GPU_SAMPLES_PER_BATCH),
  xidEvents: z.array(ZXidEvent).max(MAX_XID_EVENTS_PER_BATCH),
  engineSamples: z.array(ZEngineSample).max(MAX_ENGINE_SAMPLES_PER_BATCH),
  /** Samples the agent dropped from its full disk queue since its last accepted batch. */
  droppedSamples: count,
  /**
   * Added in v1 revision 2 (optional for older agents): the agent's clock minus the server's, in milliseconds,
   * as last measured from an HTTP response's Date header (positive: the agent is ahead); null before the
   * first measurement. Accurate to about a second.
   */
  clockOffsetMs: z
    .number()
    .int()
    .min(-(2 ** 47))
    .max(2 ** 47)
    .nullable()
    .optional(),
});
export type TTelemetryBatch = z.infer<typeof ZTelemetryBatch>;

/** 200 body. On a duplicate `stored` counts are 0: the first delivery stored them. */
export const ZTelemetryResponse = z.strictObject({
  accepted: z.literal(true),
  duplicate: z.boolean(),
  stored: z.strictObject({
    gpuSamples: count,
    xidEvents: count,
    engineSamples: count,
  }),
});
export type TTelemetryResponse = z.infer<typeof ZTelemetryResponse>;
