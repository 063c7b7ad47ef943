/**
 * Local seams for functions other features own (docs: /work interfaces, "cmd", "engine"),
 * with their binding signatures. Each is replaced by the owner's import as soon as it is on
 * main; nothing else in rollouts may call these directly, so switching is this one file.
 */
import type { TAgentCommandBody, TEngineLaunchSpec, TNodeCommandState } from '@fleetplane/contracts';
import type { Db } from '@fleetplane/db';
import { notFound } from '../errors';

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

/** engine: engineLaunchSpecFor (cluster engine settings + the artifact). */
export async function engineLaunchSpecFor(db: Db, input: { nodeId: string; artifactId: string }): Promise<TEngineLaunchSpec> {
  const node = await db.node.findUnique({ where: { id: input.nodeId }, select: { cluster: true } });
  if (!node) throw notFound('Node', input.nodeId);
  const c = node.cluster;
  const served = c.servedModelName ?? 'model';
  const argv = c.engineLaunchTemplate
    ? c.engineLaunchTemplate.split(/\s+/).filter(Boolean)
    : ['vllm', 'serve', '{artifact_dir}', '--host', '{host}', '--port', '{port}', '--served-model-name', served];
  return {
    kind: c.servingEngine,
    version: c.engineVersion,
    mode: c.engineRunMode === 'command' ? 'command' : 'child',
    argv,
    stopArgv: null,
    env: {},
    host: '127.0.0.1',
    port: c.enginePort,
    servedModelName: served,
    readyTimeoutSeconds: c.engineReadyTimeoutSeconds,
    drainSeconds: c.engineDrainSeconds,
  };
}
