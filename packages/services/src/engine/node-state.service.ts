import { ZNodeStateReport, type TNodeStateReport } from '@fleetplane/contracts';
import type { Db } from '@fleetplane/db';
import { upsertNodeRuntimeState } from './node-state.sql';

/**
 * Stores what a node's agent says its engine really serves. The node comes from the agent's credential,
 * never from the body, so an agent can only speak for its own node. Reports can arrive out of order
 * (retries, two reporter ticks racing): the newest observedAt wins and an older one is ignored.
 */
export async function recordNodeState(db: Db, nodeId: string, input: TNodeStateReport): Promise<{ accepted: boolean }> {
  const r = ZNodeStateReport.parse(input);
  return { accepted: await upsertNodeRuntimeState(db, nodeId, r) };
}
