import { describe, expect, it } from 'vitest';
import { MAX_GPU_SAMPLES_PER_BATCH, agentAuthorizationHeader, parseAgentBearer } from './agent-api';
import { ZAgentError, agentErrorBody, toAgentErrorIssues } from './agent-error.schema';
import { ZEnrollRequest, ZEnrollResponse } from './enroll.schema';
import { ZEngineSample, ZGpuSample, ZTelemetryBatch, ZTelemetryResponse, ZXidEvent, type TGpuSample } from './telemetry.schema';

const gpu: TGpuSample = {
  sampledAt: '2026-01-01T00:00:00.000Z',
  uuid: 'GPU-5117a000-1c2d-4e5f-8a9b-0c1d2e3f4a5b',
  index: 0,
  name: 'NVIDIA H100 80GB HBM3',
  pciBusId: '00000000:18:00.0',
  memoryTotalMib: 81559,
  memoryUsedMib: 74000,
  utilizationGpuPct: 97,
  utilizationMemoryPct: null,
  temperatureC: 61,
  powerDrawW: 612.4,
  powerLimitW: 700,
  smClockMhz: 1980,
  eccCorrectedVolatile: 0,
  eccUncorrectedVolatile: 0,
  clocksEventReasons: 0x20,
  remappedRowsCorrectable: 0,
  remappedRowsUncorrectable: 0,
  remappedRowsPending: false,
  remappedRowsFailure: null,
};

const batch = {
  batchId: '0b6a7a8e-3f0e-4d8c-9b1a-2c3d4e5f6a7b',
  sentAt: '2026-01-01T00:00:01.000Z',
  host: { hostname: 'gpu-node-01', agentVersion: '0.1.0', driverVersion: '550.54.15', cudaVersion: '12.4' },
  gpuSamples: [gpu],
  xidEvents: [
    {
      occurredAt: '2026-01-01T00:00:00.500Z',
      pciBusId: '00000000:18:00.0',
      gpuUuid: gpu.uuid,
      xid: 79,
      pid: 1234,
      processName: 'python3',
      message: 'GPU has fallen off the bus.',
      rawLine: 'NVRM: Xid (PCI:0000:18:00): 79, pid=1234, name=python3, GPU has fallen off the bus.',
    },
  ],
  engineSamples: [
    {
      sampledAt: '2026-01-01T00:00:00.000Z',
      engine: 'vllm',
      modelName: 'deepseek-ai/DeepSeek-V4-Flash',
      runningRequests: 3,
      waitingRequests: 0,
      kvCacheUsageFraction: 0.42,
      promptTokensTotal: 148,
      generationTokensTotal: 955,
      ttftSecondsSum: 1.5,
      ttftSecondsCount: 4,
    },
  ],
  droppedSamples: 0,
};

describe('ZTelemetryBatch', () => {
  it('accepts a complete batch', () => {
    expect(ZTelemetryBatch.parse(batch)).toEqual(batch);
  });

  it('is strict: unknown keys anywhere are refused', () => {
    expect(ZTelemetryBatch.safeParse({ ...batch, extra: 1 }).success).toBe(false);
    expect(ZTelemetryBatch.safeParse({ ...batch, gpuSamples: [{ ...gpu, fanSpeedPct: 30 }] }).success).toBe(false);
    expect(ZTelemetryBatch.safeParse({ ...batch, host: { ...batch.host, os: 'linux' } }).success).toBe(false);
  });

  it('requires every reading key, null meaning "not reported"', () => {
    const { temperatureC: _dropped, ...missing } = gpu;
    expect(ZGpuSample.safeParse(missing).success).toBe(false);
    expect(ZGpuSample.safeParse({ ...gpu, temperatureC: null }).success).toBe(true);
  });

  it.each([
    ['utilizationGpuPct', 101],
    ['utilizationGpuPct', -1],
    ['temperatureC', 151],
    ['temperatureC', -51],
    ['memoryUsedMib', 1.5],
    ['clocksEventReasons', -1],
    ['eccUncorrectedVolatile', 0.5],
    ['pciBusId', '0000:18:00'],
    ['uuid', 'GPU-123'],
    ['sampledAt', '2026-01-01 00:00:00'],
    ['remappedRowsPending', 'No'],
  ])('refuses %s = %j', (key, value) => {
    expect(ZGpuSample.safeParse({ ...gpu, [key]: value }).success).toBe(false);
  });

  it('bounds the arrays and the dropped count', () => {
    const many = Array.from({ length: MAX_GPU_SAMPLES_PER_BATCH + 1 }, () => gpu);
    expect(ZTelemetryBatch.safeParse({ ...batch, gpuSamples: many }).success).toBe(false);
    expect(ZTelemetryBatch.safeParse({ ...batch, droppedSamples: -1 }).success).toBe(false);
    expect(ZTelemetryBatch.safeParse({ ...batch, batchId: 'not-a-uuid' }).success).toBe(false);
  });

  it('validates Xid events and engine samples', () => {
    const xid = batch.xidEvents[0]!;
    expect(ZXidEvent.safeParse({ ...xid, pid: null, processName: null, gpuUuid: null }).success).toBe(true);
    expect(ZXidEvent.safeParse({ ...xid, xid: 0 }).success).toBe(false);
    expect(ZXidEvent.safeParse({ ...xid, rawLine: 'x'.repeat(2049) }).success).toBe(false);
    const engine = batch.engineSamples[0]!;
    expect(ZEngineSample.safeParse({ ...engine, kvCacheUsageFraction: 1.2 }).success).toBe(false);
    expect(ZEngineSample.safeParse({ ...engine, engine: 'nim' }).success).toBe(false);
  });
});

