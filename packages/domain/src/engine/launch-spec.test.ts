import { describe, expect, it } from 'vitest';
import { ZEngineLaunchSpec } from '@fleetplane/contracts';
import {
  buildEngineLaunchSpec,
  LaunchSpecError,
  primaryGgufFile,
  renderLaunchSpec,
  versionAtLeast,
  type TEngineLaunchInput,
} from './launch-spec';

const base: TEngineLaunchInput = {
  kind: 'vllm',
  version: '0.25.0',
  runMode: 'child',
  port: 8000,
  readyTimeoutSeconds: 1800,
  drainSeconds: 30,
  servedModelName: 'deepseek-ai/DeepSeek-V4-Flash',
  artifact: { format: 'fp8', files: ['config.json', 'model-00001-of-00002.safetensors'] },
  settings: {
    tensorParallelSize: 4,
    maxModelLen: 131072,
    gpuMemoryUtilization: 0.9,
    kvCacheDtype: 'fp8',
    trustRemoteCode: true,
    chunkedPrefill: true,
  },
  launchTemplate: null,
  stopTemplate: null,
};

const joined = (i: Partial<TEngineLaunchInput>) => buildEngineLaunchSpec({ ...base, ...i }).argv.join(' ');

describe('buildEngineLaunchSpec', () => {
  it('vLLM: generated argv with agent placeholders, drain on SIGTERM from 0.18', () => {
    const spec = buildEngineLaunchSpec(base);
    expect(ZEngineLaunchSpec.parse(spec)).toEqual(spec);
    expect(spec.argv.join(' ')).toBe(
      'vllm serve {artifact_dir} --served-model-name deepseek-ai/DeepSeek-V4-Flash --host {host} --port {port} --trust-remote-code ' +
        '--tensor-parallel-size 4 --enable-expert-parallel --max-model-len 131072 --kv-cache-dtype fp8 --gpu-memory-utilization 0.9 --shutdown-timeout 30',
    );
    expect(spec).toMatchObject({ kind: 'vllm', mode: 'child', stopArgv: null, env: {}, host: '0.0.0.0', port: 8000, drainSeconds: 30 });
  });
  it('vLLM before 0.18 has no --shutdown-timeout; chunked prefill off is explicit; no trust-remote-code when off', () => {
    const a = joined({
      version: '0.11.2',
      settings: { ...base.settings, chunkedPrefill: false, trustRemoteCode: false, tensorParallelSize: 1 },
    });
    expect(a).not.toContain('--shutdown-timeout');
    expect(a).toContain('--no-enable-chunked-prefill');
    expect(a).not.toContain('--trust-remote-code');
    expect(a).not.toContain('--enable-expert-parallel');
  });
  it('SGLang: its own flag names', () => {
    const a = joined({ kind: 'sglang', version: '0.5.14', settings: { ...base.settings, chunkedPrefill: false } });
    expect(a).toContain('python -m sglang.launch_server --model-path {artifact_dir}');
    for (const f of [
      '--tp 4',
      '--ep 4',
      '--context-length 131072',
      '--kv-cache-dtype fp8_e4m3',
      '--mem-fraction-static 0.9',
      '--chunked-prefill-size -1',
      '--enable-metrics',
      '--host {host} --port {port}',
    ])
      expect(a).toContain(f);
  });
  it('llama.cpp: points -m at the first GGUF shard', () => {
    const a = joined({
      kind: 'llamacpp',
      version: 'b6123',
      artifact: { format: 'gguf', files: ['x-00002-of-00002.gguf', 'x-00001-of-00002.gguf'] },
    });
    expect(a).toContain(
      'llama-server -m {artifact_dir}/x-00001-of-00002.gguf -a deepseek-ai/DeepSeek-V4-Flash --host {host} --port {port}',
    );
  });
  it('MLX and NIM', () => {
    expect(joined({ kind: 'mlx', version: '0.28.0', artifact: { format: 'mlx', files: ['a.safetensors'] } })).toContain(
      'mlx_lm.server --model {artifact_dir} --host {host} --port {port}',
    );
    const nim = joined({ kind: 'nim', version: '2.0.1' });
    expect(nim).toContain('docker run --rm --name fleetplane-engine --gpus all -p {host}:{port}:8000 -v {artifact_dir}:/opt/nim/model:ro');
    expect(nim).toContain('NIM_MODEL_PATH=/opt/nim/model');
    expect(nim).toContain('nvcr.io/nim/deepseek-ai/deepseek-v4:2.0.1 nim-serve --tensor-parallel-size 4');
  });
  it('refuses an artifact the engine cannot serve', () => {
    expect(() => buildEngineLaunchSpec({ ...base, artifact: { format: 'gguf', files: ['a.gguf'] } })).toThrow(LaunchSpecError);
    expect(() => buildEngineLaunchSpec({ ...base, kind: 'llamacpp', artifact: { format: 'gguf', files: ['README.md'] } })).toThrow(
      'The artifact has no .gguf file for llama.cpp',
    );
  });
  it('a template replaces the generated command, env included', () => {
    const spec = buildEngineLaunchSpec({
      ...base,
      launchTemplate: 'REF_LOAD_MS=50 node ref.js serve --artifact-dir {artifact_dir} --port {port}',
    });
    expect(spec.argv).toEqual(['node', 'ref.js', 'serve', '--artifact-dir', '{artifact_dir}', '--port', '{port}']);
    expect(spec.env).toEqual({ REF_LOAD_MS: '50' });
  });
  it('a bad template is refused on its field', () => {
    try {
      buildEngineLaunchSpec({ ...base, launchTemplate: 'vllm serve {model}' });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(LaunchSpecError);
      expect((e as LaunchSpecError).field).toBe('engineLaunchTemplate');
    }
  });
  it('command mode: a systemd unit by default, the template pair otherwise', () => {
    const spec = buildEngineLaunchSpec({ ...base, runMode: 'command' });
    expect(spec.argv.slice(0, 8)).toEqual([
      'systemd-run',
      '--unit=fleetplane-engine',
      '--collect',
      '-p',
      'KillMode=mixed',
      '-p',
      'TimeoutStopSec=60',
      '-p',
    ]);
    expect(spec.stopArgv).toEqual(['systemctl', 'stop', 'fleetplane-engine']);
    expect(() => buildEngineLaunchSpec({ ...base, runMode: 'command', launchTemplate: 'podman run -d x {artifact_dir}' })).toThrow(
      'Command mode with a launch template needs a stop template too',
    );
    const t = buildEngineLaunchSpec({
      ...base,
      runMode: 'command',
      launchTemplate: 'podman run -d --name e -v {artifact_dir}:/m img',
      stopTemplate: 'podman stop -t 40 e',
    });
    expect(t.stopArgv).toEqual(['podman', 'stop', '-t', '40', 'e']);
  });
});

describe('helpers', () => {
  it('versionAtLeast', () => {
    expect(versionAtLeast('0.18.0', '0.18.0')).toBe(true);
    expect(versionAtLeast('v0.25.1rc1', '0.18')).toBe(true);
    expect(versionAtLeast('0.9.2', '0.18.0')).toBe(false);
    expect(versionAtLeast('b6123', 'b5000')).toBe(true);
  });
  it('primaryGgufFile', () => {
    expect(primaryGgufFile(['b.gguf', 'a.gguf'])).toBe('a.gguf');
    expect(primaryGgufFile(['m-00003-of-00003.gguf', 'm-00001-of-00003.gguf'])).toBe('m-00001-of-00003.gguf');
    expect(primaryGgufFile(['x.bin'])).toBeNull();
  });
  it('renderLaunchSpec: env first, one flag per line, quoted where needed', () => {
    expect(renderLaunchSpec({ argv: ['vllm', 'serve', '/m', '--port', '8000', '--trust-remote-code'], env: { A: 'x y' } })).toBe(
      "A='x y' vllm serve /m \\\n  --port 8000 \\\n  --trust-remote-code",
    );
  });
});
