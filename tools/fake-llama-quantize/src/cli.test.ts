import { describe, expect, it } from 'vitest';
import { main } from './cli';

function capture() {
  const io = { outText: '', errText: '', out: (s: string) => void (io.outText += s), err: (s: string) => void (io.errText += s) };
  return io;
}

describe('fake llama-quantize arguments', () => {
  it('--version prints llama.cpp-style build lines on stderr and exits 0', async () => {
    const io = capture();
    expect(await main(['--version'], {}, io)).toBe(0);
    expect(io.errText).toMatch(/^version: 4242 \(f1ee7a5\)\nbuilt with .* for x86_64-linux-gnu\n$/);
  });

  it('prints the usage with the allowed-types table and exits 1 on unknown flags or missing arguments', async () => {
    for (const argv of [['--help'], ['in.gguf'], ['--bogus', 'in.gguf', 'Q4_K_M'], ['in.gguf', 'out.gguf', 'NOT_A_TYPE']]) {
      const io = capture();
      expect(await main(argv, {}, io)).toBe(1);
      expect(io.errText).toMatch(/^usage: llama-quantize /);
      expect(io.errText).toContain('  15  or  Q4_K_M  :  4.58G, +0.1754 ppl @ Llama-3-8B');
    }
  });

  it('fails like llama-quantize when the input cannot be loaded', async () => {
    const io = capture();
    expect(await main(['/nonexistent/in.gguf', '/tmp/out.gguf', 'q8_0', '1'], {}, io)).toBe(1);
    expect(io.errText).toContain("main: quantizing '/nonexistent/in.gguf' to '/tmp/out.gguf' as Q8_0 using 1 threads");
    expect(io.errText).toContain('llama_model_quantize: failed to quantize');
  });
});
