import type { TNodeCommandKind } from '@fleetplane/contracts';

/**
 * An agent runs one command at a time per lane, oldest first. Commands that change the engine (load,
 * restart, stop) share a lane: two of them at once would fight over one process. Cache commands share the
 * other lane, so a prefetch never races an evict of the same files, while a prefetch of the next artifact
 * still runs beside the engine serving (or loading) the current one.
 */
export type NodeCommandLane = 'engine' | 'cache';

export const NODE_COMMAND_LANES: Record<TNodeCommandKind, NodeCommandLane> = {
  load_artifact: 'engine',
  restart_engine: 'engine',
  stop_engine: 'engine',
  prefetch_artifact: 'cache',
  evict_artifact: 'cache',
};

export function commandLane(kind: TNodeCommandKind): NodeCommandLane {
  return NODE_COMMAND_LANES[kind];
}
