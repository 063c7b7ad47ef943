import { createHash, timingSafeEqual } from 'node:crypto';
import { Gauge, Registry } from 'prom-client';
import { HEALTH_STATUSES, MAX_CLOCK_SKEW_SECONDS } from '@fleetplane/contracts';
import type { PrismaClient } from '@fleetplane/db';
import { ingestMetrics } from '../telemetry/ingest-metrics';
import { LIVE_WINDOW_SECONDS } from './fleet-utilisation.service';
import { registerCostMetrics } from '../capacity/cost-metrics';
import { liveClusterGauges } from './fleet-metrics.sql';

/**
 * The control plane's Prometheus exposition: fleet gauges computed from the database at scrape time
 * (a fresh registry each scrape, so a deleted cluster's series disappears) merged with this process's
 * agent-API counters. Metric names are listed in docs/telemetry.md.
 */
export async function renderFleetMetrics(prisma: PrismaClient, now = new Date()): Promise<{ contentType: string; body: string }> {
  const liveFrom = new Date(now.getTime() - LIVE_WINDOW_SECONDS * 1000);
  // A sample dated beyond the clock-skew tolerance is not a reading of now (see evaluate-health).
  const liveTo = new Date(now.getTime() + MAX_CLOCK_SKEW_SECONDS * 1000);
  const [gpus, nodes, clusters, alerts, perCluster] = await Promise.all([
    prisma.gpu.groupBy({ by: ['health'], _count: { _all: true } }),
    prisma.node.groupBy({ by: ['health'], _count: { _all: true } }),
    prisma.cluster.groupBy({ by: ['health'], _count: { _all: true } }),
    prisma.alert.groupBy({ by: ['state', 'severity'], where: { state: { in: ['open', 'acknowledged'] } }, _count: { _all: true } }),
    liveClusterGauges(prisma, liveFrom, liveTo),
  ]);

  const registry = new Registry();
  const byHealth = (name: string, help: string, rows: { health: string; _count: { _all: number } }[]) => {
    const g = new Gauge({ name, help, labelNames: ['health'], registers: [registry] });
    // Every status is exported (0 when none) so alert rules never see a series vanish.
    for (const h of HEALTH_STATUSES) g.set({ health: h }, rows.find((r) => r.health === h)?._count._all ?? 0);
  };
  byHealth('fleetplane_gpus', 'GPUs by their latest health verdict.', gpus);
  byHealth('fleetplane_nodes', 'Nodes by their latest health verdict.', nodes);
  byHealth('fleetplane_clusters', 'Clusters by their latest health verdict.', clusters);

  const alertGauge = new Gauge({
    name: 'fleetplane_alerts_live',
    help: 'Open and acknowledged alerts.',
    labelNames: ['state', 'severity'],
    registers: [registry],
  });
  for (const state of ['open', 'acknowledged'] as const) {
    for (const severity of ['warning', 'critical'] as const) {
      alertGauge.set({ state, severity }, alerts.find((a) => a.state === state && a.severity === severity)?._count._all ?? 0);
    }
  }

  const util = new Gauge({
    name: 'fleetplane_cluster_gpu_utilization_avg_percent',
    help: `Average GPU utilisation of the cluster's GPUs that reported in the last ${LIVE_WINDOW_SECONDS} s.`,
    labelNames: ['cluster'],
    registers: [registry],
  });
  const mem = new Gauge({
    name: 'fleetplane_cluster_gpu_memory_used_mib',
    help: 'GPU memory in use across the cluster (MiB), newest sample per GPU.',
    labelNames: ['cluster'],
    registers: [registry],
  });
  const power = new Gauge({
    name: 'fleetplane_cluster_gpu_power_draw_watts',
    help: 'GPU power draw across the cluster (W), newest sample per GPU.',
    labelNames: ['cluster'],
    registers: [registry],
  });
  const reporting = new Gauge({
    name: 'fleetplane_cluster_gpus_reporting',
    help: `GPUs of the cluster with a sample in the last ${LIVE_WINDOW_SECONDS} s.`,
    labelNames: ['cluster'],
    registers: [registry],
  });
  const health = new Gauge({
    name: 'fleetplane_cluster_health',
    help: 'Cluster health as a one-hot gauge (1 for the current verdict).',
    labelNames: ['cluster', 'health'],
    registers: [registry],
  });
  for (const c of perCluster) {
    // No reporting GPU means no value: absent series, never a fake 0 % utilisation.
    if (c.util !== null) util.set({ cluster: c.name }, c.util);
    if (c.mem_used !== null) mem.set({ cluster: c.name }, c.mem_used);
    if (c.power !== null) power.set({ cluster: c.name }, c.power);
    reporting.set({ cluster: c.name }, c.reporting);
    for (const h of HEALTH_STATUSES) health.set({ cluster: c.name, health: h }, c.health === h ? 1 : 0);
  }

  await registerCostMetrics(registry, prisma, now);

  const merged = Registry.merge([ingestMetrics().registry, registry]);
  return { contentType: merged.contentType, body: await merged.metrics() };
}

const digest = (value: string) => createHash('sha256').update(value).digest();

/**
 * Whether a scrape may read /metrics: anyone when no token is configured, else only with it. The
 * comparison runs over fixed-length digests so neither the token's content nor its length leaks through
 * timing.
 */
export function metricsScrapeAllowed(configured: string | undefined, presented: string | null): boolean {
  if (!configured) return true;
  return presented !== null && timingSafeEqual(digest(presented), digest(configured));
}
