import type { ApiContext } from '@fleetplane/api';
import { runtime } from './runtime';
import { clientIp, getSessionUser } from './session';

export async function createApiContext(headers: Headers): Promise<ApiContext> {
  const rt = runtime();
  return {
    prisma: rt.prisma,
    producer: rt.producer,
    hashPassword: rt.hashPassword,
    user: await getSessionUser(headers),
    ipAddress: clientIp(headers),
  };
}
