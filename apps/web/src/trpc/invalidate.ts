'use client';
import { useQueryClient, type QueryKey } from '@tanstack/react-query';
import { useTRPC } from './react';

type Trpc = ReturnType<typeof useTRPC>;

/**
 * What a change to one feature's records makes stale, in one place per feature: after a mutation a
 * component calls e.g. `useInvalidateNodes()()` and never lists query keys itself. When a page starts
 * showing data from another feature (a node count on the clusters list, say), its key is added here
 * once instead of at every call site.
 */
const AFFECTED = {
  // Sites list their clusters, and cluster rows name their site.
  sites: (t: Trpc) => [t.sites.pathKey(), t.clusters.pathKey()],
  // The overview's counts and tables summarise clusters.
  clusters: (t: Trpc) => [t.clusters.pathKey(), t.fleet.pathKey()],
  // Node and GPU counts show on cluster pages and the overview.
  nodes: (t: Trpc) => [t.nodes.pathKey(), t.clusters.pathKey(), t.fleet.pathKey()],
  gpus: (t: Trpc) => [t.gpus.pathKey(), t.nodes.pathKey(), t.clusters.pathKey(), t.fleet.pathKey()],
  joinTokens: (t: Trpc) => [t.joinTokens.pathKey()],
  nodeCredentials: (t: Trpc) => [t.nodeCredentials.pathKey()],
  users: (t: Trpc) => [t.users.pathKey()],
  alerts: (t: Trpc) => [t.alerts.pathKey()],
  validationRuns: (t: Trpc) => [t.validationRuns.pathKey()],
  // Repos, revisions and the pipeline runs they start appear together on the Models page.
  models: (t: Trpc) => [t.models.pathKey(), t.pipelines.pathKey()],
  networkPolicy: (t: Trpc) => [t.networkPolicy.pathKey()],
  // Catalog rows feed every plan, verdict and cost figure.
  catalogs: (t: Trpc) => [t.catalog.pathKey(), t.capacity.pathKey()],
  // A decision changes the proposal's page and the list (counts, expiring-soon warning).
  proposals: (t: Trpc) => [t.proposals.pathKey()],
  // A new recipe version changes what the next runs build and what the artifact pages name.
  recipes: (t: Trpc) => [t.recipes.pathKey(), t.artifacts.pathKey()],
  // Engine settings change the cluster page's engine section; the staging node shows on node pages.
  engine: (t: Trpc) => [t.engine.pathKey(), t.clusters.pathKey()],
  // A rollout changes what clusters and nodes run (history, provenance).
  rollouts: (t: Trpc) => [t.rollouts.pathKey(), t.clusters.pathKey(), t.nodes.pathKey()],
  // A cancelled command leaves the node's command list and the engine panel's pending work.
  nodeCommands: (t: Trpc) => [t.nodeCommands.pathKey(), t.engine.pathKey()],
} satisfies Record<string, (t: Trpc) => QueryKey[]>;

function useInvalidate(feature: keyof typeof AFFECTED): () => Promise<void> {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  return async () => {
    await Promise.all(AFFECTED[feature](trpc).map((queryKey) => queryClient.invalidateQueries({ queryKey })));
  };
}

export const useInvalidateSites = () => useInvalidate('sites');
export const useInvalidateClusters = () => useInvalidate('clusters');
export const useInvalidateNodes = () => useInvalidate('nodes');
export const useInvalidateGpus = () => useInvalidate('gpus');
export const useInvalidateJoinTokens = () => useInvalidate('joinTokens');
export const useInvalidateNodeCredentials = () => useInvalidate('nodeCredentials');
export const useInvalidateUsers = () => useInvalidate('users');
export const useInvalidateAlerts = () => useInvalidate('alerts');
export const useInvalidateValidationRuns = () => useInvalidate('validationRuns');
export const useInvalidateModels = () => useInvalidate('models');
export const useInvalidateNetworkPolicy = () => useInvalidate('networkPolicy');
export const useInvalidateCatalogs = () => useInvalidate('catalogs');
export const useInvalidateProposals = () => useInvalidate('proposals');
export const useInvalidateRecipes = () => useInvalidate('recipes');
export const useInvalidateEngine = () => useInvalidate('engine');
export const useInvalidateRollouts = () => useInvalidate('rollouts');
export const useInvalidateNodeCommands = () => useInvalidate('nodeCommands');
