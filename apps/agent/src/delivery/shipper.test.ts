import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AgentApiClient } from '../api/client';
import { createLogger } from '../logger';
import { DiskQueue, type TQueuedBatch } from '../queue/disk-queue';
import { closedPort, startFakeControlPlane, type FakeControlPlane } from '../testing/fake-control-plane';
import { backoffDelayMs } from './backoff';
import { OUTAGE_RETRY_MAX_MS, Shipper } from './shipper';

const logger = createLogger('silent');
const batch = (i: number): TQueuedBatch => ({
  batchId: randomUUID(),
  enqueuedAt: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString(),
  host: { hostname: 'gpu-node-01', agentVersion: '0.1.0', driverVersion: null, cudaVersion: null },
  gpuSamples: [],
  xidEvents: [],
  engineSamples: [
    {
      sampledAt: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString(),
      engine: 'vllm',
      modelName: 'm',
      runningRequests: i,
      waitingRequests: 0,
      kvCacheUsageFraction: 0.5,
      promptTokensTotal: null,
      generationTokensTotal: null,
      ttftSecondsSum: null,
      ttftSecondsCount: null,
    },
  ],
});

let cp: FakeControlPlane;
let dir: string;
let queue: DiskQueue;
let credential: string;
beforeAll(async () => {
  cp = await startFakeControlPlane();
});
afterAll(async () => {
  await cp.close();
});
beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'shipper-'));
  queue = await DiskQueue.open(dir, { maxBytes: 1 << 20 });
  credential = cp.issueCredential();
  cp.batches.length = 0;
  cp.failNext(0, 503);
  cp.rejectWhen(null);
});
afterEach(async () => {
  await queue.close();
  rmSync(dir, { recursive: true, force: true });
});

const shipper = (options: Partial<ConstructorParameters<typeof Shipper>[0]> = {}) =>
  new Shipper({ queue, client: new AgentApiClient({ server: cp.url, credential }), logger, retryBaseMs: 20, retryMaxMs: 50, ...options });

describe('Shipper.drainOnce', () => {
  it('delivers queued batches in order and empties the queue', async () => {
    const ids = [];
    for (let i = 0; i < 3; i++) {
      const b = batch(i);
      ids.push(b.batchId);
      await queue.enqueue(b);
    }
    expect(await shipper().drainOnce()).toEqual({ sent: 3, deadLettered: 0, blockedBy: null });
    expect(cp.batches.map((b) => b.batchId)).toEqual(ids);
    expect(queue.pendingCount).toBe(0);
  });

  it('stops at a retryable failure and keeps the batch', async () => {
    await queue.enqueue(batch(0));
    cp.failNext(1, 503);
    const result = await shipper().drainOnce();
    expect(result.blockedBy).toMatchObject({ kind: 'retry', message: 'Simulated failure' });
    expect(queue.pendingCount).toBe(1);
    cp.failNext(1, 429);
    expect((await shipper().drainOnce()).blockedBy).toMatchObject({ kind: 'retry', retryAfterMs: 0 });
    expect((await shipper().drainOnce()).sent).toBe(1);
  });

  it('dead-letters a refused batch and carries on with the next one', async () => {
    const bad = batch(0);
    const good = batch(1);
    await queue.enqueue(bad);
    await queue.enqueue(good);
    cp.rejectWhen((b) => b.batchId === bad.batchId);
    expect(await shipper().drainOnce()).toEqual({ sent: 1, deadLettered: 1, blockedBy: null });
    expect(cp.batches.map((b) => b.batchId)).toEqual([good.batchId]);
    expect(await queue.deadLetterNames()).toHaveLength(1);
  });

  it('reports a revoked credential and keeps everything queued', async () => {
    await queue.enqueue(batch(0));
    cp.credentials.get(credential)!.revoked = true;
    expect((await shipper().drainOnce()).blockedBy).toMatchObject({ kind: 'unauthorized', message: 'Unknown or revoked node credential' });
    expect(queue.pendingCount).toBe(1);
  });

  it('treats an unreachable server as retryable', async () => {
    await queue.enqueue(batch(0));
    const port = await closedPort();
    const unreachable = new Shipper({ queue, client: new AgentApiClient({ server: `http://127.0.0.1:${port}`, credential }), logger });
    expect((await unreachable.drainOnce()).blockedBy).toMatchObject({
      kind: 'retry',
      message: `cannot reach http://127.0.0.1:${port}: ECONNREFUSED`,
    });
  });
});

describe('Shipper loop', () => {
  it('backs off while the server is down and delivers everything once it is back', async () => {
    const s = shipper();
    s.start();
    await cp.stop();
    const ids = [];
    for (let i = 0; i < 4; i++) {
      const b = batch(i);
      ids.push(b.batchId);
      await queue.enqueue(b);
      s.kick();
    }
    await new Promise((r) => setTimeout(r, 150));
    expect(queue.pendingCount).toBe(4);
    await cp.start();
    for (let i = 0; i < 100 && queue.pendingCount > 0; i++) await new Promise((r) => setTimeout(r, 20));
    await s.stop();
    expect(cp.batches.map((b) => b.batchId)).toEqual(ids);
  });
});

describe('backoffDelayMs', () => {
  it('is full jitter under an exponential ceiling with a cap', () => {
    expect(backoffDelayMs(0, 1000, 60_000, () => 0.999)).toBe(999);
    expect(backoffDelayMs(3, 1000, 60_000, () => 0.5)).toBe(4000);
    expect(backoffDelayMs(20, 1000, 60_000, () => 0.999)).toBe(59_940);
    expect(backoffDelayMs(5, 1000, 60_000, () => 0)).toBe(0);
  });
});

describe('recovery after an outage', () => {
  it('resumes within seconds of a server that was down long enough for the general backoff to reach tens of seconds', async () => {
    // Production backoff except for a shorter first step, and the worst jitter every time: before the
    // outage cap, the attempts after 13 s of refused connections were 12.8 s apart, then 25.6 s.
    const s = shipper({ retryBaseMs: 100, retryMaxMs: 60_000, outageRetryMaxMs: undefined, random: () => 0.999 });
    await cp.stop();
    await queue.enqueue(batch(0));
    s.start();
    s.kick();
    await new Promise((r) => setTimeout(r, 13_000));
    expect(queue.pendingCount).toBe(1);
    await cp.start();
    const back = Date.now();
    while (queue.pendingCount > 0 && Date.now() - back < 20_000) await new Promise((r) => setTimeout(r, 50));
    const took = Date.now() - back;
    await s.stop();
    expect(cp.batches).toHaveLength(1);
    expect(took).toBeLessThanOrEqual(OUTAGE_RETRY_MAX_MS + 500);
  }, 40_000);

  it('sends the measured clock offset with each batch', async () => {
    await queue.enqueue(batch(0));
    const client = new AgentApiClient({ server: cp.url, credential });
    await client.postTelemetry({ ...batch(1), sentAt: new Date().toISOString(), droppedSamples: 0 });
    await new Shipper({ queue, client, logger }).drainOnce();
    expect(typeof cp.batches.at(-1)!.clockOffsetMs).toBe('number');
    expect(Math.abs(cp.batches.at(-1)!.clockOffsetMs!)).toBeLessThanOrEqual(1000);
  });
});
