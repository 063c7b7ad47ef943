import { describe, expect, it } from 'vitest';
import { detectFormat, detectQuantisation } from './artifact-format';

describe('artifact format', () => {
  it('detects gguf and safetensors from the files', () => {
    expect(detectFormat(['model-00001-of-00002.safetensors', 'config.json'])).toBe('safetensors');
    expect(detectFormat(['DeepSeek-V4-Flash-Q4_K_M.gguf'])).toBe('gguf');
  });
  it('reads the quantisation from config.json, then GGUF names, then dtype', () => {
    expect(detectQuantisation([], '{"quantization_config":{"quant_method":"fp8","fmt":"e4m3"}}')).toBe('FP8');
    expect(detectQuantisation(['x/DeepSeek-V4-Flash-Q4_K_M.gguf'], null)).toBe('Q4_K_M');
    expect(detectQuantisation(['model.safetensors'], '{"torch_dtype":"bfloat16"}')).toBe('BF16');
    expect(detectQuantisation(['model.safetensors'], 'not json')).toBe('original');
  });
});
