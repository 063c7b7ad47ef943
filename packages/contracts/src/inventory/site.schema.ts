import { z } from 'zod';

export const ZSiteFields = z.object({
  name: z
    .string()
    .trim()
    .min(2, 'Name must be at least 2 characters')
    .max(63)
    .regex(/^[a-z0-9][a-z0-9-]*[a-z0-9]$/, 'Use lower-case letters, digits and dashes'),
  region: z.string().trim().min(2, 'Region is required').max(64),
  dataResidency: z
    .string()
    .trim()
    .min(2, 'Data-residency tag is required')
    .max(32)
    .regex(/^[a-z0-9-]+$/, 'Use a short tag such as eu, us or air-gapped'),
});
export const ZCreateSiteInput = ZSiteFields;
export type TCreateSiteInput = z.input<typeof ZCreateSiteInput>;
export const ZUpdateSiteInput = z.object({ id: z.string().min(1), data: ZSiteFields });
