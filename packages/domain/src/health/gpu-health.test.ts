import { describe, expect, it } from 'vitest';
import { evaluateGpuHealth, type EvaluateGpuHealthInput } from './gpu-health';
import { CAPTURED, NOW, makeBareReading, makeReading, makeXid, secondsBefore } from './test-support';
import type { GpuReading } from './types';

function evaluate(latest: GpuReading | null, extra: Partial<EvaluateGpuHealthInput> = {}) {
  return evaluateGpuHealth({ latest, recent: [], xids: [], now: NOW, ...extra });
}
const codes = (r: { reasons: { code: string }[] }) => r.reasons.map((x) => x.code);

describe('evaluateGpuHealth: healthy cards', () => {
  it('a busy H100 serving vLLM at --gpu-memory-utilization 0.9 is healthy', () => {
    expect(evaluate(makeReading())).toEqual({ status: 'healthy', reasons: [] });
  });

  it('does not flag memory on a card pre-allocated at 0.95', () => {
    expect(evaluate(makeReading({ memoryUsedMib: Math.round(81559 * 0.95) })).status).toBe('healthy');
  });

  it.each(Object.entries(CAPTURED))('real capture %s is healthy', (_name, fields) => {
    expect(evaluate(makeReading(fields))).toEqual({ status: 'healthy', reasons: [] });
  });

  it('treats null as not reported, never as a problem or as zero', () => {
    expect(evaluate(makeBareReading())).toEqual({ status: 'healthy', reasons: [] });
  });

  it('treats NaN and Infinity as not reported', () => {
    const r = makeReading({ temperatureC: Number.NaN, eccUncorrectedVolatile: Number.POSITIVE_INFINITY, memoryUsedMib: Number.NaN });
    expect(evaluate(r).status).toBe('healthy');
  });
});

describe('evaluateGpuHealth: critical reading rules', () => {
  it('uncorrected volatile ECC > 0 is critical, with the count', () => {
    const result = evaluate(makeReading({ eccUncorrectedVolatile: 2 }));
    expect(result.status).toBe('critical');
    expect(result.reasons).toEqual([
      expect.objectContaining({
        code: 'ecc_uncorrected',
        severity: 'critical',
        value: 2,
        threshold: 0,
        message: expect.stringContaining(': 2 (> 0)'),
      }),
    ]);
  });

  it('uncorrected ECC of 0 or null is fine', () => {
    expect(evaluate(makeReading({ eccUncorrectedVolatile: 0 })).status).toBe('healthy');
    expect(evaluate(makeReading({ eccUncorrectedVolatile: null })).status).toBe('healthy');
  });

  it('row-remap failure and pending remap are each critical', () => {
    expect(codes(evaluate(makeReading({ remappedRowsFailure: true })))).toEqual(['row_remap_failure']);
    expect(codes(evaluate(makeReading({ remappedRowsPending: true })))).toEqual(['row_remap_pending']);
    const both = evaluate(makeReading({ remappedRowsFailure: true, remappedRowsPending: true }));
    expect(both.status).toBe('critical');
    expect(codes(both)).toEqual(['row_remap_failure', 'row_remap_pending']);
  });

  it('remapped row counts alone are history, not a problem', () => {
    expect(evaluate(makeReading({ remappedRowsCorrectable: 3, remappedRowsUncorrectable: 1 })).status).toBe('healthy');
  });
});

