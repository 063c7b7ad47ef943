import { describe, expect, it } from 'vitest';
import {
  checkCompatibility,
  ruleArtifactRequirements,
  ruleEngineImage,
  ruleEngineServesFormat,
  ruleEngineServesV4,
  ruleEngineVersionFloor,
  ruleFp4Experts,
  ruleFp8Hardware,
  ruleGgufEngine,
  ruleMlxApple,
  ruleTrustRemoteCode,
  type TCompatInput,
} from './compatibility';
import type { TArtifactTraits, TEngineKind } from './types';
import { A100, B200, H100, H200, L40S, M2_ULTRA, MI300X, RTX5090, artifact, engineSpec, gpu } from './test-support';

function input(
  gpuModel: string,
  kind: TEngineKind,
  version: string | null,
  art: Partial<TArtifactTraits> = {},
  trustRemoteCode?: boolean | null,
): TCompatInput {
  return { artifact: artifact(art), gpu: gpu(gpuModel), engine: { kind, version }, engineSpec: engineSpec(kind), trustRemoteCode };
}

describe('fp4_experts', () => {
  it('passes natively on Blackwell FP4 tensor cores', () => {
    const v = ruleFp4Experts(input(B200, 'vllm', '0.20.0'));
    expect(v.status).toBe('pass');
    expect(v.reason).toMatch(/FP4 tensor cores/);
  });

  it('passes on Hopper only through an engine that ships Hopper kernels, naming the engine, version and source', () => {
    const ok = ruleFp4Experts(input(H200, 'sglang', '0.5.13'));
    expect(ok.status).toBe('pass');
    expect(ok.reason).toMatch(/SGLang 0\.5\.13 .*from 0\.5\.12/);
    expect(ok.source).toMatch(/deepseek_v4_nvfp4_sm90\.md/);
    expect(ok.source).toMatch(/Disputed/);
    const vllm = ruleFp4Experts(input(H100, 'vllm', '0.20.1'));
    expect(vllm.status).toBe('pass');
    expect(vllm.source).toMatch(/vllm-project\/recipes/);
  });

  it('fails the demo: FP4+FP8 Flash on an H200 under SGLang 0.5.4 (before the Hopper kernels)', () => {
    const v = ruleFp4Experts(input(H200, 'sglang', '0.5.4'));
    expect(v.status).toBe('fail');
    expect(v.reason).toMatch(/predates 0\.5\.12/);
    expect(v.source).toMatch(/sgl-project\/sglang/);
  });

  it('fails on Hopper with an engine that has no Hopper FP4 kernels, and on Ada / Ampere', () => {
    expect(ruleFp4Experts(input(H200, 'nim', '1.0')).status).toBe('fail');
    expect(ruleFp4Experts(input(L40S, 'vllm', '0.25.0')).status).toBe('fail');
    expect(ruleFp4Experts(input(A100, 'vllm', '0.25.0')).reason).toMatch(/FP8 conversion/);
  });

  it('does not apply to FP8-only or GGUF artifacts', () => {
    expect(ruleFp4Experts(input(H100, 'vllm', '0.20.0', { format: 'fp8', expertDtype: 'fp8' })).status).toBe('not_applicable');
    expect(ruleFp4Experts(input(RTX5090, 'llamacpp', 'b6123', { format: 'gguf', expertDtype: 'fp4' })).status).toBe('not_applicable');
  });
});

describe('fp8_hardware', () => {
  it('passes on Ada, Hopper, Blackwell', () => {
    for (const g of [L40S, H100, B200])
      expect(ruleFp8Hardware(input(g, 'vllm', '0.20.0', { format: 'fp8', expertDtype: 'fp8' })).status).toBe('pass');
  });
  it('fails on Ampere', () => {
    const v = ruleFp8Hardware(input(A100, 'vllm', '0.20.0', { format: 'fp8', expertDtype: 'fp8' }));
    expect(v.status).toBe('fail');
    expect(v.reason).toMatch(/Ada, Hopper or newer/);
  });
  it('does not apply to BF16', () => {
    expect(ruleFp8Hardware(input(A100, 'vllm', '0.20.0', { format: 'safetensors', expertDtype: null })).status).toBe('not_applicable');
  });
});

describe('engine_serves_v4', () => {
  it('passes for vLLM, fails for TGI, is unknown for NIM', () => {
    expect(ruleEngineServesV4(input(H100, 'vllm', '0.20.0')).status).toBe('pass');
    const tgi = ruleEngineServesV4(input(H100, 'tgi', '3.3.0'));
    expect(tgi.status).toBe('fail');
    expect(tgi.reason).toMatch(/does not serve DeepSeek V4/);
    expect(ruleEngineServesV4(input(H100, 'nim', '1.0')).status).toBe('unknown');
  });
  it('does not apply to other models', () => {
    expect(ruleEngineServesV4(input(H100, 'tgi', '3.3.0', { modelType: 'llama' })).status).toBe('not_applicable');
  });
});

