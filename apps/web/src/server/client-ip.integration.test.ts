// The client IP through the real route handlers (Better Auth's sign-in and the tRPC endpoint) over the
// real runtime and database: the address Better Auth rate-limits and stores on the session, and the
// address tRPC audit events record, are the same one, decided from the socket's address that the
// custom server (apps/web/server.mjs) stamps into x-fleetplane-peer-ip. Here the requests carry that
// header as the server would have written it; peer-ip.test.ts proves the server writes it from the
// socket whatever the client sent.
import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { createPrismaClient } from '@fleetplane/db';
import '@fleetplane/db/testing';
import { hashPassword } from '@fleetplane/auth';
import { createUser, SYSTEM_ACTOR } from '@fleetplane/services';
import { PEER_IP_HEADER } from '../../peer-ip.mjs';

const BASE = 'http://localhost:3000';
Object.assign(process.env, {
  DATABASE_URL: inject('databaseUrl'),
  REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
  FLEETPLANE_QUEUE_PREFIX: `fptest-${randomBytes(4).toString('hex')}`,
  BETTER_AUTH_SECRET: randomBytes(32).toString('hex'),
  FLEETPLANE_PUBLIC_URL: BASE,
});
const auth = await import('../app/api/auth/[...all]/route');
const trpc = await import('../app/api/trpc/[trpc]/route');
const { clientIp } = await import('./client-ip');

const prisma = createPrismaClient(inject('databaseUrl'));
afterAll(() => prisma.$disconnect());

const randomAddress = () => `203.0.113.${1 + (randomBytes(1)[0]! % 250)}`;

/**
 * Signs a fresh admin in and creates a site with the given request headers; returns the addresses
 * Better Auth stored on the session and counted in its rate limit, and the ones both audit events got.
 */
async function signInAndAct(headers: Record<string, string>) {
  const email = `ip-${randomBytes(4).toString('hex')}@test.local`;
  const password = 'a-long-enough-password';
  await createUser({ prisma, actor: SYSTEM_ACTOR }, { email, name: 'IP', role: 'admin', password }, hashPassword);

  const signIn = await auth.POST(
    new Request(`${BASE}/api/auth/sign-in/email`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: BASE, ...headers },
      body: JSON.stringify({ email, password }),
    }),
  );
  expect(signIn.status).toBe(200);
  const cookie = signIn.headers
    .getSetCookie()
    .map((c) => c.split(';')[0])
    .join('; ');

  const name = `ip-site-${randomBytes(3).toString('hex')}`;
  const created = await trpc.POST(
    new Request(`${BASE}/api/trpc/sites.create`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: BASE, cookie, ...headers },
      body: JSON.stringify({ json: { name, region: 'eu-west', dataResidency: 'eu' } }),
    }),
  );
  expect(created.status, await created.clone().text()).toBe(200);

  const user = await prisma.user.findUniqueOrThrow({ where: { email } });
  const session = await prisma.session.findFirstOrThrow({ where: { userId: user.id }, orderBy: { createdAt: 'desc' } });
  const signInAudit = await prisma.auditEvent.findFirstOrThrow({ where: { action: 'auth.sign_in', actorId: user.id } });
  const siteAudit = await prisma.auditEvent.findFirstOrThrow({ where: { action: 'site.create', actorId: user.id } });
  return { session: session.ipAddress, signInAudit: signInAudit.ipAddress, siteAudit: siteAudit.ipAddress };
}

async function rateLimited(ip: string) {
  return (await prisma.rateLimit.findUnique({ where: { key: `${ip}|/sign-in/email` } })) !== null;
}

describe('client IP without trusted proxies', () => {
  it('is the socket address for rate limits, the session and audit events; a spoofed X-Forwarded-For is ignored', async () => {
    process.env.TRUSTED_PROXY_CIDRS = '';
    const peer = randomAddress();
    const spoofed = `6.6.${randomBytes(1)[0]}.${randomBytes(1)[0]}`;
    const seen = await signInAndAct({ [PEER_IP_HEADER]: peer, 'x-forwarded-for': spoofed, 'x-fleetplane-client-ip': spoofed });
    expect(seen).toEqual({ session: peer, signInAudit: peer, siteAudit: peer });
    expect(await rateLimited(peer)).toBe(true);
    expect(await rateLimited(spoofed)).toBe(false);
  });
});

describe('client IP under TRUSTED_PROXY_CIDRS', () => {
  it('is the first untrusted hop left of a trusted peer for rate limits, the session and tRPC audit events', async () => {
    process.env.TRUSTED_PROXY_CIDRS = '10.0.0.0/8';
    // The client wrote 6.6.6.6 (and its own client-IP header); our proxy 10.0.0.2 appended the real
    // client and connected to us, so the peer is the proxy.
    const real = randomAddress();
    const seen = await signInAndAct({
      [PEER_IP_HEADER]: '10.0.0.2',
      'x-forwarded-for': `6.6.6.6, ${real}`,
      'x-fleetplane-client-ip': '1.2.3.4',
    });
    expect(seen).toEqual({ session: real, signInAudit: real, siteAudit: real });
    expect(await rateLimited(real)).toBe(true);
    expect(
      await prisma.rateLimit.count({ where: { OR: [{ key: { startsWith: '6.6.6.6|' } }, { key: { startsWith: '1.2.3.4|' } }] } }),
    ).toBe(0);
  });

  it('ignores X-Forwarded-For from a peer that is not a trusted proxy', async () => {
    process.env.TRUSTED_PROXY_CIDRS = '10.0.0.0/8';
    const peer = randomAddress();
    const seen = await signInAndAct({ [PEER_IP_HEADER]: peer, 'x-forwarded-for': '6.6.6.7, 10.0.0.2' });
    expect(seen).toEqual({ session: peer, signInAudit: peer, siteAudit: peer });
  });

  it('takes the hop just before the trusted proxies, and no address for only proxies, garbage or no peer', () => {
    process.env.TRUSTED_PROXY_CIDRS = '10.0.0.0/8';
    const viaProxy = (xff: string) => new Headers({ [PEER_IP_HEADER]: '10.0.0.2', 'x-forwarded-for': xff });
    expect(clientIp(viaProxy('6.6.6.6, 10.0.0.3'))).toBe('6.6.6.6');
    expect(clientIp(viaProxy('10.0.0.3, 10.0.0.4'))).toBeNull();
    expect(clientIp(new Headers({ [PEER_IP_HEADER]: '10.0.0.2', 'x-forwarded-for': 'nonsense', 'x-real-ip': '6.6.6.6' }))).toBeNull();
    // Not through the custom server: unknown, never the client's header.
    expect(clientIp(new Headers({ 'x-forwarded-for': '6.6.6.6' }))).toBeNull();
  });
});
