// The --query-gpu fields the fake understands, with nvidia-smi's unit suffixes. Values come from the
// simulated state; `null` prints as [N/A].
import { REASON, SUPPORTED_REASONS, computeCapability, maxSmClock, serialFor } from './simulate.mjs';

const hex16 = (n) => `0x${n.toString(16).toUpperCase().padStart(16, '0')}`;
const yesNo = (b) => (b === null ? null : b ? 'Yes' : 'No');
const active = (mask, bit) => ((mask & bit) !== 0 ? 'Active' : 'Not Active');
const watts = (w) => (w === null ? null : w.toFixed(2));
const pciParts = (busId) => busId.split(/[:.]/);

function timestamp(nowMs) {
  const d = new Date(nowMs);
  const p = (n, w = 2) => String(n).padStart(w, '0');
  return `${d.getFullYear()}/${p(d.getMonth() + 1)}/${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}`;
}

/** @type {Record<string, { unit?: string, value: (c: any) => string | number | null }>} */
const FIELDS = {
  timestamp: { value: (c) => timestamp(c.nowMs) },
  driver_version: { value: (c) => c.config.driverVersion },
  count: { value: (c) => c.config.gpus.length },
  name: { value: (c) => c.gpu.name },
  serial: { value: (c) => serialFor(c.gpu.uuid) },
  uuid: { value: (c) => c.gpu.uuid },
  'pci.bus_id': { value: (c) => c.gpu.pciBusId },
  'pci.domain': { value: (c) => `0x${pciParts(c.gpu.pciBusId)[0].slice(-4)}` },
  'pci.bus': { value: (c) => `0x${pciParts(c.gpu.pciBusId)[1]}` },
  'pci.device': { value: (c) => `0x${pciParts(c.gpu.pciBusId)[2]}` },
  'pci.device_id': { value: () => '0x233010DE' },
  'pci.sub_device_id': { value: () => '0x16C110DE' },
  index: { value: (c) => c.index },
  persistence_mode: { value: () => 'Enabled' },
  vbios_version: { value: () => '96.00.A5.00.01' },
  'fan.speed': { unit: '%', value: () => null },
  pstate: { value: (c) => c.s.pstate },
  compute_cap: { value: (c) => computeCapability(c.gpu.name) },
  hostname: { value: (c) => c.config.node },
  'memory.total': { unit: 'MiB', value: (c) => c.gpu.memoryTotalMib },
  'memory.reserved': { unit: 'MiB', value: (c) => Math.round(c.gpu.memoryTotalMib * 0.006) },
  'memory.used': { unit: 'MiB', value: (c) => c.s.memUsed },
  'memory.free': { unit: 'MiB', value: (c) => c.gpu.memoryTotalMib - Math.round(c.gpu.memoryTotalMib * 0.006) - c.s.memUsed },
  'utilization.gpu': { unit: '%', value: (c) => c.s.util },
  'utilization.memory': { unit: '%', value: (c) => c.s.memUtil },
  'utilization.encoder': { unit: '%', value: (c) => (c.s.util === null ? null : 0) },
  'utilization.decoder': { unit: '%', value: (c) => (c.s.util === null ? null : 0) },
  'temperature.gpu': { value: (c) => c.s.temp },
  'temperature.memory': { value: (c) => c.s.temp + 6 },
  'power.draw': { unit: 'W', value: (c) => watts(c.s.power) },
  'power.draw.average': { unit: 'W', value: (c) => watts(c.s.power) },
  'power.draw.instant': { unit: 'W', value: (c) => watts(Math.min(c.gpu.powerLimitW, c.s.power * 1.02)) },
  'power.limit': { unit: 'W', value: (c) => watts(c.gpu.powerLimitW) },
  'enforced.power.limit': { unit: 'W', value: (c) => watts(c.gpu.powerLimitW) },
  'power.default_limit': { unit: 'W', value: (c) => watts(c.gpu.powerLimitW) },
  'power.max_limit': { unit: 'W', value: (c) => watts(c.gpu.powerLimitW) },
  'clocks.current.graphics': { unit: 'MHz', value: (c) => c.s.sm },
  'clocks.current.sm': { unit: 'MHz', value: (c) => c.s.sm },
  'clocks.current.memory': { unit: 'MHz', value: () => 2619 },
  'clocks.max.graphics': { unit: 'MHz', value: (c) => maxSmClock(c.gpu.name) },
  'clocks.max.sm': { unit: 'MHz', value: (c) => maxSmClock(c.gpu.name) },
  'clocks.max.memory': { unit: 'MHz', value: () => 2619 },
  'ecc.mode.current': { value: () => 'Enabled' },
  'ecc.errors.corrected.volatile.total': { value: (c) => c.s.eccCorrected },
  'ecc.errors.uncorrected.volatile.total': { value: (c) => c.s.eccUncorrected },
  'ecc.errors.corrected.aggregate.total': { value: (c) => c.s.eccCorrected },
  'ecc.errors.uncorrected.aggregate.total': { value: (c) => c.s.eccUncorrected },
  'clocks_event_reasons.supported': { value: () => hex16(SUPPORTED_REASONS) },
  'clocks_event_reasons.active': { value: (c) => hex16(c.s.reasons) },
  'clocks_event_reasons.gpu_idle': { value: (c) => active(c.s.reasons, REASON.gpuIdle) },
  'clocks_event_reasons.applications_clocks_setting': { value: (c) => active(c.s.reasons, REASON.applicationsClocksSetting) },
  'clocks_event_reasons.sw_power_cap': { value: (c) => active(c.s.reasons, REASON.swPowerCap) },
  'clocks_event_reasons.hw_slowdown': { value: (c) => active(c.s.reasons, REASON.hwSlowdown) },
  'clocks_event_reasons.hw_thermal_slowdown': { value: (c) => active(c.s.reasons, REASON.hwThermalSlowdown) },
  'clocks_event_reasons.hw_power_brake_slowdown': { value: (c) => active(c.s.reasons, REASON.hwPowerBrakeSlowdown) },
  'clocks_event_reasons.sw_thermal_slowdown': { value: (c) => active(c.s.reasons, REASON.swThermalSlowdown) },
  'clocks_event_reasons.sync_boost': { value: (c) => active(c.s.reasons, REASON.syncBoost) },
  'retired_pages.single_bit_ecc.count': { value: () => null },
  'retired_pages.double_bit.count': { value: () => null },
  'retired_pages.pending': { value: () => null },
  'remapped_rows.correctable': { value: (c) => c.s.remapCorrectable },
  'remapped_rows.uncorrectable': { value: (c) => c.s.remapUncorrectable },
  'remapped_rows.pending': { value: (c) => yesNo(c.s.remapPending) },
  'remapped_rows.failure': { value: (c) => yesNo(c.s.remapFailure) },
  'mig.mode.current': { value: (c) => (c.s.migEnabled ? 'Enabled' : 'Disabled') },
  'mig.mode.pending': { value: (c) => (c.s.migEnabled ? 'Enabled' : 'Disabled') },
  'reset_status.reset_required': { value: () => 'No' },
  'reset_status.drain_and_reset_recommended': { value: (c) => (c.s.eccUncorrected > 0 ? 'Yes' : 'No') },
};

