import { router } from './trpc';
import { auditRouter, meRouter, networkPolicyRouter, usersRouter } from './routers/admin.router';
import { clustersRouter, fleetRouter, gpusRouter, nodesRouter, sitesRouter } from './routers/inventory.router';
import { joinTokensRouter, nodeCredentialsRouter } from './routers/enrollment.router';
import { fleetHealthRouter } from './routers/fleet-health.router';
import { alertsRouter } from './routers/alerts.router';
import { validationRunsRouter, validationSuitesRouter } from './routers/validation.router';
import { demoRouter, modelsRouter, pipelinesRouter, upstreamRouter } from './routers/upstream.router';
import { capacityRouter, catalogRouter } from './routers/capacity.router';
import { proposalsRouter } from './routers/proposals.router';
import { recipesRouter } from './routers/recipes.router';
import { artifactsRouter } from './routers/artifacts.router';
import { engineRouter } from './routers/engine.router';
import { rolloutsRouter } from './routers/rollouts.router';
import { nodeCommandsRouter } from './routers/node-commands.router';

export const appRouter = router({
  me: meRouter,
  fleet: fleetRouter,
  sites: sitesRouter,
  clusters: clustersRouter,
  nodes: nodesRouter,
  gpus: gpusRouter,
  users: usersRouter,
  audit: auditRouter,
  networkPolicy: networkPolicyRouter,
  joinTokens: joinTokensRouter,
  nodeCredentials: nodeCredentialsRouter,
  fleetHealth: fleetHealthRouter,
  alerts: alertsRouter,
  validationSuites: validationSuitesRouter,
  validationRuns: validationRunsRouter,
  models: modelsRouter,
  upstream: upstreamRouter,
  pipelines: pipelinesRouter,
  demo: demoRouter,
  capacity: capacityRouter,
  catalog: catalogRouter,
  proposals: proposalsRouter,
  recipes: recipesRouter,
  artifacts: artifactsRouter,
  engine: engineRouter,
  rollouts: rolloutsRouter,
  nodeCommands: nodeCommandsRouter,
});

export type AppRouter = typeof appRouter;
