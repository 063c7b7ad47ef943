import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closedPort } from '../testing/fake-control-plane';
import { collectEngineMetrics } from './engine-metrics';

const prom = readFileSync(new URL('../../test/fixtures/vllm_v0_metrics_gpu_cache_usage.prom', import.meta.url), 'utf8');
let server: Server;
let base: string;
beforeAll(async () => {
  server = createServer((req, res) => {
    if (req.url === '/metrics') {
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
      res.end(prom);
    } else if (req.url === '/slow') {
      setTimeout(() => res.end(prom), 2000);
    } else if (req.url === '/html') {
      res.end('<html><body>vLLM</body></html>');
    } else {
      res.writeHead(404);
      res.end('not found');
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

describe('collectEngineMetrics', () => {
  it('scrapes and summarises a vLLM endpoint', async () => {
    const now = new Date('2026-01-01T00:00:00Z');
    expect(await collectEngineMetrics(`${base}/metrics`, now)).toEqual({
      error: null,
      samples: [
        {
          sampledAt: now.toISOString(),
          engine: 'vllm',
          modelName: 'Qwen/Qwen2.5-Coder-1.5B-Instruct',
          runningRequests: 0,
          waitingRequests: 0,
          kvCacheUsageFraction: 0,
          promptTokensTotal: 148,
          generationTokensTotal: 955,
          ttftSecondsSum: null,
          ttftSecondsCount: null,
          ttftBuckets: null,
          requestsFinishedTotal: 4,
          requestsFailedTotal: 0,
        },
      ],
    });
  });

  it.each([
    ['/missing', /answered HTTP 404/],
    ['/html', /could not be parsed|serves no vllm/],
  ])('reports %s as an error', async (path, message) => {
    const result = await collectEngineMetrics(`${base}${path}`);
    expect(result.samples).toEqual([]);
    expect(result.error).toMatch(message);
  });

  it('reports timeouts and refused connections', async () => {
    expect((await collectEngineMetrics(`${base}/slow`, new Date(), 200)).error).toMatch(/no answer within 0.2 s/);
    expect((await collectEngineMetrics(`http://127.0.0.1:${await closedPort()}/metrics`)).error).toMatch(/ECONNREFUSED/);
  });
});