// Aliases nvidia-smi accepts, including the pre-535 clocks_throttle_reasons.* names.
const ALIASES = {
  gpu_name: 'name',
  gpu_uuid: 'uuid',
  gpu_serial: 'serial',
  gpu_bus_id: 'pci.bus_id',
  'clocks.sm': 'clocks.current.sm',
  'clocks.gr': 'clocks.current.graphics',
  'clocks.mem': 'clocks.current.memory',
  'clocks.max.gr': 'clocks.max.graphics',
  'clocks.max.mem': 'clocks.max.memory',
  'retired_pages.sbe': 'retired_pages.single_bit_ecc.count',
  'retired_pages.dbe': 'retired_pages.double_bit.count',
};
for (const key of Object.keys(FIELDS)) {
  if (key.startsWith('clocks_event_reasons.')) ALIASES[key.replace('clocks_event_reasons.', 'clocks_throttle_reasons.')] = key;
}

export function resolveGpuField(name) {
  if (FIELDS[name]) return name;
  return ALIASES[name] ?? null;
}

export function gpuFieldSpec(canonical) {
  return FIELDS[canonical];
}

export const GPU_FIELD_NAMES = [...Object.keys(FIELDS), ...Object.keys(ALIASES)];

/** --query-remapped-rows prints pending/failure as 0/1, unlike --query-gpu's Yes/No. */
const REMAPPED_ROW_FIELDS = {
  gpu_bus_id: { value: (c) => c.gpu.pciBusId },
  gpu_uuid: { value: (c) => c.gpu.uuid },
  'remapped_rows.correctable': { value: (c) => c.s.remapCorrectable },
  'remapped_rows.uncorrectable': { value: (c) => c.s.remapUncorrectable },
  'remapped_rows.pending': { value: (c) => (c.s.remapPending === null ? null : c.s.remapPending ? 1 : 0) },
  'remapped_rows.failure': { value: (c) => (c.s.remapFailure === null ? null : c.s.remapFailure ? 1 : 0) },
};

export function remappedRowFieldSpec(name) {
  return REMAPPED_ROW_FIELDS[name] ?? null;
}
