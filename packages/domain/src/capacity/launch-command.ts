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

export function buildLaunchCommand(input: TLaunchInput): string | null {
  const { plan, gpu } = input;
  const s = plan.suggested;
  const name = input.servedModelName ?? null;
  switch (input.engine) {
    case 'vllm': {
      const parts: string[][] = [['vllm', 'serve', input.model]];
      if (name) parts.push(['--served-model-name', name]);
      parts.push(['--port', String(input.port ?? 8000)]);
      parts.push(['--trust-remote-code']);
      parts.push(['--tensor-parallel-size', String(s.tensorParallelSize)]);
      if (input.moe && s.tensorParallelSize > 1) parts.push(['--enable-expert-parallel']);
      parts.push(['--max-model-len', String(s.maxModelLen)]);
      parts.push(['--max-num-seqs', String(s.maxNumSeqs)]);
      parts.push(['--kv-cache-dtype', s.kvCacheDtype]);
      parts.push(['--block-size', String(plan.blockSize)]);
      parts.push(['--gpu-memory-utilization', String(s.gpuMemoryUtilization)]);
      return render(parts);
    }
    case 'sglang': {
      const parts: string[][] = [['python', '-m', 'sglang.launch_server', '--model-path', input.model]];
      if (name) parts.push(['--served-model-name', name]);
      parts.push(['--port', String(input.port ?? 30000)]);
      parts.push(['--trust-remote-code']);
      parts.push(['--tp', String(s.tensorParallelSize)]);
      if (input.moe && s.tensorParallelSize > 1) parts.push(['--ep', String(s.tensorParallelSize)]);
      parts.push(['--context-length', String(s.maxModelLen)]);
      parts.push(['--max-running-requests', String(s.maxNumSeqs)]);
      parts.push(['--kv-cache-dtype', s.kvCacheDtype === 'fp8' ? 'fp8_e4m3' : s.kvCacheDtype]);
      parts.push(['--mem-fraction-static', String(s.gpuMemoryUtilization)]);
      // SGLang cookbook: on Hopper the FP4 experts run through Marlin (W4A16).
      if (input.fp4Experts && gpu.generation === 'hopper') parts.push(['--moe-runner-backend', 'marlin']);
      parts.push(['--enable-metrics']);
      return render(parts);
    }
    case 'llamacpp': {
      // llama.cpp's -c is the total context shared by the -np slots.
      const ctk = s.kvCacheDtype === 'q8_0' || s.kvCacheDtype === 'q4_0' ? s.kvCacheDtype : 'f16';
      const parts: string[][] = [['llama-server', '-m', input.model]];
      if (name) parts.push(['-a', name]);
      parts.push(['--host', '127.0.0.1', '--port', String(input.port ?? 8080)]);
      parts.push(['-c', String(s.maxModelLen * s.maxNumSeqs)]);
      parts.push(['-np', String(s.maxNumSeqs)]);
      parts.push(['-ngl', '999']);
      parts.push(['-ctk', ctk, '-ctv', ctk]);
      parts.push(['--metrics']);
      return render(parts);
    }
    case 'ollama':
      // Ollama takes the context per model: OLLAMA_CONTEXT_LENGTH for the server, num_ctx per request.
      return render([[`OLLAMA_CONTEXT_LENGTH=${s.maxModelLen}`, `OLLAMA_NUM_PARALLEL=${s.maxNumSeqs}`, 'ollama', 'serve']]);
    case 'mlx': {
      // mlx-lm has no context flag: the context is bounded by memory (and --max-tokens caps output).
      const parts: string[][] = [['mlx_lm.server', '--model', input.model]];
      parts.push(['--host', '127.0.0.1', '--port', String(input.port ?? 8080)]);
      parts.push(['--decode-concurrency', String(s.maxNumSeqs)]);
      return render(parts);
    }
    case 'nim': {
      const parts: string[][] = [['docker', 'run', '--gpus', 'all', '-p', `${input.port ?? 8000}:8000`]];
      parts.push(['-e', `NIM_MAX_MODEL_LEN=${s.maxModelLen}`]);
      if (name) parts.push(['-e', `NIM_SERVED_MODEL_NAME=${name}`]);
      parts.push(['-e', `NIM_MODEL_PATH=${input.model}`]);
      parts.push(['<nim-image>', 'nim-serve', '--tensor-parallel-size', String(s.tensorParallelSize), '--kv-cache-dtype', s.kvCacheDtype]);
      return render(parts);
    }
    case 'tgi':
      return null;
  }
}
