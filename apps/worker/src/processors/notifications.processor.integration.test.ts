// The health → alert → outbox → notifications pipeline through real BullMQ queues, the real worker
// app and a real HTTP receiver: a failing receiver is retried with backoff, and each alert transition
// is delivered once however often it is enqueued.
import { createServer, type Server } from 'node:http';
import { randomBytes, randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { QueueEvents } from 'bullmq';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { allowLoopbackForTests } from '@fleetplane/services/network/testing';
import { alertNotificationJob, proposalNotificationJob } from '@fleetplane/contracts';
import { createLogger } from '@fleetplane/config';
import { createPrismaClient } from '@fleetplane/db';
import '@fleetplane/db/testing';
import { JobProducer, redisConnectionOptions } from '@fleetplane/queue';
import { startWorkerApp } from '../worker-app';

const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefix = `fptest-${randomBytes(4).toString('hex')}`;
const prisma = createPrismaClient(inject('databaseUrl'));
const producer = new JobProducer(redisUrl, prefix);
let server: Server;
let app: Awaited<ReturnType<typeof startWorkerApp>>;
let events: QueueEvents;
const hits: { alertId: string | undefined; text: string }[] = [];
let failuresLeft = 0;

beforeAll(async () => {
  // The Hub, endpoints and webhook receivers of these tests listen on loopback, which only the admin setting allows.
  await allowLoopbackForTests(prisma);
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const parsed = JSON.parse(body) as { text: string };
      hits.push({ alertId: /fingerprint (\S+)/.exec(body)?.[1], text: parsed.text });
      if (failuresLeft > 0) {
        failuresLeft -= 1;
        res.statusCode = 500;
        res.end('temporarily unavailable');
        return;
      }
      res.end('ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  process.env.ALERT_WEBHOOK_URL = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  process.env.DATABASE_URL = inject('databaseUrl');
  app = await startWorkerApp({
    databaseUrl: inject('databaseUrl'),
    redisUrl,
    queuePrefix: prefix,
    concurrency: 2,
    log: createLogger('worker-test', 'silent'),
  });
  events = new QueueEvents('notifications', { connection: redisConnectionOptions(redisUrl), prefix });
  await events.waitUntilReady();
});

afterAll(async () => {
  await events?.close();
  await app?.close();
  await producer.close();
  await prisma.$disconnect();
  await new Promise((r) => server.close(r));
});

async function waitFor<T>(what: string, fn: () => Promise<T | null | undefined | false>, timeoutMs = 40_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe('alert notifications', () => {
  it('retries a failing receiver with backoff and delivers one message per transition', async () => {
    const fingerprint = `gpu:GPU-${randomUUID()}:ecc_uncorrected`;
    const alert = await prisma.alert.create({
      data: {
        fingerprint,
        activeKey: fingerprint,
        rule: 'ecc_uncorrected',
        severity: 'critical',
        title: 'node-x GPU 0: uncorrected ECC errors',
      },
    });
    failuresLeft = 2;
    const before = hits.length;
    const job = await producer.enqueue(alertNotificationJob, { alertId: alert.id, transition: 'opened' });
    // Enqueued again (a re-dispatched outbox row, a second worker): same job id, no second delivery.
    const again = await producer.enqueue(alertNotificationJob, { alertId: alert.id, transition: 'opened' });
    expect(again.id).toBe(job.id);
    const result = await job.waitUntilFinished(events, 40_000);
    expect(result).toMatchObject({ delivered: true, status: 200 });
    const mine = hits.slice(before).filter((h) => h.alertId === fingerprint);
    expect(mine).toHaveLength(3);
    expect((await prisma.alert.findUniqueOrThrow({ where: { id: alert.id } })).notifiedAt).not.toBeNull();
  });

  it('delivers a proposal decision through the notifications queue, once per decision', async () => {
    const site = await prisma.site.create({ data: { name: `s-${randomUUID().slice(0, 8)}`, region: 'eu', dataResidency: 'eu' } });
    const cluster = await prisma.cluster.create({
      data: { name: `pc-${randomUUID().slice(0, 8)}`, siteId: site.id, servingEngine: 'vllm', engineVersion: '0.11.2' },
    });
    const fam = await prisma.modelFamily.upsert({
      where: { slug: 'deepseek-v4-flash' },
      create: { slug: 'deepseek-v4-flash', name: 'Flash', totalParamsB: 284, activeParamsB: 13, contextLength: 1_048_576 },
      update: {},
    });
    const repo = await prisma.trackedRepo.create({
      data: { familyId: fam.id, hubRepoId: `acme/${randomUUID().slice(0, 8)}`, filePatterns: ['*'] },
    });
    const revision = await prisma.modelRevision.create({
      data: { trackedRepoId: repo.id, commitSha: 'abcdef1234567890', changeClass: 'weights' },
    });
    const artifact = await prisma.artifact.create({
      data: {
        revisionId: revision.id,
        format: 'fp8',
        quantisation: 'FP8',
        sizeBytes: 1n,
        digest: `sha256:${randomUUID()}`,
        storageUri: 'file:///x',
      },
    });
    const proposal = await prisma.upgradeProposal.create({
      data: {
        clusterId: cluster.id,
        artifactId: artifact.id,
        artifactDigest: artifact.digest,
        origin: 'pipeline',
        expiresAt: new Date(Date.now() + 86_400_000),
      },
    });
    const event = await prisma.auditEvent.create({
      data: {
        actorType: 'user',
        actorLabel: 'Ada Approver',
        action: 'proposal.approve',
        targetType: 'upgrade_proposal',
        targetId: proposal.id,
      },
    });
    const before = hits.length;
    const payload = { proposalId: proposal.id, event: 'approved' as const, key: event.id, detail: '1 of 1 approval' };
    const job = await producer.enqueue(proposalNotificationJob, payload);
    expect((await producer.enqueue(proposalNotificationJob, payload)).id).toBe(job.id);
    expect(await job.waitUntilFinished(events, 40_000)).toMatchObject({ delivered: true, status: 200 });
    const mine = hits.slice(before).filter((h) => h.text.includes(cluster.name));
    expect(mine).toHaveLength(1);
    expect(mine[0]!.text).toBe(`Upgrade of ${cluster.name} to ${repo.hubRepoId}@abcdef1 FP8 approved by Ada Approver: 1 of 1 approval`);
  });

  it('opens an alert from the repeatable health job and notifies through the outbox', async () => {
    const site = await prisma.site.create({ data: { name: `s-${randomUUID().slice(0, 8)}`, region: 'eu', dataResidency: 'eu' } });
    const cluster = await prisma.cluster.create({
      data: { name: `c-${randomUUID().slice(0, 8)}`, siteId: site.id, servingEngine: 'vllm', engineVersion: '0.11.2' },
    });
    const node = await prisma.node.create({ data: { clusterId: cluster.id, hostname: 'ecc-node-01', lastSeenAt: new Date() } });
    const uuid = `GPU-${randomUUID()}`;
    const gpu = await prisma.gpu.create({
      data: { nodeId: node.id, uuid, index: 0, model: 'NVIDIA H100 80GB HBM3', memoryMib: 81559, interconnect: 'nvswitch' },
    });
    await prisma.gpuSample.create({
      data: { gpuId: gpu.id, nodeId: node.id, sampledAt: new Date(), eccUncorrectedVolatile: 3n, temperatureC: 55 },
    });
    const fingerprint = `gpu:${uuid}:ecc_uncorrected`;
    // The evaluation runs every 10 s; the outbox is dispatched right after its commit.
    const alert = await waitFor('the alert', () => prisma.alert.findFirst({ where: { fingerprint } }));
    expect(alert).toMatchObject({ state: 'open', severity: 'critical', gpuId: gpu.id });
    const hit = await waitFor('the webhook', async () => hits.find((h) => h.alertId === fingerprint));
    expect(hit.text).toContain('ecc-node-01 GPU 0: uncorrected ECC errors opened');
    expect((await prisma.gpu.findUniqueOrThrow({ where: { id: gpu.id } })).health).toBe('critical');
    // Later evaluations keep the one alert and send nothing new.
    await new Promise((r) => setTimeout(r, 11_000));
    expect(await prisma.alert.count({ where: { fingerprint } })).toBe(1);
    expect(hits.filter((h) => h.alertId === fingerprint)).toHaveLength(1);
  });
});
