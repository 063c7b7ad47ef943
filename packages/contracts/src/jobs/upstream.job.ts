import { z } from 'zod';
import { defineJob, jobIdPart } from './define-job';

/** Fans out one check-repo job per tracked repo whose backoff has passed. */
export const scheduleRepoChecksJob = defineJob({
  queue: 'upstream',
  name: 'schedule-repo-checks',
  schema: z.object({}),
  repeatEveryMs: 60_000,
  attempts: 1,
});

/**
 * Polls one tracked repo. The job id is the repo id (plus a per-request nonce for "check now" and
 * webhooks) so scheduled checks never pile up behind a slow Hub.
 */
export const checkRepoJob = defineJob({
  queue: 'upstream',
  name: 'check-repo',
  schema: z.object({ trackedRepoId: z.string().min(1), reason: z.enum(['schedule', 'manual', 'webhook']).default('schedule') }),
  jobId: (p) => `check-${jobIdPart(p.trackedRepoId)}`,
  attempts: 2,
});
