import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gguf, GGMLQuantizationType } from '@huggingface/gguf';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { convertCheckpoint } from '../convert/convert';
import { writeTinyV4Checkpoint } from '@fleetplane/fake-hub/content/tiny-checkpoint';
import { runExternalConversion } from './external-conversion';
import { ToolFailedError, ToolTimeoutError, runTool } from './run-tool';

// The stand-in tool is executed by path, never imported: packages may not depend on tools/.
const BIN = fileURLToPath(new URL('../../../../tools/fake-llama-quantize/bin/llama-quantize', import.meta.url));
const TEMPLATE = [BIN, '{input_file}', '{output_file}', 'Q4_K_M', '{threads}'];

let root: string;
let inputDir: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'fp-external-'));
  await writeTinyV4Checkpoint(join(root, 'src'), { shards: 1 });
  inputDir = join(root, 'bf16-gguf');
  await convertCheckpoint({ sourceDir: join(root, 'src'), outputDir: inputDir, parameters: { target: { format: 'gguf', type: 'BF16' } } });
}, 60_000);

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const partials = async () => (await readdir(root)).filter((f) => f.includes('.partial-'));

/** Running, as opposed to gone or a zombie waiting for init to reap it (Linux /proc). */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

describe('external tool by command template (fake llama-quantize)', () => {
  it('runs, streams progress, records the version and ingests what the tool really wrote', async () => {
    const progress: Array<{ done: number; total: number }> = [];
    const lines: string[] = [];
    const out = join(root, 'q4km');
    const r = await runExternalConversion({
      template: TEMPLATE,
      inputDir,
      inputFile: 'model-BF16.gguf',
      outputDir: out,
      outputFileName: 'model-Q4_K_M.gguf',
      threads: 2,
      timeoutMs: 60_000,
      onLine: (l) => lines.push(l),
      onProgress: (p) => progress.push(p),
    });
    expect(r.toolVersion).toMatchObject({ build: 4242, commit: 'f1ee7a5', version: 'b4242 (f1ee7a5)' });
    expect(progress.length).toBeGreaterThan(10);
    expect(progress.at(-1)!.done).toBe(progress.at(-1)!.total);
    expect(lines.some((l) => l.startsWith('main: quantize time'))).toBe(true);
    // Detected from the file: the stand-in writes Q4_0 data for Q4_K_M and says so in general.file_type.
    expect(r.detected).toMatchObject({ format: 'gguf', quantisation: 'Q4_0', architecture: 'deepseek4' });
    expect(r.detected.tensorTypes.Q4_0).toBeGreaterThan(0);
    expect(r.manifest.files.map((f) => f.path)).toEqual(['model-Q4_K_M.gguf']);
    const parsed = await gguf(join(out, 'model-Q4_K_M.gguf'), { allowLocalFile: true });
    const md = parsed.metadata as unknown as Record<string, unknown>;
    expect(md['quantize.requested_type']).toBe('Q4_K_M');
    expect(parsed.tensorInfos.find((t) => t.name === 'blk.0.attn.wq_a.weight')?.dtype).toBe(GGMLQuantizationType.Q4_0);
    expect(parsed.tensorInfos.find((t) => t.name === 'blk.0.attn_norm.weight')?.dtype).toBe(GGMLQuantizationType.F32);
    expect(await partials()).toEqual([]);
  }, 60_000);

  it('a failing tool fails the step with its last words and leaves no output', async () => {
    const out = join(root, 'failed');
    const err = await runExternalConversion({
      template: TEMPLATE,
      inputDir,
      inputFile: 'model-BF16.gguf',
      outputDir: out,
      outputFileName: 'out.gguf',
      timeoutMs: 60_000,
      env: { ...process.env, FAKE_LLAMA_QUANTIZE_FAIL_AT: '3' },
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ToolFailedError);
    expect((err as ToolFailedError).exitCode).toBe(1);
    expect((err as Error).message).toMatch(/exited with code 1: .*failed to quantize: ggml_validate_row_data/);
    await expect(stat(out)).rejects.toThrow(/ENOENT/);
    expect(await partials()).toEqual([]);
  }, 60_000);

  it('a hanging tool is killed at the timeout', async () => {
    const out = join(root, 'hung');
    const started = Date.now();
    const err = await runExternalConversion({
      template: TEMPLATE,
      inputDir,
      inputFile: 'model-BF16.gguf',
      outputDir: out,
      outputFileName: 'out.gguf',
      timeoutMs: 4_000,
      killGraceMs: 500,
      env: { ...process.env, FAKE_LLAMA_QUANTIZE_HANG_AT: '2' },
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ToolTimeoutError);
    expect(Date.now() - started).toBeLessThan(30_000);
    await expect(stat(out)).rejects.toThrow(/ENOENT/);
    expect(await partials()).toEqual([]);
  }, 60_000);

  it('cancel kills the whole process tree, grandchild included', async () => {
    const pidfile = join(root, 'grandchild.pid');
    const ac = new AbortController();
    const run = runTool({
      template: TEMPLATE,
      values: { input_file: join(inputDir, 'model-BF16.gguf'), output_file: join(root, 'never.gguf'), threads: 1 },
      timeoutMs: 60_000,
      signal: ac.signal,
      killGraceMs: 500,
      env: { ...process.env, FAKE_LLAMA_QUANTIZE_HANG_AT: '1', FAKE_LLAMA_QUANTIZE_CHILD_PIDFILE: pidfile },
      onLine: (l) => {
        if (l.includes('stalled')) ac.abort();
      },
    });
    await expect(run).rejects.toMatchObject({ name: 'AbortError' });
    const grandchild = Number(await readFile(pidfile, 'utf8'));
    expect(grandchild).toBeGreaterThan(0);
    for (let i = 0; i < 50 && alive(grandchild); i++) await new Promise((r) => setTimeout(r, 100));
    expect(alive(grandchild)).toBe(false);
  }, 60_000);

  it('a command that does not exist is a plain error', async () => {
    await expect(runTool({ template: ['/nonexistent/llama-quantize'], values: {}, timeoutMs: 5_000 })).rejects.toThrow(/ENOENT/);
  });
});
