import type { ServerResponse } from 'node:http';
import { readSource, type FileSource } from '../file-source';
import type { FaultState, FaultTarget } from '../faults';
import type { RequestLogEntry } from './http-utils';

/**
 * Streams bytes [start, end) of a file with backpressure, applying body faults: a flipped byte, a
 * connection cut after N bytes, and a shared bandwidth cap.
 */
export async function writeFileBody(
  res: ServerResponse,
  source: FileSource,
  start: number,
  end: number,
  faults: FaultState,
  target: FaultTarget,
  entry: RequestLogEntry,
): Promise<void> {
  const plan = faults.bodyPlan(target, start, end);
  // Small chunks when throttled, so the pace is smooth rather than bursty.
  const chunkSize = plan.pacer ? Math.max(1024, Math.min(256 * 1024, Math.floor(plan.pacer.bytesPerSec / 20))) : 1 << 20;
  let pos = start;
  for (const raw of readSource(source, start, end, chunkSize)) {
    if (res.destroyed) {
      entry.aborted = true;
      return;
    }
    let chunk = raw;
    if (plan.corruptAt !== null && plan.corruptAt >= pos && plan.corruptAt < pos + chunk.length) {
      chunk = Buffer.from(chunk);
      chunk[plan.corruptAt - pos] = chunk[plan.corruptAt - pos]! ^ 0xff;
    }
    const sent = pos - start;
    if (plan.dropAfter !== null && sent + chunk.length > plan.dropAfter) {
      const part = chunk.subarray(0, plan.dropAfter - sent);
      entry.bytesSent += part.length;
      entry.aborted = true;
      // Cut only after the allowed bytes reached the kernel, so the client sees exactly N bytes.
      if (part.length > 0) res.write(part, () => res.socket?.destroy());
      else {
        res.flushHeaders();
        setImmediate(() => res.socket?.destroy());
      }
      return;
    }
    if (plan.pacer) await plan.pacer.take(chunk.length);
    entry.bytesSent += chunk.length;
    pos += chunk.length;
    if (!res.write(chunk)) await drainOrClose(res);
  }
  res.end();
}

function drainOrClose(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}
