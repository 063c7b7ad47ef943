// What the agent API and /metrics need, and nothing more: no auth secret, no queue producer. Agents
// keep reporting even when the dashboard side is misconfigured.
import { createLogger, loadConfig, type Logger } from '@fleetplane/config';
import { getPrisma } from '@fleetplane/db';
import { ensureTelemetryPartitions, getTelemetryPool, ingestMetrics } from '@fleetplane/services';
import type { AgentHttpDeps } from './agent-api/http-io';

type AgentRuntime = AgentHttpDeps & { log: Logger; metricsBearerToken?: string };

const g = globalThis as unknown as { __fleetplaneAgentRuntime?: AgentRuntime };

export function agentRuntime(): AgentRuntime {
  if (g.__fleetplaneAgentRuntime) return g.__fleetplaneAgentRuntime;
  const config = loadConfig();
  const rt: AgentRuntime = {
    prisma: getPrisma(config.DATABASE_URL),
    pool: getTelemetryPool(config.DATABASE_URL),
    metrics: ingestMetrics(),
    log: createLogger('agent-api'),
    metricsBearerToken: config.METRICS_BEARER_TOKEN,
  };
  g.__fleetplaneAgentRuntime = rt;
  // Before the first batch is stored, make sure its hour has a partition (the worker does the same at
  // its start and every 10 min). Not awaited: a missing partition only means rows wait in DEFAULT.
  ensureTelemetryPartitions(rt.prisma, { rawRetentionHours: config.TELEMETRY_RAW_RETENTION_HOURS }).catch((err: unknown) =>
    rt.log.warn({ err }, 'could not create telemetry partitions ahead; the worker will retry'),
  );
  return rt;
}
