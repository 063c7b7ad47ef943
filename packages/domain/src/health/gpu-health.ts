import { MAX_CLOCK_SKEW_SECONDS } from '@fleetplane/contracts';
import { decodeClocksEventReasons, isAtPowerLimit, isPowerThrottle, isThermalThrottle } from './clock-event-reasons';
import { counterIncrease } from './counters';
import { assertValidDate, formatDuration, formatNumber, formatPercent } from './format';
import { severityRank, statusFromReasons } from './status';
import {
  DEFAULT_HEALTH_THRESHOLDS,
  resolveHealthThresholds,
  type THealthThresholds,
  type THealthThresholdsInput,
} from './thresholds.schema';
import { HEALTH_REASON_CODES, type GpuReading, type GpuStatus, type HealthReason, type HealthResult, type XidObservation } from './types';
import { xidReasons } from './xid-rules';

export interface EvaluateGpuHealthInput {
  /** The newest sample of this GPU, or null when it never reported. */
  latest: GpuReading | null;
  /** Samples of this GPU over the ECC window, oldest first (may include `latest`). */
  recent: readonly GpuReading[];
  /** XIDs of this GPU over the XID window. */
  xids: readonly XidObservation[];
  /** Partial thresholds are filled with the defaults; invalid ones throw. */
  thresholds?: THealthThresholdsInput;
  now: Date;
}

export type GpuHealth = HealthResult<GpuStatus>;

// NaN or ±Infinity would make every comparison false and hide a problem; treat them as not reported.
function finite(v: number | null): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

/** Fields named in an error-state reason before it says "and N more". */
const ERROR_FIELDS_SHOWN = 4;

/**
 * nvidia-smi printed an error marker instead of a value: the driver cannot read the GPU (it needs a reset,
 * it is lost, ...). The reason quotes each distinct marker with the fields that printed it.
 */
function errorStateReason(r: GpuReading): HealthReason | null {
  const states = r.errorStates ?? [];
  if (states.length === 0) return null;
  const byMarker = new Map<string, string[]>();
  for (const s of states) byMarker.set(s.marker, [...(byMarker.get(s.marker) ?? []), s.field]);
  const quoted = [...byMarker].map(([marker, fields]) => {
    const shown = fields.slice(0, ERROR_FIELDS_SHOWN).join(', ');
    const more = fields.length > ERROR_FIELDS_SHOWN ? ` and ${fields.length - ERROR_FIELDS_SHOWN} more` : '';
    return `"${marker}" for ${shown}${more}`;
  });
  return {
    code: 'gpu_error_state',
    severity: 'critical',
    message: `nvidia-smi reports the GPU in an error state: ${quoted.join('; ')}. Drain the GPU and reset it (reboot the node if the reset fails)`,
    value: states.length,
  };
}

function readingReasons(r: GpuReading, t: THealthThresholds): HealthReason[] {
  const reasons: HealthReason[] = [];
  const errorState = errorStateReason(r);
  if (errorState) reasons.push(errorState);
  const uncorrected = finite(r.eccUncorrectedVolatile);
  if (uncorrected !== null && uncorrected > 0) {
    reasons.push({
      code: 'ecc_uncorrected',
      severity: 'critical',
      message: `Uncorrected ECC errors since the driver loaded: ${formatNumber(uncorrected)} (> 0). Drain the GPU and reset it`,
      value: uncorrected,
      threshold: 0,
    });
  }
  if (r.remappedRowsFailure === true) {
    reasons.push({
      code: 'row_remap_failure',
      severity: 'critical',
      message: 'Row remapping failed: the GPU has no spare rows left for a failing memory row. Drain it; RMA candidate',
    });
  }
  if (r.remappedRowsPending === true) {
    reasons.push({
      code: 'row_remap_pending',
      severity: 'critical',
      message: 'Row remap pending: a failing memory row stays in use until the GPU is reset',
    });
  }
  const temp = finite(r.temperatureC);
  if (temp !== null && temp >= t.temperatureWarnC) {
    reasons.push({
      code: 'temperature_high',
      severity: 'warning',
      message: `Temperature ${formatNumber(temp)} °C ≥ ${formatNumber(t.temperatureWarnC)} °C`,
      value: temp,
      threshold: t.temperatureWarnC,
    });
  }
  reasons.push(...throttleReasons(r, t));
  const used = finite(r.memoryUsedMib);
  const total = finite(r.memoryTotalMib);
  if (used !== null && total !== null && total > 0 && used / total >= t.memoryUsedWarnFraction) {
    reasons.push({
      code: 'memory_pressure',
      severity: 'warning',
      message: `Memory used ${formatNumber(used)} of ${formatNumber(total)} MiB (${formatPercent(used / total)}) ≥ ${formatPercent(t.memoryUsedWarnFraction)}`,
      value: used / total,
      threshold: t.memoryUsedWarnFraction,
    });
  }
  return reasons;
}

