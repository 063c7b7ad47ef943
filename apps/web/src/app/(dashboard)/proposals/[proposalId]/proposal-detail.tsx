'use client';
import { useMutation, useQuery } from '@tanstack/react-query';
import { Check, Rocket, X } from 'lucide-react';
import Link from 'next/link';
import { notFound } from 'next/navigation';
import { toast } from 'sonner';
import { z } from 'zod';
import { ZRejectProposalInput } from '@fleetplane/contracts';
import type { RouterOutputs } from '@fleetplane/api';
import { FormDialog } from '~/components/form-dialog';
import { Field } from '~/components/form-helpers';
import { ProposalStateBadge } from '~/components/proposals/proposal-badges';
import { RolloutStateBadge } from '~/components/rollouts/rollout-badges';
import { StartRolloutDialog } from '~/components/rollouts/start-rollout';
import { useCan } from '~/components/session-context';
import { ErrorState, PageHeader } from '~/components/states';
import { Alert, AlertDescription } from '~/components/ui/alert';
import { Badge } from '~/components/ui/badge';
import { Button } from '~/components/ui/button';
import { Card, CardContent, CardHeader, CardTitle } from '~/components/ui/card';
import { Textarea } from '~/components/ui/input';
import { Skeleton } from '~/components/ui/skeleton';
import { Table, TableBody, TableCell, TableHead, TableHeader, TableRow } from '~/components/ui/table';
import { formatBytes, formatDateTime } from '~/lib/utils';
import { useInvalidateProposals } from '~/trpc/invalidate';
import { useTRPC } from '~/trpc/react';

type Proposal = RouterOutputs['proposals']['get'];

function Info({ label, children, className }: { label: string; children: React.ReactNode; className?: string }) {
  return (
    <div className={className}>
      <dt className="text-xs uppercase tracking-wide text-muted-foreground">{label}</dt>
      <dd className="mt-0.5 break-all text-sm">{children}</dd>
    </div>
  );
}

const STATUS_VARIANT = { pass: 'healthy', warn: 'warning', fail: 'critical', unknown: 'unknown', not_applicable: 'secondary' } as const;
const VERDICT_VARIANT = { pass: 'healthy', fail: 'critical', error: 'warning', skipped: 'unknown' } as const;

const ZApproveForm = z.object({ comment: z.string().trim().max(2000) });
type TApproveForm = z.infer<typeof ZApproveForm>;
const ZRejectForm = ZRejectProposalInput.pick({ reason: true });
type TRejectForm = z.input<typeof ZRejectForm>;

function DecisionButtons({ p }: { p: Proposal }) {
  const trpc = useTRPC();
  const invalidate = useInvalidateProposals();
  const approve = useMutation(trpc.proposals.approve.mutationOptions());
  const reject = useMutation(trpc.proposals.reject.mutationOptions());
  if (p.state !== 'pending_approval' && p.state !== 'approved') return null;
  const disabled = !p.viewer.canDecide;
  return (
    <div className="flex flex-col items-end gap-1">
      <div className="flex gap-2">
        <FormDialog<TApproveForm, TApproveForm, unknown>
          trigger={
            <Button disabled={disabled}>
              <Check /> Approve
            </Button>
          }
          title="Approve this upgrade"
          description={`Your approval is bound to artifact ${p.artifact.digest.slice(0, 19)}… and evidence ${(p.evidenceDigest ?? '').slice(0, 19)}…; if either changes it no longer counts.`}
          formLabel="Approve proposal"
          schema={ZApproveForm}
          values={{ comment: '' }}
          submit={({ comment }) => approve.mutateAsync({ id: p.id, ...(comment ? { comment } : {}) })}
          onSuccess={async () => {
            toast.success('Approved');
            await invalidate();
          }}
          submitLabel="Approve"
          pendingLabel="Approving…"
        >
          {(form) => (
            <Field label="Comment" htmlFor="approve-comment" hint="Optional: what you checked.">
              <Textarea id="approve-comment" rows={3} {...form.register('comment')} />
            </Field>
          )}
        </FormDialog>
        <FormDialog<TRejectForm, TRejectForm, unknown>
          trigger={
            <Button variant="outline" disabled={disabled}>
              <X /> Reject
            </Button>
          }
          title="Reject this upgrade"
          description="A rejection ends the proposal. Say why, so the requester knows what to change."
          formLabel="Reject proposal"
          schema={ZRejectForm}
          values={{ reason: '' }}
          submit={({ reason }) => reject.mutateAsync({ id: p.id, reason })}
          onSuccess={async () => {
            toast.success('Rejected');
            await invalidate();
          }}
          submitLabel="Reject"
          pendingLabel="Rejecting…"
        >
          {(form) => (
            <Field label="Reason" htmlFor="reject-reason" error={form.formState.errors.reason?.message}>
              <Textarea id="reject-reason" rows={3} aria-invalid={!!form.formState.errors.reason} {...form.register('reason')} />
            </Field>
          )}
        </FormDialog>
      </div>
      {disabled && p.viewer.reason ? (
        <p className="max-w-sm text-right text-xs text-muted-foreground" data-testid="decision-blocked">
          {p.viewer.reason}
        </p>
      ) : null}
    </div>
  );
}

