import type { TQueueName } from '@fleetplane/contracts';
import type { JobProducer } from './producer';

/**
 * States in which a job can still move its work forward: queued (waiting, prioritized, delayed for a
 * retry), running (active; a dead worker's active job is handed on by BullMQ's stalled check), or a
 * flow parent waiting for its children.
 */
export const LIVE_JOB_STATES: ReadonlySet<string> = new Set(['waiting', 'prioritized', 'delayed', 'active', 'waiting-children']);

/** True when Redis holds at least one of these jobs in a live state. */
export async function anyJobLive(producer: JobProducer, queue: TQueueName, jobIds: readonly string[]): Promise<boolean> {
  const q = producer.queue(queue);
  for (const id of jobIds) {
    const state = await q.getJobState(id);
    if (LIVE_JOB_STATES.has(state)) return true;
  }
  return false;
}

/**
 * Removes these jobs where they are finished (completed or failed), so adding a job with the same id
 * again creates it instead of being taken for a duplicate. Live jobs are left alone.
 */
export async function removeFinishedJobs(producer: JobProducer, queue: TQueueName, jobIds: readonly string[]): Promise<number> {
  const q = producer.queue(queue);
  let removed = 0;
  for (const id of jobIds) {
    const state = await q.getJobState(id);
    if (state !== 'completed' && state !== 'failed') continue;
    // 0 = not removed (locked or gone meanwhile); the next pass sees it again.
    if ((await q.remove(id, { removeChildren: false })) === 1) removed += 1;
  }
  return removed;
}
