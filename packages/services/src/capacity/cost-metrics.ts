import { Gauge, type Registry } from 'prom-client';
import type { PrismaClient } from '@fleetplane/db';
import { fleetCostSnapshot } from './cost.service';

/**
 * Cost gauges for /metrics, over each cluster's last 24 h (the cost page's default window). Series
 * without data are left absent rather than reported as 0, like the fleet gauges.
 */
export async function registerCostMetrics(registry: Registry, prisma: PrismaClient, now = new Date()): Promise<void> {
  const costs = await fleetCostSnapshot(prisma, now);
  const perHour = new Gauge({
    name: 'fleetplane_cluster_cost_usd_per_hour',
    help: 'GPU cost of the cluster per hour (GPUs x $/GPU-hour; power not included).',
    labelNames: ['cluster'],
    registers: [registry],
  });
  const tokens = new Gauge({
    name: 'fleetplane_cluster_tokens_24h',
    help: "Tokens the cluster's engines processed in the last 24 h, by kind (prompt / generation).",
    labelNames: ['cluster', 'kind'],
    registers: [registry],
  });
  const effective = new Gauge({
    name: 'fleetplane_cluster_effective_usd_per_million_tokens',
    help: "Self-hosted cost per 1M tokens over the last 24 h, by direction (input / output, split in the hosted API's price ratio).",
    labelNames: ['cluster', 'direction'],
    registers: [registry],
  });
  const api = new Gauge({
    name: 'fleetplane_cluster_hosted_api_cost_usd_24h',
    help: "What the last 24 h of the cluster's traffic would have cost at the hosted API's prices.",
    labelNames: ['cluster'],
    registers: [registry],
  });
  const savings = new Gauge({
    name: 'fleetplane_cluster_savings_usd_24h',
    help: 'Hosted API cost minus self-hosted cost over the last 24 h (negative: self-hosting cost more).',
    labelNames: ['cluster'],
    registers: [registry],
  });
  const breakEven = new Gauge({
    name: 'fleetplane_cluster_break_even_tokens_per_month',
    help: 'Monthly tokens (current traffic mix) at which the hosted API would cost what the cluster costs.',
    labelNames: ['cluster'],
    registers: [registry],
  });
  for (const c of costs) {
    const cluster = c.cluster.name;
    perHour.set({ cluster }, c.cluster.gpuCount * c.cluster.gpuHourlyUsd);
    const r = c.report;
    if (!r) continue;
    tokens.set({ cluster, kind: 'prompt' }, r.tokens.prompt);
    tokens.set({ cluster, kind: 'generation' }, r.tokens.generation);
    if (r.effectiveInputPerM !== null) effective.set({ cluster, direction: 'input' }, r.effectiveInputPerM);
    if (r.effectiveOutputPerM !== null) effective.set({ cluster, direction: 'output' }, r.effectiveOutputPerM);
    api.set({ cluster }, r.apiUsd);
    savings.set({ cluster }, r.savingsUsd);
    if (r.breakEvenMonthlyTokens !== null) breakEven.set({ cluster }, r.breakEvenMonthlyTokens);
  }
}
