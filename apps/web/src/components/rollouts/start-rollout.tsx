'use client';
import { useMutation, useQuery } from '@tanstack/react-query';
import { Rocket } from 'lucide-react';
import { useRouter } from 'next/navigation';
import { useState } from 'react';
import { toast } from 'sonner';
import type { z } from 'zod';
import { ZStartRolloutInput } from '@fleetplane/contracts';
import { FormDialog } from '~/components/form-dialog';
import { Field } from '~/components/form-helpers';
import { Button } from '~/components/ui/button';
import { NativeSelect } from '~/components/ui/input';
import { useInvalidateRollouts } from '~/trpc/invalidate';
import { useTRPC } from '~/trpc/react';

type FormIn = z.input<typeof ZStartRolloutInput>;

/**
 * Starts a rollout of an approved proposal: picked from the approved ones, or fixed (`proposalId`, for a
 * proposal page's button). Refusals (approvals no longer valid, another rollout in progress, an artifact
 * that does not fit) come back from the server and show in the dialog.
 */
export function StartRolloutDialog({ proposalId, trigger }: { proposalId?: string; trigger?: React.ReactNode }) {
  const trpc = useTRPC();
  const router = useRouter();
  const invalidate = useInvalidateRollouts();
  const [open, setOpen] = useState(false);
  const approved = useQuery({
    ...trpc.proposals.list.queryOptions({ page: 1, pageSize: 100, state: 'approved', sortBy: 'createdAt', sortDir: 'desc' }),
    enabled: open && !proposalId,
  });
  const start = useMutation(trpc.rollouts.start.mutationOptions());
  return (
    <FormDialog<FormIn, z.output<typeof ZStartRolloutInput>, { id: string }>
      trigger={
        trigger ?? (
          <Button>
            <Rocket /> Start rollout
          </Button>
        )
      }
      onOpenChange={setOpen}
      title="Start rollout"
      description="Prefetches the approved artifact on every node of the proposal's cluster, then loads it on a canary and in waves, each followed by an analysis window that rolls back automatically when the new artifact is worse."
      formLabel="Start rollout form"
      schema={ZStartRolloutInput}
      values={{ proposalId: proposalId ?? '' }}
      submit={(v) => start.mutateAsync(v)}
      onSuccess={async (r) => {
        toast.success('Rollout started');
        await invalidate();
        router.push(`/rollouts/${r.id}`);
      }}
      submitLabel="Start rollout"
    >
      {({ register, formState: { errors } }) =>
        proposalId ? null : (
          <Field label="Approved proposal" htmlFor="rollout-proposal" error={errors.proposalId?.message}>
            <NativeSelect id="rollout-proposal" aria-invalid={!!errors.proposalId} {...register('proposalId')}>
              <option value="">
                {approved.isPending
                  ? 'Loading approved proposals…'
                  : approved.data?.items.length
                    ? 'Choose a proposal'
                    : 'No approved proposal'}
              </option>
              {approved.data?.items.map((p) => (
                <option key={p.id} value={p.id}>
                  {p.artifact.label} → {p.cluster.name} ({p.approvals.valid}/{p.approvals.required} approvals)
                </option>
              ))}
            </NativeSelect>
          </Field>
        )
      }
    </FormDialog>
  );
}
