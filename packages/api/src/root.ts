import { router } from './trpc';
import { meRouter } from './routers/me.router';
import { fleetRouter } from './routers/fleet.router';
import { sitesRouter } from './routers/sites.router';
import { clustersRouter } from './routers/clusters.router';
import { nodesRouter } from './routers/nodes.router';
import { gpusRouter } from './routers/gpus.router';
import { usersRouter } from './routers/users.router';
import { auditRouter } from './routers/audit.router';
import { networkPolicyRouter } from './routers/network-policy.router';
import { joinTokensRouter } from './routers/join-tokens.router';
import { nodeCredentialsRouter } from './routers/node-credentials.router';
import { fleetHealthRouter } from './routers/fleet-health.router';
import { alertsRouter } from './routers/alerts.router';
import { validationSuitesRouter } from './routers/validation-suites.router';
import { validationRunsRouter } from './routers/validation-runs.router';
import { modelsRouter } from './routers/models.router';
import { pipelinesRouter } from './routers/pipelines.router';
import { demoRouter } from './routers/demo.router';
import { capacityRouter } from './routers/capacity.router';
import { catalogRouter } from './routers/catalog.router';
import { proposalsRouter } from './routers/proposals.router';
import { recipesRouter } from './routers/recipes.router';
import { artifactsRouter } from './routers/artifacts.router';
import { engineRouter } from './routers/engine.router';
import { rolloutsRouter } from './routers/rollouts.router';
import { nodeCommandsRouter } from './routers/node-commands.router';

// One router per file, named after its key here (feature-names.test.ts).
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