describe('v1 revision 2 (error states, MIG instances, undated lines, clock offset)', () => {
  const xid = batch.xidEvents[0]!;

  it('still accepts a revision-1 batch, which has none of the new fields', () => {
    expect(ZTelemetryBatch.safeParse(batch).success).toBe(true);
    expect('clockOffsetMs' in batch).toBe(false);
  });

  it('accepts and bounds the new fields', () => {
    const full = {
      ...batch,
      clockOffsetMs: -1500,
      gpuSamples: [{ ...gpu, temperatureC: null, errorStates: [{ field: 'temperature.gpu', marker: '[GPU requires reset]' }] }],
      xidEvents: [{ ...xid, kind: 'fallen_off_bus', gpuInstanceId: 5, undated: true }],
    };
    expect(ZTelemetryBatch.parse(full)).toEqual(full);
    expect(ZTelemetryBatch.safeParse({ ...batch, clockOffsetMs: null }).success).toBe(true);
    expect(ZTelemetryBatch.safeParse({ ...batch, clockOffsetMs: 1.5 }).success).toBe(false);
    expect(ZGpuSample.safeParse({ ...gpu, errorStates: [{ field: 'temperature.gpu', marker: 'x'.repeat(129) }] }).success).toBe(false);
    expect(ZGpuSample.safeParse({ ...gpu, errorStates: [{ field: 'temperature.gpu', marker: '[X]', extra: 1 }] }).success).toBe(false);
    expect(ZXidEvent.safeParse({ ...xid, kind: 'sxid' }).success).toBe(false);
    expect(ZXidEvent.safeParse({ ...xid, gpuInstanceId: 256 }).success).toBe(false);
    expect(ZXidEvent.safeParse({ ...xid, gpuInstanceId: null }).success).toBe(true);
  });
});

describe('enrollment and responses', () => {
  it('parses enroll request and response', () => {
    expect(
      ZEnrollRequest.safeParse({
        joinToken: 'fpj_abcdefgh',
        hostname: 'gpu-node-01',
        agentVersion: '0.1.0',
        driverVersion: null,
        cudaVersion: null,
      }).success,
    ).toBe(true);
    expect(
      ZEnrollRequest.safeParse({
        joinToken: 'short',
        hostname: 'gpu-node-01',
        agentVersion: '0.1.0',
        driverVersion: null,
        cudaVersion: null,
      }).success,
    ).toBe(false);
    expect(
      ZEnrollResponse.safeParse({ nodeId: 'n1', clusterId: 'c1', credential: 'fpa_0123456789abcdef', reportIntervalSeconds: 10 }).success,
    ).toBe(true);
    expect(
      ZEnrollResponse.safeParse({ nodeId: 'n1', clusterId: 'c1', credential: 'fpa_0123456789abcdef', reportIntervalSeconds: 0 }).success,
    ).toBe(false);
  });

  it('parses the telemetry response', () => {
    expect(
      ZTelemetryResponse.safeParse({ accepted: true, duplicate: true, stored: { gpuSamples: 0, xidEvents: 0, engineSamples: 0 } }).success,
    ).toBe(true);
    expect(
      ZTelemetryResponse.safeParse({ accepted: false, duplicate: false, stored: { gpuSamples: 0, xidEvents: 0, engineSamples: 0 } })
        .success,
    ).toBe(false);
  });

  it('builds error bodies from zod issues', () => {
    const result = ZTelemetryBatch.safeParse({ ...batch, gpuSamples: [{ ...gpu, temperatureC: 400 }] });
    expect(result.success).toBe(false);
    const issues = toAgentErrorIssues(result.error!);
    expect(issues[0]?.path).toBe('gpuSamples.0.temperatureC');
    const body = agentErrorBody('invalid_payload', 'Telemetry batch is invalid', issues);
    expect(ZAgentError.parse(body)).toEqual(body);
    expect(ZAgentError.safeParse({ error: { code: 'teapot', message: 'x' } }).success).toBe(false);
  });

  it('round-trips the bearer header', () => {
    expect(parseAgentBearer(agentAuthorizationHeader('fpa_secret'))).toBe('fpa_secret');
    expect(parseAgentBearer('Basic abc')).toBeNull();
    expect(parseAgentBearer(undefined)).toBeNull();
    expect(parseAgentBearer('Bearer ')).toBeNull();
  });
});
