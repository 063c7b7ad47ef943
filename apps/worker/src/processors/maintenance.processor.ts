import { expireCredentialsJob, outboxSweepJob } from '@fleetplane/contracts';
import { dispatchOutbox, expireCredentials } from '@fleetplane/services';
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
    });
}
