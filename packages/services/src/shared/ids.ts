import { randomBytes } from 'node:crypto';

/** Collision-resistant ids for rows written with raw SQL (Prisma's cuid() default runs client-side only). */
export function newRowId(): string {
  return `c${Date.now().toString(36)}${randomBytes(9).toString('base64url').replace(/[-_]/g, 'x').toLowerCase()}`;
}
