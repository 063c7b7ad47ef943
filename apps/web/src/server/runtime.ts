// Process-wide singletons of the web app, created on first use (never at import time, so
// `next build` does not need a database) and kept on globalThis across dev-mode reloads.
import { createAuth, hashPassword, type FleetplaneAuth } from '@fleetplane/auth';
import { loadConfig, type FleetplaneConfig } from '@fleetplane/config';
import { getPrisma, type PrismaClient } from '@fleetplane/db';
import { JobProducer } from '@fleetplane/queue';
import { CLIENT_IP_HEADER } from './client-ip';

export interface WebRuntime {
  config: FleetplaneConfig;
  prisma: PrismaClient;
  auth: FleetplaneAuth;
  producer: JobProducer;
  hashPassword: typeof hashPassword;
}

const g = globalThis as unknown as { __fleetplaneRuntime?: WebRuntime };

export function runtime(): WebRuntime {
  if (g.__fleetplaneRuntime) return g.__fleetplaneRuntime;
  const config = loadConfig();
  if (!config.BETTER_AUTH_SECRET) {
    throw new Error('BETTER_AUTH_SECRET is not set. Start Fleetplane with `npm start` (which generates one) or set it explicitly.');
  }
  const prisma = getPrisma(config.DATABASE_URL);
  const auth = createAuth({
    prisma,
    secret: config.BETTER_AUTH_SECRET,
    baseURL: config.FLEETPLANE_PUBLIC_URL,
    signInAttemptsPerMinute: config.SIGN_IN_ATTEMPTS_PER_MINUTE,
    signInAttemptsPerAccount: config.SIGN_IN_ATTEMPTS_PER_ACCOUNT,
    // The auth route puts the client IP that clientIp() decided (the socket's address, or X-Forwarded-For behind TRUSTED_PROXY_CIDRS)
    // into this one header, so Better Auth's rate limits and sessions use the same address as audit events.
    ipAddressHeaders: [CLIENT_IP_HEADER],
  });
  const producer = new JobProducer(config.REDIS_URL, config.FLEETPLANE_QUEUE_PREFIX);
  g.__fleetplaneRuntime = { config, prisma, auth, producer, hashPassword };
  return g.__fleetplaneRuntime;
}
