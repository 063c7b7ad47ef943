import { z } from 'zod';

/**
 * Engine settings and the artifact identity file: how a cluster (or one node) runs its serving engine,
 * what the operator may change, and how an engine's artifact directory says which artifact it holds.
 */

/**
 * Written by the agent's model cache into every complete, verified artifact directory. The engine
 * supervisor and the node-state reporter read it from the directory an engine says it serves
 * (`root` in /v1/models), which is how "what the engine really serves" becomes an artifact digest.
 */
export const ARTIFACT_IDENTITY_FILE = '.fleetplane-artifact.json';
export const ZArtifactIdentityFile = z.object({
  id: z.string().min(1).max(64),
  digest: z.string().regex(/^[0-9a-f]{64}$/),
  label: z.string().max(256).optional(),
});
export type TArtifactIdentityFile = z.infer<typeof ZArtifactIdentityFile>;

/** Placeholders a launch template may use; the agent fills them in (nothing else is substituted). */
export const LAUNCH_TEMPLATE_PLACEHOLDERS = ['artifact_dir', 'port', 'host'] as const;

export const ENGINE_RUN_MODES = ['child', 'command'] as const;
export const ZEngineRunMode = z.enum(ENGINE_RUN_MODES);
export type TEngineRunMode = z.infer<typeof ZEngineRunMode>;

const template = z
  .string()
  .trim()
  .max(8192, 'At most 8192 characters')
  .transform((s) => (s === '' ? null : s))
  .nullable();

/** What an operator edits on the cluster page (engine kind and version stay on the cluster itself). */
export const ZClusterEngineSettings = z.object({
  engineRunMode: ZEngineRunMode,
  enginePort: z.number().int().min(1, 'A port from 1 to 65535').max(65535, 'A port from 1 to 65535'),
  engineReadyTimeoutSeconds: z
    .number()
    .int()
    .min(10, 'At least 10 seconds')
    .max(24 * 3600, 'At most 24 hours'),
  engineDrainSeconds: z.number().int().min(0).max(3600, 'At most one hour'),
  /** Null: the GPU count of each node. */
  engineTensorParallelSize: z.number().int().min(1).max(64).nullable(),
  engineGpuMemoryUtilization: z.number().min(0.05, 'At least 0.05').max(0.99, 'At most 0.99'),
  engineKvCacheDtype: z.enum(['auto', 'fp8', 'fp8_e4m3', 'fp8_e5m2', 'bf16', 'f16', 'q8_0', 'q4_0']),
  engineTrustRemoteCode: z.boolean(),
  engineChunkedPrefill: z.boolean(),
  /** Argv template overriding the generated command; null = generated. */
  engineLaunchTemplate: template,
  /** Command mode only: the argv that stops the unit / container. */
  engineStopTemplate: template,
  stagingNodeId: z.string().min(1).nullable(),
});
export type TClusterEngineSettings = z.infer<typeof ZClusterEngineSettings>;

export const ZClusterEngineSettingsInput = z.object({ clusterId: z.string().min(1) });
export const ZUpdateClusterEngineSettingsInput = z.object({ clusterId: z.string().min(1), data: ZClusterEngineSettings });
export type TUpdateClusterEngineSettingsInput = z.input<typeof ZUpdateClusterEngineSettingsInput>;
/** Render the launch command these (unsaved) settings would produce, for the form's preview. */
export const ZPreviewLaunchInput = z.object({ clusterId: z.string().min(1), data: ZClusterEngineSettings });
export const ZNodeEngineInput = z.object({ nodeId: z.string().min(1) });
export const ZUpdateNodeEngineTemplateInput = z.object({ nodeId: z.string().min(1), engineLaunchTemplate: template });

/**
 * Fill the agent-side placeholders of a launch spec's argv or env value. Only the three known names are
 * replaced; any other brace text is left as it is (the control plane refused unknown placeholders).
 */
export function fillLaunchPlaceholders(word: string, values: { artifact_dir: string; port: number; host: string }): string {
  return word.replace(/\{(artifact_dir|port|host)\}/g, (_whole, name: string) =>
    name === 'artifact_dir' ? values.artifact_dir : name === 'port' ? String(values.port) : values.host,
  );
}

/** 200 body of PUT node-state: whether this report became the node's state (false: an older observedAt). */
export const ZNodeStateResponse = z.object({ accepted: z.boolean() });
export type TNodeStateResponse = z.infer<typeof ZNodeStateResponse>;
