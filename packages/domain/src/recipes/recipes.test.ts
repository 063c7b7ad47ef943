import { describe, expect, it } from 'vitest';
import { DEFAULT_ENGINES } from '../capacity/catalog-defaults';
import { gpu } from '../capacity/test-support';
import type { TEngineKind } from '../capacity/types';
import {
  BUILTIN_RECIPES,
  builtinRecipe,
  checkBuildTarget,
  defaultRecipeNames,
  recipeContentForDigest,
  recipeQuantisationLabel,
} from './recipes';

const cluster = (gpuModel: string, kind: TEngineKind, version = '99.0.0') => ({
  gpu: gpu(gpuModel),
  engine: { kind, version },
  engineSpec: DEFAULT_ENGINES.find((e) => e.kind === kind) ?? null,
});

describe('defaultRecipeNames', () => {
  it('Hopper + vLLM or SGLang gets FP8 block-128 (V4 upstream is FP4 experts + FP8)', () => {
    expect(defaultRecipeNames(cluster('NVIDIA H100 80GB HBM3', 'vllm')).names).toEqual(['fp8-block128']);
    expect(defaultRecipeNames(cluster('NVIDIA H200', 'sglang')).names).toEqual(['fp8-block128']);
  });

  it('llama.cpp gets GGUF Q8_0 and Q4_K_M', () => {
    expect(defaultRecipeNames(cluster('NVIDIA GeForce RTX 5090', 'llamacpp')).names).toEqual(['gguf-q8_0', 'gguf-q4_k_m']);
  });

  it('Blackwell serves the FP4 upstream as is', () => {
    const r = defaultRecipeNames(cluster('NVIDIA B200', 'vllm'));
    expect(r.names).toEqual([]);
    expect(r.notes[0]).toMatch(/FP4 tensor cores/);
  });

  it('an Ampere vLLM cluster gets no FP8 (no FP8 tensor cores), and says why', () => {
    const r = defaultRecipeNames(cluster('NVIDIA A100-SXM4-80GB', 'vllm'));
    expect(r.names).toEqual([]);
    expect(r.notes.join(' ')).toMatch(/no FP8 tensor cores/);
  });
});

describe('checkBuildTarget', () => {
  it('refuses GGUF for vLLM with the rule’s reason', () => {
    const v = checkBuildTarget(builtinRecipe('gguf-q8_0')!, cluster('NVIDIA H100 80GB HBM3', 'vllm'));
    expect(v.ok).toBe(false);
    expect(v.reason).toMatch(/GGUF files run only on llama.cpp or Ollama/);
  });
  it('refuses MLX off Apple silicon', () => {
    expect(checkBuildTarget(builtinRecipe('mlx-8bit')!, cluster('NVIDIA H100 80GB HBM3', 'vllm')).ok).toBe(false);
  });
  it('accepts FP8 on Hopper + vLLM', () => {
    expect(checkBuildTarget(builtinRecipe('fp8-block128')!, cluster('NVIDIA H100 80GB HBM3', 'vllm')).ok).toBe(true);
  });
});

describe('recipe content', () => {
  it('digest content ignores key order and name/description, not parameters', () => {
    const a = builtinRecipe('gguf-q8_0')!;
    const reordered = { ...a, params: { target: { type: 'Q8_0' as const, format: 'gguf' as const } }, description: 'other' };
    expect(recipeContentForDigest(reordered)).toBe(recipeContentForDigest(a));
    expect(recipeContentForDigest({ ...a, params: { target: { format: 'gguf', type: 'Q4_0' } } })).not.toBe(recipeContentForDigest(a));
    expect(recipeContentForDigest({ ...a, toolVersion: '2' })).not.toBe(recipeContentForDigest(a));
  });
  it('labels', () => {
    expect(BUILTIN_RECIPES.map((r) => recipeQuantisationLabel(r))).toEqual([
      'FP8',
      'Q8_0',
      'Q4_0',
      'Q4_K_M',
      'MLX-8bit',
      'MLX-4bit',
      'BF16',
    ]);
  });
});
