import { expireCredentialsJob, nodeCommandSweepJob, outboxSweepJob, proposalsSweepJob } from '@fleetplane/contracts';
import { dispatchOutbox, expireCredentials, sweepNodeCommands, sweepProposals, sweepStagingLeases } from '@fleetplane/services';
import type { ProcessorRegistry } from '../registry';

export function registerMaintenance(registry: ProcessorRegistry) {
  registry
    .register(expireCredentialsJob, async (payload, _job, { prisma, log }) => {
      const result = await expireCredentials({ prisma }, payload.now ? new Date(payload.now) : new Date());
      log.info(result, 'expired credentials');
      return result;
    })
    .register(outboxSweepJob, async (_payload, _job, { prisma, producer, log }) => {
      const result = await dispatchOutbox(prisma, producer);
      if (result.dispatched) log.info(result, 'dispatched outbox messages');
      return result;
    })
    .register(proposalsSweepJob, async (payload, _job, { prisma, producer, log }) => {
      const result = await sweepProposals(prisma, payload.now ? new Date(payload.now) : new Date());
      if (result.expired || result.settled) {
        log.info(result, 'proposals expired or settled');
        // Their webhook notifications were written to the outbox with the change; send them now.
        await dispatchOutbox(prisma, producer);
      }
      return result;
    })
    .register(nodeCommandSweepJob, async (_payload, _job, { prisma, log }) => {
      const result = await sweepNodeCommands(prisma);
      if (result.expired + result.failedSilent + result.redelivered > 0) log.info(result, 'swept node commands');
      // Staging nodes left holding a candidate by a validate step that will not come back are put back here.
      const staging = await sweepStagingLeases(prisma);
      if (staging.restoring + staging.released > 0) log.info(staging, 'staging nodes being put back');
      if (staging.failed.length > 0) log.warn(staging, 'staging nodes could not be put back');
      return { ...result, staging };
    });
}
