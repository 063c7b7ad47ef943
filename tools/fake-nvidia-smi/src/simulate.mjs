// Pure value model of the fake GPUs: every reading is a smooth function of the wall clock, so successive
// calls vary like a real serving node while a fixed `nowMs` always gives the same output.

export const PROFILES = ['busy', 'idle', 'throttled', 'ecc-error', 'xid', 'hot', 'mig', 'reset-required'];

// NVML clocks-event reason bits (domain-reference §3.1).
export const REASON = {
  gpuIdle: 0x1,
  applicationsClocksSetting: 0x2,
  swPowerCap: 0x4,
  hwSlowdown: 0x8,
  syncBoost: 0x10,
  swThermalSlowdown: 0x20,
  hwThermalSlowdown: 0x40,
  hwPowerBrakeSlowdown: 0x80,
  displayClockSetting: 0x100,
};
export const SUPPORTED_REASONS = 0x1ff;

/** FNV-1a, enough to give every GPU its own phases and serial. */
export function hash32(text) {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

function phase(seed, k) {
  return (hash32(`${seed}:${k}`) % 6283) / 1000;
}

const wave = (t, periodS, ph) => Math.sin((2 * Math.PI * t) / periodS + ph);
const clamp = (x, lo, hi) => Math.min(hi, Math.max(lo, x));

/** 0..1, smooth: three incommensurate sines so the curve never visibly repeats. */
function loadCurve(t, seed) {
  return clamp(0.5 + 0.28 * wave(t, 173, phase(seed, 1)) + 0.15 * wave(t, 41, phase(seed, 2)) + 0.07 * wave(t, 11, phase(seed, 3)), 0, 1);
}

export function computeCapability(name) {
  if (/B200|B100|GB200/i.test(name)) return '10.0';
  if (/RTX 50\d\d/i.test(name)) return '12.0';
  if (/H100|H200|H800|GH200/i.test(name)) return '9.0';
  if (/RTX 40\d\d|L40|L4\b/i.test(name)) return '8.9';
  if (/A100|A800|A30\b/i.test(name)) return '8.0';
  if (/RTX 30\d\d|A10\b|A40/i.test(name)) return '8.6';
  return '9.0';
}

export function maxSmClock(name) {
  if (/H100|H200|H800/i.test(name)) return 1980;
  if (/B200|B100/i.test(name)) return 1965;
  if (/A100|A800/i.test(name)) return 1410;
  if (/RTX 4090/i.test(name)) return 3120;
  if (/RTX 5090/i.test(name)) return 3090;
  return 1980;
}

/**
 * The state of one GPU at `nowMs`. Numbers are in nvidia-smi's units (MiB, %, °C, W, MHz);
 * `null` means the field prints `[N/A]`.
 */
export function simulateGpu(gpu, nowMs) {
  const t = nowMs / 1000;
  const seed = gpu.uuid;
  const load = loadCurve(t, seed);
  const slow = 0.5 + 0.5 * wave(t, 600, phase(seed, 4));
  const limit = gpu.powerLimitW;
  const maxSm = maxSmClock(gpu.name);
  const total = gpu.memoryTotalMib;
  const profile = gpu.profile;

  const serving = {
    util: Math.round(55 + 45 * load),
    memUtil: Math.round(20 + 45 * load),
    memUsed: Math.round(total * (0.851 + 0.078 * slow)),
    power: Math.round((limit * 0.35 + limit * 0.57 * load) * 100) / 100,
    temp: Math.round(46 + 30 * (0.6 * load + 0.4 * slow)),
    sm: maxSm - Math.round(120 * load),
    reasons: 0,
  };
  if (serving.power > limit * 0.88) serving.reasons |= REASON.swPowerCap;

  const s = {
    ...serving,
    eccCorrected: 0,
    eccUncorrected: 0,
    remapCorrectable: 0,
    remapUncorrectable: 0,
    remapPending: false,
    remapFailure: false,
    migEnabled: false,
    pstate: 'P0',
    errorMarker: null,
  };

  switch (profile) {
    case 'idle':
      s.util = Math.round(2 * load);
      s.memUtil = 0;
      s.memUsed = Math.round(total * 0.006);
      s.power = Math.round((limit * 0.1 + limit * 0.015 * load) * 100) / 100;
      s.temp = Math.round(31 + 8 * slow);
      s.sm = 345;
      s.reasons = REASON.gpuIdle;
      break;
    case 'throttled':
      s.temp = Math.round(80 + 6 * slow);
      s.sm = Math.round(maxSm * 0.55 + 150 * load);
      s.reasons = REASON.swThermalSlowdown | REASON.hwSlowdown;
      break;
    case 'ecc-error':
      s.eccCorrected = 37 + (Math.floor(t / 3600) % 5);
      s.eccUncorrected = 2;
      s.remapCorrectable = 1;
      s.remapUncorrectable = 1;
      s.remapPending = true;
      break;
    case 'hot':
      s.temp = Math.round(89 + 5 * (0.5 * load + 0.5 * slow));
      if (s.temp >= 91) s.reasons |= REASON.swThermalSlowdown;
      break;
    case 'mig':
      s.util = null;
      s.memUtil = null;
      s.memUsed = Math.round(total * (0.55 + 0.2 * slow));
      s.remapCorrectable = null;
      s.remapUncorrectable = null;
      s.remapPending = null;
      s.remapFailure = null;
      s.migEnabled = true;
      break;
    case 'reset-required':
      // What a driver prints for a GPU that needs a reset: identity fields answer, readings print the marker.
      s.errorMarker = '[GPU requires reset]';
      break;
    default:
      break;
  }
  s.temp = clamp(s.temp, 25, 97);
  s.power = Math.min(s.power, limit);
  return s;
}

export function serialFor(uuid) {
  return String(1650000000000 + (hash32(`serial:${uuid}`) % 999999999));
}
