import type { PrismaClient } from '@fleetplane/db';
import { metricsScrapeAllowed, renderFleetMetrics } from '@fleetplane/services';

/** GET /metrics: the Prometheus exposition (fleet gauges and this replica's counters), behind a bearer token when one is configured. */
export async function handleMetricsRequest(
  deps: { prisma: PrismaClient; bearerToken?: string; now?: Date },
  req: Request,
): Promise<Response> {
  const presented = /^Bearer\s+(\S+)$/i.exec(req.headers.get('authorization') ?? '')?.[1] ?? null;
  if (!metricsScrapeAllowed(deps.bearerToken, presented)) {
    return new Response('Send the scrape token as "Authorization: Bearer <METRICS_BEARER_TOKEN>".\n', {
      status: 401,
      headers: { 'content-type': 'text/plain; charset=utf-8', 'www-authenticate': 'Bearer realm="fleetplane-metrics"' },
    });
  }
  const { contentType, body } = await renderFleetMetrics(deps.prisma, deps.now);
  return new Response(body, { headers: { 'content-type': contentType, 'cache-control': 'no-store' } });
}
