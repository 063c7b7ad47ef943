// Shared by the telemetry, enrollment and health integration tests: a real database per test run
// (vitest globalSetup), inventory made on the fly, and batches shaped exactly like the agent's.
import { randomBytes, randomUUID } from 'node:crypto';
import { inject } from 'vitest';
import { ZTelemetryBatch, type TGpuSample, type TTelemetryBatch } from '@fleetplane/contracts';
import { exampleGpuSample } from '@fleetplane/contracts/testing';
import { createPrismaClient, type PrismaClient } from '@fleetplane/db';
import '@fleetplane/db/testing';
import { hashSecret, newSecret, NODE_CREDENTIAL_PREFIX, secretPrefix } from '../shared/secrets';
import { AgentApiError } from '../shared/agent-api-error';
import { authenticateAgent, ingestTelemetry } from './ingest.service';
import { getTelemetryPool, type TelemetryPool } from './telemetry-pool.sql';

let counter = 0;
export function unique(prefix: string): string {
  counter += 1;
  return `${prefix}-${Date.now().toString(36)}-${randomBytes(2).toString('hex')}-${counter}`;
}

export function randomGpuUuid(): string {
  const h = randomBytes(16).toString('hex');
  return `GPU-${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

/** The clients the agent API is handed (apps/web/src/server/agent-api), over the test run's database. */
export interface AgentTestDeps {
  prisma: PrismaClient;
  pool: TelemetryPool;
  log: { warn(obj: object, msg: string): void; error(obj: object, msg: string): void };
}

export function testDeps(): AgentTestDeps {
  const url = inject('databaseUrl');
  return {
    prisma: createPrismaClient(url, { max: 4 }),
    pool: getTelemetryPool(url, 4),
    // Unexpected server errors show up in the test output instead of hiding behind a 500.
    log: { warn: () => undefined, error: (obj, msg) => console.error(msg, (obj as { err?: unknown }).err) },
  };
}

export interface TestNode {
  clusterId: string;
  nodeId: string;
  hostname: string;
  gpus: { id: string; uuid: string; index: number; pciBusId: string }[];
  credential: string;
  credentialId: string;
}

/** A site, cluster, node with `gpuCount` GPUs (PCI slots 18, 28, ...) and a live node credential. */
export async function makeNode(prisma: PrismaClient, gpuCount = 2, opts: { clusterId?: string } = {}): Promise<TestNode> {
  let clusterId = opts.clusterId;
  if (!clusterId) {
    const site = await prisma.site.create({ data: { name: unique('site'), region: 'eu-west', dataResidency: 'eu' } });
    const cluster = await prisma.cluster.create({
      data: { name: unique('cl'), siteId: site.id, servingEngine: 'vllm', engineVersion: '0.11.2' },
    });
    clusterId = cluster.id;
  }
  const hostname = unique('gpu-node');
  const node = await prisma.node.create({ data: { clusterId, hostname } });
  const gpus = [];
  for (let i = 0; i < gpuCount; i += 1) {
    const pciBusId = `00000000:${(0x18 + i * 0x10).toString(16).toUpperCase()}:00.0`;
    const gpu = await prisma.gpu.create({
      data: {
        nodeId: node.id,
        uuid: randomGpuUuid(),
        index: i,
        model: 'NVIDIA H100 80GB HBM3',
        memoryMib: 81559,
        interconnect: 'nvswitch',
        pciBusId,
      },
    });
    gpus.push({ id: gpu.id, uuid: gpu.uuid, index: i, pciBusId });
  }
  const credential = newSecret(NODE_CREDENTIAL_PREFIX);
  const row = await prisma.nodeCredential.create({
    data: { nodeId: node.id, tokenHash: hashSecret(credential), tokenPrefix: secretPrefix(credential) },
  });
  return { clusterId, nodeId: node.id, hostname, gpus, credential, credentialId: row.id };
}

export function gpuSample(uuid: string, index: number, pciBusId: string, sampledAt: Date, over: Partial<TGpuSample> = {}): TGpuSample {
  return exampleGpuSample({ uuid, index, pciBusId, sampledAt: sampledAt.toISOString(), ...over });
}

/** One collection of every GPU of the node at `at`, as the agent sends it. */
export function batchFor(node: TestNode, at = new Date(), over: Partial<TTelemetryBatch> = {}): TTelemetryBatch {
  return {
    batchId: randomUUID(),
    sentAt: new Date().toISOString(),
    host: { hostname: node.hostname, agentVersion: '0.1.0', driverVersion: '580.95.05', cudaVersion: '13.0' },
    gpuSamples: node.gpus.map((g) => gpuSample(g.uuid, g.index, g.pciBusId, at)),
    xidEvents: [],
    engineSamples: [],
    droppedSamples: 0,
    ...over,
  };
}

/**
 * What the agent gets for a service call the agent API makes: `status` (200 unless told) and the result,
 * or a refusal's wire status and ZAgentError body. Lets service tests read like the protocol without HTTP.
 */
export async function agentAnswer(call: () => Promise<unknown>, status = 200): Promise<{ status: number; body: unknown }> {
  try {
    return { status, body: await call() };
  } catch (e) {
    if (e instanceof AgentApiError) return { status: e.status, body: e.toBody() };
    throw e;
  }
}

/**
 * A batch as the agent API takes it once the request is read: the credential authenticated, the body
 * parsed against the wire contract, then ingested.
 */
export function sendBatch(
  deps: Pick<AgentTestDeps, 'pool'>,
  credential: string,
  batch: TTelemetryBatch | Record<string, unknown>,
  now = new Date(),
): Promise<{ status: number; body: unknown }> {
  return agentAnswer(async () => {
    const who = await authenticateAgent(deps.pool, credential);
    const { registeredGpus: _registered, ...body } = await ingestTelemetry(deps.pool, who, ZTelemetryBatch.parse(batch), now);
    return body;
  });
}

/**
 * Marks this node's backfill requests dispatched. Test files share one database and run in parallel;
 * outbox rows left pending would be picked up by other files' dispatchOutbox calls.
 */
export async function settleOutbox(prisma: PrismaClient, nodeId: string): Promise<void> {
  await prisma.outboxMessage.updateMany({
    where: { jobId: { startsWith: `rollup-backfill-${nodeId}` }, dispatchedAt: null },
    data: { dispatchedAt: new Date() },
  });
}

/**
 * Same for alert notifications: a health pass evaluates the whole shared database, so it also queues
 * notifications for other files' alerts (nodes gone quiet, alerts whose condition vanished).
 */
export async function settleAlertOutbox(prisma: PrismaClient): Promise<void> {
  await prisma.outboxMessage.updateMany({ where: { queue: 'notifications', dispatchedAt: null }, data: { dispatchedAt: new Date() } });
}
