// Engine drift's read of the node_command history: the newest live engine command of each node.
import type { Db } from '@fleetplane/db';
import type { TEngineCommandForNode } from '@fleetplane/domain';

export interface LatestEngineCommandRow {
  node_id: string;
  kind: 'load_artifact' | 'stop_engine';
  state: TEngineCommandForNode['state'];
  issued_at: Date;
  artifact_id: string | null;
}

/** Per node of `nodeIds`, its newest engine command (load or stop) that did not fail, was not cancelled and did not expire. */
export function latestEngineCommands(db: Db, nodeIds: string[]): Promise<LatestEngineCommandRow[]> {
  return db.$queryRaw<LatestEngineCommandRow[]>`
    SELECT node_id, kind::text AS kind, state::text AS state, issued_at, artifact_id FROM (
      SELECT c.*, row_number() OVER (PARTITION BY node_id ORDER BY issued_at DESC) AS rn
        FROM node_command c
       WHERE c.node_id = ANY(${nodeIds}) AND c.kind IN ('load_artifact', 'stop_engine')
         AND c.state NOT IN ('failed', 'cancelled', 'expired')
    ) t WHERE rn = 1`;
}
