import { z } from 'zod';

// What we rely on from the Hub's JSON (domain-reference §1.3). Unknown fields pass through untouched.

export const ZModelInfoResponse = z.object({
  _id: z.string(),
  id: z.string(),
  sha: z.string().regex(/^[0-9a-f]{40}$/, 'sha must be a 40-hex commit id'),
  lastModified: z.string().optional(),
  private: z.boolean().optional(),
  gated: z.union([z.literal(false), z.literal('auto'), z.literal('manual')]).optional(),
});
export type TModelInfoResponse = z.infer<typeof ZModelInfoResponse>;

/** hub.js listFiles entry (tree endpoint): the LFS hash is `lfs.oid` here, not `lfs.sha256`. */
export const ZTreeFileEntry = z.object({
  type: z.literal('file'),
  path: z.string().min(1),
  size: z.number().int().nonnegative(),
  oid: z.string().regex(/^[0-9a-f]{40}$/),
  lfs: z.object({ oid: z.string().regex(/^[0-9a-f]{64}$/), size: z.number().int().nonnegative() }).optional(),
});
export type TTreeFileEntry = z.infer<typeof ZTreeFileEntry>;
