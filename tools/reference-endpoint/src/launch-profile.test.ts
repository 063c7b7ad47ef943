import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { profileKvCache, ZHfConfig } from './kv-profile';
import { profileLaunch, ZEngineLaunch } from './launch-profile';
import { STAND_IN_CACHE_CONFIG } from './options.schema';
import { startReferenceEndpoint, type TReferenceEndpoint } from './server';

// The stand-in sizes its KV cache at load from what it is launched with: the artifact's config.json and
// weight bytes, vLLM's flags and the GPUs it sees. These tests drive that path end to end (files, flags,
// nvidia-smi) and check the published vllm:cache_config_info; kv-profile.test.ts checks the arithmetic.
const CLI = fileURLToPath(new URL('./cli.ts', import.meta.url));
const open: TReferenceEndpoint[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((e) => e.close()));
});

const PRO_CONFIG = {
  architectures: ['DeepseekV4ForCausalLM'],
  model_type: 'deepseek_v4',
  torch_dtype: 'bfloat16',
  hidden_size: 7168,
  num_hidden_layers: 61,
  num_attention_heads: 128,
  num_key_value_heads: 1,
  head_dim: 512,
  qk_rope_head_dim: 64,
  q_lora_rank: 1536,
  n_routed_experts: 384,
  num_experts_per_tok: 6,
  moe_intermediate_size: 3072,
  index_head_dim: 128,
  sliding_window: 128,
  compress_ratios: Array.from({ length: 62 }, (_, i) => (i === 61 ? 0 : i % 2 === 0 ? 128 : 4)),
  vocab_size: 129280,
  max_position_embeddings: 1048576,
  hc_mult: 4,
  quantization_config: { quant_method: 'fp8', expert_dtype: 'fp4' },
};
const PRO_BYTES = 163 * 5_300_000_000;
const B200_MIB = 183_359;

function modelDir(config: object, weightFileBytes = 4096): string {
  const dir = mkdtempSync(join(tmpdir(), 'ref-model-'));
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
  writeFileSync(join(dir, 'model-00001-of-00001.safetensors'), Buffer.alloc(weightFileBytes));
  writeFileSync(join(dir, 'tokenizer.json'), '{}');
  return dir;
}

function expectedPro() {
  const r = profileKvCache({
    config: ZHfConfig.parse(PRO_CONFIG),
    weightsBytes: PRO_BYTES,
    gpuMemoryBytes: Array(8).fill(B200_MIB * 1024 * 1024),
    tensorParallelSize: 8,
    gpuMemoryUtilization: 0.9,
    kvCacheDtype: 'fp8',
    maxModelLen: 1048576,
    blockSize: 256,
    maxNumSeqs: 1024,
    maxNumBatchedTokens: null,
    enforceEager: false,
  });
  if (!r.ok) throw new Error(r.error);
  return r.profile;
}

