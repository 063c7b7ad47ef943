import type { TEngineLaunchSpec, TSupervisedEngineKind } from '@fleetplane/contracts';
import { renderCommandParts, serveArgvParts, shellQuote } from '../capacity/launch-command';
import { parseLaunchTemplate } from './template';

/**
 * The engine launch spec a load_artifact command carries: argv generated from the artifact and the
 * cluster's engine settings (the same flag rendering the capacity planner uses), or the operator's
 * template. The artifact's location is the {artifact_dir} placeholder; only the agent knows it.
 */

export type TArtifactFormatName = 'safetensors' | 'fp8' | 'fp4_fp8' | 'gguf' | 'awq' | 'mlx';

export interface TEngineLaunchInput {
  kind: TSupervisedEngineKind;
  version: string;
  runMode: 'child' | 'command';
  port: number;
  /** Interface the engine binds; the agent may override it ({host}). */
  host?: string;
  readyTimeoutSeconds: number;
  drainSeconds: number;
  servedModelName: string;
  artifact: { format: TArtifactFormatName; /** Relative file paths (to find a GGUF's first shard). */ files: readonly string[] };
  settings: {
    tensorParallelSize: number;
    maxModelLen: number;
    gpuMemoryUtilization: number;
    kvCacheDtype: string;
    trustRemoteCode: boolean;
    chunkedPrefill: boolean;
    moe?: boolean;
  };
  /** Operator template (node override first, else cluster); null = generated. */
  launchTemplate: string | null;
  stopTemplate: string | null;
}

export class LaunchSpecError extends Error {
  constructor(
    message: string,
    readonly field: 'engineLaunchTemplate' | 'engineStopTemplate' | 'servingEngine' | 'engineRunMode',
  ) {
    super(message);
    this.name = 'LaunchSpecError';
  }
}

/** The systemd unit name command mode uses when the operator gives no template. */
export const ENGINE_UNIT_NAME = 'fleetplane-engine';

/** Compare dotted numeric versions (a leading "v" and any suffix ignored); llama.cpp "b1234" builds compare by number. */
export function versionAtLeast(version: string, min: string): boolean {
  const nums = (v: string) => (v.replace(/^[vb]/, '').match(/^\d+(\.\d+)*/)?.[0] ?? '0').split('.').map(Number);
  const a = nums(version);
  const b = nums(min);
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d > 0;
  }
  return true;
}

const FORMATS_BY_ENGINE: Record<TSupervisedEngineKind, readonly TArtifactFormatName[]> = {
  vllm: ['safetensors', 'fp8', 'fp4_fp8', 'awq'],
  sglang: ['safetensors', 'fp8', 'fp4_fp8', 'awq'],
  nim: ['safetensors', 'fp8', 'fp4_fp8', 'awq'],
  llamacpp: ['gguf'],
  mlx: ['mlx'],
};

/** The GGUF file llama.cpp is pointed at: the only .gguf, or the first shard of a split model. */
export function primaryGgufFile(files: readonly string[]): string | null {
  const ggufs = files.filter((f) => f.toLowerCase().endsWith('.gguf')).sort();
  if (ggufs.length === 0) return null;
  return ggufs.find((f) => /-0*1-of-\d+\.gguf$/i.test(f)) ?? ggufs[0]!;
}

function generatedArgv(input: TEngineLaunchInput): string[][] {
  const { kind, settings: s } = input;
  if (!FORMATS_BY_ENGINE[kind].includes(input.artifact.format))
    throw new LaunchSpecError(
      `A ${input.artifact.format} artifact cannot be served by ${kind}; set a launch template or pick another engine`,
      'servingEngine',
    );
  let model = '{artifact_dir}';
  if (kind === 'llamacpp') {
    const gguf = primaryGgufFile(input.artifact.files);
    if (!gguf) throw new LaunchSpecError('The artifact has no .gguf file for llama.cpp', 'servingEngine');
    model = `{artifact_dir}/${gguf}`;
  }
  const parts = serveArgvParts(kind, {
    model,
    servedModelName: input.servedModelName,
    host: '{host}',
    port: kind === 'nim' ? 8000 : '{port}',
    tensorParallelSize: s.tensorParallelSize,
    moe: s.moe ?? true,
    maxModelLen: s.maxModelLen,
    kvCacheDtype: s.kvCacheDtype,
    gpuMemoryUtilization: s.gpuMemoryUtilization,
    trustRemoteCode: s.trustRemoteCode,
    chunkedPrefill: s.chunkedPrefill ? null : false,
    // vLLM drains in-flight requests on SIGTERM only with --shutdown-timeout (v0.18.0+); older ones abort them.
    shutdownTimeoutSeconds: kind === 'vllm' && versionAtLeast(input.version, '0.18.0') ? input.drainSeconds : undefined,
    image: kind === 'nim' ? `nvcr.io/nim/deepseek-ai/deepseek-v4:${input.version}` : undefined,
  })!;
  return parts;
}

