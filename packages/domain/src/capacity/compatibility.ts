import { meetsMinimumVersion } from '../validation/versions';
import type { TArtifactTraits, TEngineChoice, TEngineSpec, TGpuSpec } from './types';

/**
 * Artifact x GPU x engine compatibility rules. Each rule is its own function returning a verdict
 * with a plain reason and the source it rests on, so the UI can show why and the tests can pin every
 * rule from both sides. `unknown` never blocks (no source says either way); `fail` does.
 */

export const COMPAT_RULE_IDS = [
  'engine_serves_v4',
  'engine_version_floor',
  'artifact_requirements',
  'engine_serves_format',
  'gguf_engine',
  'mlx_apple',
  'fp8_hardware',
  'fp4_experts',
  'trust_remote_code',
  'engine_image',
] as const;
export type TCompatRuleId = (typeof COMPAT_RULE_IDS)[number];

export type TVerdictStatus = 'pass' | 'warn' | 'fail' | 'unknown' | 'not_applicable';

export interface TCompatVerdict {
  rule: TCompatRuleId;
  status: TVerdictStatus;
  reason: string;
  source: string;
}

export interface TCompatInput {
  artifact: TArtifactTraits;
  gpu: TGpuSpec;
  engine: TEngineChoice;
  /** The engine's catalog row; null when the catalog does not know the engine kind. */
  engineSpec: TEngineSpec | null;
  /** Whether the launch passes --trust-remote-code; null = not known (a plan, not a running cluster). */
  trustRemoteCode?: boolean | null;
}

const BLACKWELL_FP4 = 'NVIDIA Blackwell architecture (5th-generation tensor cores add FP4); product.md: "FP4 experts need Blackwell"';
const FP8_HW = 'NVIDIA FP8 tensor cores arrived with Ada (sm_89) and Hopper (sm_90); Ampere (sm_80) has none';

function verdict(rule: TCompatRuleId, status: TVerdictStatus, reason: string, source: string): TCompatVerdict {
  return { rule, status, reason, source };
}

export function isV4(artifact: TArtifactTraits): boolean {
  return artifact.modelType === null || artifact.modelType.startsWith('deepseek_v4');
}

/** The official releases (-0731 / -0813) and the DSpark variants need newer engines than the preview. */
export function isOfficialV4Release(artifact: TArtifactTraits): boolean {
  return artifact.repoId !== null && /-(0731|0813)\b|dspark/i.test(artifact.repoId);
}

export function hasFp4Experts(artifact: TArtifactTraits): boolean {
  // GGUF and MLX re-quantise the experts into their own block formats; FP4 tensor cores are not used.
  if (artifact.format === 'gguf' || artifact.format === 'mlx') return false;
  // An `fp8` artifact is FP8 throughout by definition; only BF16-labelled safetensors need config.json's word.
  return artifact.format === 'fp4_fp8' || (artifact.format === 'safetensors' && artifact.expertDtype === 'fp4');
}

export function hasFp8Weights(artifact: TArtifactTraits): boolean {
  return artifact.format === 'fp8' || artifact.format === 'fp4_fp8';
}

function engineName(input: TCompatInput): string {
  return input.engineSpec?.label ?? input.engine.kind;
}

export function ruleEngineServesV4(input: TCompatInput): TCompatVerdict {
  const { artifact, engineSpec } = input;
  if (!isV4(artifact)) return verdict('engine_serves_v4', 'not_applicable', `model type ${artifact.modelType} is not DeepSeek V4`, '');
  if (!engineSpec)
    return verdict('engine_serves_v4', 'unknown', `the engine catalog has no entry for ${input.engine.kind}`, 'engine catalog');
  if (engineSpec.servesV4 === false)
    return verdict('engine_serves_v4', 'fail', `${engineSpec.label} does not serve DeepSeek V4`, engineSpec.minV4Source);
  if (engineSpec.servesV4 === null)
    return verdict('engine_serves_v4', 'unknown', `no source confirms that ${engineSpec.label} serves DeepSeek V4`, engineSpec.minV4Source);
  return verdict('engine_serves_v4', 'pass', `${engineSpec.label} serves DeepSeek V4`, engineSpec.minV4Source);
}

