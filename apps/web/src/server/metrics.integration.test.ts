// /metrics with real Requests against the handler on the real database: the bearer token when one is
// configured, and the agent API's counters moving with what it accepts.
import { afterAll, describe, expect, it } from 'vitest';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { batchFor, makeNode, testDeps } from '@fleetplane/services/telemetry/test-support';
import { handleTelemetryRequest } from './agent-api/telemetry';
import { telemetryRequest } from './agent-api/test-support';
import { handleMetricsRequest } from './metrics';

const deps = testDeps();
const { prisma } = deps;

afterAll(async () => {
  await prisma.$disconnect();
  await deps.pool.end();
});

const samplesAccepted = async () => {
  const res = await handleMetricsRequest({ prisma }, new Request('http://fleetplane.test/metrics'));
  const family = parsePrometheusTextFormat(await res.text()).find((f) => f.name === 'fleetplane_telemetry_gpu_samples_accepted_total');
  return Number(family?.metrics[0]?.value);
};

describe('GET /metrics', () => {
  it('asks for the bearer token when one is configured, and serves the same exposition with it', async () => {
    const bearerToken = 'scrape-token-0123456789';
    const scrape = (authorization?: string) =>
      handleMetricsRequest(
        { prisma, bearerToken },
        new Request('http://fleetplane.test/metrics', { headers: authorization ? { authorization } : {} }),
      );
    for (const wrong of [undefined, 'Bearer nope', `Bearer ${bearerToken}x`, `Basic ${bearerToken}`]) {
      const res = await scrape(wrong);
      expect(res.status, String(wrong)).toBe(401);
      expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
      expect(await res.text()).not.toContain('fleetplane_gpus');
    }
    const ok = await scrape(`Bearer ${bearerToken}`);
    expect(ok.status).toBe(200);
    expect(ok.headers.get('cache-control')).toBe('no-store');
    expect(await ok.text()).toContain('fleetplane_gpus{health="critical"}');
    const open = await handleMetricsRequest({ prisma }, new Request('http://fleetplane.test/metrics'));
    expect(open.status).toBe(200);
  });

  it('counts the samples the agent API accepts', async () => {
    const before = await samplesAccepted();
    const node = await makeNode(prisma, 3);
    expect((await handleTelemetryRequest(deps, telemetryRequest(node.credential, batchFor(node)))).status).toBe(200);
    expect((await samplesAccepted()) - before).toBe(3);
  });
});
