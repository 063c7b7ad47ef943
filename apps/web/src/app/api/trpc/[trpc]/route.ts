import { fetchRequestHandler } from '@trpc/server/adapters/fetch';
import { appRouter } from '@fleetplane/api';
import { createApiContext } from '~/server/trpc-context';

export const dynamic = 'force-dynamic';

function handler(req: Request) {
  return fetchRequestHandler({
    endpoint: '/api/trpc',
    req,
    router: appRouter,
    createContext: () => createApiContext(req.headers),
    onError({ path, error }) {
      if (error.code === 'INTERNAL_SERVER_ERROR') console.error(`tRPC ${path ?? '?'} failed:`, error.cause ?? error);
    },
  });
}

export { handler as GET, handler as POST };
