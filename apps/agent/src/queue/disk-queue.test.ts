import { randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { TGpuSample } from '@fleetplane/contracts';
import { exampleGpuSample } from '@fleetplane/contracts/testing';
import { DiskQueue, QueueLockedError, type TQueuedBatch } from './disk-queue';

const gpu = (i: number): TGpuSample =>
  exampleGpuSample({ sampledAt: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString(), uuid: 'GPU-5117a000-1c2d-4e5f-8a9b-0c1d2e3f4a5b' });

const batch = (i: number, samples = 2): TQueuedBatch => ({
  batchId: randomUUID(),
  enqueuedAt: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString(),
  host: { hostname: 'gpu-node-01', agentVersion: '0.1.0', driverVersion: '550.54.15', cudaVersion: '12.4' },
  gpuSamples: Array.from({ length: samples }, () => gpu(i)),
  xidEvents: [],
  engineSamples: [],
});

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'queue-test-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

async function drainAll(q: DiskQueue): Promise<Array<{ batch: TQueuedBatch; dropped: number }>> {
  const out = [];
  for (let head = await q.head(); head; head = await q.head()) {
    const dropped = await q.beginSend(head.entry);
    await q.accepted(head.entry);
    out.push({ batch: head.batch, dropped });
  }
  return out;
}

describe('DiskQueue', () => {
  it('is FIFO, fsyncs one 0600 file per batch and survives a restart', async () => {
    const q = await DiskQueue.open(dir, { maxBytes: 1 << 20 });
    const written = [batch(1), batch(2), batch(3)];
    for (const b of written) await q.enqueue(b);
    const files = readdirSync(join(dir, 'pending'));
    expect(files).toHaveLength(3);
    expect(statSync(join(dir, 'pending', files[0]!)).mode & 0o777).toBe(0o600);
    await q.close();

    const reopened = await DiskQueue.open(dir, { maxBytes: 1 << 20 });
    expect(reopened.pendingCount).toBe(3);
    await reopened.enqueue(batch(4));
    const drained = await drainAll(reopened);
    expect(drained.map((d) => d.batch.batchId)).toEqual([...written.map((b) => b.batchId), drained[3]!.batch.batchId]);
    expect(reopened.pendingCount).toBe(0);
    expect(reopened.pendingBytes).toBe(0);
  });

  it('drops the oldest batches past the byte bound and reports their samples once', async () => {
    const one = JSON.stringify(batch(0, 3)).length;
    const q = await DiskQueue.open(dir, { maxBytes: Math.floor(one * 2.5) });
    const ids = [];
    for (let i = 0; i < 5; i++) {
      const b = batch(i, 3);
      ids.push(b.batchId);
      await q.enqueue(b);
    }
    expect(q.pendingCount).toBe(2);
    expect(q.droppedSinceAccepted).toBe(9);
    const drained = await drainAll(q);
    expect(drained.map((d) => d.batch.batchId)).toEqual(ids.slice(3));
    expect(drained.map((d) => d.dropped)).toEqual([9, 0]);
    expect(q.droppedSinceAccepted).toBe(0);
  });

  it('keeps the dropped count of an in-flight batch stable across retries and restarts', async () => {
    const one = JSON.stringify(batch(0)).length;
    const q = await DiskQueue.open(dir, { maxBytes: Math.floor(one * 2.5) });
    for (let i = 0; i < 3; i++) await q.enqueue(batch(i)); // drops 1 batch = 2 samples
    const head = (await q.head())!;
    expect(await q.beginSend(head.entry)).toBe(2);
    await q.enqueue(batch(3)); // the batch on the wire is never the one dropped
    expect((await q.head())!.entry.name).toBe(head.entry.name);
    expect(q.droppedSinceAccepted).toBe(4);
    q.endSend(); // retryable failure
    await q.close();

    const again = await DiskQueue.open(dir, { maxBytes: Math.floor(one * 2.5) });
    const retried = (await again.head())!;
    expect(retried.entry.batchId).toBe(head.entry.batchId);
    expect(await again.beginSend(retried.entry)).toBe(2); // same number as the first attempt
    await again.accepted(retried.entry);
    expect(again.droppedSinceAccepted).toBe(2); // what was dropped after it, for the next batch
  });

  it('dead-letters a refused batch with the reason and carries its dropped count forward', async () => {
    const one = JSON.stringify(batch(0)).length;
    const q = await DiskQueue.open(dir, { maxBytes: Math.floor(one * 2.5) });
    for (let i = 0; i < 3; i++) await q.enqueue(batch(i));
    const head = (await q.head())!;
    await q.beginSend(head.entry);
    await q.deadLetter(head.entry, { status: 400, message: 'nope' });
    expect(await q.deadLetterNames()).toEqual([head.entry.name]);
    const reason = JSON.parse(readFileSync(join(dir, 'dead-letter', head.entry.name.replace('.json', '.error.json')), 'utf8'));
    expect(reason).toMatchObject({ status: 400, message: 'nope' });
    const next = (await q.head())!;
    expect(await q.beginSend(next.entry)).toBe(2);
  });

  it('bounds the dead-letter folder', async () => {
    const q = await DiskQueue.open(dir, { maxBytes: 1 << 20, maxDeadLetters: 2 });
    for (let i = 0; i < 4; i++) await q.enqueue(batch(i));
    for (let head = await q.head(); head; head = await q.head()) await q.deadLetter(head.entry, { status: 400 });
    expect(await q.deadLetterNames()).toHaveLength(2);
  });

  it('moves unreadable files aside instead of blocking the queue', async () => {
    const q = await DiskQueue.open(dir, { maxBytes: 1 << 20 });
    const good = batch(2);
    await q.enqueue(batch(1));
    await q.enqueue(good);
    const first = readdirSync(join(dir, 'pending')).sort()[0]!;
    writeFileSync(join(dir, 'pending', first), '{"truncated":');
    expect((await q.head())!.batch.batchId).toBe(good.batchId);
    expect(await q.deadLetterNames()).toEqual([first]);
  });

  it('refuses a second agent on the same queue but takes over a stale lock', async () => {
    const q = await DiskQueue.open(dir, { maxBytes: 1 << 20 });
    writeFileSync(join(dir, 'queue.lock'), String(process.ppid));
    await expect(DiskQueue.open(dir, { maxBytes: 1 << 20 })).rejects.toBeInstanceOf(QueueLockedError);
    await q.close();
    writeFileSync(join(dir, 'queue.lock'), '999999999');
    const taken = await DiskQueue.open(dir, { maxBytes: 1 << 20 });
    expect(readFileSync(join(dir, 'queue.lock'), 'utf8')).toBe(String(process.pid));
    await taken.close();
  });

  it('cleans up an enqueue interrupted before its rename', async () => {
    const q = await DiskQueue.open(dir, { maxBytes: 1 << 20 });
    await q.close();
    writeFileSync(join(dir, 'pending', '.0000000000000001-x.json.1.abcd.tmp'), '{');
    const again = await DiskQueue.open(dir, { maxBytes: 1 << 20 });
    expect(again.pendingCount).toBe(0);
    expect(readdirSync(join(dir, 'pending'))).toEqual([]);
  });
});
