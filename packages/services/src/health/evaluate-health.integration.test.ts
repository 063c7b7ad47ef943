// The health job's service against the real database: verdicts written, alerts opened once,
// acknowledged by an operator, resolved after the hold-down, and each transition queued for the webhook.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alertNotificationJobId } from '@fleetplane/contracts';
import { DEFAULT_ALERT_HOLD_DOWN_SECONDS, gpuFingerprint, nodeOfflineFingerprint } from '@fleetplane/domain';
import { acknowledgeAlert, alertCounts, listAlerts } from '../alerts/alerts.service';
import type { ServiceContext } from '../context';
import { batchFor, gpuSample, makeNode, sendBatch, settleAlertOutbox, testDeps, type TestNode } from '../telemetry/test-support';
import { evaluateFleetHealth } from './evaluate-health.service';
import { writeVerdicts } from './evaluate-health.sql';

const deps = testDeps();
const { prisma } = deps;
let ctx: ServiceContext;

beforeAll(async () => {
  const userId = randomUUID();
  await prisma.user.create({ data: { id: userId, email: `${userId}@test.local`, name: 'op', role: 'operator' } });
  ctx = { prisma, actor: { type: 'user', id: userId, label: `${userId}@test.local` } };
});
afterAll(async () => {
  await prisma.$disconnect();
  await deps.pool.end();
});

async function report(node: TestNode, at: Date, overrides: Parameters<typeof gpuSample>[4][] = []) {
  const batch = batchFor(node, at);
  batch.gpuSamples = node.gpus.map((g, i) => gpuSample(g.uuid, g.index, g.pciBusId, at, overrides[i] ?? {}));
  const res = await sendBatch(deps, node.credential, batch, at);
  expect(res.status).toBe(200);
}

const alertsFor = (fingerprint: string) => prisma.alert.findMany({ where: { fingerprint }, orderBy: { openedAt: 'asc' } });

