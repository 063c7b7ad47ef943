import { ZEngineReadyResult } from '@fleetplane/contracts';
import type { ArtifactProvider, CommandHandler } from '../node-commands/handler';
import type { EngineReadyResult, EngineSupervisor } from './supervisor';

/**
 * Command handlers for the engine. Each has "ensure" semantics: a command delivered again after a
 * crash converges on the same outcome (the engine serving X) instead of restarting it twice.
 */

function result(r: EngineReadyResult): Record<string, unknown> {
  return ZEngineReadyResult.parse(r);
}

const sameLaunch = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/** load_artifact: already serving this digest with this launch spec -> its ready result; else fetch, stop old, start new. */
export function loadArtifactHandler(supervisor: EngineSupervisor, provider: ArtifactProvider): CommandHandler<'load_artifact'> {
  return async (payload, ctx) => {
    const status = supervisor.status();
    const current = supervisor.currentReady();
    if (
      current &&
      status.artifactDigest === payload.artifact.digest &&
      current.artifactDigest === payload.artifact.digest &&
      sameLaunch(status.spec, payload.launch)
    ) {
      ctx.progress({ phase: 'ready', message: 'Already serving this artifact' });
      return result(current);
    }
    ctx.progress({ phase: 'fetching', message: `Making sure ${payload.artifact.label} is in the model cache` });
    const { dir } = await provider.ensureArtifact(payload.artifact, {
      signal: ctx.signal,
      progress: ctx.progress,
      bandwidthMbps: payload.bandwidthMbps,
    });
    if (ctx.signal.aborted) throw new Error('Cancelled before the engine was switched');
    ctx.progress({ phase: 'starting', message: `Starting ${payload.launch.kind} ${payload.launch.version}` });
    return result(await supervisor.load(payload.launch, dir, payload.artifact.digest, ctx.signal));
  };
}

/**
 * restart_engine. A re-delivery (delivery > 1) of a restart whose engine is ready again is not restarted
 * a second time: the first delivery's restart already happened (the agent died after it, before reporting).
 */
export function restartEngineHandler(supervisor: EngineSupervisor): CommandHandler<'restart_engine'> {
  return async (_payload, ctx) => {
    const current = supervisor.currentReady();
    if (ctx.delivery > 1 && current) return result(current);
    ctx.progress({ phase: 'restarting' });
    return result(await supervisor.restart(ctx.signal));
  };
}

/** stop_engine: drain, stop, stay stopped. Stopping a stopped engine succeeds. */
export function stopEngineHandler(supervisor: EngineSupervisor): CommandHandler<'stop_engine'> {
  return async (payload, ctx) => {
    ctx.progress({ phase: 'draining', message: `Draining for up to ${payload.drainSeconds} s` });
    await supervisor.stop(payload.drainSeconds);
    return { state: supervisor.status().state };
  };
}