export function ruleEngineVersionFloor(input: TCompatInput): TCompatVerdict {
  const { artifact, engineSpec, engine } = input;
  if (!isV4(artifact) || !engineSpec || engineSpec.servesV4 === false)
    return verdict('engine_version_floor', 'not_applicable', 'no V4 version floor applies', '');
  const official = isOfficialV4Release(artifact);
  const floor = official ? engineSpec.minV4OfficialVersion : engineSpec.minV4Version;
  const which = official ? 'the official V4 releases (-0731 / -0813, DSpark)' : 'the V4 preview checkpoints';
  if (!floor)
    return verdict(
      'engine_version_floor',
      'unknown',
      `no minimum ${engineSpec.label} version is recorded for ${which}; check the build before relying on it`,
      engineSpec.minV4Source,
    );
  if (!engine.version)
    return verdict('engine_version_floor', 'warn', `${engineSpec.label} ${floor} or newer is needed for ${which}`, engineSpec.minV4Source);
  const check = meetsMinimumVersion(engine.version, floor);
  if (check.ok === null) return verdict('engine_version_floor', 'unknown', `${check.explanation} (${which})`, engineSpec.minV4Source);
  return check.ok
    ? verdict(
        'engine_version_floor',
        'pass',
        `${engineSpec.label} ${engine.version} meets the ${floor} floor for ${which}`,
        engineSpec.minV4Source,
      )
    : verdict(
        'engine_version_floor',
        'fail',
        `${engineSpec.label} ${engine.version} is older than ${floor}, the first version that serves ${which}: it refuses to load V4's attention or, worse, loads it and produces garbage`,
        engineSpec.minV4Source,
      );
}

/** The artifact's own declared minimum (Artifact.requirements), e.g. what its quantisation recipe needs. */
export function ruleArtifactRequirements(input: TCompatInput): TCompatVerdict {
  const minimum = input.artifact.requirements[input.engine.kind];
  if (!minimum)
    return verdict('artifact_requirements', 'not_applicable', `the artifact declares no minimum ${engineName(input)} version`, '');
  if (!input.engine.version)
    return verdict('artifact_requirements', 'warn', `the artifact needs ${engineName(input)} ${minimum} or newer`, 'artifact requirements');
  const check = meetsMinimumVersion(input.engine.version, minimum);
  if (check.ok === null) return verdict('artifact_requirements', 'unknown', check.explanation, 'artifact requirements');
  return verdict('artifact_requirements', check.ok ? 'pass' : 'fail', check.explanation, 'artifact requirements');
}

export function ruleEngineServesFormat(input: TCompatInput): TCompatVerdict {
  const { engineSpec, artifact } = input;
  if (!engineSpec)
    return verdict('engine_serves_format', 'unknown', `the engine catalog has no entry for ${input.engine.kind}`, 'engine catalog');
  return engineSpec.formats.includes(artifact.format)
    ? verdict('engine_serves_format', 'pass', `${engineSpec.label} loads ${artifact.format} checkpoints`, 'engine catalog')
    : verdict(
        'engine_serves_format',
        'fail',
        `${engineSpec.label} does not load ${artifact.format} checkpoints (it loads ${engineSpec.formats.join(', ')})`,
        'engine catalog',
      );
}

export function ruleGgufEngine(input: TCompatInput): TCompatVerdict {
  if (input.artifact.format !== 'gguf') return verdict('gguf_engine', 'not_applicable', 'not a GGUF artifact', '');
  return input.engine.kind === 'llamacpp' || input.engine.kind === 'ollama'
    ? verdict(
        'gguf_engine',
        'pass',
        `GGUF runs on ${engineName(input)}`,
        "engines-and-rollouts.md §1.3: GGUF is llama.cpp's format (Ollama bundles llama.cpp)",
      )
    : verdict(
        'gguf_engine',
        'fail',
        `GGUF files run only on llama.cpp or Ollama, not ${engineName(input)}; pick the safetensors artifact for this engine`,
        'engines-and-rollouts.md §1.3; product.md (llama.cpp/Ollama for GGUF)',
      );
}