function ValidationEvidence({ v }: { v: NonNullable<Proposal['validation']> }) {
  const fmt = (n: number | null) => (n === null ? '—' : Math.abs(n) >= 100 ? n.toFixed(0) : n.toPrecision(3));
  return (
    <div className="space-y-3" data-testid="validation-evidence">
      <p className="text-sm">
        <Link href={`/validation/${v.id}`} className="text-primary hover:underline">
          {v.suite.name} v{v.suite.version}
        </Link>{' '}
        {v.verdict ? <Badge variant={VERDICT_VARIANT[v.verdict]}>{v.verdict}</Badge> : <Badge variant="secondary">{v.state}</Badge>}{' '}
        {v.summary}
      </p>
      {v.comparison ? (
        <Table>
          <TableHeader>
            <TableRow>
              <TableHead>Metric</TableHead>
              <TableHead className="text-right">Baseline</TableHead>
              <TableHead className="text-right">Candidate</TableHead>
              <TableHead className="text-right">Change</TableHead>
              <TableHead>Gate</TableHead>
            </TableRow>
          </TableHeader>
          <TableBody>
            {v.comparison.gates.map((g) => (
              <TableRow key={`${g.checkKey}:${g.metric}`}>
                <TableCell>{g.label}</TableCell>
                <TableCell className="text-right tabular-nums">{fmt(g.baseline)}</TableCell>
                <TableCell className="text-right tabular-nums">{fmt(g.candidate)}</TableCell>
                <TableCell className="text-right tabular-nums">
                  {g.deltaPct === null ? '—' : `${g.deltaPct > 0 ? '+' : ''}${g.deltaPct.toFixed(1)}%`}
                </TableCell>
                <TableCell>
                  <Badge variant={VERDICT_VARIANT[g.verdict]}>{g.verdict}</Badge>
                </TableCell>
              </TableRow>
            ))}
          </TableBody>
        </Table>
      ) : (
        <p className="text-sm text-muted-foreground">The run had no baseline, so there are no deltas.</p>
      )}
    </div>
  );
}

