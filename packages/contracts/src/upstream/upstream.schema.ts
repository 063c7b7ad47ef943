import { z } from 'zod';
import { listInput, ZId } from '../common/pagination';
import { ZBranchName, ZHubRepoId } from './repo-names';

export const REPO_WATCH_STATUSES = [
  'pending',
  'ok',
  'unauthorized',
  'gated',
  'not_found',
  'rate_limited',
  'unreachable',
  'refused',
  'error',
] as const;
export const ZRepoWatchStatus = z.enum(REPO_WATCH_STATUSES);
export type TRepoWatchStatus = z.infer<typeof ZRepoWatchStatus>;

export const REVISION_CHANGE_CLASSES = ['initial', 'weights', 'tokenizer_template', 'docs', 'none'] as const;
export const ZRevisionChangeClass = z.enum(REVISION_CHANGE_CLASSES);

const hubRepoId = ZHubRepoId;

const hubEndpoint = z
  .string()
  .trim()
  .refine((v) => {
    try {
      return ['http:', 'https:'].includes(new URL(v).protocol);
    } catch {
      return false;
    }
  }, 'Must be an http(s) URL such as https://huggingface.co')
  .transform((v) => v.replace(/\/+$/, ''));

/**
 * How the watcher authenticates: keep the current token, none, a new token (stored encrypted), or the
 * name of an environment variable read at run time (the token never reaches the database).
 */
export const ZAccessTokenInput = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('keep') }),
  z.object({ kind: z.literal('none') }),
  z.object({ kind: z.literal('token'), token: z.string().trim().startsWith('hf_', "Hub tokens start with 'hf_'").max(500) }),
  z.object({
    kind: z.literal('secret_ref'),
    envVar: z
      .string()
      .trim()
      .regex(/^[A-Z_][A-Z0-9_]*$/, 'Use an environment variable name such as HF_TOKEN_DEEPSEEK'),
  }),
]);
export type TAccessTokenInput = z.infer<typeof ZAccessTokenInput>;

export const ZTrackedRepoFields = z.object({
  familyId: ZId,
  hubRepoId,
  branch: ZBranchName.default('main'),
  filePatterns: z
    .array(z.string().trim().min(1, 'Patterns cannot be empty').max(300))
    .min(1, 'Add at least one file pattern, e.g. *.safetensors')
    .max(200),
  hubEndpoint: hubEndpoint.nullable().default(null),
  accessToken: ZAccessTokenInput.default({ kind: 'none' }),
  autoStartPipelines: z.boolean().default(false),
  /**
   * Clusters an auto-started pipeline runs for: one run each, downloading into that cluster's artifact
   * store under its download limits. Empty = one run for the "default" target (no cluster limits).
   */
  autoStartClusterIds: z
    .array(ZId)
    .max(50, 'At most 50 clusters')
    .default([])
    .refine((ids) => new Set(ids).size === ids.length, 'Each cluster once'),
});
export const ZCreateTrackedRepoInput = ZTrackedRepoFields;
export type TCreateTrackedRepoInput = z.input<typeof ZCreateTrackedRepoInput>;
export const ZUpdateTrackedRepoInput = z.object({
  id: ZId,
  data: ZTrackedRepoFields.extend({ accessToken: ZAccessTokenInput.default({ kind: 'keep' }) }),
});
export type TUpdateTrackedRepoInput = z.input<typeof ZUpdateTrackedRepoInput>;

export const ZRevisionListInput = listInput(['detectedAt', 'committedAt', 'bytesToFetch'] as const, 'detectedAt').extend({
  trackedRepoId: ZId.optional(),
  sortDir: z.enum(['asc', 'desc']).default('desc'),
});
export type TRevisionListInput = z.input<typeof ZRevisionListInput>;

/** Stored in model_revision.diff: paths only, the manifest itself lives in revision_file. */
export const ZRevisionDiff = z.object({
  added: z.array(z.string()),
  removed: z.array(z.string()),
  changed: z.array(z.string()),
  /**
   * The commit does not descend from the previous revision we recorded (upstream rewrote or squashed
   * its history, e.g. super_squash_history, or the previous one came from elsewhere): the diff then
   * compares with that revision's files, across whatever commits lie between.
   */
  previousNotInHistory: z.boolean().optional(),
});
export type TRevisionDiff = z.infer<typeof ZRevisionDiff>;

/** What the dev panel may publish to the demo hub (mirrors the fake hub's publish-demo kinds). */
export const ZPublishDemoRevisionInput = z.object({ trackedRepoId: ZId, kind: z.enum(['weights', 'tokenizer', 'docs']) });
export type TPublishDemoRevisionInput = z.infer<typeof ZPublishDemoRevisionInput>;
