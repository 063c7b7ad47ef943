import { z } from 'zod';

const repoId = z.string().regex(/^[A-Za-z0-9][\w.-]*\/[A-Za-z0-9][\w.-]*$/, 'Repo ids look like owner/name');

export const ZRepoPath = z
  .string()
  .min(1)
  .max(1024)
  .refine((p) => !p.startsWith('/') && !p.endsWith('/') && p.split('/').every((s) => s !== '' && s !== '.' && s !== '..'), {
    message: 'File paths are relative, without empty, "." or ".." segments',
  });

export const ZSyntheticFile = z.object({
  /** Deterministic pseudo-random bytes, generated on demand; never held in memory. */
  sizeBytes: z
    .number()
    .int()
    .nonnegative()
    .max(2 ** 50),
  seed: z.string().min(1).max(200),
});
export type TSyntheticFile = z.infer<typeof ZSyntheticFile>;

/** A file's new content: text, bytes, base64, a synthetic file, or null to delete it. */
export const ZFileContent = z.union([
  z.string(),
  z.custom<Uint8Array>((v) => v instanceof Uint8Array, 'Expected bytes (Uint8Array)'),
  z.object({ base64: z.string() }).strict(),
  ZSyntheticFile.strict(),
  z.null(),
]);
export type TFileContent = z.infer<typeof ZFileContent>;

const isoDate = z.string().refine((s) => !Number.isNaN(Date.parse(s)), 'Expected an ISO date');
const branchName = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[\w.\-/]+$/, 'Branch names use letters, digits, . _ - /');

export const ZCommitInput = z.object({
  title: z.string().trim().min(1, 'A commit needs a title').max(300),
  message: z.string().max(10_000).default(''),
  branch: branchName.optional(),
  /** Defaults to now (never earlier than the parent commit). */
  date: isoDate.optional(),
  author: z.string().min(1).max(100).optional(),
  files: z.record(ZRepoPath, ZFileContent).refine((f) => Object.keys(f).length > 0, 'A commit must change at least one file'),
  tags: z.array(z.string().min(1).max(100)).default([]),
});
export type TCommitInput = z.input<typeof ZCommitInput>;

export const ZRepoSeed = z.object({
  id: repoId,
  private: z.boolean().default(false),
  gated: z.union([z.literal(false), z.literal('auto'), z.literal('manual')]).default(false),
  /** Tokens (hf_...) that may read a private repo, or that were granted access to a manual-gated repo. */
  tokens: z.array(z.string().startsWith('hf_')).default([]),
  /** Applied in order; the first commit is the initial upload. */
  commits: z.array(ZCommitInput).min(1),
});
export type TRepoSeed = z.input<typeof ZRepoSeed>;

export const ZPublishDemoInput = z.object({ kind: z.enum(['weights', 'tokenizer', 'docs']), branch: branchName.optional() }).strict();
export type TPublishDemoKind = z.infer<typeof ZPublishDemoInput>['kind'];

const glob = z.string().min(1).max(300);
const count = z.union([z.number().int().min(1), z.literal('always')]);
const shorthand = <T extends z.ZodRawShape>(key: string, shape: T) =>
  z.preprocess((v) => (typeof v === 'number' ? { [key]: v } : v), z.object(shape).strict());

/**
 * Fault injection. `path` is a glob matched against the request path (`/api/**`) and, for requests that
 * serve a repository file, against that file's path (`*.safetensors` matches at any depth).
 * A bare number is shorthand for the main field (`{ latencyMs: 200 }`).
 */
export const ZFaults = z
  .object({
    /** Destroy the socket after this many body bytes of a matching file response. */
    dropAfterBytes: shorthand('bytes', {
      bytes: z.number().int().nonnegative(),
      times: count.default(1),
      path: glob.optional(),
    }).optional(),
    /** Flip (xor 0xff) the byte at this file offset whenever a response covers it. */
    corruptByteAt: shorthand('offset', {
      offset: z.number().int().nonnegative(),
      times: count.default('always'),
      path: glob.optional(),
    }).optional(),
    /** Answer 429 with Retry-After to the next `requests` matching requests (default scope: /api/**). */
    rateLimit: shorthand('requests', {
      requests: z.number().int().min(1),
      retryAfterSeconds: z.number().int().nonnegative().default(1),
      path: glob.optional(),
    }).optional(),
    latencyMs: shorthand('ms', { ms: z.number().int().nonnegative().max(600_000), path: glob.optional() }).optional(),
    /** One shared budget across all matching file bodies, like a saturated uplink. */
    bandwidthBytesPerSec: shorthand('bytesPerSec', { bytesPerSec: z.number().int().min(1), path: glob.optional() }).optional(),
    /** Ignore Range headers on matching file requests (answer 200 with the whole body), like some proxies. */
    ignoreRange: z
      .object({ times: count.default('always'), path: glob.optional() })
      .strict()
      .optional(),
    /** Answer the next `requests` matching requests with this status (default 503). */
    status5xx: shorthand('requests', {
      requests: z.number().int().min(1),
      status: z.number().int().min(500).max(599).default(503),
      path: glob.optional(),
    }).optional(),
  })
  .strict();
export type TFaults = z.input<typeof ZFaults>;
export type TParsedFaults = z.output<typeof ZFaults>;

export const ZHttpCommitInput = ZCommitInput.extend({
  files: z
    .record(ZRepoPath, z.union([z.string(), z.object({ base64: z.string() }).strict(), ZSyntheticFile.strict(), z.null()]))
    .refine((f) => Object.keys(f).length > 0, 'A commit must change at least one file'),
}).strict();
