import { describe, expect, it } from 'vitest';
import { TemplateError, expandTemplate, placeholdersOf } from './command-template';
import { parseLlamaQuantizeProgress, parseToolVersion } from './tool-output';

describe('command templates', () => {
  it('substitutes placeholders inside single argv elements, never through a shell', () => {
    const argv = expandTemplate(['llama-quantize', '--imatrix={imatrix}', '{input_file}', '{output_file}', 'Q4_K_M', '{threads}'], {
      imatrix: '/data/im at rix.dat',
      input_file: '/in/$(rm -rf ~)/m.gguf',
      output_file: "/out/it's.gguf",
      threads: 8,
    });
    expect(argv).toEqual(['llama-quantize', '--imatrix=/data/im at rix.dat', '/in/$(rm -rf ~)/m.gguf', "/out/it's.gguf", 'Q4_K_M', '8']);
  });

  it('names placeholders that have no value', () => {
    expect(placeholdersOf(['x', '{a}{b}', '{a}'])).toEqual(['a', 'b']);
    expect(() => expandTemplate(['tool', '{input_dir}', '{calib}'], { input_dir: '/x' })).toThrow(
      new TemplateError('the command template uses {calib}, which has no value'),
    );
    expect(() => expandTemplate([], {})).toThrow(/empty/);
  });
});

describe('llama-quantize output', () => {
  it('parses current and older progress lines', () => {
    expect(
      parseLlamaQuantizeProgress(
        '[  12/ 291]                 blk.0.attn_k.weight - [  4096,   1024,      1,      1], type =    f16, converting to q4_K .. size =     8.00 MiB ->     2.25 MiB',
      ),
    ).toEqual({
      done: 12,
      total: 291,
      tensor: 'blk.0.attn_k.weight',
    });
    expect(
      parseLlamaQuantizeProgress(
        '[   1/ 291] token_embd.weight                    - [ 4096, 128256,     1,     1], type =   bf16, size =  1002.000 MiB',
      ),
    ).toEqual({ done: 1, total: 291, tensor: 'token_embd.weight' });
    expect(parseLlamaQuantizeProgress('main: quantize time =  1234.00 ms')).toBeNull();
  });

  it('reads the build from --version output and from the start-up banner', () => {
    expect(parseToolVersion('version: 4242 (f1ee7a5)\nbuilt with cc for x86_64-linux-gnu')).toMatchObject({
      version: 'b4242 (f1ee7a5)',
      build: 4242,
      commit: 'f1ee7a5',
    });
    expect(parseToolVersion('main: build = 3600 (2fb92678)\nmain: built with cc')).toMatchObject({ build: 3600, commit: '2fb92678' });
    expect(parseToolVersion('version: 1.2.3 (build 5000, commit abc123)')).toMatchObject({ build: 5000, commit: 'abc123' });
    expect(parseToolVersion('mlx_lm 0.28.1\n')).toMatchObject({ version: 'mlx_lm 0.28.1' });
    expect(parseToolVersion('  \n')).toBeNull();
  });
});
