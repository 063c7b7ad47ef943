import { describe, expect, it } from 'vitest';
import { clusterTokensPerSecond, counterDelta, counterIncrease, tokensPerSecond, type CounterSample } from './counters';
import { NOW, secondsBefore } from './test-support';

const at = (secondsAgo: number, value: number | null): CounterSample => ({ sampledAt: secondsBefore(secondsAgo), value });

describe('counterDelta / counterIncrease', () => {
  it('a rising counter increases by the difference; a drop is a reset to zero', () => {
    expect(counterDelta(100, 150)).toBe(50);
    expect(counterDelta(100, 100)).toBe(0);
    expect(counterDelta(100, 30)).toBe(30);
  });

  it('sums increases across resets and skips unreported values', () => {
    expect(counterIncrease([0, 10, 25])).toBe(25);
    expect(counterIncrease([900, 10, 120])).toBe(120);
    expect(counterIncrease([null, 5, null, 8, Number.NaN, 20])).toBe(15);
  });

  it('returns null when fewer than two values are usable; skips negative values', () => {
    expect(counterIncrease([])).toBeNull();
    expect(counterIncrease([7, null])).toBeNull();
    expect(counterIncrease([-5, 3, 10])).toBe(7);
  });
});

describe('tokensPerSecond', () => {
  it('is the counter increase divided by the elapsed time', () => {
    expect(tokensPerSecond(at(15, 1_000_000), at(0, 1_003_990))).toBe(266);
  });

  it('treats a drop as an engine restart: tokens since the restart over the interval', () => {
    expect(tokensPerSecond(at(10, 5_000_000), at(0, 2_000))).toBe(200);
  });

  it('an idle engine is 0 tokens/s, not null', () => {
    expect(tokensPerSecond(at(10, 42), at(0, 42))).toBe(0);
  });

  it('is null without a usable pair: missing sample or value, same or reversed time', () => {
    expect(tokensPerSecond(null, at(0, 10))).toBeNull();
    expect(tokensPerSecond(at(10, null), at(0, 10))).toBeNull();
    expect(tokensPerSecond(at(10, 5), at(0, Number.NaN))).toBeNull();
    expect(tokensPerSecond(at(0, 5), at(0, 10))).toBeNull();
    expect(tokensPerSecond(at(0, 5), at(10, 10))).toBeNull();
    expect(tokensPerSecond(at(10, 5), { sampledAt: new Date('x'), value: 10 })).toBeNull();
  });
});

describe('clusterTokensPerSecond', () => {
  it('sums the engines that have a rate and leaves the others out', () => {
    const engines = [
      { prev: at(10, 0), next: at(0, 1000) },
      { prev: at(20, 500), next: at(0, 2500) },
      { prev: null, next: at(0, 10) },
    ];
    expect(clusterTokensPerSecond(engines)).toBe(200);
  });

  it('is null, not 0, when no engine has a usable pair', () => {
    expect(clusterTokensPerSecond([])).toBeNull();
    expect(clusterTokensPerSecond([{ prev: null, next: { sampledAt: NOW, value: 1 } }])).toBeNull();
  });
});
