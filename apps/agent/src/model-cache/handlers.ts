import type { CommandHandler } from '../node-commands/handler';
import type { ModelCache } from './model-cache';

/**
 * prefetch_artifact: ensure the artifact is complete in the model cache. A re-delivered command (agent killed
 * mid-download) resumes the partial files; one whose artifact is already complete returns at once.
 */
export function prefetchArtifactHandler(cache: ModelCache): CommandHandler<'prefetch_artifact'> {
  return async (payload, ctx) => {
    const started = performance.now();
    const result = await cache.ensureArtifact(payload.artifact, {
      signal: ctx.signal,
      progress: ctx.progress,
      bandwidthMbps: payload.bandwidthMbps,
    });
    return {
      digest: payload.artifact.digest,
      dir: result.dir,
      sizeBytes: payload.artifact.files.reduce((n, f) => n + f.sizeBytes, 0),
      downloadedBytes: result.downloadedBytes,
      reusedFiles: result.reusedFiles,
      alreadyComplete: result.alreadyComplete,
      seconds: Math.round((performance.now() - started) / 10) / 100,
    };
  };
}

/**
 * evict_artifact: ensure the artifact is not in the cache. Evicting one that is not there succeeds (it may
 * be the second delivery of a command that already ran); a protected one (served, or needed by an open
 * command) fails the command with the reason.
 */
export function evictArtifactHandler(cache: ModelCache): CommandHandler<'evict_artifact'> {
  return async (payload) => {
    const { evicted, freedBytes } = await cache.evict(payload.digest);
    return { digest: payload.digest, evicted, freedBytes };
  };
}
