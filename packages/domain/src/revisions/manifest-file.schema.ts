import { z } from 'zod';

/**
 * One file of a repository revision as the Hub describes it. LFS files carry the sha256 of their
 * content; small (non-LFS) files only have a git blob oid, which is still a content hash we can verify.
 * Candidate for packages/contracts once the API and jobs share it.
 */
export const ZManifestFile = z.object({
  path: z.string().min(1).max(1024),
  sizeBytes: z.number().int().nonnegative(),
  /** sha256 of the content; null for non-LFS files (the Hub only reports their git oid). */
  sha256: z
    .string()
    .regex(/^[0-9a-f]{64}$/)
    .nullable(),
  /** The tree entry's git oid. For LFS files this is the oid of the pointer file, not of the content. */
  gitOid: z.string().regex(/^[0-9a-f]{40}$/),
  lfs: z.boolean(),
});
export type TManifestFile = z.infer<typeof ZManifestFile>;

/** A verified, downloaded file: every file has a sha256 once its bytes were hashed. */
export const ZVerifiedFile = z.object({
  path: z.string().min(1).max(1024),
  sizeBytes: z.number().int().nonnegative(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
});
export type TVerifiedFile = z.infer<typeof ZVerifiedFile>;
