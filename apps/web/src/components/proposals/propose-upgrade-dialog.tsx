'use client';
import { useMutation } from '@tanstack/react-query';
import { useRouter } from 'next/navigation';
import { toast } from 'sonner';
import { z } from 'zod';
import { FormDialog } from '~/components/form-dialog';
import { Field } from '~/components/form-helpers';
import { Textarea } from '~/components/ui/input';
import { useInvalidateProposals } from '~/trpc/invalidate';
import { useTRPC } from '~/trpc/react';

const ZProposeForm = z.object({ reason: z.string().trim().max(2000) });
type TProposeForm = z.infer<typeof ZProposeForm>;

/**
 * Proposes upgrading a cluster to an artifact on the evidence of a validation run (operator+). Someone
 * else (an approver or admin) must then approve it.
 */
export function ProposeUpgradeDialog({
  trigger,
  artifactId,
  clusterId,
  validationRunId,
  what,
}: {
  trigger: React.ReactNode;
  artifactId: string;
  clusterId: string;
  validationRunId: string | null;
  what: string;
}) {
  const trpc = useTRPC();
  const router = useRouter();
  const invalidate = useInvalidateProposals();
  const create = useMutation(trpc.proposals.create.mutationOptions());
  return (
    <FormDialog<TProposeForm, TProposeForm, { id: string; created: boolean }>
      trigger={trigger}
      title="Propose upgrade"
      description={`Asks for ${what}. Another person with the approver role must approve the evidence before it can roll out.`}
      formLabel="Propose upgrade"
      contentClassName="max-w-lg"
      schema={ZProposeForm}
      values={{ reason: '' }}
      submit={({ reason }) => create.mutateAsync({ artifactId, clusterId, validationRunId, ...(reason ? { reason } : {}) })}
      onSuccess={async (r) => {
        toast.success(r.created ? 'Upgrade proposed' : 'This upgrade is already proposed');
        await invalidate();
        router.push(`/proposals/${r.id}`);
      }}
      submitLabel="Propose"
      pendingLabel="Proposing…"
    >
      {(form) => (
        <Field
          label="Reason"
          htmlFor="proposal-reason"
          error={form.formState.errors.reason?.message}
          hint="Why this upgrade (optional), e.g. the upstream fix it brings."
        >
          <Textarea id="proposal-reason" rows={3} {...form.register('reason')} />
        </Field>
      )}
    </FormDialog>
  );
}
