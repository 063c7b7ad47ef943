// Issue 11 against the real database: GPU error states and MIG / fallen-off-the-bus / undated kernel
// events stored and judged; batches dated ahead of the server's clock refused with nothing stored; a
// sample already stored in the future no longer freezes health; a node's clock offset stored and warned about.
import { afterAll, describe, expect, it } from 'vitest';
import { MAX_CLOCK_SKEW_SECONDS, ZAgentError, type TXidEvent } from '@fleetplane/contracts';
import { nodeClockSkewFingerprint } from '@fleetplane/domain';
import { evaluateFleetHealth } from '../health/evaluate-health.service';
import { gpuHealthDetail } from '../health/gpu-views.service';
import { batchFor, gpuSample, makeNode, sendBatch, settleAlertOutbox, testDeps, type TestNode } from './test-support';

const deps = testDeps();
const { prisma } = deps;

afterAll(async () => {
  await settleAlertOutbox(prisma);
  await prisma.$disconnect();
  await deps.pool.end();
});

const post = (node: TestNode, body: Parameters<typeof sendBatch>[2], now = new Date()) => sendBatch(deps, node.credential, body, now);

async function stored(n: TestNode) {
  const [samples, batches, xids, engine] = await Promise.all([
    prisma.gpuSample.count({ where: { nodeId: n.nodeId } }),
    prisma.ingestBatch.count({ where: { nodeId: n.nodeId } }),
    prisma.xidEvent.count({ where: { nodeId: n.nodeId } }),
    prisma.engineSample.count({ where: { nodeId: n.nodeId } }),
  ]);
  return { samples, batches, xids, engine };
}

const RESET = '[GPU requires reset]';
const ALL_READINGS = [
  'memory.total',
  'memory.used',
  'utilization.gpu',
  'utilization.memory',
  'temperature.gpu',
  'power.draw',
  'power.limit',
  'clocks.current.sm',
  'ecc.errors.corrected.volatile.total',
  'ecc.errors.uncorrected.volatile.total',
  'clocks_event_reasons.active',
];

function xid(node: TestNode, i: number, at: Date, over: Partial<TXidEvent> = {}): TXidEvent {
  const g = node.gpus[i]!;
  return {
    occurredAt: at.toISOString(),
    pciBusId: g.pciBusId,
    gpuUuid: g.uuid,
    xid: 13,
    pid: null,
    processName: null,
    message: 'x',
    rawLine: `NVRM: Xid test ${Math.random()}`,
    ...over,
  };
}

describe('GPU error states', () => {
  it('stores the markers and makes a GPU whose every reading is [GPU requires reset] critical, quoting the driver', async () => {
    const node = await makeNode(prisma, 2);
    const at = new Date();
    const batch = batchFor(node, at);
    const nulls = Object.fromEntries(
      [
        'memoryTotalMib',
        'memoryUsedMib',
        'utilizationGpuPct',
        'utilizationMemoryPct',
        'temperatureC',
        'powerDrawW',
        'powerLimitW',
        'smClockMhz',
        'eccCorrectedVolatile',
        'eccUncorrectedVolatile',
        'clocksEventReasons',
      ].map((k) => [k, null]),
    );
    batch.gpuSamples[0] = gpuSample(node.gpus[0]!.uuid, 0, node.gpus[0]!.pciBusId, at, {
      ...nulls,
      errorStates: ALL_READINGS.map((field) => ({ field, marker: RESET })),
    });
    expect((await post(node, batch, at)).status).toBe(200);

    const row = await prisma.gpuSample.findUniqueOrThrow({ where: { gpuId_sampledAt: { gpuId: node.gpus[0]!.id, sampledAt: at } } });
    expect(row.errorStates).toEqual(ALL_READINGS.map((field) => ({ field, marker: RESET })));
    expect(row.temperatureC).toBeNull();
    expect(
      (await prisma.gpuSample.findUniqueOrThrow({ where: { gpuId_sampledAt: { gpuId: node.gpus[1]!.id, sampledAt: at } } })).errorStates,
    ).toBeNull();

    await evaluateFleetHealth(prisma, { now: at });
    const gpu = await prisma.gpu.findUniqueOrThrow({ where: { id: node.gpus[0]!.id } });
    expect(gpu.health).toBe('critical');
    const [reason] = gpu.healthReasons as Array<{ code: string; message: string }>;
    expect(reason).toMatchObject({ code: 'gpu_error_state' });
    expect(reason!.message).toContain('"[GPU requires reset]" for memory.total');
    expect((await prisma.gpu.findUniqueOrThrow({ where: { id: node.gpus[1]!.id } })).health).toBe('healthy');
    expect(await prisma.alert.count({ where: { fingerprint: `gpu:${node.gpus[0]!.uuid}:gpu_error_state`, state: 'open' } })).toBe(1);
  });
});

