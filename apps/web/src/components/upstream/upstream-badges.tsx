'use client';
import { Badge } from '~/components/ui/badge';

const REPO_STATUS = {
  pending: 'secondary',
  ok: 'healthy',
  unauthorized: 'critical',
  gated: 'warning',
  not_found: 'critical',
  rate_limited: 'warning',
  unreachable: 'warning',
  // The network policy refused the Hub URL's address; the message names the rule.
  refused: 'critical',
  error: 'critical',
} as const;

export function RepoStatusBadge({ status, message }: { status: keyof typeof REPO_STATUS; message?: string | null }) {
  return (
    <Badge variant={REPO_STATUS[status]} title={message ?? undefined} data-testid="repo-status">
      {status.replace('_', ' ')}
    </Badge>
  );
}

const CHANGE_LABEL = { initial: 'initial', weights: 'weights', tokenizer_template: 'tokenizer', docs: 'docs', none: 'no change' } as const;
const CHANGE_VARIANT = {
  initial: 'secondary',
  weights: 'critical',
  tokenizer_template: 'warning',
  docs: 'outline',
  none: 'outline',
} as const;

export function ChangeBadge({ changeClass }: { changeClass: keyof typeof CHANGE_LABEL }) {
  return (
    <Badge variant={CHANGE_VARIANT[changeClass]} data-testid="change-class">
      {CHANGE_LABEL[changeClass]}
    </Badge>
  );
}

/** Shown next to a revision whose diff spans a history rewrite upstream (see TRevisionDiff). */
export function HistoryRewrittenBadge() {
  return (
    <Badge
      variant="outline"
      data-testid="history-rewritten"
      title="This commit does not descend from the previous revision Fleetplane recorded (upstream rewrote or squashed its history). The diff compares with that revision's files."
    >
      history rewritten
    </Badge>
  );
}

const RUN_STATE = {
  queued: 'secondary',
  running: 'default',
  succeeded: 'healthy',
  failed: 'critical',
  cancelled: 'unknown',
  pending: 'secondary',
  skipped: 'unknown',
} as const;

export function RunStateBadge({ state }: { state: string }) {
  return (
    <Badge variant={RUN_STATE[state as keyof typeof RUN_STATE] ?? 'outline'} data-testid="run-state">
      {state}
    </Badge>
  );
}

export function DiffCounts({ counts }: { counts: { added: number; removed: number; changed: number } }) {
  return (
    <span className="font-mono text-xs tabular-nums">
      <span className="text-healthy-foreground">+{counts.added}</span> <span className="text-destructive">−{counts.removed}</span>{' '}
      <span className="text-muted-foreground">~{counts.changed}</span>
    </span>
  );
}

/** Where a pipeline run downloads to, in words: a cluster by name, or the default target. */
export function runTargetLabel(run: { targetKey: string; targetCluster: { name: string } | null }): string {
  if (run.targetCluster) return `cluster ${run.targetCluster.name}`;
  return run.targetKey === 'default' ? 'the default target' : `target ${run.targetKey}`;
}
