import { dehydrate, HydrationBoundary } from '@tanstack/react-query';
import { createTRPCOptionsProxy, type TRPCQueryOptions } from '@trpc/tanstack-react-query';
import { headers } from 'next/headers';
import { cache } from 'react';
import { appRouter } from '@fleetplane/api';
import { requestSessionUser } from '~/server/session';
import { createApiContext } from '~/server/trpc-context';
import { createQueryClient } from './query-client';

const createContext = cache(async () => createApiContext(new Headers(await headers()), await requestSessionUser()));

export const getQueryClient = cache(createQueryClient);

/** Server components prefetch through this proxy; the data streams to the client's cache. */
export const trpc = createTRPCOptionsProxy({ router: appRouter, ctx: createContext, queryClient: getQueryClient });

export function HydrateClient({ children }: { children: React.ReactNode }) {
  return <HydrationBoundary state={dehydrate(getQueryClient())}>{children}</HydrationBoundary>;
}

/**
 * Fills the request's query cache before rendering. Awaiting (rather than streaming a pending query)
 * means the server HTML and the client's first render see the same data, so hydration matches.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function prefetch(...queryOptions: ReturnType<TRPCQueryOptions<any>>[]): Promise<void> {
  const queryClient = getQueryClient();
  // A failed prefetch is not fatal: the client component shows its own error state and retry.
  await Promise.all(queryOptions.map((o) => queryClient.prefetchQuery(o)));
}
