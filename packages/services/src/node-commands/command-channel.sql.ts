// The Postgres LISTEN/NOTIFY channel that tells listeners a node command changed (command-notifier.ts):
// NOTIFY from a Prisma transaction or a pooled connection commits with the change it announces.
import pg from 'pg';
import type { TNodeCommandState } from '@fleetplane/contracts';
import type { Db } from '@fleetplane/db';
import type { TelemetryPoolClient } from '../telemetry/telemetry-pool.sql';

export const NODE_COMMAND_CHANNEL = 'fleetplane_node_command';

/**
 * The NOTIFY payload: `<agent-visible 0|1>|<nodeId>|<commandId>|<state>`. Agent-visible changes (a new or
 * re-queued command, a cancel, an expiry, a sweeper failure) wake the node's long poll; the agent's own
 * reports do not (it knows), but they wake whoever waits for that command's outcome.
 */
export function nodeCommandNotifyPayload(agentVisible: boolean, nodeId: string, commandId: string, state: string): string {
  return `${agentVisible ? 1 : 0}|${nodeId}|${commandId}|${state}`;
}

/** Sends the change to the listeners when the surrounding Prisma transaction commits (NOTIFY is transactional). */
export async function notifyNodeCommand(db: Db, agentVisible: boolean, nodeId: string, commandId: string, state: TNodeCommandState) {
  await db.$executeRaw`SELECT pg_notify(${NODE_COMMAND_CHANNEL}, ${nodeCommandNotifyPayload(agentVisible, nodeId, commandId, state)})`;
}

/** The same NOTIFY from a pooled connection's transaction (the agent API's hot path). */
export async function notifyNodeCommandOnPool(
  client: TelemetryPoolClient,
  agentVisible: boolean,
  nodeId: string,
  commandId: string,
  state: TNodeCommandState,
): Promise<void> {
  await client.query('SELECT pg_notify($1, $2)', [NODE_COMMAND_CHANNEL, nodeCommandNotifyPayload(agentVisible, nodeId, commandId, state)]);
}

/** The listener's own connection (not pooled: LISTEN belongs to one session). */
export type CommandListenerConnection = pg.Client;

export function newCommandListenerConnection(connectionString: string): CommandListenerConnection {
  return new pg.Client({ connectionString, application_name: 'fleetplane-command-listener', keepAlive: true });
}

/** Connects and subscribes to the channel; notifications then arrive as the connection's `notification` events. */
export async function listenForCommandChanges(connection: CommandListenerConnection): Promise<void> {
  await connection.connect();
  await connection.query(`LISTEN ${NODE_COMMAND_CHANNEL}`);
}
