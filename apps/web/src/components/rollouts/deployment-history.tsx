'use client';
import { useMutation, useQuery } from '@tanstack/react-query';
import { Undo2 } from 'lucide-react';
import Link from 'next/link';
import { useRouter } from 'next/navigation';
import { toast } from 'sonner';
import type { z } from 'zod';
import { ZRollbackToDeploymentInput } from '@fleetplane/contracts';
import { FormDialog } from '~/components/form-dialog';
import { Field } from '~/components/form-helpers';
import { useCan } from '~/components/session-context';
import { EmptyState, QueryView, TableSkeleton } from '~/components/states';
import { Button } from '~/components/ui/button';
import { Card, CardContent, CardDescription, CardHeader, CardTitle } from '~/components/ui/card';
import { Textarea } from '~/components/ui/input';
import { formatDateTime } from '~/lib/utils';
import { useInvalidateRollouts } from '~/trpc/invalidate';
import { useTRPC } from '~/trpc/react';
import { DeploymentStateBadge, RolloutStateBadge, shortDigest } from './rollout-badges';

const ZReasonForm = ZRollbackToDeploymentInput.pick({ reason: true });
type ReasonIn = z.input<typeof ZReasonForm>;

/** Rolls back to an earlier deployment: no new approval, the same canary machinery; asks why. */
function RollbackButton({ deploymentId, label }: { deploymentId: string; label: string }) {
  const trpc = useTRPC();
  const router = useRouter();
  const invalidate = useInvalidateRollouts();
  const rollback = useMutation(trpc.rollouts.rollback.mutationOptions());
  return (
    <FormDialog<ReasonIn, z.output<typeof ZReasonForm>, { id: string }>
      trigger={
        <Button variant="outline" size="sm">
          <Undo2 /> Roll back
        </Button>
      }
      title={`Roll back to ${label}`}
      description="Rolls this earlier deployment's artifact out again through prefetch, canary, waves and analysis. Its evidence was approved before, so no new approval is needed; the action is audited."
      formLabel="Rollback form"
      schema={ZReasonForm}
      values={{ reason: '' }}
      submit={(v) => rollback.mutateAsync({ deploymentId, reason: v.reason })}
      onSuccess={async (r) => {
        toast.success('Rollback started');
        await invalidate();
        router.push(`/rollouts/${r.id}`);
      }}
      submitLabel="Start rollback"
    >
      {({ register, formState: { errors } }) => (
        <Field label="Why" htmlFor="rollback-reason" error={errors.reason?.message}>
          <Textarea id="rollback-reason" aria-invalid={!!errors.reason} {...register('reason')} />
        </Field>
      )}
    </FormDialog>
  );
}

/** A cluster's deployments, newest first: what, from which revision, who asked and approved, evidence, outcome. */
export function DeploymentHistory({ clusterId }: { clusterId: string }) {
  const trpc = useTRPC();
  const canRollback = useCan('operator');
  const query = useQuery(trpc.rollouts.history.queryOptions({ clusterId, limit: 50 }));
  return (
    <Card>
      <CardHeader>
        <CardTitle>Deployment history</CardTitle>
        <CardDescription>Every artifact this cluster was rolled out to, with its approvals and evidence.</CardDescription>
      </CardHeader>
      <CardContent>
        <QueryView
          query={query}
          skeleton={<TableSkeleton rows={3} columns={4} />}
          isEmpty={(d) => d.length === 0}
          empty={<EmptyState title="No deployments yet" description="Approved proposals rolled out to this cluster appear here." />}
        >
          {(rows) => (
            <ol className="relative space-y-4 border-l pl-5" data-testid="deployment-history">
              {rows.map((d, i) => (
                <li key={d.id} className="relative">
                  <span className="absolute -left-[27px] top-1.5 size-3 rounded-full border-2 border-background bg-primary" aria-hidden />
                  <div className="flex flex-wrap items-center gap-2">
                    <span className="font-medium">{d.artifact.label}</span>
                    <DeploymentStateBadge state={d.state} />
                    {d.rollout ? (
                      <Link href={`/rollouts/${d.rollout.id}`} className="text-sm text-primary hover:underline">
                        {d.rollout.kind === 'rollback' ? 'rollback' : 'rollout'} <RolloutStateBadge state={d.rollout.state} />
                      </Link>
                    ) : null}
                    {canRollback && d.canRollBackTo && i > 0 ? <RollbackButton deploymentId={d.id} label={d.artifact.label} /> : null}
                  </div>
                  <p className="mt-1 text-sm text-muted-foreground">
                    {formatDateTime(d.startedAt)}
                    {d.endedAt ? ` – ${formatDateTime(d.endedAt)}` : ''} · started by {d.startedBy}
                    {d.proposal ? (
                      <>
                        {' '}
                        · requested by {d.proposal.requestedBy ?? 'unknown'} · approved by {d.proposal.approvedBy.join(', ') || 'nobody'} ·
                        evidence <span className="font-mono">{shortDigest(d.proposal.evidenceDigest)}</span>
                      </>
                    ) : null}
                  </p>
                  {d.rollout?.reason ? <p className="mt-0.5 text-xs text-muted-foreground">{d.rollout.reason}</p> : null}
                </li>
              ))}
            </ol>
          )}
        </QueryView>
      </CardContent>
    </Card>
  );
}
