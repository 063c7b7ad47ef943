// NVML nvmlClocksEventReason* bits, as printed by nvidia-smi in `clocks_event_reasons.active`
// (old name `clocks_throttle_reasons.active`). Several public scripts write HwThermalSlowdown as
// 0x4; it is 0x40. 0x4 is SwPowerCap.
export const CLOCK_EVENT_REASON_BITS = {
  GpuIdle: 0x1,
  ApplicationsClocksSetting: 0x2,
  SwPowerCap: 0x4,
  HwSlowdown: 0x8,
  SyncBoost: 0x10,
  SwThermalSlowdown: 0x20,
  HwThermalSlowdown: 0x40,
  HwPowerBrakeSlowdown: 0x80,
  DisplayClockSetting: 0x100,
} as const;

export type ClockEventReason = keyof typeof CLOCK_EVENT_REASON_BITS;

const ORDERED = Object.entries(CLOCK_EVENT_REASON_BITS) as [ClockEventReason, number][];

const THERMAL_BITS = CLOCK_EVENT_REASON_BITS.SwThermalSlowdown | CLOCK_EVENT_REASON_BITS.HwThermalSlowdown;
// HwSlowdown halves the clocks or worse; NVML names power brake and over-current as its triggers
// besides temperature, and drivers report the thermal case on its own bit (0x40), so we file
// HwSlowdown under power.
const HW_POWER_BITS = CLOCK_EVENT_REASON_BITS.HwSlowdown | CLOCK_EVENT_REASON_BITS.HwPowerBrakeSlowdown;

/** Default share of the power limit above which SwPowerCap counts as real power throttling. */
export const DEFAULT_POWER_AT_LIMIT_FRACTION = 0.95;

// The mask is 64 bits wide on the wire. Numbers keep only 53 bits exactly, so larger values must
// come as bigint; the known bits all sit in the low 9 bits, which we read without precision loss.
function lowBits(mask: number | bigint): number {
  if (typeof mask === 'bigint') {
    if (mask < 0n || mask > 0xffff_ffff_ffff_ffffn) {
      throw new RangeError(`Clock event reason mask must be a 64-bit unsigned value, got ${mask}`);
    }
    return Number(mask & 0xffffn);
  }
  if (!Number.isSafeInteger(mask) || mask < 0) {
    throw new RangeError(`Clock event reason mask must be a non-negative integer (pass a bigint above 2^53), got ${String(mask)}`);
  }
  return mask % 0x10000;
}

/** Names of the known bits set in `mask`, in bit order. Unknown (reserved or newer) bits are ignored. */
export function decodeClocksEventReasons(mask: number | bigint): ClockEventReason[] {
  const bits = lowBits(mask);
  return ORDERED.filter(([, bit]) => (bits & bit) !== 0).map(([name]) => name);
}

/** SwThermalSlowdown or HwThermalSlowdown is active. */
export function isThermalThrottle(mask: number | bigint): boolean {
  return (lowBits(mask) & THERMAL_BITS) !== 0;
}

export interface PowerContext {
  powerDrawW: number | null;
  powerLimitW: number | null;
}

/**
 * Power is holding the clocks back.
 * HwSlowdown and HwPowerBrakeSlowdown always count. SwPowerCap counts only while the card draws at
 * least `atLimitFraction` of its power limit: idle consumer cards report the bit with the clocks
 * parked (see the RTX 2080 SUPER idle capture, mask 0x4 at a few watts), and without draw and limit
 * we cannot tell the two apart, so an unconfirmed SwPowerCap is not a problem.
 */
export function isPowerThrottle(
  mask: number | bigint,
  power?: PowerContext,
  atLimitFraction: number = DEFAULT_POWER_AT_LIMIT_FRACTION,
): boolean {
  const bits = lowBits(mask);
  if ((bits & HW_POWER_BITS) !== 0) return true;
  if ((bits & CLOCK_EVENT_REASON_BITS.SwPowerCap) === 0) return false;
  return isAtPowerLimit(power, atLimitFraction);
}

export function isAtPowerLimit(power: PowerContext | undefined, atLimitFraction: number): boolean {
  if (!power || power.powerDrawW === null || power.powerLimitW === null || power.powerLimitW <= 0) return false;
  return power.powerDrawW >= atLimitFraction * power.powerLimitW;
}
