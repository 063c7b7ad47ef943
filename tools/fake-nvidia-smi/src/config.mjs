// Reads and checks the JSON config without dependencies: the executable must start in well under 150 ms.
import { readFileSync } from 'node:fs';
import { PROFILES } from './simulate.mjs';

export class FakeConfigError extends Error {}

const UUID = /^GPU-[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
const PCI = /^(?:PCI:)?(?:([0-9a-fA-F]{1,8}):)?([0-9a-fA-F]{1,2}):([0-9a-fA-F]{1,2})(?:\.([0-7]))?$/;

/** nvidia-smi always prints the 8-hex-domain, upper-case form. */
export function normalisePci(raw) {
  const m = PCI.exec(String(raw).trim());
  if (!m) return null;
  const h = (v, w) => v.toUpperCase().padStart(w, '0');
  return `${h(m[1] ?? '0', 8)}:${h(m[2], 2)}:${h(m[3], 2)}.${m[4] ?? '0'}`;
}

function fail(path, message) {
  throw new FakeConfigError(`${path}: ${message}`);
}

function str(obj, key, path, optional = false) {
  const v = obj[key];
  if (v === undefined && optional) return undefined;
  if (typeof v !== 'string' || v.length === 0) fail(`${path}.${key}`, 'must be a non-empty string');
  return v;
}

function num(obj, key, path, min, max) {
  const v = obj[key];
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) fail(`${path}.${key}`, `must be a number from ${min} to ${max}`);
  return v;
}

export function parseFakeConfig(value) {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail('config', 'must be a JSON object');
  const node = str(value, 'node', 'config');
  const driverVersion = str(value, 'driverVersion', 'config');
  const cudaVersion = str(value, 'cudaVersion', 'config');
  if (!Array.isArray(value.gpus) || value.gpus.length === 0 || value.gpus.length > 64) fail('config.gpus', 'must list 1 to 64 GPUs');
  const seen = new Set();
  const gpus = value.gpus.map((g, i) => {
    const path = `config.gpus[${i}]`;
    if (typeof g !== 'object' || g === null) fail(path, 'must be an object');
    const uuid = str(g, 'uuid', path);
    if (!UUID.test(uuid)) fail(`${path}.uuid`, 'must look like GPU-xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx');
    const pciBusId = normalisePci(str(g, 'pciBusId', path));
    if (!pciBusId) fail(`${path}.pciBusId`, 'must be a PCI bus id such as 00000000:3B:00.0');
    if (seen.has(uuid) || seen.has(pciBusId)) fail(path, 'duplicate uuid or pciBusId');
    seen.add(uuid).add(pciBusId);
    const profile = g.profile ?? 'busy';
    if (!PROFILES.includes(profile)) fail(`${path}.profile`, `must be one of ${PROFILES.join(', ')}`);
    return {
      uuid,
      name: str(g, 'name', path),
      memoryTotalMib: Math.round(num(g, 'memoryTotalMib', path, 1024, 4_194_304)),
      pciBusId,
      powerLimitW: num(g, 'powerLimitW', path, 10, 5000),
      profile,
    };
  });
  const xidIntervalSeconds = value.xidIntervalSeconds === undefined ? 60 : num(value, 'xidIntervalSeconds', 'config', 1, 86_400);
  return {
    node,
    driverVersion,
    cudaVersion,
    gpus,
    kernelLogPath: str(value, 'kernelLogPath', 'config', true),
    stateDir: str(value, 'stateDir', 'config', true),
    xidIntervalSeconds,
  };
}

export function loadFakeConfig(path) {
  let text;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new FakeConfigError(`cannot read FAKE_NVIDIA_SMI_CONFIG file ${path}: ${err.message}`);
  }
  let json;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new FakeConfigError(`FAKE_NVIDIA_SMI_CONFIG file ${path} is not valid JSON: ${err.message}`);
  }
  return parseFakeConfig(json);
}
