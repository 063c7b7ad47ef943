import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { normalisePciBusId, ZGpuUuid } from '@fleetplane/contracts';

/** Absolute path of the executable; pass it to the agent as `--nvidia-smi`. */
export const FAKE_NVIDIA_SMI_BIN = resolve(dirname(fileURLToPath(import.meta.url)), '../bin/nvidia-smi');

export const FAKE_GPU_PROFILES = ['busy', 'idle', 'throttled', 'ecc-error', 'xid', 'hot', 'mig', 'reset-required'] as const;
export const ZFakeGpuProfile = z.enum(FAKE_GPU_PROFILES);
export type TFakeGpuProfile = z.infer<typeof ZFakeGpuProfile>;

export const FAKE_FAIL_MODES = ['missing', 'exit', 'garbage', 'hang'] as const;
export type TFakeFailMode = (typeof FAKE_FAIL_MODES)[number];

export const ZFakeGpu = z.strictObject({
  uuid: ZGpuUuid.refine((u) => u.startsWith('GPU-'), 'Physical GPUs have GPU- UUIDs'),
  name: z.string().min(1).max(96),
  memoryTotalMib: z.number().int().min(1024).max(4_194_304),
  pciBusId: z.string().refine((p) => normalisePciBusId(p) !== null, 'Use a PCI bus id such as 00000000:3B:00.0'),
  powerLimitW: z.number().min(10).max(5000),
  profile: ZFakeGpuProfile.default('busy'),
});
export type TFakeGpu = z.input<typeof ZFakeGpu>;

export const ZFakeNvidiaSmiConfig = z.strictObject({
  /** The hostname the fake node pretends to be (printed for the `hostname` field). */
  node: z.string().min(1).max(253),
  driverVersion: z.string().min(1).max(32),
  cudaVersion: z.string().min(1).max(16),
  gpus: z.array(ZFakeGpu).min(1).max(64),
  /** Where the `xid` profile appends NVRM Xid lines; the agent tails it with --kernel-log. */
  kernelLogPath: z.string().min(1).optional(),
  /** Where the fake remembers which Xid window it already wrote; defaults to a per-config tmp folder. */
  stateDir: z.string().min(1).optional(),
  /** One Xid burst per GPU with the `xid` profile per this many seconds (default 60). */
  xidIntervalSeconds: z.number().min(1).max(86_400).optional(),
});
export type TFakeNvidiaSmiConfig = z.input<typeof ZFakeNvidiaSmiConfig>;

/** Validates and writes the config atomically (a concurrent nvidia-smi call never reads half a file). */
export function writeFakeNvidiaSmiConfig(path: string, config: TFakeNvidiaSmiConfig): z.output<typeof ZFakeNvidiaSmiConfig> {
  const parsed = ZFakeNvidiaSmiConfig.parse(config);
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(parsed, null, 2)}\n`);
  renameSync(tmp, path);
  return parsed;
}

/** Environment for a process that should see the fake: merge it into the child's env. */
export function fakeNvidiaSmiEnv(configPath: string, options: { fail?: TFakeFailMode; now?: Date } = {}): Record<string, string> {
  const env: Record<string, string> = { FAKE_NVIDIA_SMI_CONFIG: configPath };
  if (options.fail) env.FAKE_NVIDIA_SMI_FAIL = options.fail;
  if (options.now) env.FAKE_NVIDIA_SMI_NOW = String(options.now.getTime());
  return env;
}

/**
 * A plausible GPU for demos and tests: H100 80GB at a distinct PCI slot, UUID derived from the seed so
 * repeated calls for the same (node, index) agree.
 */
export function fakeH100(node: string, index: number, profile: TFakeGpuProfile = 'busy'): TFakeGpu {
  const hex = Array.from(`${node}#${index}`)
    .reduce((h, c) => Math.imul(h ^ c.charCodeAt(0), 0x01000193) >>> 0, 0x811c9dc5)
    .toString(16)
    .padStart(8, '0');
  const slots = ['18', '2A', '3A', '5D', '9A', 'AB', 'BA', 'DB'];
  const bus = slots[index % slots.length] ?? '18';
  return {
    uuid: `GPU-${hex}-${hex.slice(0, 4)}-${hex.slice(4, 8)}-${String(index).padStart(4, '0')}-${hex}${hex.slice(0, 4)}`,
    name: 'NVIDIA H100 80GB HBM3',
    memoryTotalMib: 81559,
    pciBusId: `00000000:${bus}:00.0`,
    powerLimitW: 700,
    profile,
  };
}
