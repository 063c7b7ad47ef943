import { rolloutTickJob } from '@fleetplane/contracts';
import { runRolloutTick } from '@fleetplane/services';
import type { ProcessorRegistry } from '../registry';

export function registerRollouts(registry: ProcessorRegistry) {
  registry.register(rolloutTickJob, async (payload, _job, { prisma, log }) => {
    const result = await runRolloutTick(prisma, { now: payload.now ? new Date(payload.now) : undefined, log });
    if (result.autoStarted.length) log.info({ rollouts: result.autoStarted }, 'rollouts started on approval');
    return result;
  });
}
