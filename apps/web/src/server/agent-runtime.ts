// What the agent API and /metrics need, and nothing more: no auth secret, no queue producer. Agents
// keep reporting even when the dashboard side is misconfigured.
import { createLogger, loadConfig, type Logger } from '@fleetplane/config';
import { getPrisma } from '@fleetplane/db';
import { getTelemetryPool, ingestMetrics, type AgentHttpDeps } from '@fleetplane/services';

const g = globalThis as unknown as { __fleetplaneAgentRuntime?: AgentHttpDeps & { log: Logger } };

export function agentRuntime(): AgentHttpDeps & { log: Logger } {
  if (g.__fleetplaneAgentRuntime) return g.__fleetplaneAgentRuntime;
  const config = loadConfig();
  g.__fleetplaneAgentRuntime = {
    prisma: getPrisma(config.DATABASE_URL),
    pool: getTelemetryPool(config.DATABASE_URL),
    metrics: ingestMetrics(),
    log: createLogger('agent-api'),
  };
  return g.__fleetplaneAgentRuntime;
}