describe('kernel events', () => {
  it('stores MIG instance, kind and undated flag; a revision-1 event gets the defaults', async () => {
    const node = await makeNode(prisma, 2);
    const at = new Date();
    const batch = batchFor(node, at, {
      xidEvents: [
        xid(node, 0, at, {
          xid: 94,
          gpuInstanceId: 5,
          kind: 'xid',
          undated: false,
          rawLine: 'NVRM: Xid (PCI:0000:18:00 GPU-I:05): 94, pid=7194, Contained: CE User Channel (0x9). RST: No, D-RST: No',
        }),
        xid(node, 1, at, {
          xid: 79,
          kind: 'fallen_off_bus',
          undated: true,
          gpuUuid: null,
          message: 'GPU 0000:28:00.0: GPU has fallen off the bus.',
          rawLine: 'NVRM: GPU 0000:28:00.0: GPU has fallen off the bus.',
        }),
        xid(node, 0, at, { xid: 13 }),
      ],
    });
    expect((await post(node, batch, at)).status).toBe(200);
    const rows = await prisma.xidEvent.findMany({ where: { nodeId: node.nodeId }, orderBy: { xid: 'asc' } });
    expect(rows.map((r) => [r.xid, r.kind, r.gpuInstanceId, r.undated, r.gpuId])).toEqual([
      [13, 'xid', null, false, node.gpus[0]!.id],
      [79, 'fallen_off_bus', null, true, node.gpus[1]!.id], // joined by PCI id
      [94, 'xid', 5, false, node.gpus[0]!.id],
    ]);
    // The GPU page gets what it shows: the undated flag, the kind and the MIG instance.
    const detail = await gpuHealthDetail({ prisma }, node.gpus[1]!.id);
    expect(detail.xids).toEqual([expect.objectContaining({ xid: 79, kind: 'fallen_off_bus', undated: true, gpuInstanceId: null })]);
    expect((await gpuHealthDetail({ prisma }, node.gpus[0]!.id)).xids).toEqual(
      expect.arrayContaining([expect.objectContaining({ xid: 94, gpuInstanceId: 5, undated: false })]),
    );
  });

  it('a GPU fallen off the bus (no Xid line, no more samples) is critical, not unknown', async () => {
    const node = await makeNode(prisma, 2);
    const t0 = new Date(Date.now() - 120_000);
    expect((await post(node, batchFor(node, t0), t0)).status).toBe(200);
    const t1 = new Date();
    // nvidia-smi no longer lists GPU 1; the kernel printed only the fallen-off message.
    const batch = batchFor(node, t1, {
      xidEvents: [
        xid(node, 1, t1, { xid: 79, kind: 'fallen_off_bus', gpuUuid: null, message: 'GPU 0000:28:00.0: GPU has fallen off the bus.' }),
      ],
    });
    batch.gpuSamples = batch.gpuSamples.slice(0, 1);
    expect((await post(node, batch, t1)).status).toBe(200);
    await evaluateFleetHealth(prisma, { now: new Date(t1.getTime() + 60_000) });
    const gpu = await prisma.gpu.findUniqueOrThrow({ where: { id: node.gpus[1]!.id } });
    expect(gpu.health).toBe('critical');
    expect((gpu.healthReasons as Array<{ code: string }>)[0]!.code).toBe('xid_critical');
  });
});

