import { describe, expect, it } from 'vitest';
import { sameHealthReasons } from './same-reasons';
import type { HealthReason } from './types';

const hot: HealthReason = { code: 'temperature_high', severity: 'warning', message: 'Temperature 93 °C ≥ 87 °C', value: 93, threshold: 87 };

describe('sameHealthReasons', () => {
  it('ignores the key order Postgres gives jsonb objects back in', () => {
    // What `SELECT health_reasons` returns for the reason above: keys by length, then alphabetically.
    const stored = JSON.parse(
      '[{"code": "temperature_high", "value": 93, "message": "Temperature 93 °C ≥ 87 °C", "severity": "warning", "threshold": 87}]',
    );
    expect(JSON.stringify(stored)).not.toBe(JSON.stringify([hot]));
    expect(sameHealthReasons(stored, [hot])).toBe(true);
  });

  it('sees a changed value, message, order or count', () => {
    expect(sameHealthReasons([{ ...hot, value: 94 }], [hot])).toBe(false);
    expect(sameHealthReasons([{ ...hot, message: 'x' }], [hot])).toBe(false);
    const other: HealthReason = { code: 'thermal_throttle', severity: 'warning', message: 'Clocks held back' };
    expect(sameHealthReasons([other, hot], [hot, other])).toBe(false);
    expect(sameHealthReasons([hot], [hot, other])).toBe(false);
    expect(sameHealthReasons([], [hot])).toBe(false);
  });

  it('treats no stored reasons as an empty list, an absent field as null, and anything else as different', () => {
    expect(sameHealthReasons(null, [])).toBe(true);
    expect(sameHealthReasons([], [])).toBe(true);
    const bare: HealthReason = { code: 'node_never_seen', severity: 'warning', message: 'not yet' };
    expect(sameHealthReasons([{ ...bare, value: null, threshold: null }], [bare])).toBe(true);
    expect(sameHealthReasons('[]', [])).toBe(false);
    expect(sameHealthReasons([{ ...hot, extra: 1 }], [hot])).toBe(false);
  });
});
