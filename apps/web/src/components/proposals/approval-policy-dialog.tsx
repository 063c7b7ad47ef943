'use client';
import { useMutation } from '@tanstack/react-query';
import { toast } from 'sonner';
import { z } from 'zod';
import { FormDialog } from '~/components/form-dialog';
import { Field } from '~/components/form-helpers';
import { Input } from '~/components/ui/input';
import { useInvalidateClusters, useInvalidateProposals } from '~/trpc/invalidate';
import { useTRPC } from '~/trpc/react';

// The suite is typed as text; an empty field means the default gating suite (null in the API).
const ZPolicyForm = z.object({
  approvalsRequired: z.number({ error: 'Enter a number' }).int().min(1, 'At least one approval').max(5, 'At most 5'),
  proposalExpiryDays: z.number({ error: 'Enter a number' }).int().min(1, 'At least one day').max(90, 'At most 90 days'),
  gatingSuiteName: z.string().trim().max(63),
});
type TPolicyForm = z.infer<typeof ZPolicyForm>;

/** Admin: how many people other than the requester must approve, how long proposals live, which suite gates them. */
export function ApprovalPolicyDialog({
  trigger,
  cluster,
}: {
  trigger: React.ReactNode;
  cluster: { id: string; approvalsRequired: number; proposalExpiryDays: number; gatingSuiteName: string | null };
}) {
  const trpc = useTRPC();
  const invalidateClusters = useInvalidateClusters();
  const invalidateProposals = useInvalidateProposals();
  const update = useMutation(trpc.proposals.updatePolicy.mutationOptions());
  return (
    <FormDialog<TPolicyForm, TPolicyForm, unknown>
      trigger={trigger}
      title="Approval policy"
      description="Applies to this cluster's proposals: approvals are counted again on every decision, and new proposals take the new expiry."
      formLabel="Approval policy"
      contentClassName="max-w-lg"
      schema={ZPolicyForm}
      values={{
        approvalsRequired: cluster.approvalsRequired,
        proposalExpiryDays: cluster.proposalExpiryDays,
        gatingSuiteName: cluster.gatingSuiteName ?? '',
      }}
      submit={(v) =>
        update.mutateAsync({
          clusterId: cluster.id,
          approvalsRequired: v.approvalsRequired,
          proposalExpiryDays: v.proposalExpiryDays,
          gatingSuiteName: v.gatingSuiteName || null,
        })
      }
      onSuccess={async () => {
        toast.success('Approval policy saved');
        await Promise.all([invalidateClusters(), invalidateProposals()]);
      }}
      submitLabel="Save"
    >
      {(form) => {
        const { errors } = form.formState;
        return (
          <>
            <Field
              label="Approvals required"
              htmlFor="policy-approvals"
              error={errors.approvalsRequired?.message}
              hint="From people other than the requester (separation of duties)."
            >
              <Input id="policy-approvals" type="number" min={1} max={5} {...form.register('approvalsRequired', { valueAsNumber: true })} />
            </Field>
            <Field label="Proposal expiry (days)" htmlFor="policy-expiry" error={errors.proposalExpiryDays?.message}>
              <Input id="policy-expiry" type="number" min={1} max={90} {...form.register('proposalExpiryDays', { valueAsNumber: true })} />
            </Field>
            <Field
              label="Gating suite"
              htmlFor="policy-suite"
              error={errors.gatingSuiteName?.message}
              hint="Validation suite the pipeline's validate stage gates on; empty = the default."
            >
              <Input id="policy-suite" {...form.register('gatingSuiteName')} />
            </Field>
          </>
        );
      }}
    </FormDialog>
  );
}
