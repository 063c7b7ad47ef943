// Telemetry ingest on the real database with the inputs the agent API hands it (an authenticated node,
// a parsed batch): what is stored, what is refused (with which code), and that a refused batch leaves no
// trace. The HTTP side (body limits, JSON and field errors, 401, 429) is tested with real requests in
// apps/web/src/server/agent-api/telemetry.integration.test.ts.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ZAgentError, ZTelemetryResponse, type TTelemetryBatch } from '@fleetplane/contracts';
import { xidFingerprint } from './ingest.service';
import { batchFor, gpuSample, makeNode, randomGpuUuid, sendBatch, settleOutbox, testDeps, type TestNode } from './test-support';

const deps = testDeps();
const { prisma } = deps;
let node: TestNode;

beforeAll(async () => {
  node = await makeNode(prisma, 2);
});
afterAll(async () => {
  await prisma.$disconnect();
  await deps.pool.end();
});

const post = (credential: string, body: Parameters<typeof sendBatch>[2]) => sendBatch(deps, credential, body);

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

describe('telemetry ingest', () => {
  it('stores a batch and updates node and GPU liveness', async () => {
    const at = new Date(Date.now() - 5_000);
    const batch = batchFor(node, at, {
      engineSamples: [
        {
          sampledAt: at.toISOString(),
          engine: 'vllm',
          modelName: 'deepseek-ai/DeepSeek-V4-Flash',
          runningRequests: 3,
          waitingRequests: 1,
          kvCacheUsageFraction: 0.42,
          promptTokensTotal: 1000,
          generationTokensTotal: 5000,
          ttftSecondsSum: 1.5,
          ttftSecondsCount: 4,
        },
      ],
    });
    batch.gpuSamples[1] = gpuSample(node.gpus[1]!.uuid, 1, node.gpus[1]!.pciBusId, at, {
      eccCorrectedVolatile: 2 ** 40,
      clocksEventReasons: 0x48,
      utilizationGpuPct: null,
      remappedRowsPending: null,
    });
    const res = await post(node.credential, batch);
    expect(res.status).toBe(200);
    expect(ZTelemetryResponse.parse(res.body)).toEqual({
      accepted: true,
      duplicate: false,
      stored: { gpuSamples: 2, xidEvents: 0, engineSamples: 1 },
    });

    const row = await prisma.gpuSample.findUniqueOrThrow({ where: { gpuId_sampledAt: { gpuId: node.gpus[1]!.id, sampledAt: at } } });
    expect(row.eccCorrectedVolatile).toBe(2n ** 40n);
    expect(row.clocksEventReasons).toBe(0x48n);
    // null stays null: "not reported" never becomes 0.
    expect(row.utilizationGpuPct).toBeNull();
    expect(row.remappedRowsPending).toBeNull();
    expect(row.temperatureC).toBe(60);
    const n = await prisma.node.findUniqueOrThrow({ where: { id: node.nodeId } });
    expect(n.agentVersion).toBe('0.1.0');
    expect(n.driverVersion).toBe('580.95.05');
    expect(n.cudaVersion).toBe('13.0');
    expect(n.lastSeenAt!.getTime()).toBeGreaterThan(Date.now() - 10_000);
    const gpu = await prisma.gpu.findUniqueOrThrow({ where: { id: node.gpus[0]!.id } });
    expect(gpu.lastSampleAt).toEqual(at);
    const engine = await prisma.engineSample.findFirstOrThrow({ where: { nodeId: node.nodeId } });
    expect(engine).toMatchObject({ clusterId: node.clusterId, kvCacheUsageFraction: 0.42, generationTokensTotal: 5000 });
    const cred = await prisma.nodeCredential.findUniqueOrThrow({ where: { id: node.credentialId } });
    expect(cred.lastUsedAt).not.toBeNull();
  });

  it('stores the TTFT buckets and request counters canary analysis reads; an older agent without them stores nulls', async () => {
    const n = await makeNode(prisma, 1);
    const at = new Date(Date.now() - 5_000);
    const base = {
      engine: 'vllm' as const,
      modelName: 'm',
      runningRequests: 0,
      waitingRequests: 0,
      kvCacheUsageFraction: 0,
      promptTokensTotal: 10,
      generationTokensTotal: 20,
      ttftSecondsSum: 1,
      ttftSecondsCount: 4,
    };
    const res = await post(
      n.credential,
      batchFor(n, at, {
        engineSamples: [
          {
            ...base,
            sampledAt: at.toISOString(),
            ttftBuckets: [
              { le: 0.1, count: 3 },
              { le: 1, count: 4 },
            ],
            requestsFinishedTotal: 4,
            requestsFailedTotal: 1,
          },
          { ...base, sampledAt: new Date(at.getTime() - 1000).toISOString() },
        ],
      }),
    );
    expect(res.status).toBe(200);
    const rows = await prisma.engineSample.findMany({ where: { nodeId: n.nodeId }, orderBy: { sampledAt: 'desc' } });
    expect(rows.map((r) => [r.ttftBuckets, r.requestsFinishedTotal, r.requestsFailedTotal])).toEqual([
      [
        [
          { le: 0.1, count: 3 },
          { le: 1, count: 4 },
        ],
        4,
        1,
      ],
      [null, null, null],
    ]);
  });

  it('acknowledges a retried batch as a duplicate and stores it once', async () => {
    const n = await makeNode(prisma, 2);
    const batch = batchFor(n);
    const first = await post(n.credential, batch);
    const again = await post(n.credential, { ...batch, sentAt: new Date().toISOString() });
    expect(first.body).toMatchObject({ duplicate: false, stored: { gpuSamples: 2 } });
    expect(again.status).toBe(200);
    expect(again.body).toEqual({ accepted: true, duplicate: true, stored: { gpuSamples: 0, xidEvents: 0, engineSamples: 0 } });
    expect(await stored(n)).toMatchObject({ samples: 2, batches: 1 });
  });

  it('stores concurrent deliveries of the same batch once', async () => {
    const n = await makeNode(prisma, 2);
    const batch = batchFor(n);
    const results = await Promise.all(Array.from({ length: 5 }, () => post(n.credential, batch)));
    expect(results.every((r) => r.status === 200)).toBe(true);
    expect(results.filter((r) => (r.body as { duplicate: boolean }).duplicate === false)).toHaveLength(1);
    expect(await stored(n)).toMatchObject({ samples: 2, batches: 1 });
  });

  it('refuses a GPU that belongs to another node with 403, storing nothing from the batch', async () => {
    const mine = await makeNode(prisma, 2);
    const theirs = await makeNode(prisma, 1);
    const batch = batchFor(mine);
    batch.gpuSamples.push(gpuSample(theirs.gpus[0]!.uuid, 2, '00000000:9A:00.0', new Date()));
    const res = await post(mine.credential, batch);
    expect(res.status).toBe(403);
    expect(errorOf(res.body)).toMatchObject({ code: 'forbidden' });
    expect(errorOf(res.body).message).toContain(theirs.gpus[0]!.uuid);
    expect(await stored(mine)).toEqual({ samples: 0, batches: 0, xids: 0, engine: 0 });
    expect(await stored(theirs)).toEqual({ samples: 0, batches: 0, xids: 0, engine: 0 });
    // The same batch id is not burnt: fixed, it is accepted.
    const fixed = await post(mine.credential, { ...batch, gpuSamples: batch.gpuSamples.slice(0, 2) });
    expect(fixed.status).toBe(200);
  });

  it('refuses an XID naming another node’s GPU with 403', async () => {
    const mine = await makeNode(prisma, 1);
    const theirs = await makeNode(prisma, 1);
    const batch = batchFor(mine, new Date(), {
      xidEvents: [
        {
          occurredAt: new Date().toISOString(),
          pciBusId: '00000000:18:00.0',
          gpuUuid: theirs.gpus[0]!.uuid,
          xid: 79,
          pid: null,
          processName: null,
          message: 'GPU has fallen off the bus.',
          rawLine: `NVRM: Xid (PCI:0000:18:00): 79, ${randomUUID()}`,
        },
      ],
    });
    expect((await post(mine.credential, batch)).status).toBe(403);
    expect(await stored(mine)).toEqual({ samples: 0, batches: 0, xids: 0, engine: 0 });
  });

  it('refuses a credential revoked after it was used (and cached) from the next batch on', async () => {
    const n = await makeNode(prisma, 1);
    expect((await post(n.credential, batchFor(n))).status).toBe(200);
    await prisma.nodeCredential.update({ where: { id: n.credentialId }, data: { revokedAt: new Date() } });
    const res = await post(n.credential, batchFor(n, new Date(Date.now() + 1000)));
    expect(res.status).toBe(401);
    expect(await stored(n)).toMatchObject({ samples: 1, batches: 1 });
    // And the refusal sticks (the identity cache forgot it).
    expect((await post(n.credential, batchFor(n, new Date(Date.now() + 2000)))).status).toBe(401);
  });

  it('registers GPUs an enrolled node reports for the first time (with an audit event)', async () => {
    const n = await makeNode(prisma, 1);
    const fresh = randomGpuUuid();
    const batch = batchFor(n);
    batch.gpuSamples.push(gpuSample(fresh, 1, '00000000:28:00.0', new Date(), { name: 'NVIDIA H200', memoryTotalMib: 143771 }));
    const res = await post(n.credential, batch);
    expect(res.body).toMatchObject({ stored: { gpuSamples: 2 } });
    const gpu = await prisma.gpu.findUniqueOrThrow({ where: { uuid: fresh } });
    expect(gpu).toMatchObject({
      nodeId: n.nodeId,
      index: 1,
      model: 'NVIDIA H200',
      memoryMib: 143771,
      pciBusId: '00000000:28:00.0',
      interconnect: 'nvswitch',
    });
    const audit = await prisma.auditEvent.findFirstOrThrow({ where: { action: 'gpu.register', targetId: gpu.id } });
    expect(audit).toMatchObject({ actorType: 'agent', actorLabel: `agent:${n.hostname}` });
  });

  it('follows a GPU whose index and PCI slot changed across a reboot', async () => {
    const n = await makeNode(prisma, 1);
    await post(n.credential, batchFor(n, new Date(Date.now() - 20_000)));
    const moved = batchFor(n);
    moved.gpuSamples[0] = { ...moved.gpuSamples[0]!, index: 3, pciBusId: '00000000:5D:00.0' };
    await post(n.credential, moved);
    expect(await prisma.gpu.findUniqueOrThrow({ where: { id: n.gpus[0]!.id } })).toMatchObject({ index: 3, pciBusId: '00000000:5D:00.0' });
  });

  it('keeps the newest sample’s gauges on the GPU row: a late, older batch does not replace them', async () => {
    const n = await makeNode(prisma, 1);
    const g = n.gpus[0]!;
    const gauges = (at: Date, util: number) => {
      const batch = batchFor(n, at);
      batch.gpuSamples[0] = gpuSample(g.uuid, g.index, g.pciBusId, at, {
        utilizationGpuPct: util,
        memoryUsedMib: util * 100,
        memoryTotalMib: 81559,
        powerDrawW: util * 7,
        powerLimitW: 700,
        temperatureC: util / 2,
      });
      return batch;
    };
    const newest = new Date(Date.now() - 10_000);
    expect((await post(n.credential, gauges(newest, 80))).status).toBe(200);
    expect((await post(n.credential, gauges(new Date(newest.getTime() - 30_000), 20))).status).toBe(200);
    const row = await prisma.gpu.findUniqueOrThrow({ where: { id: g.id } });
    const sample = await prisma.gpuSample.findUniqueOrThrow({ where: { gpuId_sampledAt: { gpuId: g.id, sampledAt: newest } } });
    expect(row.lastSampleAt).toEqual(newest);
    expect({
      u: row.lastUtilizationGpuPct,
      mu: row.lastMemoryUsedMib,
      mt: row.lastMemoryTotalMib,
      pw: row.lastPowerDrawW,
      pl: row.lastPowerLimitW,
      t: row.lastTemperatureC,
    }).toEqual({
      u: sample.utilizationGpuPct,
      mu: sample.memoryUsedMib,
      mt: sample.memoryTotalMib,
      pw: sample.powerDrawW,
      pl: sample.powerLimitW,
      t: sample.temperatureC,
    });
    expect(row.lastUtilizationGpuPct).toBe(80);
  });

  it('matches XIDs to GPUs by UUID or PCI id and stores a re-read kernel line once', async () => {
    const n = await makeNode(prisma, 2);
    const line79 = `kern  :warn  : 2026-11-22T10:00:00,000001+00:00 NVRM: Xid (PCI:0000:28:00): 79, pid=1234, name=python3, GPU has fallen off the bus. ${randomUUID()}`;
    const line13 = `kern  :warn  : 2026-11-22T10:00:00,000002+00:00 NVRM: Xid (PCI:0000:18:00): 13, pid='<unknown>', name=<unknown>, Graphics Exception ${randomUUID()}`;
    const unknownPci = `NVRM: Xid (PCI:0000:ee:00): 43, pid=1, name=x, GPU stopped processing ${randomUUID()}`;
    const at = new Date().toISOString();
    const xidEvents: TTelemetryBatch['xidEvents'] = [
      {
        occurredAt: at,
        pciBusId: '00000000:28:00.0',
        gpuUuid: null,
        xid: 79,
        pid: 1234,
        processName: 'python3',
        message: 'GPU has fallen off the bus.',
        rawLine: line79,
      },
      {
        occurredAt: at,
        pciBusId: '00000000:18:00.0',
        gpuUuid: n.gpus[0]!.uuid,
        xid: 13,
        pid: null,
        processName: null,
        message: 'Graphics Exception',
        rawLine: line13,
      },
      {
        occurredAt: at,
        pciBusId: '00000000:EE:00.0',
        gpuUuid: null,
        xid: 43,
        pid: 1,
        processName: 'x',
        message: 'GPU stopped processing',
        rawLine: unknownPci,
      },
    ];
    const first = await post(n.credential, batchFor(n, new Date(), { xidEvents }));
    expect(first.body).toMatchObject({ stored: { xidEvents: 3 } });
    // After an agent restart the same lines are read again in a new batch.
    const again = await post(n.credential, batchFor(n, new Date(Date.now() + 1000), { xidEvents }));
    expect(again.body).toMatchObject({ duplicate: false, stored: { xidEvents: 0 } });
    const rows = await prisma.xidEvent.findMany({ where: { nodeId: n.nodeId }, orderBy: { xid: 'asc' } });
    expect(rows.map((r) => [r.xid, r.gpuId])).toEqual([
      [13, n.gpus[0]!.id],
      [43, null],
      [79, n.gpus[1]!.id],
    ]);
    expect(rows.find((r) => r.xid === 79)!.fingerprint).toBe(xidFingerprint(n.nodeId, line79));
  });

  it('asks for a rollup backfill when a replayed backlog carries old samples', async () => {
    const n = await makeNode(prisma, 1);
    const old = new Date(Date.now() - 3 * 3_600_000);
    const res = await post(n.credential, batchFor(n, old));
    expect(res.body).toMatchObject({ stored: { gpuSamples: 1 } });
    const outbox = await prisma.outboxMessage.findMany({ where: { jobId: { startsWith: `rollup-backfill-${n.nodeId}` } } });
    expect(outbox).toHaveLength(1);
    const hour = Math.floor(old.getTime() / 3_600_000) * 3_600_000;
    expect(outbox[0]).toMatchObject({
      queue: 'maintenance',
      jobName: 'telemetry-rollup',
      payload: { from: new Date(hour).toISOString(), to: new Date(hour + 3_600_000).toISOString() },
    });
    // Fresh samples need no backfill.
    await post(n.credential, batchFor(n));
    expect(await prisma.outboxMessage.count({ where: { jobId: { startsWith: `rollup-backfill-${n.nodeId}` } } })).toBe(1);
    await settleOutbox(prisma, n.nodeId);
  });

  it('takes a maximum-size batch (5,000 samples) in one statement', async () => {
    const n = await makeNode(prisma, 8);
    // 625 collections half a second apart, all within the last 10 minutes (no backfill request).
    const start = Date.now() - 320_000;
    const gpuSamples = Array.from({ length: 5000 }, (_, i) => {
      const g = n.gpus[i % 8]!;
      return gpuSample(g.uuid, g.index, g.pciBusId, new Date(start + Math.floor(i / 8) * 500));
    });
    const res = await post(n.credential, batchFor(n, new Date(), { gpuSamples }));
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ stored: { gpuSamples: 5000 } });
  });
});
