import { execFile } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { profileKvCache, ZHfConfig, type TKvProfile } from './kv-profile';

/**
 * What the stand-in engine reads at load to size its KV cache like vLLM: the checkpoint's config.json and
 * weight bytes, its launch flags, and the GPUs it was given (nvidia-smi, as the agent sees them, or an
 * explicit list). The arithmetic itself is kv-profile.ts.
 */
export const ZEngineLaunch = z.object({
  /** vLLM `--tensor-parallel-size`. */
  tensorParallelSize: z.number().int().min(1).max(64).default(1),
  /** vLLM `--gpu-memory-utilization` (CacheConfig's default 0.9). */
  gpuMemoryUtilization: z.number().gt(0).max(1).default(0.9),
  /** vLLM `--kv-cache-dtype`. */
  kvCacheDtype: z.string().min(1).default('auto'),
  /** vLLM `--block-size`; unset = the model's default (256 for DeepSeek V4, else 16). */
  blockSize: z.number().int().min(1).max(4096).nullable().default(null),
  /** vLLM `--max-num-batched-tokens`; unset = by GPU size, as `vllm serve` resolves it. */
  maxNumBatchedTokens: z.number().int().min(1).nullable().default(null),
  /** vLLM `--enforce-eager`: no CUDA graphs to reserve memory for. */
  enforceEager: z.boolean().default(false),
  /** vLLM `--hf-config-path`: a config.json (or its directory) to use instead of the artifact directory's. */
  hfConfigPath: z.string().min(1).optional(),
  /**
   * Stand-in only: the bytes of weights the engine loads. Default: the sum of the directory's weight files. The
   * demo's Hub serves miniature checkpoints (a few MB) that stand for the real ones; this says which size.
   */
  weightsBytes: z.number().int().min(1).optional(),
  /** Stand-in only: the GPUs' total memory in MiB, instead of asking nvidia-smi. */
  gpuMemoryMib: z.array(z.number().int().min(1)).min(1).optional(),
  /** Stand-in only: the nvidia-smi to ask for the GPUs (a real engine asks CUDA). */
  nvidiaSmi: z.string().min(1).default('nvidia-smi'),
});
export type TEngineLaunch = z.infer<typeof ZEngineLaunch>;

export type TLaunchProfile =
  | { kind: 'profiled'; profile: TKvProfile }
  /** Not enough to profile (no config.json, no GPU visible): the stand-in keeps its fixed cache config. */
  | { kind: 'unprofiled'; reason: string }
  /** vLLM would refuse to start (does not fit, bad flags): the load fails with this root cause. */
  | { kind: 'failed'; error: string };

const WEIGHT_FILE = /\.(safetensors|bin|pt|gguf)$/;

function readConfig(path: string): { ok: true; config: z.infer<typeof ZHfConfig> } | { ok: false; reason: string } {
  let file = path;
  try {
    if (statSync(path).isDirectory()) file = join(path, 'config.json');
  } catch {
    return { ok: false, reason: `no config.json at ${path}` };
  }
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    return { ok: false, reason: `${file} is not readable JSON (${(err as Error).message})` };
  }
  const parsed = ZHfConfig.safeParse(raw);
  if (!parsed.success)
    return { ok: false, reason: `${file}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}` };
  return { ok: true, config: parsed.data };
}

function weightBytesIn(dir: string): number {
  let total = 0;
  for (const name of readdirSync(dir)) {
    if (!WEIGHT_FILE.test(name)) continue;
    const st = statSync(join(dir, name));
    if (st.isFile()) total += st.size;
  }
  return total;
}

/** GPU total memory in MiB by index, from `nvidia-smi --query-gpu=index,memory.total`; null when none answers. */
function queryGpus(bin: string, env: NodeJS.ProcessEnv): Promise<{ index: number; memoryMib: number }[] | null> {
  return new Promise((resolve) => {
    execFile(bin, ['--query-gpu=index,memory.total', '--format=csv,noheader,nounits'], { env, timeout: 10_000 }, (err, stdout) => {
      if (err) return resolve(null);
      const gpus: { index: number; memoryMib: number }[] = [];
      for (const line of stdout.split('\n')) {
        const [index, mem] = line.split(',').map((s) => Number(s.trim()));
        if (Number.isInteger(index) && Number.isFinite(mem) && mem! > 0) gpus.push({ index: index!, memoryMib: mem! });
      }
      resolve(gpus.length ? gpus : null);
    });
  });
}

/** CUDA_VISIBLE_DEVICES as indices: the engine only sees those, in that order. UUID lists are not narrowed. */
function visible<T extends { index: number }>(gpus: T[], env: NodeJS.ProcessEnv): T[] {
  const list = env.CUDA_VISIBLE_DEVICES?.trim();
  if (!list || !/^\d+(,\d+)*$/.test(list)) return gpus;
  return list
    .split(',')
    .map((i) => gpus.find((g) => g.index === Number(i)))
    .filter((g): g is T => g !== undefined);
}

export async function profileLaunch(input: {
  artifactDir: string | undefined;
  maxModelLen: number;
  maxNumSeqs: number;
  launch: TEngineLaunch;
  env?: NodeJS.ProcessEnv;
}): Promise<TLaunchProfile> {
  const { launch } = input;
  const env = input.env ?? process.env;
  const configAt = launch.hfConfigPath ?? input.artifactDir;
  if (!configAt) return { kind: 'unprofiled', reason: 'no artifact directory or --hf-config-path to read config.json from' };
  const config = readConfig(configAt);
  if (!config.ok) return { kind: 'unprofiled', reason: config.reason };
  const weightsBytes = launch.weightsBytes ?? (input.artifactDir ? weightBytesIn(input.artifactDir) : 0);
  if (weightsBytes <= 0) return { kind: 'unprofiled', reason: 'no weight files in the artifact directory and no --weights-bytes' };
  let gpuMib = launch.gpuMemoryMib;
  if (!gpuMib) {
    const gpus = await queryGpus(launch.nvidiaSmi, env);
    if (!gpus) return { kind: 'unprofiled', reason: `no GPU visible (${launch.nvidiaSmi} did not list any)` };
    gpuMib = visible(gpus, env).map((g) => g.memoryMib);
  }
  const result = profileKvCache({
    config: config.config,
    weightsBytes,
    gpuMemoryBytes: gpuMib.map((m) => m * 1024 * 1024),
    tensorParallelSize: launch.tensorParallelSize,
    gpuMemoryUtilization: launch.gpuMemoryUtilization,
    kvCacheDtype: launch.kvCacheDtype,
    maxModelLen: input.maxModelLen,
    blockSize: launch.blockSize,
    maxNumSeqs: input.maxNumSeqs,
    maxNumBatchedTokens: launch.maxNumBatchedTokens,
    enforceEager: launch.enforceEager,
  });
  return result.ok ? { kind: 'profiled', profile: result.profile } : { kind: 'failed', error: result.error };
}
