// The telemetry route's HTTP side with real Requests against the handler, on the real database: a body
// read within limits and checked against the wire contract (400 naming the field, 413), the credential
// (401) and admission (429), each leaving no trace. What an accepted batch stores is the service's, tested
// in packages/services/src/telemetry/ingest.integration.test.ts.
import { afterAll, describe, expect, it } from 'vitest';
import { MAX_TELEMETRY_BODY_BYTES, ZAgentError, ZTelemetryResponse, type TTelemetryBatch } from '@fleetplane/contracts';
import { Admission } from '@fleetplane/services';
import { batchFor, makeNode, testDeps, type TestNode } from '@fleetplane/services/telemetry/test-support';
import { telemetryRequest } from './test-support';
import { handleTelemetryRequest } from './telemetry';

const deps = testDeps();
const { prisma } = deps;

afterAll(async () => {
  await prisma.$disconnect();
  await deps.pool.end();
});

async function post(credential: string | null, body: unknown, headers?: Record<string, string>) {
  const res = await handleTelemetryRequest(deps, telemetryRequest(credential, body, headers));
  return { status: res.status, body: (await res.json()) as unknown };
}

async function stored(n: TestNode) {
  const [samples, batches, xids, engine] = await Promise.all([
    prisma.gpuSample.count({ where: { nodeId: n.nodeId } }),
    prisma.ingestBatch.count({ where: { nodeId: n.nodeId } }),
    prisma.xidEvent.count({ where: { nodeId: n.nodeId } }),
    prisma.engineSample.count({ where: { nodeId: n.nodeId } }),
  ]);
  return { samples, batches, xids, engine };
}

function errorOf(body: unknown) {
  return ZAgentError.parse(body).error;
}

describe('POST /api/agent/v1/telemetry', () => {
  it('answers an accepted batch with 200 and the wire response', async () => {
    const n = await makeNode(prisma, 2);
    const res = await handleTelemetryRequest(deps, telemetryRequest(n.credential, batchFor(n)));
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store, no-transform');
    expect(ZTelemetryResponse.parse(await res.json())).toEqual({
      accepted: true,
      duplicate: false,
      stored: { gpuSamples: 2, xidEvents: 0, engineSamples: 0 },
    });
  });

  describe('refuses bad batches with 400 naming the field, storing nothing', () => {
    it.each([
      [
        'a reading of the wrong type',
        (b: TTelemetryBatch) => ({ ...b, gpuSamples: [{ ...b.gpuSamples[0]!, temperatureC: 'hot' }] }),
        'gpuSamples.0.temperatureC',
      ],
      [
        'a missing reading',
        (b: TTelemetryBatch) => ({ ...b, gpuSamples: [b.gpuSamples[0]!, (({ memoryUsedMib: _m, ...rest }) => rest)(b.gpuSamples[1]!)] }),
        'gpuSamples.1.memoryUsedMib',
      ],
      [
        'an out-of-range reading',
        (b: TTelemetryBatch) => ({ ...b, gpuSamples: [{ ...b.gpuSamples[0]!, utilizationGpuPct: 140 }] }),
        'gpuSamples.0.utilizationGpuPct',
      ],
      ['a missing batch id', (b: TTelemetryBatch) => (({ batchId: _b, ...rest }) => rest)(b), 'batchId'],
      ['an unknown key', (b: TTelemetryBatch) => ({ ...b, host: { ...b.host, kernel: '6.8' } }), 'host'],
      [
        'an unnormalised PCI id',
        (b: TTelemetryBatch) => ({ ...b, gpuSamples: [{ ...b.gpuSamples[0]!, pciBusId: '0000:18:00' }] }),
        'gpuSamples.0.pciBusId',
      ],
    ])('%s', async (_what, mutate, path) => {
      const n = await makeNode(prisma, 2);
      const res = await post(n.credential, mutate(batchFor(n)));
      expect(res.status).toBe(400);
      const error = errorOf(res.body);
      expect(error.code).toBe('invalid_payload');
      expect(error.issues?.map((i) => i.path)).toContain(path);
      expect(error.message).toContain('nothing was stored');
      expect(await stored(n)).toEqual({ samples: 0, batches: 0, xids: 0, engine: 0 });
    });

    it('a body that is not JSON, or not sent as JSON', async () => {
      const n = await makeNode(prisma, 1);
      const notJson = await post(n.credential, '{"batchId": ');
      expect(notJson.status).toBe(400);
      expect(errorOf(notJson.body).message).toMatch(/not valid JSON/);
      const wrongType = await post(n.credential, batchFor(n), { 'content-type': 'text/plain' });
      expect(wrongType.status).toBe(400);
      expect(errorOf(wrongType.body).message).toMatch(/application\/json/);
      expect(await stored(n)).toEqual({ samples: 0, batches: 0, xids: 0, engine: 0 });
    });
  });

  it('refuses an oversized batch with 413, from Content-Length and while streaming', async () => {
    const n = await makeNode(prisma, 1);
    const declared = await post(n.credential, batchFor(n), { 'content-length': String(MAX_TELEMETRY_BODY_BYTES + 1) });
    expect(declared.status).toBe(413);
    expect(errorOf(declared.body).code).toBe('payload_too_large');

    // No Content-Length: a chunked body is counted as it arrives and cut off past the limit.
    let sent = 0;
    const chunk = new TextEncoder().encode(' '.repeat(256 * 1024));
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent > MAX_TELEMETRY_BODY_BYTES * 2) controller.close();
        else {
          sent += chunk.byteLength;
          controller.enqueue(chunk);
        }
      },
    });
    const res = await handleTelemetryRequest(
      deps,
      new Request('http://fleetplane.test/api/agent/v1/telemetry', {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${n.credential}` },
        body: stream,
        duplex: 'half',
      } as RequestInit),
    );
    expect(res.status).toBe(413);
    // It stopped reading shortly after the limit instead of swallowing the whole body.
    expect(sent).toBeLessThan(MAX_TELEMETRY_BODY_BYTES + 4 * chunk.byteLength);
    expect(await stored(n)).toEqual({ samples: 0, batches: 0, xids: 0, engine: 0 });
  });

  it('answers 429 with Retry-After when more batches wait than the server admits, storing nothing', async () => {
    const n = await makeNode(prisma, 1);
    const res = await handleTelemetryRequest({ ...deps, admission: new Admission(0, 0) }, telemetryRequest(n.credential, batchFor(n)));
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBe('2');
    expect(errorOf(await res.json())).toMatchObject({ code: 'rate_limited' });
    expect(await stored(n)).toEqual({ samples: 0, batches: 0, xids: 0, engine: 0 });
  });

  it('refuses a missing, malformed, unknown or revoked credential with 401', async () => {
    const n = await makeNode(prisma, 1);
    const batch = batchFor(n);
    for (const [credential, headers] of [
      [null, {}],
      [null, { authorization: `Basic ${Buffer.from('a:b').toString('base64')}` }],
      ['fpa_not-a-real-credential-at-all', {}],
    ] as const) {
      const res = await post(credential, batch, headers);
      expect(res.status).toBe(401);
      expect(errorOf(res.body).code).toBe('unauthorized');
    }
    await prisma.nodeCredential.update({ where: { id: n.credentialId }, data: { revokedAt: new Date() } });
    const revoked = await post(n.credential, batch);
    expect(revoked.status).toBe(401);
    expect(errorOf(revoked.body).message).toMatch(/unknown or was revoked/);
    expect(await stored(n)).toEqual({ samples: 0, batches: 0, xids: 0, engine: 0 });
  });
});