describe('evaluateGpuHealth: warning reading rules', () => {
  it('temperature at the threshold warns (inclusive), just below does not', () => {
    expect(evaluate(makeReading({ temperatureC: 87 })).reasons[0]).toMatchObject({ code: 'temperature_high', value: 87, threshold: 87 });
    expect(evaluate(makeReading({ temperatureC: 86.9 })).status).toBe('healthy');
  });

  it('says the temperature in plain English', () => {
    expect(evaluate(makeReading({ temperatureC: 91 })).reasons[0]?.message).toBe('Temperature 91 °C ≥ 87 °C');
  });

  it('uses a configured temperature threshold', () => {
    const result = evaluate(makeReading({ temperatureC: 82 }), { thresholds: { temperatureWarnC: 80 } });
    expect(result.reasons[0]?.message).toBe('Temperature 82 °C ≥ 80 °C');
  });

  it('thermal slowdown bits warn and are named', () => {
    const result = evaluate(makeReading({ clocksEventReasons: 0x40 }));
    expect(result.status).toBe('warning');
    expect(result.reasons[0]).toMatchObject({ code: 'thermal_throttle', message: 'Clocks held back by temperature: HwThermalSlowdown' });
  });

  it('power brake warns regardless of draw', () => {
    expect(codes(evaluate(makeReading({ clocksEventReasons: 0x80, powerDrawW: 200 })))).toEqual(['power_throttle']);
  });

  it('SwPowerCap warns at the power limit and says the numbers', () => {
    const result = evaluate(makeReading({ clocksEventReasons: 0x4, powerDrawW: 690, powerLimitW: 700 }));
    expect(result.reasons[0]?.message).toBe('Clocks held back by power: SwPowerCap at 690 W of a 700 W limit');
  });

  it('SwPowerCap below the power limit, or with a configured higher bar, is fine', () => {
    expect(evaluate(makeReading({ clocksEventReasons: 0x4, powerDrawW: 400 })).status).toBe('healthy');
    const strict = evaluate(makeReading({ clocksEventReasons: 0x4, powerDrawW: 690 }), { thresholds: { powerAtLimitFraction: 0.99 } });
    expect(strict.status).toBe('healthy');
  });

  it('GpuIdle, SyncBoost and application clocks are never a problem', () => {
    expect(evaluate(makeReading({ clocksEventReasons: 0x1 | 0x2 | 0x10 | 0x100 })).status).toBe('healthy');
  });

  it('thermal and power throttling together give two reasons', () => {
    expect(codes(evaluate(makeReading({ clocksEventReasons: 0x20 | 0x8 })))).toEqual(['thermal_throttle', 'power_throttle']);
  });

  it('memory at 97% of the card warns, just below does not', () => {
    const result = evaluate(makeReading({ memoryUsedMib: 79113 }));
    expect(result.reasons[0]).toMatchObject({ code: 'memory_pressure', threshold: 0.97 });
    expect(result.reasons[0]?.message).toBe('Memory used 79113 of 81559 MiB (97%) ≥ 97%');
    expect(evaluate(makeReading({ memoryUsedMib: 79112 })).status).toBe('healthy');
    expect(evaluate(makeReading({ memoryUsedMib: 9700, memoryTotalMib: 10000 })).reasons[0]?.code).toBe('memory_pressure');
  });

  it('skips the memory rule without a usable total', () => {
    expect(evaluate(makeReading({ memoryUsedMib: 100, memoryTotalMib: 0 })).status).toBe('healthy');
    expect(evaluate(makeReading({ memoryUsedMib: 81559, memoryTotalMib: null })).status).toBe('healthy');
  });
});

describe('evaluateGpuHealth: combining reasons', () => {
  it('status is the worst reason, critical reasons listed first', () => {
    const result = evaluate(makeReading({ temperatureC: 92, clocksEventReasons: 0x40, eccUncorrectedVolatile: 1, memoryUsedMib: 81000 }));
    expect(result.status).toBe('critical');
    expect(codes(result)).toEqual(['ecc_uncorrected', 'temperature_high', 'thermal_throttle', 'memory_pressure']);
  });

  it('emits at most one reason per code', () => {
    const result = evaluate(makeReading({ clocksEventReasons: 0x1ff, powerDrawW: 700 }), {
      xids: [makeXid(79, 60), makeXid(48, 30), makeXid(61, 20), makeXid(999, 10)],
    });
    expect(new Set(codes(result)).size).toBe(result.reasons.length);
  });
});

describe('evaluateGpuHealth: no data', () => {
  it('no reading at all is unknown with a no_data reason', () => {
    expect(evaluate(null)).toEqual({
      status: 'unknown',
      reasons: [{ code: 'no_data', severity: 'warning', message: 'No reading from this GPU yet' }],
    });
  });

  it('a stale reading is no data, and its values are not judged', () => {
    const result = evaluate(makeReading({ sampledAt: secondsBefore(600), temperatureC: 95 }));
    expect(result.status).toBe('unknown');
    expect(result.reasons).toEqual([
      expect.objectContaining({ code: 'no_data', message: 'Last reading 10 min ago (> 5 min)', value: 600, threshold: 300 }),
    ]);
  });

  it('a reading exactly maxReadingAgeSeconds old still counts', () => {
    expect(evaluate(makeReading({ sampledAt: secondsBefore(300), temperatureC: 95 })).status).toBe('warning');
  });

  it('a reading from an agent whose clock runs ahead is still used', () => {
    expect(evaluate(makeReading({ sampledAt: secondsBefore(-30), temperatureC: 95 })).status).toBe('warning');
  });

  it('no reading plus a critical XID (fallen off the bus) is critical, not unknown', () => {
    const result = evaluate(null, { xids: [makeXid(79, 30)] });
    expect(result.status).toBe('critical');
    expect(codes(result)).toEqual(['xid_critical', 'no_data']);
  });
});

describe('evaluateGpuHealth: input checks', () => {
  it('rejects invalid thresholds with a readable message', () => {
    expect(() => evaluate(makeReading(), { thresholds: { temperatureWarnC: 500 } })).toThrow(/Invalid health thresholds: temperatureWarnC/);
    expect(() => evaluate(makeReading(), { thresholds: { temperatureWarnc: 80 } as never })).toThrow(/Invalid health thresholds/);
  });

  it('rejects an invalid now', () => {
    expect(() => evaluateGpuHealth({ latest: null, recent: [], xids: [], now: new Date('nope') })).toThrow(/now must be a valid Date/);
  });
});