export function ProposalDetail({ proposalId }: { proposalId: string }) {
  const trpc = useTRPC();
  const canRollOut = useCan('operator');
  const q = useQuery(trpc.proposals.get.queryOptions({ id: proposalId }));
  if (q.isError && q.error.data?.code === 'NOT_FOUND') notFound();
  if (q.isPending) return <Skeleton className="h-40" />;
  if (q.isError) return <ErrorState error={q.error} onRetry={() => void q.refetch()} />;
  const p = q.data;
  const diff = p.revision.diff;
  const compat = p.compatibility;

  return (
    <div className="space-y-6">
      <PageHeader
        title={`${p.artifact.label} on ${p.cluster.name}`}
        description={
          <span className="inline-flex flex-wrap items-center gap-2" data-testid="proposal-status">
            <ProposalStateBadge state={p.state} />
            <span>
              proposed {formatDateTime(p.createdAt)} by {p.requestedBy?.name ?? (p.origin === 'pipeline' ? 'the pipeline' : 'system')}
              {p.pipelineRun?.triggeredBy ? ` (run started by ${p.pipelineRun.triggeredBy})` : ''}
            </span>
          </span>
        }
        actions={
          <div className="flex items-start gap-2">
            <DecisionButtons p={p} />
            {/* Approved is the only state a rollout starts from; the server says why when it still refuses (expired, a rollout running, ...). */}
            {canRollOut && p.state === 'approved' ? (
              <StartRolloutDialog
                proposalId={p.id}
                trigger={
                  <Button>
                    <Rocket /> Roll out
                  </Button>
                }
              />
            ) : null}
          </div>
        }
      />
      {p.expiresSoon ? (
        <Alert variant="warning" data-testid="expires-soon">
          <AlertDescription>This proposal expires at {formatDateTime(p.expiresAt)}, within a day.</AlertDescription>
        </Alert>
      ) : null}
      {p.stateReason ? (
        <Alert>
          <AlertDescription data-testid="state-reason">{p.stateReason}</AlertDescription>
        </Alert>
      ) : null}

      <Card>
        <CardHeader>
          <CardTitle>Decision</CardTitle>
        </CardHeader>
        <CardContent className="space-y-3">
          <dl className="grid grid-cols-2 gap-4 md:grid-cols-4">
            <Info label="Approvals">
              <span data-testid="approval-count">
                {p.decision.validApprovals} of {p.decision.approvalsRequired} required
              </span>
            </Info>
            <Info label="Expires">{formatDateTime(p.expiresAt)}</Info>
            <Info label="Ready to roll out">{p.decision.approvedEnough ? 'Yes' : 'No'}</Info>
            <Info label="Reason given">{p.reason || '—'}</Info>
          </dl>
          {!p.decision.approvedEnough && p.decision.reasons.length > 0 ? (
            <ul className="list-disc pl-5 text-sm text-muted-foreground" data-testid="not-ready-reasons">
              {p.decision.reasons.map((r) => (
                <li key={r}>{r}</li>
              ))}
            </ul>
          ) : null}
          {p.approvals.length > 0 ? (
            <Table data-testid="approvals-table">
              <TableHeader>
                <TableRow>
                  <TableHead>Who</TableHead>
                  <TableHead>Decision</TableHead>
                  <TableHead>Counts</TableHead>
                  <TableHead>Comment</TableHead>
                  <TableHead>When</TableHead>
                </TableRow>
              </TableHeader>
              <TableBody>
                {p.approvals.map((a) => (
                  <TableRow key={a.id}>
                    <TableCell>{a.approver}</TableCell>
                    <TableCell>
                      <Badge variant={a.decision === 'approve' ? 'healthy' : 'critical'}>{a.decision}</Badge>
                    </TableCell>
                    <TableCell className="text-xs">{a.counts ? 'yes' : `no: ${a.reason}`}</TableCell>
                    <TableCell className="text-sm">{a.comment || '—'}</TableCell>
                    <TableCell>{formatDateTime(a.createdAt)}</TableCell>
                  </TableRow>
                ))}
              </TableBody>
            </Table>
          ) : null}
        </CardContent>
      </Card>

      {p.rollouts.length > 0 ? (
        <Card>
          <CardHeader>
            <CardTitle>Rollouts</CardTitle>
          </CardHeader>
          <CardContent>
            <ul className="space-y-1 text-sm" data-testid="proposal-rollouts">
              {p.rollouts.map((r) => (
                <li key={r.id} className="flex items-center gap-2">
                  <RolloutStateBadge state={r.state} />
                  <Link href={`/rollouts/${r.id}`} className="text-primary underline">
                    {r.kind === 'rollback' ? 'Rollback' : 'Rollout'} started {formatDateTime(r.createdAt)}
                  </Link>
                </li>
              ))}
            </ul>
          </CardContent>
        </Card>
      ) : null}

      <div className="grid gap-6 lg:grid-cols-2">
        <Card>
          <CardHeader>
            <CardTitle>Upstream revision</CardTitle>
          </CardHeader>
          <CardContent className="space-y-3">
            <dl className="grid grid-cols-2 gap-4">
              <Info label="Repository">{p.revision.repo}</Info>
              <Info label="Commit">
                <span className="font-mono">{p.revision.commitSha.slice(0, 12)}</span> {p.revision.commitTitle}
              </Info>
              <Info label="Change">{p.revision.changeClass.replace('_', ' ')}</Info>
              <Info label="Since">
                {p.revision.previousCommitSha ? (
                  <span className="font-mono">{p.revision.previousCommitSha.slice(0, 12)}</span>
                ) : (
                  'first revision'
                )}
              </Info>
            </dl>
            <div className="text-sm" data-testid="revision-diff">
              {(['added', 'changed', 'removed'] as const).map((k) =>
                diff[k]?.length ? (
                  <p key={k}>
                    <span className="font-medium">{k}</span>: <span className="font-mono text-xs">{diff[k]!.slice(0, 8).join(', ')}</span>
                    {diff[k]!.length > 8 ? ` and ${diff[k]!.length - 8} more` : ''}
                  </p>
                ) : null,
              )}
            </div>
          </CardContent>
        </Card>

        <Card>
          <CardHeader>
            <CardTitle>Artifact</CardTitle>
          </CardHeader>
          <CardContent>
            <dl className="grid grid-cols-2 gap-4">
              <Info label="Digest">
                <span className="font-mono text-xs" data-testid="artifact-digest">
                  {p.artifact.digest}
                </span>
              </Info>
              <Info label="Format">
                {p.artifact.format} · {p.artifact.quantisation}
              </Info>
              <Info label="Size">{formatBytes(Number(p.artifact.sizeBytes))}</Info>
              <Info label="Built by">
                {p.artifact.producedByRun ? (
                  <Link className="text-primary hover:underline" href={`/pipelines/${p.artifact.producedByRun.id}`}>
                    pipeline run ({p.artifact.producedByRun.state})
                  </Link>
                ) : (
                  'upstream download'
                )}
              </Info>
              {p.artifact.recipe ? (
                // The span on the dt/dd group itself: a <dl> may hold only such groups (axe definition-list).
                <Info label="Recipe and quantisation quality" className="col-span-2">
                  <pre className="whitespace-pre-wrap font-mono text-xs">{JSON.stringify(p.artifact.recipe, null, 2)}</pre>
                </Info>
              ) : null}
            </dl>
          </CardContent>
        </Card>

        <Card>
          <CardHeader>
            <CardTitle>Validation</CardTitle>
          </CardHeader>
          <CardContent>
            {p.validation ? (
              <ValidationEvidence v={p.validation} />
            ) : (
              <p className="text-sm text-muted-foreground">
                No validation run yet: the proposal waits for one before anyone can approve it.
              </p>
            )}
          </CardContent>
        </Card>

        <Card>
          <CardHeader>
            <CardTitle>Compatibility and fit on {p.cluster.name}</CardTitle>
          </CardHeader>
          <CardContent className="space-y-3" data-testid="compatibility">
            {compat ? (
              <>
                <p className="text-sm">
                  {compat.compatible === null ? 'Not checked' : compat.compatible ? 'Compatible' : 'Not compatible'} ·{' '}
                  {compat.fits === null ? 'fit not checked' : compat.fits ? 'fits' : 'does not fit'}
                  {compat.fitSummary ? `: ${compat.fitSummary}` : ''}
                  {compat.problem ? ` (${compat.problem})` : ''}
                </p>
                <ul className="space-y-1 text-sm">
                  {compat.verdicts
                    .filter((v) => v.status !== 'not_applicable')
                    .map((v) => (
                      <li key={v.rule} className="flex items-start gap-2">
                        <Badge variant={STATUS_VARIANT[v.status]}>{v.status}</Badge>
                        <span>{v.reason}</span>
                      </li>
                    ))}
                </ul>
              </>
            ) : (
              <p className="text-sm text-muted-foreground">No compatibility record.</p>
            )}
          </CardContent>
        </Card>
      </div>

      <Card>
        <CardContent className="pt-5">
          <dl className="grid gap-4 md:grid-cols-2">
            <Info label="Evidence digest (approvals bind to it)">
              <span className="font-mono text-xs" data-testid="evidence-digest">
                {p.evidenceDigest ?? '—'}
              </span>
            </Info>
            <Info label="Stored evidence re-checked">{p.evidenceVerified ? 'matches the digest' : 'does NOT match the digest'}</Info>
          </dl>
        </CardContent>
      </Card>
    </div>
  );
}