// GpuIdle, ApplicationsClocksSetting, SyncBoost and DisplayClockSetting are normal states, never a problem.
function throttleReasons(r: GpuReading, t: THealthThresholds): HealthReason[] {
  const mask = finite(r.clocksEventReasons);
  if (mask === null || !Number.isSafeInteger(mask) || mask < 0) return [];
  const active = decodeClocksEventReasons(mask);
  const reasons: HealthReason[] = [];
  if (isThermalThrottle(mask)) {
    const names = active.filter((n) => n === 'SwThermalSlowdown' || n === 'HwThermalSlowdown');
    reasons.push({
      code: 'thermal_throttle',
      severity: 'warning',
      message: `Clocks held back by temperature: ${names.join(', ')}`,
      value: mask,
    });
  }
  const power = { powerDrawW: finite(r.powerDrawW), powerLimitW: finite(r.powerLimitW) };
  if (isPowerThrottle(mask, power, t.powerAtLimitFraction)) {
    const names = active.filter(
      (n) => n === 'HwSlowdown' || n === 'HwPowerBrakeSlowdown' || (n === 'SwPowerCap' && isAtPowerLimit(power, t.powerAtLimitFraction)),
    );
    const draw =
      power.powerDrawW !== null && power.powerLimitW !== null
        ? ` at ${formatNumber(power.powerDrawW)} W of a ${formatNumber(power.powerLimitW)} W limit`
        : '';
    reasons.push({
      code: 'power_throttle',
      severity: 'warning',
      message: `Clocks held back by power: ${names.join(', ')}${draw}`,
      value: mask,
    });
  }
  return reasons;
}

function eccBurstReason(series: readonly GpuReading[], t: THealthThresholds): HealthReason | null {
  const increase = counterIncrease(series.map((r) => finite(r.eccCorrectedVolatile)));
  if (increase === null || increase < t.eccCorrectableBurst) return null;
  return {
    code: 'ecc_correctable_burst',
    severity: 'warning',
    message: `Corrected ECC errors rose by ${formatNumber(increase)} in the last ${formatDuration(t.eccWindowSeconds)} (≥ ${t.eccCorrectableBurst})`,
    value: increase,
    threshold: t.eccCorrectableBurst,
  };
}

/** This GPU's samples inside the ECC window, oldest first, one per timestamp (the last one wins). */
function eccSeries(input: EvaluateGpuHealthInput, uuid: string | null, t: THealthThresholds): GpuReading[] {
  const from = input.now.getTime() - t.eccWindowSeconds * 1000;
  const byTime = new Map<number, GpuReading>();
  for (const r of input.latest ? [...input.recent, input.latest] : input.recent) {
    const at = r.sampledAt.getTime();
    if (Number.isNaN(at) || at < from || (uuid !== null && r.uuid !== uuid)) continue;
    byTime.set(at, r);
  }
  return [...byTime.entries()].sort(([a], [b]) => a - b).map(([, r]) => r);
}

const CODE_ORDER = new Map(HEALTH_REASON_CODES.map((c, i) => [c, i]));

function byImportance(a: HealthReason, b: HealthReason): number {
  return severityRank(b.severity) - severityRank(a.severity) || (CODE_ORDER.get(a.code) ?? 0) - (CODE_ORDER.get(b.code) ?? 0);
}

/**
 * Health of one GPU: critical on uncorrected ECC, row-remap failure or pending remap, or a critical
 * XID; warning on heat, throttling, memory pressure, a corrected-ECC burst or another XID.
 * Status is the worst reason. Without a fresh reading the status is `unknown` (with a `no_data`
 * reason) unless the XIDs or the ECC history already prove a problem: XID 79 (fallen off the bus)
 * is exactly the case where nvidia-smi stops returning a reading.
 */
export function evaluateGpuHealth(input: EvaluateGpuHealthInput): GpuHealth {
  assertValidDate(input.now, 'now');
  const t = resolveHealthThresholds(input.thresholds ?? DEFAULT_HEALTH_THRESHOLDS);
  const { latest, now } = input;
  const uuid = latest?.uuid ?? input.recent.at(-1)?.uuid ?? null;
  const ageSeconds = latest ? (now.getTime() - latest.sampledAt.getTime()) / 1000 : null;
  // A reading dated a little ahead (agent clock a few seconds fast) is still the newest we have. One dated
  // beyond the skew tolerance is not a reading of now: judged fresh, it would freeze this GPU's verdict
  // until that date, so the GPU is judged as if it had not reported.
  const future = ageSeconds !== null && ageSeconds < -MAX_CLOCK_SKEW_SECONDS;
  const fresh =
    latest && ageSeconds !== null && !Number.isNaN(ageSeconds) && !future && ageSeconds <= t.maxReadingAgeSeconds ? latest : null;

  const reasons: HealthReason[] = fresh ? readingReasons(fresh, t) : [];
  const burst = eccBurstReason(eccSeries(input, uuid, t), t);
  if (burst) reasons.push(burst);
  reasons.push(...xidReasons(input.xids, { now, gpuUuid: uuid, thresholds: t }));
  reasons.sort(byImportance);

  if (fresh) return { status: statusFromReasons(reasons), reasons };
  const status: GpuStatus = reasons.length > 0 ? statusFromReasons(reasons) : 'unknown';
  reasons.push({
    code: 'no_data',
    severity: 'warning',
    message: future
      ? `Newest reading is dated ${formatDuration(-ageSeconds!)} in the future (${latest!.sampledAt.toISOString()}); check the node's clock`
      : latest && ageSeconds !== null && !Number.isNaN(ageSeconds)
        ? `Last reading ${formatDuration(ageSeconds)} ago (> ${formatDuration(t.maxReadingAgeSeconds)})`
        : 'No reading from this GPU yet',
    ...(ageSeconds !== null && !Number.isNaN(ageSeconds)
      ? { value: ageSeconds, threshold: future ? -MAX_CLOCK_SKEW_SECONDS : t.maxReadingAgeSeconds }
      : {}),
  });
  return { status, reasons };
}
