import { describe, expect, it } from 'vitest';
import { runPool } from './pool';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('runPool', () => {
  it('never runs more than `workers` items at once and keeps result order', async () => {
    let inFlight = 0;
    let max = 0;
    let settled = 0;
    const { results, started, cancelled } = await runPool(
      Array.from({ length: 20 }, (_, i) => i),
      async (i) => {
        inFlight += 1;
        max = Math.max(max, inFlight);
        await sleep(5 + (i % 3));
        inFlight -= 1;
        return i * 2;
      },
      { workers: 3, onSettled: () => (settled += 1) },
    );
    expect(max).toBe(3);
    expect(results).toEqual(Array.from({ length: 20 }, (_, i) => i * 2));
    expect(started).toBe(20);
    expect(settled).toBe(20);
    expect(cancelled).toBe(false);
  });

  it('stops starting work once the signal aborts', async () => {
    const ac = new AbortController();
    const { results, cancelled } = await runPool(
      Array.from({ length: 100 }, (_, i) => i),
      async (i) => {
        if (i === 4) ac.abort();
        await sleep(1);
        return i;
      },
      { workers: 2, signal: ac.signal },
    );
    expect(cancelled).toBe(true);
    expect(results.filter((r) => r !== undefined).length).toBeLessThan(10);
  });

  it('stops starting work after the deadline', async () => {
    const { started } = await runPool(
      Array.from({ length: 1000 }, (_, i) => i),
      () => sleep(5),
      { workers: 2, deadline: performance.now() + 30 },
    );
    expect(started).toBeGreaterThan(2);
    expect(started).toBeLessThan(40);
  });

  it('handles no items', async () => {
    expect(await runPool([], async () => 1, { workers: 4 })).toEqual({ results: [], started: 0, cancelled: false });
  });
});