describe('evaluateFleetHealth', () => {
  it('turns an uncorrected ECC error into a critical GPU, node and cluster and one alert; ack; resolve after the hold-down', async () => {
    const node = await makeNode(prisma, 2);
    const t0 = new Date();
    await report(node, t0, [{ eccUncorrectedVolatile: 2 }, {}]);
    const first = await evaluateFleetHealth(prisma, { now: t0, notify: true });
    expect(first.skipped).toBe(false);

    const gpu = await prisma.gpu.findUniqueOrThrow({ where: { id: node.gpus[0]!.id } });
    expect(gpu.health).toBe('critical');
    expect(gpu.healthReasons).toEqual([expect.objectContaining({ code: 'ecc_uncorrected', severity: 'critical', value: 2 })]);
    expect((await prisma.gpu.findUniqueOrThrow({ where: { id: node.gpus[1]!.id } })).health).toBe('healthy');
    const n = await prisma.node.findUniqueOrThrow({ where: { id: node.nodeId } });
    expect(n.health).toBe('critical');
    expect(n.healthReasons).toEqual([expect.objectContaining({ code: 'gpu_critical', message: '1 of 2 GPUs critical' })]);
    expect((await prisma.cluster.findUniqueOrThrow({ where: { id: node.clusterId } })).health).toBe('critical');

    const fingerprint = gpuFingerprint(node.gpus[0]!.uuid, 'ecc_uncorrected');
    let alerts = await alertsFor(fingerprint);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({
      state: 'open',
      severity: 'critical',
      activeKey: fingerprint,
      rule: 'ecc_uncorrected',
      gpuId: node.gpus[0]!.id,
      nodeId: node.nodeId,
      clusterId: node.clusterId,
    });
    expect(alerts[0]!.title).toMatch(/GPU 0: uncorrected ECC errors$/);
    const alertId = alerts[0]!.id;
    expect(await prisma.auditEvent.count({ where: { action: 'alert.open', targetId: alertId, actorType: 'system' } })).toBe(1);
    expect(
      await prisma.outboxMessage.findUnique({
        where: { queue_jobId: { queue: 'notifications', jobId: alertNotificationJobId(alertId, 'opened') } },
      }),
    ).toMatchObject({
      jobName: 'alert-webhook',
      payload: { alertId, transition: 'opened' },
    });
    await settleAlertOutbox(prisma);

    // The condition persists: the same alert is updated, never duplicated.
    const t1 = new Date(t0.getTime() + 10_000);
    await report(node, t1, [{ eccUncorrectedVolatile: 2 }, {}]);
    await evaluateFleetHealth(prisma, { now: t1, notify: true });
    alerts = await alertsFor(fingerprint);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.lastSeenAt).toEqual(t1);

    await acknowledgeAlert(ctx, alertId);
    await expect(acknowledgeAlert(ctx, alertId)).rejects.toThrow(/already acknowledged by/);
    expect(await prisma.auditEvent.count({ where: { action: 'alert.acknowledge', targetId: alertId, actorId: ctx.actor.id } })).toBe(1);
    const listed = await listAlerts(ctx, { states: ['acknowledged'], gpuId: node.gpus[0]!.id });
    expect(listed.items.map((a) => [a.id, a.acknowledgedBy])).toEqual([[alertId, ctx.actor.label]]);

    // Healthy again (after a driver reload the volatile counter is 0): inside the hold-down it stays live.
    const t2 = new Date(t1.getTime() + 60_000);
    await report(node, t2);
    await evaluateFleetHealth(prisma, { now: t2, notify: true });
    expect((await alertsFor(fingerprint))[0]!.state).toBe('acknowledged');
    expect((await prisma.gpu.findUniqueOrThrow({ where: { id: node.gpus[0]!.id } })).health).toBe('healthy');

    const t3 = new Date(t1.getTime() + (DEFAULT_ALERT_HOLD_DOWN_SECONDS + 1) * 1000);
    await report(node, t3);
    await evaluateFleetHealth(prisma, { now: t3, notify: true });
    alerts = await alertsFor(fingerprint);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ state: 'resolved', activeKey: null, resolvedAt: t3 });
    expect(await prisma.outboxMessage.count({ where: { jobId: alertNotificationJobId(alertId, 'resolved') } })).toBe(1);
    await settleAlertOutbox(prisma);
    expect(await prisma.auditEvent.count({ where: { action: 'alert.resolve', targetId: alertId } })).toBe(1);
    await expect(acknowledgeAlert(ctx, alertId)).rejects.toThrow(/already resolved/);

    // The same fault coming back later is a new alert (the resolved one keeps its history).
    const t4 = new Date(t3.getTime() + 10_000);
    await report(node, t4, [{ eccUncorrectedVolatile: 5 }, {}]);
    await evaluateFleetHealth(prisma, { now: t4 });
    alerts = await alertsFor(fingerprint);
    expect(alerts.map((a) => a.state)).toEqual(['resolved', 'open']);
  });

  it('marks a silent node offline with one critical alert, and a never-seen node unknown', async () => {
    const node = await makeNode(prisma, 1);
    const never = await makeNode(prisma, 1);
    const t0 = new Date();
    await report(node, t0);
    await evaluateFleetHealth(prisma, { now: t0 });
    expect((await prisma.node.findUniqueOrThrow({ where: { id: node.nodeId } })).health).toBe('healthy');
    const neverSeen = await prisma.node.findUniqueOrThrow({ where: { id: never.nodeId } });
    expect(neverSeen.health).toBe('unknown');
    expect(neverSeen.healthReasons).toEqual([expect.objectContaining({ code: 'node_never_seen' })]);

    const later = new Date(t0.getTime() + 31_000);
    await evaluateFleetHealth(prisma, { now: later });
    await evaluateFleetHealth(prisma, { now: new Date(later.getTime() + 10_000) });
    const n = await prisma.node.findUniqueOrThrow({ where: { id: node.nodeId } });
    expect(n.health).toBe('offline');
    expect(n.healthReasons).toEqual([expect.objectContaining({ code: 'node_offline', severity: 'critical' })]);
    const alerts = await alertsFor(nodeOfflineFingerprint(node.nodeId));
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ state: 'open', severity: 'critical', title: `${node.hostname} is offline` });
    expect((await prisma.cluster.findUniqueOrThrow({ where: { id: node.clusterId } })).health).toBe('offline');
    const counts = await alertCounts(ctx);
    expect(counts.open.critical).toBeGreaterThanOrEqual(1);
  });

  it('raises a warning for thermal throttling and a critical for XID 79 matched to the GPU', async () => {
    const node = await makeNode(prisma, 2);
    const t0 = new Date();
    await report(node, t0, [{ clocksEventReasons: 0x20 | 0x8, temperatureC: 84 }, {}]);
    const batch = batchFor(node, new Date(t0.getTime() + 1));
    batch.gpuSamples = [];
    batch.xidEvents = [
      {
        occurredAt: t0.toISOString(),
        pciBusId: node.gpus[1]!.pciBusId,
        gpuUuid: null,
        xid: 79,
        pid: 1234,
        processName: 'python3',
        message: 'GPU has fallen off the bus.',
        rawLine: `NVRM: Xid (PCI:0000:28:00): 79, ${randomUUID()}`,
      },
    ];
    expect((await sendBatch(deps, node.credential, batch)).status).toBe(200);
    await evaluateFleetHealth(prisma, { now: t0 });
    const [g0, g1] = await Promise.all(node.gpus.map((g) => prisma.gpu.findUniqueOrThrow({ where: { id: g.id } })));
    expect(g0!.health).toBe('warning');
    expect((g0!.healthReasons as { code: string }[]).map((r) => r.code)).toEqual(['thermal_throttle', 'power_throttle']);
    expect(g1!.health).toBe('critical');
    expect((g1!.healthReasons as { code: string; message: string }[])[0]).toMatchObject({ code: 'xid_critical' });
    expect(await alertsFor(gpuFingerprint(node.gpus[1]!.uuid, 'xid_critical'))).toHaveLength(1);
    expect((await alertsFor(gpuFingerprint(node.gpus[0]!.uuid, 'thermal_throttle')))[0]).toMatchObject({ severity: 'warning' });
  });

  it('serialises overlapping runs: a second concurrent run is skipped, never double-opens', async () => {
    const node = await makeNode(prisma, 1);
    const t0 = new Date();
    await report(node, t0, [{ eccUncorrectedVolatile: 1 }]);
    const results = await Promise.all([
      evaluateFleetHealth(prisma, { now: t0 }),
      evaluateFleetHealth(prisma, { now: t0 }),
      evaluateFleetHealth(prisma, { now: t0 }),
    ]);
    expect(results.some((r) => !r.skipped)).toBe(true);
    expect(await alertsFor(gpuFingerprint(node.gpus[0]!.uuid, 'ecc_uncorrected'))).toHaveLength(1);
  });

  it('rewrites only verdicts that changed: a second pass over the same readings locks and writes no row', async () => {
    const node = await makeNode(prisma, 2);
    const t0 = new Date();
    await report(node, t0, [{ temperatureC: 93 }, {}]);
    await evaluateFleetHealth(prisma, { now: t0 });
    const rows = () =>
      Promise.all([
        prisma.gpu.findUniqueOrThrow({ where: { id: node.gpus[0]!.id } }),
        prisma.node.findUniqueOrThrow({ where: { id: node.nodeId } }),
      ]);
    const [gpu, n] = await rows();
    expect(gpu.health).toBe('warning');
    expect(n.healthReasons).toEqual([expect.objectContaining({ code: 'gpu_warning' })]);

    // The stored reasons come back with their keys in jsonb's order; the same verdict must still count as unchanged.
    await evaluateFleetHealth(prisma, { now: t0 });
    const [gpuAgain, nodeAgain] = await rows();
    expect(gpuAgain.updatedAt).toEqual(gpu.updatedAt);
    expect(nodeAgain.updatedAt).toEqual(n.updatedAt);
  });

  it('writeVerdicts leaves rows whose verdict is already stored alone and reports the rows it wrote', async () => {
    const node = await makeNode(prisma, 1);
    const gpuId = node.gpus[0]!.id;
    const reasons = [
      { code: 'temperature_high' as const, severity: 'warning' as const, message: 'Temperature 93 °C ≥ 87 °C', value: 93, threshold: 87 },
    ];
    await prisma.$transaction(async (tx) => expect(await writeVerdicts(tx, 'gpu', [{ id: gpuId, status: 'warning', reasons }])).toBe(1));
    const before = await prisma.gpu.findUniqueOrThrow({ where: { id: gpuId } });
    await prisma.$transaction(async (tx) => {
      // Same verdict (keys in another order): no row; another value: the row.
      const reordered = reasons.map(({ threshold, value, message, severity, code }) => ({ threshold, value, message, severity, code }));
      expect(await writeVerdicts(tx, 'gpu', [{ id: gpuId, status: 'warning', reasons: reordered }])).toBe(0);
    });
    expect((await prisma.gpu.findUniqueOrThrow({ where: { id: gpuId } })).updatedAt).toEqual(before.updatedAt);
    await prisma.$transaction(async (tx) =>
      expect(await writeVerdicts(tx, 'gpu', [{ id: gpuId, status: 'warning', reasons: [{ ...reasons[0]!, value: 94 }] }])).toBe(1),
    );
    await prisma.$transaction(async (tx) =>
      expect(await writeVerdicts(tx, 'gpu', [{ id: gpuId, status: 'critical', reasons: [{ ...reasons[0]!, value: 94 }] }])).toBe(1),
    );
    expect((await prisma.gpu.findUniqueOrThrow({ where: { id: gpuId } })).health).toBe('critical');
  });
});
