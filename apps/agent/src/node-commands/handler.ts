import type { TAgentCommandBody, TArtifactRef, TCommandProgress, TNodeCommandKind } from '@fleetplane/contracts';

/** What a command handler gets besides its payload. */
export interface CommandContext {
  commandId: string;
  /** 1 on first delivery; more after a crash or restart re-delivered it. */
  delivery: number;
  /** Aborted when the control plane cancels or expires the command, or the agent shuts down. */
  signal: AbortSignal;
  /** Throttled by the command loop; call as often as convenient. */
  progress(p: TCommandProgress): void;
}

export type CommandPayload<K extends TNodeCommandKind> = Extract<TAgentCommandBody, { kind: K }>['payload'];

/**
 * A handler has "ensure" semantics: running it again for the same command id (a re-delivery after kill -9)
 * converges on the same result instead of doing something different. Its resolved value is the command's
 * `result`; a thrown error fails the command with the error's message.
 */
export type CommandHandler<K extends TNodeCommandKind> = (
  payload: CommandPayload<K>,
  ctx: CommandContext,
) => Promise<Record<string, unknown>>;

export type CommandHandlers = { [K in TNodeCommandKind]?: CommandHandler<K> };

/**
 * The model cache as the engine supervisor needs it: make sure an artifact is complete and verified on local
 * disk, and say where. Implemented by the agent's model cache (apps/agent/src/model-cache).
 */
export interface ArtifactProvider {
  ensureArtifact(
    ref: TArtifactRef,
    opts: { signal: AbortSignal; progress: (p: TCommandProgress) => void; bandwidthMbps: number | null },
  ): Promise<{ dir: string }>;
}
