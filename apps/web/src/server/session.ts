import { headers } from 'next/headers';
import { cache } from 'react';
import { ZRole } from '@fleetplane/contracts';
import type { SessionUser } from '@fleetplane/api';
import { runtime } from './runtime';

/** The signed-in user for a request, or null. Disabled users have no session (it is revoked on disable). */
export async function getSessionUser(headers: Headers): Promise<SessionUser | null> {
  const session = await runtime().auth.api.getSession({ headers });
  if (!session) return null;
  const user = session.user as typeof session.user & { role?: string; disabledAt?: Date | null };
  if (user.disabledAt) return null;
  const role = ZRole.safeParse(user.role);
  if (!role.success) return null;
  return { id: user.id, email: user.email, name: user.name, role: role.data };
}

/**
 * The signed-in user of the request being rendered, looked up once per request: the dashboard layout and the
 * tRPC context of the page's prefetches both need it, and each lookup is two queries (session, user).
 */
export const requestSessionUser = cache(async (): Promise<SessionUser | null> => getSessionUser(new Headers(await headers())));

// One decision for rate limits and audit: see client-ip.ts.
export { clientIp } from './client-ip';
