import { describe, expect, it } from 'vitest';
import { fakeH100 } from './index';
import { simulateGpu, type FakeGpuProfile, type SimulatedGpuInput } from './simulate.mjs';

const gpu = (profile: FakeGpuProfile): SimulatedGpuInput => ({ ...fakeH100('sim-node', 0, profile), profile });
const day = Array.from({ length: 2400 }, (_, i) => Date.parse('2026-03-01T00:00:00Z') + i * 36_000);

describe('simulateGpu', () => {
  it('busy GPUs look like a serving node: vLLM-sized memory, bounded util/power/temperature', () => {
    const g = gpu('busy');
    const states = day.map((t) => simulateGpu(g, t));
    for (const s of states) {
      expect(s.util).toBeGreaterThanOrEqual(0);
      expect(s.util).toBeLessThanOrEqual(100);
      expect(s.memUsed / g.memoryTotalMib).toBeGreaterThanOrEqual(0.85);
      expect(s.memUsed / g.memoryTotalMib).toBeLessThanOrEqual(0.93);
      expect(s.temp).toBeGreaterThanOrEqual(40);
      expect(s.temp).toBeLessThanOrEqual(80);
      expect(s.power).toBeGreaterThan(0);
      expect(s.power).toBeLessThanOrEqual(g.powerLimitW);
    }
    expect(new Set(states.map((s) => s.util)).size).toBeGreaterThan(20);
  });

  it('moves smoothly from second to second', () => {
    const g = gpu('busy');
    const t0 = Date.parse('2026-03-01T10:00:00Z');
    for (let i = 0; i < 300; i++) {
      const a = simulateGpu(g, t0 + i * 1000);
      const b = simulateGpu(g, t0 + (i + 1) * 1000);
      expect(Math.abs((a.util ?? 0) - (b.util ?? 0))).toBeLessThanOrEqual(6);
      expect(Math.abs(a.power - b.power)).toBeLessThan(45);
    }
  });

  it('gives each GPU its own curve', () => {
    const t = Date.parse('2026-03-01T10:00:00Z');
    const a = { ...fakeH100('n', 0), profile: 'busy' as const };
    const b = { ...fakeH100('n', 1), profile: 'busy' as const };
    const utilA = day.slice(0, 50).map((d) => simulateGpu(a, d + t).util);
    const utilB = day.slice(0, 50).map((d) => simulateGpu(b, d + t).util);
    expect(utilA).not.toEqual(utilB);
  });

  it('injects the profile faults on every sample', () => {
    for (const t of day.filter((_, i) => i % 50 === 0)) {
      const throttled = simulateGpu(gpu('throttled'), t);
      expect(throttled.reasons & 0x28).toBe(0x28);
      const hot = simulateGpu(gpu('hot'), t);
      expect(hot.temp).toBeGreaterThan(88);
      const ecc = simulateGpu(gpu('ecc-error'), t);
      expect(ecc.eccUncorrected).toBeGreaterThan(0);
      expect(ecc.remapPending).toBe(true);
      const mig = simulateGpu(gpu('mig'), t);
      expect(mig.util).toBeNull();
      expect(mig.memUtil).toBeNull();
      expect(mig.migEnabled).toBe(true);
      const idle = simulateGpu(gpu('idle'), t);
      expect(idle.reasons).toBe(0x1);
      expect(idle.util).toBeLessThanOrEqual(2);
    }
  });
});
