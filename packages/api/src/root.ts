import { router } from './trpc';
import { auditRouter, meRouter, usersRouter } from './routers/admin.router';
import { clustersRouter, fleetRouter, gpusRouter, nodesRouter, sitesRouter } from './routers/inventory.router';

export const appRouter = router({
  me: meRouter,
  fleet: fleetRouter,
  sites: sitesRouter,
  clusters: clustersRouter,
  nodes: nodesRouter,
  gpus: gpusRouter,
  users: usersRouter,
  audit: auditRouter,
});

export type AppRouter = typeof appRouter;
