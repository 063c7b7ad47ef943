// Appends real-format NVRM Xid lines for GPUs with the `xid` profile, at most once per interval window,
// so a caller polling nvidia-smi sees an "occasional" Xid in the kernel log it tails.
import { appendFileSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hash32 } from './simulate.mjs';

/** `dmesg --decode --time-format iso` prefix, as in the real captures. */
function isoPrefix(ms, micros) {
  const iso = new Date(ms).toISOString(); // 2026-01-01T00:00:00.000Z
  return `kern  :warn  : ${iso.slice(0, 19)},${String(micros).padStart(6, '0')}+00:00 `;
}

/** The PCI spelling the kernel uses in Xid lines: 4-hex domain, lower case, no function. */
export function xidPci(busId) {
  const [domain, bus, device] = busId.split(/[:.]/);
  return `PCI:${`${domain.slice(-4)}:${bus}:${device}`.toLowerCase()}`;
}

export function xidLinesFor(gpu, window, nowMs) {
  const pci = xidPci(gpu.pciBusId);
  const micros = hash32(`${gpu.uuid}:${window}`) % 900_000;
  const p = (i) => isoPrefix(nowMs, micros + i * 97);
  const pid = 100_000 + (hash32(`pid:${gpu.uuid}:${window}`) % 3_000_000);
  if (window % 2 === 1) {
    return [
      `${p(0)}NVRM: GPU at ${pci}: ${gpu.uuid}`,
      `${p(1)}NVRM: Xid (${pci}): 79, pid=${pid}, name=python3, GPU has fallen off the bus.`,
      `${p(2)}NVRM: GPU ${pci.slice(4)}.0: GPU has fallen off the bus.`,
    ];
  }
  return [
    `${p(0)}NVRM: Xid (${pci}): 13, pid='<unknown>', name=<unknown>, Graphics SM Warp Exception on (GPC 4, TPC 1, SM 0): Out Of Range Address`,
    `${p(1)}NVRM: Xid (${pci}): 13, pid='<unknown>', name=<unknown>, Graphics Exception: ESR 0x524648=0x102000e 0x524650=0x20 0x524644=0xd3eff2 0x52464c=0x17f`,
    `${p(2)}NVRM: Xid (${pci}): 13, pid=${pid}, name=python3, Graphics Exception: ChID 0010, Class 0000c9c0, Offset 00000000, Data 00000000`,
  ];
}

export function defaultStateDir(configPath) {
  return join(tmpdir(), `fake-nvidia-smi-${hash32(configPath).toString(16)}`);
}

export function maybeAppendXid(config, configPath, nowMs) {
  const xidGpus = config.gpus.filter((g) => g.profile === 'xid');
  if (!config.kernelLogPath || xidGpus.length === 0) return 0;
  const stateDir = config.stateDir ?? defaultStateDir(configPath);
  const window = Math.floor(nowMs / 1000 / config.xidIntervalSeconds);
  const marker = `xid-window-${window}`;
  mkdirSync(stateDir, { recursive: true });
  // Callers run several nvidia-smi queries at once: creating the window's marker exclusively makes
  // exactly one of them write the burst.
  try {
    writeFileSync(join(stateDir, marker), '', { flag: 'wx' });
  } catch (err) {
    if (err.code === 'EEXIST') return 0;
    throw err;
  }
  const lines = xidGpus.flatMap((g) => xidLinesFor(g, window, nowMs));
  appendFileSync(config.kernelLogPath, `${lines.join('\n')}\n`);
  for (const name of readdirSync(stateDir)) {
    if (name.startsWith('xid-window-') && name !== marker) rmSync(join(stateDir, name), { force: true });
  }
  return lines.length;
}
