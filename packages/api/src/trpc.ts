// ── tRPC initialisation ─────────────────────────────────────────────────────────────────────
// Every procedure is built by `procedure(minRole)`: the minimum role lives in the procedure's meta
// (one place), the middleware enforces it, and the role-matrix test reads it to prove the matrix.
import { initTRPC, TRPCError } from '@trpc/server';
import superjson from 'superjson';
import { ZodError } from 'zod';
import { roleAtLeast } from '@fleetplane/domain';
import type { TRole } from '@fleetplane/contracts';
import { ServiceError, type AuditActor } from '@fleetplane/services';
import type { ApiContext, SessionUser } from './context';

export interface ProcedureMeta {
  minRole: TRole;
}

const SERVICE_ERROR_CODES = {
  not_found: 'NOT_FOUND',
  conflict: 'CONFLICT',
  invalid: 'BAD_REQUEST',
  forbidden: 'FORBIDDEN',
  precondition: 'PRECONDITION_FAILED',
} as const;

const t = initTRPC
  .context<ApiContext>()
  .meta<ProcedureMeta>()
  .create({
    transformer: superjson,
    errorFormatter({ shape, error }) {
      const cause = error.cause;
      return {
        ...shape,
        data: {
          ...shape.data,
          // Field-level messages for forms: { fieldErrors: { name: ['...'] } }
          zodError: cause instanceof ZodError ? { fieldErrors: fieldErrors(cause), formErrors: [] as string[] } : null,
          field: cause instanceof ServiceError ? (cause.field ?? null) : null,
        },
      };
    },
  });

function fieldErrors(error: ZodError): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const issue of error.issues) {
    const key = issue.path.filter((p) => p !== 'data').join('.') || '_';
    (out[key] ??= []).push(issue.message);
  }
  return out;
}

export const router = t.router;
export const createCallerFactory = t.createCallerFactory;

/** Maps service errors (and zod errors thrown inside services) to tRPC codes, in one place. */
const mapErrors = t.middleware(async ({ next }) => {
  const result = await next();
  if (!result.ok) {
    const cause = result.error.cause;
    if (cause instanceof ServiceError) {
      throw new TRPCError({ code: SERVICE_ERROR_CODES[cause.kind], message: cause.message, cause });
    }
    if (cause instanceof ZodError) {
      throw new TRPCError({ code: 'BAD_REQUEST', message: cause.issues.map((i) => i.message).join('; '), cause });
    }
  }
  return result;
});

const enforceRole = t.middleware(async ({ ctx, meta, next }) => {
  if (!meta?.minRole) {
    // Fail closed: a procedure built without a role is a bug, never an open door.
    throw new TRPCError({ code: 'INTERNAL_SERVER_ERROR', message: 'Procedure has no minimum role' });
  }
  if (!ctx.user) throw new TRPCError({ code: 'UNAUTHORIZED', message: 'Sign in to continue.' });
  if (!roleAtLeast(ctx.user.role, meta.minRole)) {
    throw new TRPCError({ code: 'FORBIDDEN', message: `This needs the ${meta.minRole} role; you are ${ctx.user.role}.` });
  }
  const user: SessionUser = ctx.user;
  const actor: AuditActor = { type: 'user', id: user.id, label: user.email, ipAddress: ctx.ipAddress };
  return next({ ctx: { ...ctx, user, actor } });
});

export function procedure(minRole: TRole) {
  return t.procedure.meta({ minRole }).use(mapErrors).use(enforceRole);
}
