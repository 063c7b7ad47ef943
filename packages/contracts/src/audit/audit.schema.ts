import { z } from 'zod';

export const ZAuditListInput = z
  .object({
    page: z.number().int().min(1).default(1),
    pageSize: z.number().int().min(1).max(200).default(50),
    sortBy: z.enum(['occurredAt', 'action', 'actorLabel', 'targetType']).default('occurredAt'),
    sortDir: z.enum(['asc', 'desc']).default('desc'),
    search: z.string().trim().max(200).optional(),
    action: z.string().trim().max(100).optional(),
    targetType: z.string().trim().max(50).optional(),
    actorId: z.string().max(64).optional(),
    from: z.coerce.date().optional(),
    to: z.coerce.date().optional(),
  })
  .refine((v) => !v.from || !v.to || v.from <= v.to, { message: '"From" must be before "to"', path: ['from'] });
