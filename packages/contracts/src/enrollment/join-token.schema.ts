import { z } from 'zod';
import { ZId } from '../common/pagination';

/** One week: long enough to rack a server over a weekend, short enough that a leaked token dies soon. */
export const MAX_JOIN_TOKEN_MINUTES = 7 * 24 * 60;
export const DEFAULT_JOIN_TOKEN_MINUTES = 60;

export const ZCreateJoinTokenInput = z.object({
  clusterId: ZId,
  expiresInMinutes: z
    .number({ error: 'Enter the validity in minutes' })
    .int('Use whole minutes')
    .min(5, 'At least 5 minutes')
    .max(MAX_JOIN_TOKEN_MINUTES, `At most ${MAX_JOIN_TOKEN_MINUTES} minutes (7 days)`)
    .default(DEFAULT_JOIN_TOKEN_MINUTES),
  description: z.string().trim().max(200, 'At most 200 characters').default(''),
});
export type TCreateJoinTokenInput = z.input<typeof ZCreateJoinTokenInput>;

export const ZJoinTokenListInput = z.object({ clusterId: ZId });
export const ZNodeCredentialListInput = z.object({ nodeId: ZId });

/** Derived from the row: a token is usable only while `active`. */
export const JOIN_TOKEN_STATUSES = ['active', 'used', 'expired', 'revoked'] as const;
export type TJoinTokenStatus = (typeof JOIN_TOKEN_STATUSES)[number];

/** The command a new node runs; the UI and the demo print the same thing. */
export function agentEnrollCommand(serverUrl: string, token: string): string {
  return `fleetplane-agent enroll --server ${serverUrl.replace(/\/+$/, '')} --token ${token}`;
}
