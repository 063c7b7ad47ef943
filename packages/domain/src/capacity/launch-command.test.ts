import { describe, expect, it } from 'vitest';
import { buildLaunchCommand, shellQuote } from './launch-command';
import { parseModelConfig } from './model-config';
import { planFit } from './planner';
import { H200, RTX5090, gpu, v4FlashConfig } from './test-support';
import type { TEngineKind } from './types';

const arch = (() => {
  const r = parseModelConfig(v4FlashConfig());
  if (!r.ok) throw new Error('config');
  return r.value;
})();

function command(engine: TEngineKind, gpuModel = H200, gpuCount = 2, fp4Experts = true, weightsBytes = 160e9) {
  const r = planFit({ arch, weightsBytes, gpu: gpu(gpuModel), gpuCount, engine, contextTokens: 65536, concurrency: 4 });
  if (!r.ok) throw new Error(r.errors.join());
  return buildLaunchCommand({
    engine,
    model: 'deepseek-ai/DeepSeek-V4-Flash',
    servedModelName: 'flash',
    plan: r.plan,
    gpu: gpu(gpuModel),
    moe: true,
    fp4Experts,
  });
}

describe('buildLaunchCommand', () => {
  it('vLLM: the V4 recipe flags plus the planned settings', () => {
    const c = command('vllm')!;
    expect(c).toMatch(/^vllm serve deepseek-ai\/DeepSeek-V4-Flash/);
    for (const flag of [
      '--trust-remote-code',
      '--tensor-parallel-size 2',
      '--enable-expert-parallel',
      '--max-model-len 65536',
      '--max-num-seqs 4',
      '--kv-cache-dtype fp8',
      '--block-size 256',
      '--gpu-memory-utilization 0.92',
    ])
      expect(c).toContain(flag);
  });

  it('SGLang on Hopper with FP4 experts adds the Marlin MoE backend', () => {
    const c = command('sglang')!;
    expect(c).toContain('--moe-runner-backend marlin');
    expect(c).toContain('--context-length 65536');
    expect(c).toContain('--kv-cache-dtype fp8_e4m3');
    expect(command('sglang', H200, 2, false)).not.toContain('marlin');
  });

  it('llama.cpp: total context is per-slot context x slots', () => {
    const c = command('llamacpp', RTX5090, 4, false, 80e9)!;
    expect(c).toContain(`-c ${65536 * 4}`);
    expect(c).toContain('-np 4');
    expect(c).toContain('-ctk f16 -ctv f16');
  });

  it('MLX has no context flag; TGI has no command', () => {
    expect(command('mlx')).toContain('mlx_lm.server --model deepseek-ai/DeepSeek-V4-Flash');
    expect(command('tgi')).toBeNull();
  });

  it('quotes shell-unsafe values', () => {
    expect(shellQuote("it's")).toBe(`'it'\\''s'`);
    expect(shellQuote('/models/a b')).toBe(`'/models/a b'`);
    expect(shellQuote('deepseek-ai/X')).toBe('deepseek-ai/X');
  });
});
