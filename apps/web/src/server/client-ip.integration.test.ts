// The client IP behind a trusted proxy, through the real route handlers (Better Auth's sign-in and the
// tRPC endpoint) over the real runtime and database: the address Better Auth rate-limits and stores on
// the session, and the address tRPC audit events record, are the same one — the first hop from the
// right that is not a trusted proxy — whatever the client wrote into X-Forwarded-For itself.
import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { createPrismaClient } from '@fleetplane/db';
import '@fleetplane/db/testing';
import { hashPassword } from '@fleetplane/auth';
import { createUser, SYSTEM_ACTOR } from '@fleetplane/services';

const BASE = 'http://localhost:3000';
Object.assign(process.env, {
  DATABASE_URL: inject('databaseUrl'),
  REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
  FLEETPLANE_QUEUE_PREFIX: `fptest-${randomBytes(4).toString('hex')}`,
  BETTER_AUTH_SECRET: randomBytes(32).toString('hex'),
  FLEETPLANE_PUBLIC_URL: BASE,
  TRUSTED_PROXY_CIDRS: '10.0.0.0/8',
});
const auth = await import('../app/api/auth/[...all]/route');
const trpc = await import('../app/api/trpc/[trpc]/route');

const prisma = createPrismaClient(inject('databaseUrl'));
afterAll(() => prisma.$disconnect());

// The client wrote 6.6.6.6 (and its own client-IP header); our proxy 10.0.0.2 appended the real peer.
const REAL = `203.0.113.${1 + (randomBytes(1)[0]! % 250)}`;
const forwarded = { 'x-forwarded-for': `6.6.6.6, ${REAL}, 10.0.0.2`, 'x-fleetplane-client-ip': '1.2.3.4' };

describe('client IP under TRUSTED_PROXY_CIDRS', () => {
  it('is the same untrusted-from-the-right hop for sign-in rate limits, the session, and tRPC audit events', async () => {
    const email = `ip-${randomBytes(4).toString('hex')}@test.local`;
    const password = 'a-long-enough-password';
    await createUser({ prisma, actor: SYSTEM_ACTOR }, { email, name: 'IP', role: 'admin', password }, hashPassword);

    const signIn = await auth.POST(
      new Request(`${BASE}/api/auth/sign-in/email`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', origin: BASE, ...forwarded },
        body: JSON.stringify({ email, password }),
      }),
    );
    expect(signIn.status).toBe(200);
    const cookie = signIn.headers
      .getSetCookie()
      .map((c) => c.split(';')[0])
      .join('; ');

    const user = await prisma.user.findUniqueOrThrow({ where: { email } });
    const session = await prisma.session.findFirstOrThrow({ where: { userId: user.id }, orderBy: { createdAt: 'desc' } });
    expect(session.ipAddress).toBe(REAL);
    expect(await prisma.rateLimit.findUnique({ where: { key: `${REAL}|/sign-in/email` } })).not.toBeNull();
    expect(
      await prisma.rateLimit.count({ where: { OR: [{ key: { startsWith: '6.6.6.6|' } }, { key: { startsWith: '1.2.3.4|' } }] } }),
    ).toBe(0);
    const signInAudit = await prisma.auditEvent.findFirstOrThrow({ where: { action: 'auth.sign_in', actorId: user.id } });
    expect(signInAudit.ipAddress).toBe(REAL);

    const name = `ip-site-${randomBytes(3).toString('hex')}`;
    const created = await trpc.POST(
      new Request(`${BASE}/api/trpc/sites.create`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', origin: BASE, cookie, ...forwarded },
        body: JSON.stringify({ json: { name, region: 'eu-west', dataResidency: 'eu' } }),
      }),
    );
    expect(created.status, await created.clone().text()).toBe(200);
    const siteAudit = await prisma.auditEvent.findFirstOrThrow({ where: { action: 'site.create', actorId: user.id } });
    expect(siteAudit.ipAddress).toBe(REAL);
  });

  it('takes the hop just before the trusted proxies, and no address when the chain holds only proxies or garbage', async () => {
    const { clientIp } = await import('./client-ip');
    expect(clientIp(new Headers({ 'x-forwarded-for': '6.6.6.6, 10.0.0.2' }))).toBe('6.6.6.6');
    expect(clientIp(new Headers({ 'x-forwarded-for': '10.0.0.3, 10.0.0.2' }))).toBeNull();
    expect(clientIp(new Headers({ 'x-forwarded-for': 'nonsense, 10.0.0.2', 'x-real-ip': '6.6.6.6' }))).toBeNull();
  });
});
