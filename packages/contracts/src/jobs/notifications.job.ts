import { z } from 'zod';
import { ZId } from '../common/pagination';
import { defineJob, jobIdPart } from './define-job';

export const ALERT_TRANSITIONS = ['opened', 'escalated', 'resolved'] as const;
export const ZAlertTransition = z.enum(ALERT_TRANSITIONS);
export type TAlertTransition = z.infer<typeof ZAlertTransition>;

/**
 * Posts one alert transition to ALERT_WEBHOOK_URL (Slack-compatible JSON). The job id is the alert and
 * the transition, so a transition is delivered once however often it is enqueued; retries back off
 * exponentially while the receiver is down.
 */
export const alertNotificationJob = defineJob({
  queue: 'notifications',
  name: 'alert-webhook',
  schema: z.object({ alertId: ZId, transition: ZAlertTransition }),
  jobId: (p) => alertNotificationJobId(p.alertId, p.transition),
  attempts: 8,
});

export function alertNotificationJobId(alertId: string, transition: TAlertTransition): string {
  return `alert-${jobIdPart(alertId)}-${transition}`;
}