describe('engine_version_floor', () => {
  it('passes at or above the V4 floor, fails below it', () => {
    expect(ruleEngineVersionFloor(input(B200, 'vllm', '0.20.0')).status).toBe('pass');
    const old = ruleEngineVersionFloor(input(B200, 'vllm', '0.11.2'));
    expect(old.status).toBe('fail');
    expect(old.reason).toMatch(/older than 0\.20\.0/);
    expect(old.source).toMatch(/recipes/);
  });
  it('asks the official releases and DSpark for vLLM 0.25.0', () => {
    expect(ruleEngineVersionFloor(input(B200, 'vllm', '0.20.0', { repoId: 'deepseek-ai/DeepSeek-V4-Flash-0731' })).status).toBe('fail');
    expect(ruleEngineVersionFloor(input(B200, 'vllm', '0.25.0', { repoId: 'deepseek-ai/DeepSeek-V4-Flash-0731' })).status).toBe('pass');
  });
  it('is unknown where no floor is recorded or the version does not compare', () => {
    expect(ruleEngineVersionFloor(input(RTX5090, 'llamacpp', 'b6123', { format: 'gguf' })).status).toBe('unknown');
    expect(ruleEngineVersionFloor(input(B200, 'vllm', 'nightly')).status).toBe('unknown');
  });
});

describe('artifact_requirements', () => {
  it("passes when the engine meets the artifact's own minimum and fails when not", () => {
    expect(ruleArtifactRequirements(input(B200, 'vllm', '0.20.0', { requirements: { vllm: '0.11.0' } })).status).toBe('pass');
    expect(ruleArtifactRequirements(input(B200, 'vllm', '0.10.0', { requirements: { vllm: '0.11.0' } })).status).toBe('fail');
    expect(ruleArtifactRequirements(input(B200, 'sglang', '0.5.0', { requirements: { vllm: '0.11.0' } })).status).toBe('not_applicable');
  });
});

describe('engine_serves_format and gguf_engine', () => {
  it('GGUF runs on llama.cpp and Ollama', () => {
    expect(ruleGgufEngine(input(RTX5090, 'llamacpp', 'b6123', { format: 'gguf' })).status).toBe('pass');
    expect(ruleGgufEngine(input(RTX5090, 'ollama', '0.9.0', { format: 'gguf' })).status).toBe('pass');
    expect(ruleEngineServesFormat(input(RTX5090, 'llamacpp', 'b6123', { format: 'gguf' })).status).toBe('pass');
  });
  it('GGUF on vLLM fails, and llama.cpp refuses safetensors', () => {
    const v = ruleGgufEngine(input(H100, 'vllm', '0.20.0', { format: 'gguf' }));
    expect(v.status).toBe('fail');
    expect(v.reason).toMatch(/only on llama\.cpp or Ollama/);
    expect(ruleEngineServesFormat(input(H100, 'llamacpp', 'b6123', { format: 'fp8' })).status).toBe('fail');
  });
});

describe('mlx_apple', () => {
  it('passes for MLX on Apple silicon', () => {
    expect(ruleMlxApple(input(M2_ULTRA, 'mlx', '0.28.0', { format: 'mlx' })).status).toBe('pass');
  });
  it('fails for MLX on an NVIDIA GPU, or an MLX artifact under another engine', () => {
    expect(ruleMlxApple(input(H100, 'mlx', '0.28.0', { format: 'mlx' })).reason).toMatch(/only on Apple silicon/);
    expect(ruleMlxApple(input(M2_ULTRA, 'llamacpp', 'b6123', { format: 'mlx' })).status).toBe('fail');
  });
});

describe('trust_remote_code', () => {
  it('passes when set, fails when the cluster runs without it, warns when unknown', () => {
    expect(ruleTrustRemoteCode(input(B200, 'vllm', '0.20.0', {}, true)).status).toBe('pass');
    expect(ruleTrustRemoteCode(input(B200, 'vllm', '0.20.0', {}, false)).status).toBe('fail');
    expect(ruleTrustRemoteCode(input(B200, 'vllm', '0.20.0', {}, null)).status).toBe('warn');
  });
  it('does not apply to llama.cpp', () => {
    expect(ruleTrustRemoteCode(input(RTX5090, 'llamacpp', 'b6123', { format: 'gguf' }, false)).status).toBe('not_applicable');
  });
});

describe('engine_image', () => {
  it('passes where the engine publishes an image for the GPU generation, warns where not', () => {
    expect(ruleEngineImage(input(H100, 'sglang', '0.5.13')).status).toBe('pass');
    expect(ruleEngineImage(input(MI300X, 'vllm', '0.25.0')).status).toBe('warn');
  });
});

describe('checkCompatibility', () => {
  it('is compatible when no rule fails', () => {
    const r = checkCompatibility(input(B200, 'vllm', '0.25.0', {}, true));
    expect(r.compatible).toBe(true);
    expect(r.failures).toEqual([]);
    expect(r.verdicts.every((v) => v.reason.length > 0)).toBe(true);
  });
  it('lists every failing rule with its reason', () => {
    const r = checkCompatibility(input(A100, 'tgi', '3.0.0'));
    expect(r.compatible).toBe(false);
    expect(r.failures.map((f) => f.rule).sort()).toEqual(['engine_serves_format', 'engine_serves_v4', 'fp4_experts', 'fp8_hardware']);
  });
  it('copes with an engine the catalog does not know', () => {
    const r = checkCompatibility({ ...input(H100, 'vllm', '0.20.0'), engineSpec: null });
    expect(r.verdicts.find((v) => v.rule === 'engine_serves_v4')!.status).toBe('unknown');
  });
});