export function ruleMlxApple(input: TCompatInput): TCompatVerdict {
  const mlxArtifact = input.artifact.format === 'mlx';
  const mlxEngine = input.engine.kind === 'mlx';
  if (!mlxArtifact && !mlxEngine) return verdict('mlx_apple', 'not_applicable', 'neither the artifact nor the engine is MLX', '');
  const source = 'ml-explore/mlx runs on Apple silicon (Metal) only; product.md: MLX (Apple)';
  if (input.gpu.vendor !== 'apple')
    return verdict('mlx_apple', 'fail', `MLX runs only on Apple silicon, not on ${input.gpu.model}`, source);
  if (mlxArtifact && !mlxEngine)
    return verdict('mlx_apple', 'fail', `an MLX artifact needs the MLX engine (mlx_lm.server), not ${engineName(input)}`, source);
  return verdict('mlx_apple', 'pass', `MLX on ${input.gpu.model}`, source);
}

export function ruleFp8Hardware(input: TCompatInput): TCompatVerdict {
  if (!hasFp8Weights(input.artifact)) return verdict('fp8_hardware', 'not_applicable', 'the artifact has no FP8 weights', '');
  const { gpu } = input;
  return gpu.fp8TensorCores
    ? verdict('fp8_hardware', 'pass', `${gpu.model} (${gpu.generation}) has FP8 tensor cores`, FP8_HW)
    : verdict(
        'fp8_hardware',
        'fail',
        `${gpu.model} (${gpu.generation}) has no FP8 tensor cores: FP8 needs Ada, Hopper or newer. Use a BF16, AWQ or GGUF artifact here`,
        FP8_HW,
      );
}

/**
 * Public material disagrees on Hopper and V4's FP4 experts (product.md: "FP4 experts need Blackwell";
 * the vLLM recipes and SGLang cookbook ship Hopper cells for the FP4+FP8 checkpoints). The rule takes
 * the engine catalog's Hopper floor: on Hopper the experts run as W4A16 kernels from the named engine
 * version on, and the verdict names that engine, version and source.
 */
export function ruleFp4Experts(input: TCompatInput): TCompatVerdict {
  const { artifact, gpu, engineSpec, engine } = input;
  if (!hasFp4Experts(artifact)) return verdict('fp4_experts', 'not_applicable', 'the artifact has no FP4 experts', '');
  if (gpu.fp4TensorCores)
    return verdict(
      'fp4_experts',
      'pass',
      `${gpu.model} (${gpu.generation}) has FP4 tensor cores: the FP4 experts run natively`,
      BLACKWELL_FP4,
    );
  const alternative = 'use the FP8 conversion (e.g. sgl-project/DeepSeek-V4-Flash-FP8) or a GGUF build on this GPU';
  if (gpu.generation !== 'hopper')
    return verdict(
      'fp4_experts',
      'fail',
      `${gpu.model} (${gpu.generation}) has no FP4 tensor cores and no engine ships V4 FP4 expert kernels for it; ${alternative}`,
      BLACKWELL_FP4,
    );
  const hopperFloor = engineSpec?.hopperFp4MinVersion ?? null;
  const name = engineName(input);
  if (!hopperFloor)
    return verdict(
      'fp4_experts',
      'fail',
      `${gpu.model} is Hopper (no FP4 tensor cores) and ${name} ships no Hopper kernels for V4's FP4 experts; ${alternative}, or use vLLM >= 0.20.0 / SGLang >= 0.5.12`,
      engineSpec?.hopperFp4Source ?? BLACKWELL_FP4,
    );
  const source = `${engineSpec!.hopperFp4Source}. Disputed: ${BLACKWELL_FP4}`;
  if (!engine.version)
    return verdict(
      'fp4_experts',
      'warn',
      `on Hopper the FP4 experts need ${name} ${hopperFloor} or newer (W4A16 kernels, not FP4 tensor cores)`,
      source,
    );
  const check = meetsMinimumVersion(engine.version, hopperFloor);
  if (check.ok === null)
    return verdict('fp4_experts', 'unknown', `${check.explanation}; Hopper FP4 expert kernels ship from ${name} ${hopperFloor}`, source);
  return check.ok
    ? verdict(
        'fp4_experts',
        'pass',
        `${gpu.model} is Hopper (no FP4 tensor cores); ${name} ${engine.version} ships Hopper kernels for V4's FP4 experts from ${hopperFloor} on (W4A16: weights dequantised on the fly, slower than Blackwell)`,
        source,
      )
    : verdict(
        'fp4_experts',
        'fail',
        `${gpu.model} is Hopper (no FP4 tensor cores); ${name} ${engine.version} predates ${hopperFloor}, the first version with Hopper kernels for V4's FP4 experts; upgrade, or ${alternative}`,
        source,
      );
}

