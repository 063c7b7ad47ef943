import { describe, expect, it } from 'vitest';
import { ZGpuSample } from '@fleetplane/contracts';
import { exampleGpuSample } from '@fleetplane/contracts/testing';
import { compactSamplesJson, SAMPLE_FIELDS } from './ingest.sql';

describe('compactSamplesJson', () => {
  it('maps every wire field the insert reads to its one-letter key, and nothing else', () => {
    const sample = ZGpuSample.parse({
      sampledAt: '2026-11-22T10:00:00.000Z',
      uuid: 'GPU-5117a000-1c2d-4e5f-8a9b-0c1d2e3f4a5b',
      index: 3,
      name: 'NVIDIA H100 80GB HBM3',
      pciBusId: '00000000:18:00.0',
      memoryTotalMib: 81559,
      memoryUsedMib: 74000,
      utilizationGpuPct: 97,
      utilizationMemoryPct: null,
      temperatureC: 61.5,
      powerDrawW: 612.4,
      powerLimitW: 700,
      smClockMhz: 1980,
      eccCorrectedVolatile: 7,
      eccUncorrectedVolatile: 1,
      clocksEventReasons: 0x48,
      remappedRowsCorrectable: 2,
      remappedRowsUncorrectable: 0,
      remappedRowsPending: true,
      remappedRowsFailure: null,
      errorStates: [{ field: 'temperature.gpu', marker: '[GPU requires reset]' }],
    });
    const [row] = JSON.parse(compactSamplesJson([sample])) as Record<string, unknown>[];
    expect(Object.keys(row!).sort()).toEqual(SAMPLE_FIELDS.map(([key]) => key).sort());
    for (const [key, field] of SAMPLE_FIELDS) expect(row![key], `${key} = ${field}`).toEqual(sample[field]);
  });

  it('leaves the error states out when a sample has none (revision-1 agents, healthy GPUs)', () => {
    const [row] = JSON.parse(
      compactSamplesJson([
        {
          ...exampleGpuSample({ uuid: 'GPU-5117a000-1c2d-4e5f-8a9b-0c1d2e3f4a5b', sampledAt: '2026-11-22T10:00:00.000Z' }),
          errorStates: [],
        },
      ]),
    ) as Record<string, unknown>[];
    expect('r' in row!).toBe(false);
  });
});
