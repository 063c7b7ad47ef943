import type { TFitPlan } from './planner';
import type { TEngineKind, TGpuSpec } from './types';

/**
 * The planner's suggested settings as the command line of the chosen engine, with the flags the V4
 * recipes use (engines-and-rollouts.md §1.6). One argument per line so it reads and copies well.
 */

export interface TLaunchInput {
  engine: TEngineKind;
  /** Local path or HF repo id of the artifact. */
  model: string;
  servedModelName?: string | null;
  plan: TFitPlan;
  gpu: TGpuSpec;
  /** MoE models shard experts with expert parallelism when on more than one GPU. */
  moe: boolean;
  /** The artifact has FP4 experts (Hopper needs a W4A16 backend on SGLang). */
  fp4Experts: boolean;
  port?: number;
}

/** Single-quote for a POSIX shell unless the value is plainly safe. */
export function shellQuote(value: string): string {
  return /^[A-Za-z0-9_./:=@%+-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}

function render(parts: string[][]): string {
  return parts.map((p) => p.map(shellQuote).join(' ')).join(' \\\n  ');
}

/**
 * The serving settings an engine's command line is made of, whoever decided them: the fit planner's
 * suggestion (buildLaunchCommand) or a cluster's engine settings (engine/launch-spec.ts). Optional
 * settings are left out of the command (the engine's default applies).
 */
export interface TServeArgs {
  model: string;
  servedModelName?: string | null;
  /** A number, or a placeholder such as "{port}" that the agent fills in. */
  port: number | string;
  /** Interface to bind; vLLM, SGLang and NIM get --host only when set (llama.cpp and MLX always). */
  host?: string;
  tensorParallelSize: number;
  moe: boolean;
  maxModelLen: number;
  maxNumSeqs?: number;
  kvCacheDtype: string;
  blockSize?: number;
  gpuMemoryUtilization: number;
  trustRemoteCode: boolean;
  /** null/undefined: the engine's default (vLLM V1 turns it on for models that support it). */
  chunkedPrefill?: boolean | null;
  /** vLLM >= 0.18 --shutdown-timeout: seconds to let in-flight requests finish on SIGTERM. */
  shutdownTimeoutSeconds?: number;
  /** SGLang on Hopper with FP4 experts: the W4A16 Marlin MoE backend. */
  marlinMoe?: boolean;
  /** NIM container image. */
  image?: string;
}

/** The argv of each engine, grouped one flag (with its values) per group so it renders one per line. */
export function serveArgvParts(engine: TEngineKind, a: TServeArgs): string[][] | null {
  const name = a.servedModelName ?? null;
  switch (engine) {
    case 'vllm': {
      const parts: string[][] = [['vllm', 'serve', a.model]];
      if (name) parts.push(['--served-model-name', name]);
      if (a.host) parts.push(['--host', a.host]);
      parts.push(['--port', String(a.port)]);
      if (a.trustRemoteCode) parts.push(['--trust-remote-code']);
      parts.push(['--tensor-parallel-size', String(a.tensorParallelSize)]);
      if (a.moe && a.tensorParallelSize > 1) parts.push(['--enable-expert-parallel']);
      parts.push(['--max-model-len', String(a.maxModelLen)]);
      if (a.maxNumSeqs !== undefined) parts.push(['--max-num-seqs', String(a.maxNumSeqs)]);
      parts.push(['--kv-cache-dtype', a.kvCacheDtype]);
      if (a.blockSize !== undefined) parts.push(['--block-size', String(a.blockSize)]);
      parts.push(['--gpu-memory-utilization', String(a.gpuMemoryUtilization)]);
      if (a.chunkedPrefill === true) parts.push(['--enable-chunked-prefill']);
      if (a.chunkedPrefill === false) parts.push(['--no-enable-chunked-prefill']);
      if (a.shutdownTimeoutSeconds !== undefined) parts.push(['--shutdown-timeout', String(a.shutdownTimeoutSeconds)]);
      return parts;
    }
    case 'sglang': {
      const parts: string[][] = [['python', '-m', 'sglang.launch_server', '--model-path', a.model]];
      if (name) parts.push(['--served-model-name', name]);
      if (a.host) parts.push(['--host', a.host]);
      parts.push(['--port', String(a.port)]);
      if (a.trustRemoteCode) parts.push(['--trust-remote-code']);
      parts.push(['--tp', String(a.tensorParallelSize)]);
      if (a.moe && a.tensorParallelSize > 1) parts.push(['--ep', String(a.tensorParallelSize)]);
      parts.push(['--context-length', String(a.maxModelLen)]);
      if (a.maxNumSeqs !== undefined) parts.push(['--max-running-requests', String(a.maxNumSeqs)]);
      parts.push(['--kv-cache-dtype', a.kvCacheDtype === 'fp8' ? 'fp8_e4m3' : a.kvCacheDtype]);
      parts.push(['--mem-fraction-static', String(a.gpuMemoryUtilization)]);
      // SGLang's switch is a size: -1 disables chunked prefill; unset is auto.
      if (a.chunkedPrefill === false) parts.push(['--chunked-prefill-size', '-1']);
      // SGLang cookbook: on Hopper the FP4 experts run through Marlin (W4A16).
      if (a.marlinMoe) parts.push(['--moe-runner-backend', 'marlin']);
      parts.push(['--enable-metrics']);
      return parts;
    }
    case 'llamacpp': {
      // llama.cpp's -c is the total context shared by the -np slots.
      const slots = a.maxNumSeqs ?? 1;
      const ctk = a.kvCacheDtype === 'q8_0' || a.kvCacheDtype === 'q4_0' ? a.kvCacheDtype : 'f16';
      const parts: string[][] = [['llama-server', '-m', a.model]];
      if (name) parts.push(['-a', name]);
      parts.push(['--host', a.host ?? '127.0.0.1', '--port', String(a.port)]);
      parts.push(['-c', String(a.maxModelLen * slots)]);
      parts.push(['-np', String(slots)]);
      parts.push(['-ngl', '999']);
      parts.push(['-ctk', ctk, '-ctv', ctk]);
      parts.push(['--metrics']);
      return parts;
    }
    case 'ollama':
      // Ollama takes the context per model: OLLAMA_CONTEXT_LENGTH for the server, num_ctx per request.
      return [[`OLLAMA_CONTEXT_LENGTH=${a.maxModelLen}`, `OLLAMA_NUM_PARALLEL=${a.maxNumSeqs ?? 1}`, 'ollama', 'serve']];
    case 'mlx': {
      // mlx-lm has no context flag: the context is bounded by memory (and --max-tokens caps output).
      const parts: string[][] = [['mlx_lm.server', '--model', a.model]];
      parts.push(['--host', a.host ?? '127.0.0.1', '--port', String(a.port)]);
      if (a.maxNumSeqs !== undefined) parts.push(['--decode-concurrency', String(a.maxNumSeqs)]);
      if (a.trustRemoteCode) parts.push(['--trust-remote-code']);
      return parts;
    }
    case 'nim': {
      const parts: string[][] = [['docker', 'run', '--gpus', 'all', '-p', `${a.port}:8000`]];
      parts.push(['-e', `NIM_MAX_MODEL_LEN=${a.maxModelLen}`]);
      if (name) parts.push(['-e', `NIM_SERVED_MODEL_NAME=${name}`]);
      parts.push(['-e', `NIM_MODEL_PATH=${a.model}`]);
      parts.push([
        a.image ?? '<nim-image>',
        'nim-serve',
        '--tensor-parallel-size',
        String(a.tensorParallelSize),
        '--kv-cache-dtype',
        a.kvCacheDtype,
      ]);
      return parts;
    }
    case 'tgi':
      return null;
  }
}

/** One argument per line, shell-quoted, so it reads and copies well. */
export function renderCommandParts(parts: string[][]): string {
  return render(parts);
}

export function buildLaunchCommand(input: TLaunchInput): string | null {
  const { plan, gpu } = input;
  const s = plan.suggested;
  const parts = serveArgvParts(input.engine, {
    model: input.model,
    servedModelName: input.servedModelName,
    port: input.port ?? DEFAULT_PORTS[input.engine],
    tensorParallelSize: s.tensorParallelSize,
    moe: input.moe,
    maxModelLen: s.maxModelLen,
    maxNumSeqs: s.maxNumSeqs,
    kvCacheDtype: s.kvCacheDtype,
    blockSize: input.engine === 'vllm' ? plan.blockSize : undefined,
    gpuMemoryUtilization: s.gpuMemoryUtilization,
    trustRemoteCode: true,
    marlinMoe: input.fp4Experts && gpu.generation === 'hopper',
  });
  return parts ? render(parts) : null;
}

/** The port each engine listens on when not told otherwise (engines-and-rollouts.md §1). */
export const DEFAULT_PORTS: Record<TEngineKind, number> = {
  vllm: 8000,
  sglang: 30000,
  llamacpp: 8080,
  ollama: 11434,
  mlx: 8080,
  nim: 8000,
  tgi: 8080,
};
