import { checkRepoJob, scheduleRepoChecksJob } from '@fleetplane/contracts';
import { runRepoCheck, scheduleRepoChecks } from '@fleetplane/services';
import type { ProcessorRegistry } from '../registry';

export function registerUpstream(registry: ProcessorRegistry) {
  registry
    .register(scheduleRepoChecksJob, async (_payload, _job, { prisma, producer, log }) => {
      const result = await scheduleRepoChecks({ prisma, producer });
      if (result.enqueued) log.debug(result, 'enqueued repo checks');
      return result;
    })
    .register(checkRepoJob, async (payload, _job, { prisma, producer, log }) => {
      // "Check now" overrides a rate-limit backoff; scheduled checks and webhooks honour it.
      const outcome = await runRepoCheck({ prisma, producer }, payload.trackedRepoId, { force: payload.reason === 'manual' });
      if (outcome.status === 'changed') log.info({ trackedRepoId: payload.trackedRepoId, ...outcome }, 'recorded new upstream revisions');
      else if (outcome.status !== 'unchanged' && outcome.status !== 'deferred')
        log.warn({ trackedRepoId: payload.trackedRepoId, ...outcome }, 'repo check did not succeed');
      return outcome;
    });
}
