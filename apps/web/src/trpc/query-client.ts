import { defaultShouldDehydrateQuery, QueryClient } from '@tanstack/react-query';
import superjson from 'superjson';

export function createQueryClient() {
  return new QueryClient({
    defaultOptions: {
      queries: {
        // Server-prefetched data is fresh for a while; live views set refetchInterval themselves.
        staleTime: 30_000,
        retry: (count, error) => {
          const code = (error as { data?: { code?: string } }).data?.code;
          if (code && ['UNAUTHORIZED', 'FORBIDDEN', 'NOT_FOUND', 'BAD_REQUEST'].includes(code)) return false;
          return count < 2;
        },
      },
      dehydrate: {
        serializeData: superjson.serialize,
        // Stream pending prefetches to the client instead of waiting for them on the server.
        shouldDehydrateQuery: (query) => defaultShouldDehydrateQuery(query) || query.state.status === 'pending',
        shouldRedactErrors: () => false,
      },
      hydrate: { deserializeData: superjson.deserialize },
    },
  });
}
