import { z } from 'zod';
import { ZId } from '../common/pagination';

export const ALERT_STATES = ['open', 'acknowledged', 'resolved'] as const;
export const ZAlertState = z.enum(ALERT_STATES);
export type TAlertState = z.infer<typeof ZAlertState>;

export const ALERT_SEVERITIES = ['warning', 'critical'] as const;
export const ZAlertSeverity = z.enum(ALERT_SEVERITIES);
export type TAlertSeverity = z.infer<typeof ZAlertSeverity>;

export const ALERT_SORT_FIELDS = ['openedAt', 'lastSeenAt', 'severity', 'state', 'title'] as const;
export type TAlertSort = (typeof ALERT_SORT_FIELDS)[number];

export const ZAlertListInput = z.object({
  page: z.number().int().min(1).default(1),
  pageSize: z.number().int().min(1).max(200).default(25),
  sortBy: z.enum(ALERT_SORT_FIELDS).default('openedAt'),
  sortDir: z.enum(['asc', 'desc']).default('desc'),
  /** Empty or absent means every state. */
  states: z.array(ZAlertState).max(3).optional(),
  severity: ZAlertSeverity.optional(),
  clusterId: ZId.optional(),
  gpuId: ZId.optional(),
  search: z.string().trim().max(200).optional(),
});
export type TAlertListInput = z.input<typeof ZAlertListInput>;

export const ZAcknowledgeAlertInput = z.object({ id: ZId });
