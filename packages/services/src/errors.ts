/** Typed errors services throw; the API maps each to one tRPC code in one place (packages/api/src/errors.ts). */
export class ServiceError extends Error {
  constructor(
    message: string,
    readonly kind: 'not_found' | 'conflict' | 'invalid' | 'forbidden' | 'precondition',
    /** Field the problem belongs to, so forms can show it next to the input. */
    readonly field?: string,
  ) {
    super(message);
    this.name = 'ServiceError';
  }
}

export const notFound = (what: string, id?: string) =>
  new ServiceError(id ? `${what} ${id} does not exist` : `${what} does not exist`, 'not_found');
export const conflict = (message: string, field?: string) => new ServiceError(message, 'conflict', field);
export const invalid = (message: string, field?: string) => new ServiceError(message, 'invalid', field);
export const forbidden = (message: string) => new ServiceError(message, 'forbidden');
export const precondition = (message: string) => new ServiceError(message, 'precondition');

/** Prisma's unique-constraint violation, without importing Prisma's error classes into callers. */
export function isUniqueViolation(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: string }).code === 'P2002';
}
