import { z } from 'zod';
import { ZManifestFile } from '@fleetplane/domain/revisions/manifest-file.schema';

export const ZCheckRepoInput = z.object({
  hubUrl: z
    .string()
    .regex(/^https?:\/\/[^/\s]+/, 'hubUrl must be an http(s) URL')
    .transform((u) => u.replace(/\/+$/, '')),
  repoId: z.string().regex(/^[A-Za-z0-9][\w.-]*\/[A-Za-z0-9][\w.-]*$/, 'repoId looks like owner/name'),
  branch: z.string().min(1).max(255),
  accessToken: z.string().startsWith('hf_', "Hub tokens start with 'hf_'").optional(),
  knownSha: z
    .string()
    .regex(/^[0-9a-f]{40}$/)
    .nullable()
    .optional(),
  etag: z.string().max(512).nullable().optional(),
  filePatterns: z.array(z.string().min(1).max(300)).max(200),
  /** Stop walking history after this many commits (a force-push may hide knownSha). */
  maxCommits: z.number().int().min(1).max(1000).default(50),
});
export type TCheckRepoInput = z.input<typeof ZCheckRepoInput>;

export const ZRevisionCommit = z.object({
  sha: z.string().regex(/^[0-9a-f]{40}$/),
  title: z.string(),
  date: z.string(),
  /** Files of the repo at this commit that match filePatterns. */
  files: z.array(ZManifestFile),
});
export type TRevisionCommit = z.infer<typeof ZRevisionCommit>;

export const CHECK_ERROR_STATUSES = ['unauthorized', 'gated', 'not_found', 'rate_limited', 'unreachable', 'refused', 'error'] as const;

export const ZRepoCheckResult = z.discriminatedUnion('status', [
  z.object({
    status: z.literal('unchanged'),
    /** The ETag to send next time (the same one on a 304). */
    etag: z.string().nullable(),
  }),
  z.object({
    status: z.literal('changed'),
    headSha: z.string().regex(/^[0-9a-f]{40}$/),
    etag: z.string().nullable(),
    lastModified: z.string().nullable(),
    /** New commits, oldest first. */
    commits: z.array(ZRevisionCommit).min(1),
    /** False when knownSha was not in the branch history (force-push) or history was cut at maxCommits. */
    knownShaFound: z.boolean(),
  }),
  z.object({
    status: z.enum(CHECK_ERROR_STATUSES),
    message: z.string(),
    httpStatus: z.number().int().optional(),
    retryAfterSeconds: z.number().int().nonnegative().optional(),
  }),
]);
export type TRepoCheckResult = z.infer<typeof ZRepoCheckResult>;
