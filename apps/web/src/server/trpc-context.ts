import type { ApiContext, SessionUser } from '@fleetplane/api';
import { runtime } from './runtime';
import { clientIp, getSessionUser } from './session';

/** `user`, when given, is the request's user already looked up (server components: requestSessionUser). */
export async function createApiContext(headers: Headers, user?: SessionUser | null): Promise<ApiContext> {
  const rt = runtime();
  return {
    prisma: rt.prisma,
    producer: rt.producer,
    hashPassword: rt.hashPassword,
    user: user === undefined ? await getSessionUser(headers) : user,
    ipAddress: clientIp(headers),
  };
}
