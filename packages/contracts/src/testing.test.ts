import { describe, expect, it } from 'vitest';
import { ZGpuSample } from './agent/telemetry.schema';
import { ZNodeStateReport } from './agent/commands.schema';
import { exampleGpuSample, exampleNodeStateReport } from './testing';

describe('exampleGpuSample', () => {
  it('is a valid v1 sample, and overrides win', () => {
    const sample = exampleGpuSample({
      uuid: 'GPU-5117a000-1c2d-4e5f-8a9b-0c1d2e3f4a5b',
      sampledAt: '2026-01-01T00:00:00.000Z',
      temperatureC: null,
    });
    expect(ZGpuSample.parse(sample)).toEqual(sample);
    expect(sample.temperatureC).toBeNull();
  });
});

describe('exampleNodeStateReport', () => {
  it('is a valid node state, and overrides win', () => {
    const report = exampleNodeStateReport({ observedAt: new Date('2026-01-01T00:00:00Z'), digest: 'a'.repeat(64), restarts: 3 });
    expect(ZNodeStateReport.parse(report)).toEqual(report);
    expect(report.engine).toMatchObject({ restarts: 3, served: { artifactDigest: 'a'.repeat(64) } });
  });
});