describe('the stand-in sizes its KV cache at load', () => {
  it('publishes the profiled num_gpu_blocks for the artifact, flags and GPUs it was given', async () => {
    const dir = modelDir(PRO_CONFIG);
    const ep = await startReferenceEndpoint({
      artifactDir: dir,
      launch: {
        tensorParallelSize: 8,
        kvCacheDtype: 'fp8',
        blockSize: 256,
        weightsBytes: PRO_BYTES,
        gpuMemoryMib: Array(8).fill(B200_MIB),
      },
    });
    open.push(ep);
    const want = expectedPro();
    expect(ep.kvProfile).toEqual({ kind: 'profiled', profile: want });
    const metrics = await (await fetch(`${ep.url}/metrics`)).text();
    expect(metrics).toContain(
      `vllm:cache_config_info{block_size="256",cache_dtype="fp8_ds_mla",gpu_memory_utilization="0.9",num_gpu_blocks="${want.numGpuBlocks}",num_cpu_blocks="0",enable_prefix_caching="True",engine="0"} 1`,
    );
  });

  it('without --weights-bytes the weights are the weight files in the directory (not the tokenizer)', async () => {
    const tiny = {
      model_type: 'llama',
      hidden_size: 256,
      num_hidden_layers: 2,
      num_attention_heads: 4,
      num_key_value_heads: 2,
      vocab_size: 1000,
    };
    const r = await profileLaunch({
      artifactDir: modelDir(tiny, 1024 * 1024),
      maxModelLen: 4096,
      maxNumSeqs: 256,
      launch: ZEngineLaunch.parse({ gpuMemoryMib: [1024], maxNumBatchedTokens: 2048 }),
    });
    expect(r.kind).toBe('profiled');
    if (r.kind === 'profiled') expect(r.profile.weightsBytes).toBe(1024 * 1024);
  });

  it('asks nvidia-smi for the GPUs, narrowed by CUDA_VISIBLE_DEVICES; --hf-config-path replaces the directory config', async () => {
    const bin = join(mkdtempSync(join(tmpdir(), 'ref-smi-')), 'nvidia-smi');
    writeFileSync(bin, '#!/bin/sh\nprintf "0, 183359\\n1, 183359\\n2, 81559\\n3, 183359\\n"\n');
    chmodSync(bin, 0o755);
    const configDir = modelDir(PRO_CONFIG);
    const launch = ZEngineLaunch.parse({
      tensorParallelSize: 2,
      hfConfigPath: join(configDir, 'config.json'),
      weightsBytes: 100e9,
      nvidiaSmi: bin,
    });
    const all = await profileLaunch({ artifactDir: modelDir({}), maxModelLen: 65536, maxNumSeqs: 1024, launch, env: {} });
    const withSmall = await profileLaunch({
      artifactDir: modelDir({}),
      maxModelLen: 65536,
      maxNumSeqs: 1024,
      launch,
      env: { CUDA_VISIBLE_DEVICES: '2,3' },
    });
    expect(all.kind).toBe('profiled');
    expect(withSmall.kind).toBe('profiled');
    if (all.kind !== 'profiled' || withSmall.kind !== 'profiled') return;
    // Every rank sizes its own cache and the smallest wins: GPU 2 (80 GB) with GPU 3 instead of GPUs 0 and 1.
    expect(all.profile.requestedBytes).toBe(Math.floor(183359 * 1024 * 1024 * 0.9));
    expect(withSmall.profile.requestedBytes).toBe(Math.floor(81559 * 1024 * 1024 * 0.9));
    expect(withSmall.profile.numGpuBlocks).toBeLessThan(all.profile.numGpuBlocks);
  });

  it('with nothing to size from it keeps its fixed cache config and says why', async () => {
    const ep = await startReferenceEndpoint({
      artifactDir: modelDir(PRO_CONFIG),
      launch: { nvidiaSmi: '/nonexistent/nvidia-smi', weightsBytes: PRO_BYTES },
    });
    open.push(ep);
    expect(ep.kvProfile).toEqual({ kind: 'unprofiled', reason: 'no GPU visible (/nonexistent/nvidia-smi did not list any)' });
    const metrics = await (await fetch(`${ep.url}/metrics`)).text();
    expect(metrics).toContain(`num_gpu_blocks="${STAND_IN_CACHE_CONFIG.num_gpu_blocks}"`);
    // An incomplete config.json (as some tests write) is not an error either: nothing to profile.
    const r = await profileLaunch({
      artifactDir: modelDir({ model_type: 'deepseek_v4' }),
      maxModelLen: 4096,
      maxNumSeqs: 1,
      launch: ZEngineLaunch.parse({ gpuMemoryMib: [81559] }),
    });
    expect(r).toMatchObject({ kind: 'unprofiled', reason: expect.stringContaining('num_hidden_layers') });
  });

  it('a checkpoint that does not fit fails the load with vLLM error, like the real engine', async () => {
    const flash = { ...PRO_CONFIG, hidden_size: 4096, num_hidden_layers: 43, num_attention_heads: 64, q_lora_rank: 1024 };
    await expect(
      startReferenceEndpoint({ artifactDir: modelDir(flash), launch: { weightsBytes: 46 * 3_476_000_000, gpuMemoryMib: [143_771] } }),
    ).rejects.toThrow(/^ValueError: No available memory for the cache blocks/);
  });

  it("the CLI takes vLLM's own flags and logs the profile as vLLM does", async () => {
    const dir = modelDir(PRO_CONFIG);
    const args = [
      ...['serve', '--port', '0', '--ready-json', '--artifact-dir', dir, '--trust-remote-code'],
      ...['--tensor-parallel-size', '8', '--kv-cache-dtype', 'fp8', '--block-size', '256', '--gpu-memory-utilization', '0.9'],
      ...['--weights-bytes', String(PRO_BYTES), '--gpu-memory-mib', Array(8).fill(B200_MIB).join(',')],
    ];
    const child = spawn(process.execPath, ['--import', 'tsx', CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    try {
      for (let i = 0; i < 400 && !stdout.includes('listening'); i++) await new Promise((r) => setTimeout(r, 25));
      const { url } = JSON.parse(stdout.split('\n')[0]!) as { url: string };
      const metrics = await (await fetch(`${url}/metrics`)).text();
      expect(metrics).toContain(`num_gpu_blocks="${expectedPro().numGpuBlocks}"`);
      expect(stderr).toContain(`GPU KV cache size: ${(expectedPro().numGpuBlocks * 256).toLocaleString('en-US')} tokens`);
    } finally {
      child.kill('SIGTERM');
    }
  }, 30_000);
});
