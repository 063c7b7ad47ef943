import { z } from 'zod';
import { listInput, ZId } from '../common/pagination';
import { ZNodeCommandKind, ZNodeCommandState } from '../agent/commands.schema';

/** The node page's command history (and any other list of commands): server-side paging, sort and filter. */
export const ZNodeCommandListInput = listInput(['issuedAt', 'kind', 'state', 'finishedAt'] as const, 'issuedAt').extend({
  sortDir: z.enum(['asc', 'desc']).default('desc'),
  nodeId: ZId.optional(),
  clusterId: ZId.optional(),
  states: z.array(ZNodeCommandState).max(7).optional(),
  kind: ZNodeCommandKind.optional(),
  origin: z.string().trim().max(200).optional(),
});
export type TNodeCommandListInput = z.input<typeof ZNodeCommandListInput>;

/** What an operator may issue from the dashboard by hand: engine restarts and stops (artifact commands come from pipelines and rollouts). */
export const ZIssueEngineCommandInput = z.discriminatedUnion('kind', [
  z.strictObject({
    nodeId: ZId,
    kind: z.literal('restart_engine'),
    reason: z.string().trim().min(1, 'Say why (it is shown on the node and in the audit log)').max(1024),
  }),
  z.strictObject({
    nodeId: ZId,
    kind: z.literal('stop_engine'),
    drainSeconds: z.number().int().min(0).max(3600).default(30),
  }),
]);
export type TIssueEngineCommandInput = z.input<typeof ZIssueEngineCommandInput>;

export const ZCancelNodeCommandInput = z.strictObject({ id: ZId });
