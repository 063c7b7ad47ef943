/**
 * Local seams for functions other features own (docs: /work interfaces, "cmd"),
 * with their binding signatures. Each is replaced by the owner's import as soon as it is on
 * main; nothing else in rollouts may call these directly, so switching is this one file.
 */
import type { TAgentCommandBody, TNodeCommandState } from '@fleetplane/contracts';
import type { Db } from '@fleetplane/db';

const DEFAULT_COMMAND_TIMEOUT_SECONDS = 3600;

/** cmd: issueNodeCommand. Same (nodeId, dedupeKey) returns the existing command. */
export async function issueNodeCommand(
  db: Db,
  input: {
    nodeId: string;
    command: TAgentCommandBody;
    origin: string;
    issuedByUserId?: string | null;
    artifactId?: string | null;
    timeoutSeconds?: number;
    dedupeKey?: string;
  },
): Promise<{ id: string; created: boolean }> {
  if (input.dedupeKey) {
    const existing = await db.nodeCommand.findFirst({
      where: { nodeId: input.nodeId, origin: `${input.origin}#${input.dedupeKey}` },
      select: { id: true },
    });
    if (existing) return { id: existing.id, created: false };
  }
  const row = await db.nodeCommand.create({
    data: {
      nodeId: input.nodeId,
      kind: input.command.kind,
      payload: input.command.payload as object,
      origin: input.dedupeKey ? `${input.origin}#${input.dedupeKey}` : input.origin,
      issuedByUserId: input.issuedByUserId ?? null,
      artifactId: input.artifactId ?? null,
      deadlineAt: new Date(Date.now() + (input.timeoutSeconds ?? DEFAULT_COMMAND_TIMEOUT_SECONDS) * 1000),
    },
    select: { id: true },
  });
  return { id: row.id, created: true };
}

/** The stored state of commands (what waitForNodeCommand resolves with), read without waiting. */
export async function nodeCommandStates(
  db: Db,
  ids: readonly string[],
): Promise<Map<string, { state: TNodeCommandState; error: string | null; result: unknown }>> {
  const rows = await db.nodeCommand.findMany({
    where: { id: { in: [...ids] } },
    select: { id: true, state: true, error: true, result: true },
  });
  return new Map(rows.map((r) => [r.id, { state: r.state, error: r.error, result: r.result }]));
}
