import { z } from 'zod';
import { ZRole } from '../auth/roles';

export const ZPassword = z.string().min(12, 'Password must be at least 12 characters').max(128, 'Password must be at most 128 characters');

export const ZCreateUserInput = z.object({
  email: z.email('Enter a valid email address').trim().toLowerCase().max(254),
  name: z.string().trim().min(1, 'Name is required').max(100),
  role: ZRole,
  password: ZPassword,
});
export type TCreateUserInput = z.input<typeof ZCreateUserInput>;

export const ZSetUserRoleInput = z.object({ userId: z.string().min(1), role: ZRole });
export const ZSetUserDisabledInput = z.object({ userId: z.string().min(1), disabled: z.boolean() });
export const ZResetPasswordInput = z.object({ userId: z.string().min(1), password: ZPassword });

export const ZUserListInput = z.object({
  page: z.number().int().min(1).default(1),
  pageSize: z.number().int().min(1).max(200).default(25),
  sortBy: z.enum(['email', 'name', 'role', 'createdAt']).default('email'),
  sortDir: z.enum(['asc', 'desc']).default('asc'),
  search: z.string().trim().max(200).optional(),
  role: ZRole.optional(),
});
