import { UnrecoverableError } from 'bullmq';
import { alertNotificationJob, proposalNotificationJob } from '@fleetplane/contracts';
import { loadConfig } from '@fleetplane/config';
import { PermanentWebhookError, sendAlertNotification, sendProposalNotification } from '@fleetplane/services';
import type { ProcessorRegistry } from '../registry';

export function registerNotifications(registry: ProcessorRegistry) {
  registry.register(alertNotificationJob, async (payload, _job, { prisma, log }) => {
    const config = loadConfig();
    if (!config.ALERT_WEBHOOK_URL) return { delivered: false, reason: 'ALERT_WEBHOOK_URL is not set' };
    try {
      const result = await sendAlertNotification(prisma, payload, {
        webhookUrl: config.ALERT_WEBHOOK_URL,
        dashboardUrl: config.FLEETPLANE_PUBLIC_URL,
      });
      log.info({ ...payload, ...result }, 'alert notification');
      return result;
    } catch (e) {
      // Retrying cannot fix a receiver that refuses the message: fail for good, keep the reason.
      if (e instanceof PermanentWebhookError) throw new UnrecoverableError(e.message);
      throw e;
    }
  });
  registry.register(proposalNotificationJob, async (payload, _job, { prisma, log }) => {
    const config = loadConfig();
    if (!config.ALERT_WEBHOOK_URL) return { delivered: false, reason: 'ALERT_WEBHOOK_URL is not set' };
    try {
      const result = await sendProposalNotification(prisma, payload, {
        webhookUrl: config.ALERT_WEBHOOK_URL,
        dashboardUrl: config.FLEETPLANE_PUBLIC_URL,
      });
      log.info({ ...payload, ...result }, 'proposal notification');
      return result;
    } catch (e) {
      if (e instanceof PermanentWebhookError) throw new UnrecoverableError(e.message);
      throw e;
    }
  });
}
