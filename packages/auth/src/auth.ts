import { betterAuth } from 'better-auth';
import { prismaAdapter } from 'better-auth/adapters/prisma';
import { APIError, createAuthMiddleware } from 'better-auth/api';
import { consumeAccountSignInAttempt } from './account-rate-limit.sql';
import { AuditRepository, type PrismaClient } from '@fleetplane/db';

export interface AuthOptions {
  prisma: PrismaClient;
  secret: string;
  baseURL: string;
  /** Sign-in attempts allowed per client IP per minute. */
  signInAttemptsPerMinute?: number;
  /** Client IP headers to trust, in order (behind a proxy: its forwarding header). */
  ipAddressHeaders?: string[];
  /** Proxies whose forwarding header is trusted; the client IP is the first hop before them. */
  trustedProxies?: string[];
  /** Sign-in attempts allowed per account (email) per 15 minutes, whatever address they come from. */
  signInAttemptsPerAccount?: number;
}

export const SESSION_TTL_SECONDS = 12 * 60 * 60;

export function createAuth(options: AuthOptions) {
  const { prisma } = options;
  return betterAuth({
    appName: 'Fleetplane',
    secret: options.secret,
    baseURL: options.baseURL,
    trustedOrigins: [options.baseURL],
    database: prismaAdapter(prisma, { provider: 'postgresql' }),
    emailAndPassword: {
      enabled: true,
      // Accounts are created by admins only (see services/users); nobody signs themselves up.
      disableSignUp: true,
      minPasswordLength: 12,
      maxPasswordLength: 128,
    },
    user: {
      additionalFields: {
        role: { type: 'string', input: false, defaultValue: 'viewer', required: false },
        disabledAt: { type: 'date', input: false, required: false },
      },
    },
    session: {
      expiresIn: SESSION_TTL_SECONDS,
      updateAge: 60 * 60,
    },
    rateLimit: {
      // On in every environment (Better Auth's default is production only), and stored in
      // Postgres so every web replica shares the same counters.
      enabled: true,
      storage: 'database',
      window: 60,
      max: 600,
      customRules: {
        '/sign-in/email': { window: 60, max: options.signInAttemptsPerMinute ?? 5 },
      },
    },
    advanced: {
      ipAddress: { ipAddressHeaders: options.ipAddressHeaders ?? ['x-forwarded-for', 'x-real-ip'], trustedProxies: options.trustedProxies },
    },
    hooks: {
      // The per-IP limit alone can be dodged by rotating X-Forwarded-For where no proxy overwrites
      // it; a per-account limit bounds password guessing against one account regardless.
      before: createAuthMiddleware(async (ctx) => {
        if (ctx.path !== '/sign-in/email') return;
        const email = typeof ctx.body?.email === 'string' ? ctx.body.email.trim().toLowerCase() : '';
        if (!email) return;
        const allowed = await consumeAccountSignInAttempt(prisma, email, options.signInAttemptsPerAccount ?? 10, 15 * 60);
        if (!allowed) {
          throw new APIError('TOO_MANY_REQUESTS', { message: 'Too many sign-in attempts for this account. Try again in 15 minutes.' });
        }
      }),
    },
    databaseHooks: {
      session: {
        create: {
          before: async (session) => {
            const user = await prisma.user.findUnique({ where: { id: session.userId }, select: { disabledAt: true } });
            if (!user || user.disabledAt) {
              throw new APIError('FORBIDDEN', { message: 'This account is disabled. Ask an admin to re-enable it.' });
            }
            return { data: session };
          },
          after: async (session) => {
            const user = await prisma.user.findUnique({ where: { id: session.userId }, select: { email: true } });
            await new AuditRepository(prisma).record(
              { type: 'user', id: session.userId, label: user?.email ?? session.userId, ipAddress: session.ipAddress ?? null },
              { action: 'auth.sign_in', targetType: 'session', targetId: session.id, after: { userAgent: session.userAgent ?? null } },
            );
          },
        },
      },
    },
  });
}

export type FleetplaneAuth = ReturnType<typeof createAuth>;
