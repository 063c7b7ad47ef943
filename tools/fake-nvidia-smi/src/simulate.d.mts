export type FakeGpuProfile = 'busy' | 'idle' | 'throttled' | 'ecc-error' | 'xid' | 'hot' | 'mig' | 'reset-required';
export const PROFILES: readonly FakeGpuProfile[];
export const REASON: {
  gpuIdle: number;
  applicationsClocksSetting: number;
  swPowerCap: number;
  hwSlowdown: number;
  syncBoost: number;
  swThermalSlowdown: number;
  hwThermalSlowdown: number;
  hwPowerBrakeSlowdown: number;
  displayClockSetting: number;
};
export const SUPPORTED_REASONS: number;
export interface SimulatedGpuInput {
  uuid: string;
  name: string;
  memoryTotalMib: number;
  pciBusId: string;
  powerLimitW: number;
  profile: FakeGpuProfile;
}
/** nvidia-smi units; null prints as [N/A]. */
export interface SimulatedGpuState {
  util: number | null;
  memUtil: number | null;
  memUsed: number;
  power: number;
  temp: number;
  sm: number;
  reasons: number;
  eccCorrected: number;
  eccUncorrected: number;
  remapCorrectable: number | null;
  remapUncorrectable: number | null;
  remapPending: boolean | null;
  remapFailure: boolean | null;
  migEnabled: boolean;
  pstate: string;
  /** Printed instead of every reading (not the identity fields) when set, e.g. `[GPU requires reset]`. */
  errorMarker: string | null;
}
export function simulateGpu(gpu: SimulatedGpuInput, nowMs: number): SimulatedGpuState;
export function hash32(text: string): number;
export function computeCapability(name: string): string;
export function maxSmClock(name: string): number;
export function serialFor(uuid: string): string;
