// What the agent API and /metrics need, and nothing more: no auth secret, no queue producer. Agents
// keep reporting even when the dashboard side is misconfigured.
import { createLogger, loadConfig, type Logger } from '@fleetplane/config';
import { getPrisma } from '@fleetplane/db';
import { getTelemetryPool, ingestMetrics, type AgentHttpDeps } from '@fleetplane/services';

type AgentRuntime = AgentHttpDeps & { log: Logger; metricsBearerToken?: string };

const g = globalThis as unknown as { __fleetplaneAgentRuntime?: AgentRuntime };

export function agentRuntime(): AgentRuntime {
  if (g.__fleetplaneAgentRuntime) return g.__fleetplaneAgentRuntime;
  const config = loadConfig();
  g.__fleetplaneAgentRuntime = {
    prisma: getPrisma(config.DATABASE_URL),
    pool: getTelemetryPool(config.DATABASE_URL),
    metrics: ingestMetrics(),
    log: createLogger('agent-api'),
    metricsBearerToken: config.METRICS_BEARER_TOKEN,
  };
  return g.__fleetplaneAgentRuntime;
}
