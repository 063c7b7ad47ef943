import { handleMetricsRequest } from '~/server/metrics';
import { agentRuntime } from '~/server/agent-runtime';

export const dynamic = 'force-dynamic';

/** Prometheus exposition (text format 0.0.4): fleet gauges from the database plus this replica's agent-API counters. */
export async function GET(req: Request) {
  const rt = agentRuntime();
  try {
    return await handleMetricsRequest({ prisma: rt.prisma, bearerToken: rt.metricsBearerToken }, req);
  } catch (e) {
    rt.log.error({ err: e }, 'metrics scrape failed');
    // A failed scrape must read as down (Prometheus sets up=0), not as an empty fleet.
    return new Response(`# metrics unavailable: ${(e as Error).message}\n`, {
      status: 503,
      headers: { 'content-type': 'text/plain; charset=utf-8' },
    });
  }
}
