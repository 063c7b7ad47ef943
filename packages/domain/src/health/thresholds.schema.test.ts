import { describe, expect, it } from 'vitest';
import { DEFAULT_HEALTH_THRESHOLDS, ZHealthThresholds, resolveHealthThresholds } from './thresholds.schema';

describe('health thresholds', () => {
  it('has the documented defaults', () => {
    expect(DEFAULT_HEALTH_THRESHOLDS).toEqual({
      temperatureWarnC: 87,
      memoryUsedWarnFraction: 0.97,
      powerAtLimitFraction: 0.95,
      eccCorrectableBurst: 100,
      eccWindowSeconds: 3600,
      xidWindowSeconds: 3600,
      xidIncidentGapSeconds: 10,
      appXidRepeatCount: 3,
      maxReadingAgeSeconds: 300,
    });
    expect(Object.isFrozen(DEFAULT_HEALTH_THRESHOLDS)).toBe(true);
  });

  it('fills a partial setting with defaults', () => {
    expect(resolveHealthThresholds({ temperatureWarnC: 83 })).toEqual({ ...DEFAULT_HEALTH_THRESHOLDS, temperatureWarnC: 83 });
    expect(resolveHealthThresholds(undefined)).toEqual(DEFAULT_HEALTH_THRESHOLDS);
    expect(resolveHealthThresholds(null)).toEqual(DEFAULT_HEALTH_THRESHOLDS);
  });

  it('rejects misspelt keys instead of silently using the default', () => {
    expect(() => resolveHealthThresholds({ temperatureWarnc: 83 })).toThrow(/Invalid health thresholds: .*temperatureWarnc/);
  });

  it('lists every problem with its path', () => {
    expect(() => resolveHealthThresholds({ memoryUsedWarnFraction: 1.2, appXidRepeatCount: 1.5 })).toThrow(
      /memoryUsedWarnFraction: .*; appXidRepeatCount: /,
    );
  });

  it('rejects a memory threshold of 0 (it would fire on every card) and non-numbers', () => {
    expect(ZHealthThresholds.safeParse({ memoryUsedWarnFraction: 0 }).success).toBe(false);
    expect(ZHealthThresholds.safeParse({ temperatureWarnC: '87' }).success).toBe(false);
  });
});
