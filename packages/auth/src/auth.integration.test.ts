// Sign-in through Better Auth's real HTTP handler over a real database: sessions, roles,
// disabled accounts, the sign-in rate limit, and the audit record of each sign-in.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createPrismaClient, UserRepository, type PrismaClient } from '@fleetplane/db';
import '@fleetplane/db/testing';
import { createAuth, type FleetplaneAuth } from './auth';
import { hashPassword } from './password';

const BASE = 'http://fleetplane.test';
let prisma: PrismaClient;
let auth: FleetplaneAuth;
const password = 'a-very-long-password';

async function user(role: 'viewer' | 'admin' = 'viewer') {
  const id = randomUUID();
  const email = `${id.slice(0, 8)}@t.local`;
  await new UserRepository(prisma).createWithPassword({ id, email, name: 'T', role, passwordHash: await hashPassword(password) });
  return { id, email };
}

function signIn(email: string, pw: string, ip: string) {
  return auth.handler(
    new Request(`${BASE}/api/auth/sign-in/email`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: BASE, 'x-forwarded-for': ip },
      body: JSON.stringify({ email, password: pw }),
    }),
  );
}

beforeAll(() => {
  prisma = createPrismaClient(inject('databaseUrl'));
  auth = createAuth({ prisma, secret: 'x'.repeat(40), baseURL: BASE, signInAttemptsPerMinute: 5 });
});
afterAll(() => prisma.$disconnect());

describe('sign-in', () => {
  it('issues a session carrying the role, and audits the sign-in', async () => {
    const u = await user('admin');
    const res = await signIn(u.email, password, '10.0.0.1');
    expect(res.status).toBe(200);
    const cookie = res.headers.get('set-cookie')!;
    const session = await auth.api.getSession({ headers: new Headers({ cookie: cookie.split(';')[0]! }) });
    expect(session?.user.email).toBe(u.email);
    expect((session?.user as { role?: string }).role).toBe('admin');
    expect(await prisma.auditEvent.count({ where: { actorId: u.id, action: 'auth.sign_in' } })).toBe(1);
  });

  it('refuses a wrong password with 401 and creates no session', async () => {
    const u = await user();
    const res = await signIn(u.email, 'wrong-password-here', '10.0.0.2');
    expect(res.status).toBe(401);
    expect(await prisma.session.count({ where: { userId: u.id } })).toBe(0);
  });

  it('refuses a disabled account', async () => {
    const u = await user();
    await prisma.user.update({ where: { id: u.id }, data: { disabledAt: new Date() } });
    const res = await signIn(u.email, password, '10.0.0.3');
    expect(res.status).toBe(403);
    expect(await prisma.session.count({ where: { userId: u.id } })).toBe(0);
  });

  it('rate-limits sign-in attempts per client address (stored in Postgres)', async () => {
    const u = await user();
    const statuses: number[] = [];
    for (let i = 0; i < 7; i += 1) statuses.push((await signIn(u.email, 'wrong-password-here', '10.9.9.9')).status);
    expect(statuses.slice(0, 5)).toEqual([401, 401, 401, 401, 401]);
    expect(statuses.slice(5)).toEqual([429, 429]);
    // Even the right password is refused while limited...
    expect((await signIn(u.email, password, '10.9.9.9')).status).toBe(429);
    // ...but another address is not affected.
    expect((await signIn(u.email, password, '10.9.9.10')).status).toBe(200);
    expect(await prisma.rateLimit.count()).toBeGreaterThan(0);
  });

  it('limits attempts per account even when every attempt claims another address', async () => {
    const u = await user();
    const statuses: number[] = [];
    for (let i = 0; i < 12; i += 1) statuses.push((await signIn(u.email, 'wrong-password-here', `10.77.0.${i + 1}`)).status);
    expect(statuses.slice(0, 10).every((s) => s === 401)).toBe(true);
    expect(statuses.slice(10)).toEqual([429, 429]);
    expect((await signIn(u.email, password, '10.77.1.1')).status).toBe(429);
  });

  it('does not let anyone sign themselves up', async () => {
    const res = await auth.handler(
      new Request(`${BASE}/api/auth/sign-up/email`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', origin: BASE, 'x-forwarded-for': '10.0.0.4' },
        body: JSON.stringify({ email: 'new@t.local', password: 'a-very-long-password', name: 'N' }),
      }),
    );
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(await prisma.user.count({ where: { email: 'new@t.local' } })).toBe(0);
  });
});