function nimContainerArgv(parts: string[][]): string[][] {
  // NIM runs as a container: the artifact directory is mounted, the port published on {host}.
  const rest = parts.slice(1);
  return [
    [
      'docker',
      'run',
      '--rm',
      '--name',
      ENGINE_UNIT_NAME,
      '--gpus',
      'all',
      '-p',
      '{host}:{port}:8000',
      '-v',
      '{artifact_dir}:/opt/nim/model:ro',
    ],
    ...rest.map((p) => (p[0] === '-e' && p[1]?.startsWith('NIM_MODEL_PATH=') ? ['-e', 'NIM_MODEL_PATH=/opt/nim/model'] : p)),
  ];
}

export function buildEngineLaunchSpec(input: TEngineLaunchInput): TEngineLaunchSpec {
  let argv: string[];
  let env: Record<string, string> = {};
  let stopArgv: string[] | null = null;
  if (input.launchTemplate) {
    const parsed = parseLaunchTemplate(input.launchTemplate);
    if (!parsed.ok) throw new LaunchSpecError(parsed.error, 'engineLaunchTemplate');
    argv = parsed.argv;
    env = parsed.env;
  } else {
    let parts = generatedArgv(input);
    if (input.kind === 'nim') parts = nimContainerArgv(parts);
    argv = parts.flat();
  }
  if (input.runMode === 'command') {
    if (input.stopTemplate) {
      const parsed = parseLaunchTemplate(input.stopTemplate, { requireArtifactDir: false });
      if (!parsed.ok) throw new LaunchSpecError(parsed.error, 'engineStopTemplate');
      stopArgv = parsed.argv;
    } else if (input.launchTemplate) {
      throw new LaunchSpecError('Command mode with a launch template needs a stop template too', 'engineStopTemplate');
    } else {
      // systemd: KillMode=mixed lets the engine's API server coordinate its workers' shutdown, and the
      // stop timeout covers the drain plus margin before systemd sends SIGKILL (engines-and-rollouts.md §5).
      const env0 = Object.entries(env).map(([k, v]) => `--setenv=${k}=${v}`);
      argv = [
        'systemd-run',
        `--unit=${ENGINE_UNIT_NAME}`,
        '--collect',
        '-p',
        'KillMode=mixed',
        '-p',
        `TimeoutStopSec=${input.drainSeconds + 30}`,
        '-p',
        'Restart=no',
        ...env0,
        ...argv,
      ];
      env = {};
      stopArgv = ['systemctl', 'stop', ENGINE_UNIT_NAME];
    }
  }
  return {
    kind: input.kind,
    version: input.version,
    mode: input.runMode,
    argv,
    stopArgv,
    env,
    host: input.host ?? '0.0.0.0',
    port: input.port,
    servedModelName: input.servedModelName,
    readyTimeoutSeconds: input.readyTimeoutSeconds,
    drainSeconds: input.drainSeconds,
  };
}

/** The spec as a shell command line for people to read (one flag per line, env first). */
export function renderLaunchSpec(spec: Pick<TEngineLaunchSpec, 'argv' | 'env'>): string {
  const env = Object.entries(spec.env).map(([k, v]) => `${k}=${shellQuote(v)}`);
  const groups: string[][] = [];
  for (const w of spec.argv) {
    const flag = w.startsWith('-') && !/^-\d/.test(w);
    if (flag || groups.length === 0) groups.push([w]);
    else groups[groups.length - 1]!.push(w);
  }
  const rendered = renderCommandParts(groups);
  return env.length ? `${env.join(' ')} ${rendered}` : rendered;
}
