import { describe, expect, it } from 'vitest';
import { CLOCK_EVENT_REASON_BITS, decodeClocksEventReasons, isPowerThrottle, isThermalThrottle } from './clock-event-reasons';

describe('decodeClocksEventReasons', () => {
  it.each([
    [0x1, 'GpuIdle'],
    [0x2, 'ApplicationsClocksSetting'],
    [0x4, 'SwPowerCap'],
    [0x8, 'HwSlowdown'],
    [0x10, 'SyncBoost'],
    [0x20, 'SwThermalSlowdown'],
    [0x40, 'HwThermalSlowdown'],
    [0x80, 'HwPowerBrakeSlowdown'],
    [0x100, 'DisplayClockSetting'],
  ])('decodes bit %s as %s', (bit, name) => {
    expect(decodeClocksEventReasons(bit)).toEqual([name]);
    expect(CLOCK_EVENT_REASON_BITS[name as keyof typeof CLOCK_EVENT_REASON_BITS]).toBe(bit);
  });

  it('reads 0x40 as HwThermalSlowdown, never as SwPowerCap (a common public-script mistake)', () => {
    expect(decodeClocksEventReasons(0x40)).not.toContain('SwPowerCap');
    expect(decodeClocksEventReasons(0x4)).not.toContain('HwThermalSlowdown');
  });

  it('returns nothing for 0 (0x0000000000000000, a busy card running free)', () => {
    expect(decodeClocksEventReasons(0)).toEqual([]);
  });

  it('lists combined bits in bit order', () => {
    expect(decodeClocksEventReasons(0x64)).toEqual(['SwPowerCap', 'SwThermalSlowdown', 'HwThermalSlowdown']);
    expect(decodeClocksEventReasons(0x1ff)).toHaveLength(9);
  });

  it('ignores reserved or newer bits', () => {
    expect(decodeClocksEventReasons(0x200 | 0x1000 | 0x1)).toEqual(['GpuIdle']);
  });

  it('accepts the full 64-bit mask as a bigint', () => {
    expect(decodeClocksEventReasons(0x8000_0000_0000_0040n)).toEqual(['HwThermalSlowdown']);
    expect(decodeClocksEventReasons(0x4n)).toEqual(['SwPowerCap']);
  });

  it('keeps the low bits of large safe integers', () => {
    expect(decodeClocksEventReasons(2 ** 40 + 0x20)).toEqual(['SwThermalSlowdown']);
  });

  it.each([-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 60])('rejects %s with a readable error', (bad) => {
    expect(() => decodeClocksEventReasons(bad)).toThrow(/Clock event reason mask/);
  });

  it('rejects bigints outside 64 bits', () => {
    expect(() => decodeClocksEventReasons(-1n)).toThrow(RangeError);
    expect(() => decodeClocksEventReasons(1n << 64n)).toThrow(/64-bit/);
  });
});

describe('isThermalThrottle', () => {
  it.each([
    [0x20, true],
    [0x40, true],
    [0x60, true],
    [0x41, true],
    [0x4, false],
    [0x8, false],
    [0x1, false],
    [0x0, false],
  ])('mask %s → %s', (mask, expected) => {
    expect(isThermalThrottle(mask)).toBe(expected);
  });
});

describe('isPowerThrottle', () => {
  const atLimit = { powerDrawW: 698.5, powerLimitW: 700 };
  const idle = { powerDrawW: 39.32, powerLimitW: 250 };

  it('always counts HwPowerBrakeSlowdown and HwSlowdown', () => {
    expect(isPowerThrottle(0x80)).toBe(true);
    expect(isPowerThrottle(0x8)).toBe(true);
    expect(isPowerThrottle(0x8, idle)).toBe(true);
  });

  it('counts SwPowerCap only while the card is at its power limit', () => {
    expect(isPowerThrottle(0x4, atLimit)).toBe(true);
    // The RTX 2080 SUPER idle capture: SwPowerCap at 39 W of a 250 W limit is not throttling.
    expect(isPowerThrottle(0x4, idle)).toBe(false);
  });

  it('treats 95% of the limit as the boundary, inclusive', () => {
    expect(isPowerThrottle(0x4, { powerDrawW: 665, powerLimitW: 700 })).toBe(true);
    expect(isPowerThrottle(0x4, { powerDrawW: 664.9, powerLimitW: 700 })).toBe(false);
  });

  it('honours a custom at-limit fraction', () => {
    expect(isPowerThrottle(0x4, { powerDrawW: 600, powerLimitW: 700 }, 0.85)).toBe(true);
    expect(isPowerThrottle(0x4, { powerDrawW: 600, powerLimitW: 700 }, 0.9)).toBe(false);
  });

  it('does not count an unconfirmed SwPowerCap (draw or limit not reported, or a zero limit)', () => {
    expect(isPowerThrottle(0x4)).toBe(false);
    expect(isPowerThrottle(0x4, { powerDrawW: null, powerLimitW: 700 })).toBe(false);
    expect(isPowerThrottle(0x4, { powerDrawW: 700, powerLimitW: null })).toBe(false);
    expect(isPowerThrottle(0x4, { powerDrawW: 10, powerLimitW: 0 })).toBe(false);
  });

  it('ignores idle, sync boost, application and display clock settings and thermal bits', () => {
    expect(isPowerThrottle(0x1 | 0x2 | 0x10 | 0x20 | 0x40 | 0x100, atLimit)).toBe(false);
  });
});