describe('clock skew', () => {
  it('refuses a batch with a sample dated 2099, naming the skew, and stores nothing', async () => {
    const node = await makeNode(prisma, 2);
    const now = new Date();
    const batch = batchFor(node, now);
    batch.gpuSamples[1] = gpuSample(node.gpus[1]!.uuid, 1, node.gpus[1]!.pciBusId, new Date('2099-01-01T00:00:00Z'));
    const before = await stored(node);
    const res = await post(node, batch, now);
    expect(res.status).toBe(400);
    const error = ZAgentError.parse(res.body).error;
    expect(error.code).toBe('invalid_payload');
    expect(error.message).toMatch(
      /^Clock skew: gpuSamples\.1\.sampledAt \(2099-01-01T00:00:00\.000Z is 7\d years ahead of the server clock, server time .*\) is more than the tolerated 5 min ahead\./,
    );
    expect(error.issues).toEqual([{ path: 'gpuSamples.1.sampledAt', message: expect.stringMatching(/years ahead of the server clock$/) }]);
    expect(await stored(node)).toEqual(before);
    const n = await prisma.node.findUniqueOrThrow({ where: { id: node.nodeId } });
    expect(n.lastSeenAt).toBeNull();
    expect((await prisma.gpu.findUniqueOrThrow({ where: { id: node.gpus[1]!.id } })).lastSampleAt).toBeNull();
  });

  it.each([
    [
      'an Xid event',
      (node: TestNode, ahead: Date) => batchFor(node, new Date(), { xidEvents: [xid(node, 0, ahead)] }),
      'xidEvents.0.occurredAt',
    ],
    ['the batch itself', (node: TestNode, ahead: Date) => batchFor(node, new Date(), { sentAt: ahead.toISOString() }), 'sentAt'],
    [
      'an engine sample',
      (node: TestNode, ahead: Date) =>
        batchFor(node, new Date(), {
          engineSamples: [
            {
              sampledAt: ahead.toISOString(),
              engine: 'vllm',
              modelName: null,
              runningRequests: 1,
              waitingRequests: 0,
              kvCacheUsageFraction: 0.1,
              promptTokensTotal: null,
              generationTokensTotal: null,
              ttftSecondsSum: null,
              ttftSecondsCount: null,
            },
          ],
        }),
      'engineSamples.0.sampledAt',
    ],
  ])('refuses %s dated beyond the tolerance and accepts one just within it', async (_what, make, path) => {
    const node = await makeNode(prisma, 1);
    const now = new Date();
    const refused = await post(node, make(node, new Date(now.getTime() + (MAX_CLOCK_SKEW_SECONDS + 60) * 1000)), now);
    expect(refused.status).toBe(400);
    expect(ZAgentError.parse(refused.body).error.issues![0]!.path).toBe(path);
    expect(await stored(node)).toEqual({ samples: 0, batches: 0, xids: 0, engine: 0 });
    const accepted = await post(node, make(node, new Date(now.getTime() + (MAX_CLOCK_SKEW_SECONDS - 60) * 1000)), now);
    expect(accepted.status).toBe(200);
  });

  it('health uses the newest sample not in the future: one stored in 2099 earlier does not freeze the verdict', async () => {
    const node = await makeNode(prisma, 1);
    const g = node.gpus[0]!;
    // Stored before ingest refused such samples (straight into the table, as an old server did).
    await prisma.gpuSample.create({
      data: { gpuId: g.id, nodeId: node.nodeId, sampledAt: new Date('2099-01-01T00:00:00Z'), temperatureC: 40, eccUncorrectedVolatile: 0n },
    });
    const now = new Date();
    const batch = batchFor(node, now);
    batch.gpuSamples[0] = gpuSample(g.uuid, 0, g.pciBusId, now, { eccUncorrectedVolatile: 3 });
    expect((await post(node, batch, now)).status).toBe(200);
    await evaluateFleetHealth(prisma, { now });
    const gpu = await prisma.gpu.findUniqueOrThrow({ where: { id: g.id } });
    expect(gpu.health).toBe('critical');
    expect((gpu.healthReasons as Array<{ code: string }>)[0]!.code).toBe('ecc_uncorrected');
    // The GPU page's newest reading is the same one.
    expect((await gpuHealthDetail({ prisma }, g.id)).latest!.sampledAt).toEqual(now);
  });

  it("stores the agent's clock offset and warns about a node whose clock is off; an older agent's offset is estimated from sentAt", async () => {
    const node = await makeNode(prisma, 1);
    const now = new Date();
    expect((await post(node, batchFor(node, now, { clockOffsetMs: -20 * 60_000 }), now)).status).toBe(200);
    expect((await prisma.node.findUniqueOrThrow({ where: { id: node.nodeId } })).clockOffsetMs).toBe(-1_200_000n);
    await evaluateFleetHealth(prisma, { now });
    const n = await prisma.node.findUniqueOrThrow({ where: { id: node.nodeId } });
    expect(n.health).toBe('warning');
    expect(n.healthReasons).toEqual([
      expect.objectContaining({ code: 'clock_skew', severity: 'warning', message: expect.stringContaining('20 min behind') }),
    ]);
    expect(
      await prisma.alert.count({ where: { fingerprint: nodeClockSkewFingerprint(node.nodeId), state: 'open', severity: 'warning' } }),
    ).toBe(1);

    // A revision-1 agent sends no offset: its sentAt, stamped just before sending, stands in for it.
    const later = new Date(now.getTime() + 10_000);
    const old = batchFor(node, later, { sentAt: new Date(later.getTime() - 1_500).toISOString() });
    expect('clockOffsetMs' in old).toBe(false);
    expect((await post(node, old, later)).status).toBe(200);
    expect((await prisma.node.findUniqueOrThrow({ where: { id: node.nodeId } })).clockOffsetMs).toBe(-1_500n);
    await evaluateFleetHealth(prisma, { now: later });
    expect((await prisma.node.findUniqueOrThrow({ where: { id: node.nodeId } })).health).toBe('healthy');
  });

  it('a node whose batches are refused for a clock far ahead shows why', async () => {
    const node = await makeNode(prisma, 1);
    const now = new Date();
    const ahead = new Date(now.getTime() + 3600_000);
    expect((await post(node, batchFor(node, ahead, { sentAt: ahead.toISOString(), clockOffsetMs: 3600_000 }), now)).status).toBe(400);
    const n = await prisma.node.findUniqueOrThrow({ where: { id: node.nodeId } });
    expect(n.clockOffsetMs).toBe(3_600_000n);
    expect(n.lastSeenAt).toBeNull();
  });
});
