import type { TCheckDefinition, TCheckResult, TProgress } from '@fleetplane/contracts';
import type { PrismaClient } from '@fleetplane/db';
import { UNIT_HEARTBEAT_MS } from '@fleetplane/domain/runs/lost-run-decision';
import { runCheck } from '@fleetplane/validation';
import {
  isCancelRequested,
  loadCheckTarget,
  markCheckRunning,
  saveCheckProgress,
  saveCheckResult,
  touchCheckHeartbeat,
} from './run-lifecycle.service';

/** How often a running check looks for a cancel request; cancellation aborts in-flight requests. */
const CANCEL_POLL_MS = 500;
const PROGRESS_WRITE_MS = 1000;

function verdictOnly(check: TCheckDefinition | null, key: string, verdict: 'error' | 'skipped', explanation: string): TCheckResult {
  const now = new Date().toISOString();
  return {
    key: check?.key ?? key,
    kind: check?.kind ?? 'endpoint',
    required: check?.required ?? true,
    verdict,
    score: null,
    thresholds: { ...(check?.thresholds ?? {}) },
    metrics: {},
    samples: [],
    explanation,
    startedAt: now,
    finishedAt: now,
    durationMs: 0,
  };
}

/**
 * Runs one check of a validation run and writes its result over the check's row: the validation
 * worker's check job and the pipeline's validate stage (which runs its staging run's checks itself)
 * both come here, so a check is measured, cancelled and recorded the same way wherever it runs.
 */
export async function runValidationCheck(
  prisma: PrismaClient,
  runId: string,
  checkKey: string,
  opts: { onProgress?: (p: TProgress) => void; signal?: AbortSignal } = {},
): Promise<{ verdict: TCheckResult['verdict'] | null; reason?: string }> {
  const t = await loadCheckTarget(prisma, runId, checkKey);
  if (t.finished) return { verdict: null, reason: 'run already sealed' };
  if (!t.ok) {
    await saveCheckResult(prisma, runId, verdictOnly(t.check, checkKey, 'error', t.explanation));
    return { verdict: 'error' };
  }
  if (t.cancelRequested || opts.signal?.aborted) {
    await saveCheckResult(prisma, runId, verdictOnly(t.check, checkKey, 'skipped', 'Cancelled before the check started; no verdict.'));
    return { verdict: 'skipped' };
  }
  await markCheckRunning(prisma, runId, checkKey);
  const ac = new AbortController();
  const onOuterAbort = () => ac.abort();
  opts.signal?.addEventListener('abort', onOuterAbort, { once: true });
  let polling = false;
  let lastHeartbeat = Date.now();
  const poll = setInterval(() => {
    if (polling || ac.signal.aborted) return;
    polling = true;
    // The reconciler leaves a check alone while its heartbeat is fresh, even if its job is gone from Redis.
    if (Date.now() - lastHeartbeat >= UNIT_HEARTBEAT_MS) {
      lastHeartbeat = Date.now();
      void touchCheckHeartbeat(prisma, runId, checkKey).catch(() => undefined);
    }
    isCancelRequested(prisma, runId)
      .then((yes) => yes && ac.abort())
      .catch(() => undefined)
      .finally(() => (polling = false));
  }, CANCEL_POLL_MS);
  let lastWrite = 0;
  try {
    const result = await runCheck(t.check, {
      ...t.target,
      signal: ac.signal,
      onProgress: (p) => {
        const now = Date.now();
        if (now - lastWrite < PROGRESS_WRITE_MS && p.done < p.total) return;
        lastWrite = now;
        void saveCheckProgress(prisma, runId, checkKey, p).catch(() => undefined);
        opts.onProgress?.(p);
      },
    });
    await saveCheckResult(prisma, runId, result);
    return { verdict: result.verdict };
  } finally {
    clearInterval(poll);
    opts.signal?.removeEventListener('abort', onOuterAbort);
  }
}