export function ruleTrustRemoteCode(input: TCompatInput): TCompatVerdict {
  const { engineSpec } = input;
  if (!isV4(input.artifact) || !engineSpec?.needsTrustRemoteCode)
    return verdict('trust_remote_code', 'not_applicable', `${engineName(input)} needs no --trust-remote-code for this artifact`, '');
  const source = 'engines-and-rollouts.md §1.6: every vLLM recipe and SGLang cookbook cell starts with --trust-remote-code';
  if (input.trustRemoteCode === false)
    return verdict(
      'trust_remote_code',
      'fail',
      `${engineSpec.label} is started without --trust-remote-code, which V4's attention needs`,
      source,
    );
  if (input.trustRemoteCode === true)
    return verdict('trust_remote_code', 'pass', `${engineSpec.label} is started with --trust-remote-code`, source);
  return verdict(
    'trust_remote_code',
    'warn',
    `start ${engineSpec.label} with --trust-remote-code (the launch command includes it)`,
    source,
  );
}

export function ruleEngineImage(input: TCompatInput): TCompatVerdict {
  const { engineSpec, gpu } = input;
  if (!engineSpec) return verdict('engine_image', 'unknown', `the engine catalog has no entry for ${input.engine.kind}`, 'engine catalog');
  // MLX and llama.cpp on a Mac run natively; a missing container image is no obstacle there.
  if (gpu.vendor === 'apple') return verdict('engine_image', 'not_applicable', 'runs natively on macOS', '');
  const image = engineSpec.images[gpu.generation];
  return image
    ? verdict('engine_image', 'pass', `${engineSpec.label} publishes ${image} for ${gpu.generation}`, 'engine catalog')
    : verdict(
        'engine_image',
        'warn',
        `the engine catalog lists no ${engineSpec.label} image for ${gpu.generation} GPUs (e.g. vLLM's recipe marks MI300X unsupported)`,
        'engine catalog; engines-and-rollouts.md §1.6',
      );
}

const RULES: ((input: TCompatInput) => TCompatVerdict)[] = [
  ruleEngineServesV4,
  ruleEngineVersionFloor,
  ruleArtifactRequirements,
  ruleEngineServesFormat,
  ruleGgufEngine,
  ruleMlxApple,
  ruleFp8Hardware,
  ruleFp4Experts,
  ruleTrustRemoteCode,
  ruleEngineImage,
];

export interface TCompatReport {
  /** False as soon as one rule fails; unknowns and warnings do not block. */
  compatible: boolean;
  verdicts: TCompatVerdict[];
  failures: TCompatVerdict[];
}

export function checkCompatibility(input: TCompatInput): TCompatReport {
  const verdicts = RULES.map((rule) => rule(input));
  const failures = verdicts.filter((v) => v.status === 'fail');
  return { compatible: failures.length === 0, verdicts, failures };
}
