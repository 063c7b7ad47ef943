import { evaluateHealthJob } from '@fleetplane/contracts';
import { loadConfig } from '@fleetplane/config';
import { evaluateFleetHealth } from '@fleetplane/services';
import type { ProcessorRegistry } from '../registry';

export function registerHealth(registry: ProcessorRegistry) {
  registry.register(evaluateHealthJob, async (payload, _job, { prisma, producer, log }) => {
    const result = await evaluateFleetHealth(prisma, {
      now: payload.now ? new Date(payload.now) : undefined,
      // Notifications are queued only when someone will receive them.
      notify: Boolean(loadConfig().ALERT_WEBHOOK_URL),
      producer,
      log,
    });
    const { opened, resolved, escalated } = result.alerts;
    if (opened || resolved || escalated) log.info(result.alerts, 'alerts changed');
    else log.debug({ changed: result.changed, skipped: result.skipped }, 'health evaluated');
    return result;
  });
}
