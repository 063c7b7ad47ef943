import { describe, expect, it } from 'vitest';
import { ZTelemetryBatch } from '@fleetplane/contracts';
import { SIM_GPU_MODELS, simBatch, simGpuUuid, simPciBusId, simProfileFor, type SimNode } from './fleet-sim';

function node(hostname: string, faultyPerThousand = 2): SimNode {
  return {
    hostname,
    credential: 'x'.repeat(32),
    nodeId: 'n1',
    gpuModel: SIM_GPU_MODELS.h200,
    gpus: Array.from({ length: 8 }, (_, index) => ({
      uuid: simGpuUuid(hostname, index),
      index,
      pciBusId: simPciBusId(index),
      profile: simProfileFor(hostname, index, faultyPerThousand),
    })),
  };
}

describe('fleet simulator batches', () => {
  it('are valid agent API v1 batches (the server parses them with the same schema)', () => {
    for (const host of ['sim-h200-0001', 'sim-h200-0420']) {
      const n = node(host, 1000); // every GPU faulty: every fault shape is exercised
      const batch = simBatch(n, new Date('2026-12-02T10:00:00Z'), { engine: true, xid: true, tokensSoFar: 12_345 });
      const parsed = ZTelemetryBatch.safeParse(batch);
      expect(parsed.success, JSON.stringify(parsed.error?.issues?.slice(0, 3))).toBe(true);
      expect(batch.gpuSamples).toHaveLength(8);
      expect(batch.engineSamples).toHaveLength(1);
    }
  });

  it('gives every GPU a distinct, stable UUID and the board PCI slots', () => {
    const uuids = new Set<string>();
    for (let h = 0; h < 200; h += 1) for (let i = 0; i < 8; i += 1) uuids.add(simGpuUuid(`sim-${h}`, i));
    expect(uuids.size).toBe(1600);
    expect(simGpuUuid('a', 1)).toBe(simGpuUuid('a', 1));
    expect(simPciBusId(0)).toBe('00000000:18:00.0');
    expect(simPciBusId(7)).toBe('00000000:88:00.0');
  });

  it('makes about the asked share of GPUs faulty', () => {
    let faulty = 0;
    for (let h = 0; h < 1000; h += 1) for (let i = 0; i < 8; i += 1) if (simProfileFor(`sim-${h}`, i, 5) !== 'busy') faulty += 1;
    // 5 per thousand of 8,000 = 40; deterministic hashing, so a loose band.
    expect(faulty).toBeGreaterThan(15);
    expect(faulty).toBeLessThan(80);
  });
});
