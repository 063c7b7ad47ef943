'use client';
import { useMutation, useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { toast } from 'sonner';
import type { z } from 'zod';
import { ZRolloutPolicy } from '@fleetplane/contracts';
import { FormDialog } from '~/components/form-dialog';
import { Field } from '~/components/form-helpers';
import { Input } from '~/components/ui/input';
import { useInvalidateRollouts } from '~/trpc/invalidate';
import { useTRPC } from '~/trpc/react';

type FormIn = z.input<typeof ZRolloutPolicy>;
type FormOut = z.output<typeof ZRolloutPolicy>;
const toNumber = (v: unknown) => (v === '' || v === null || v === undefined ? Number.NaN : Number(v));
// Optional limits: an empty box means "none" (null).
const toNullableNumber = (v: unknown) => (v === '' || v === null || v === undefined ? null : Number(v));

const NUMBER_FIELDS: { key: keyof FormIn; label: string; hint: string; nullable?: boolean; step?: string }[] = [
  { key: 'canaryNodes', label: 'Canary nodes', hint: 'Nodes in the canary step' },
  { key: 'canarySharePct', label: 'Canary share (%)', hint: 'Instead of a count; empty = use the count', nullable: true },
  { key: 'waves', label: 'Waves', hint: 'The remaining nodes are split into this many' },
  { key: 'analysisIntervalSeconds', label: 'Analysis interval (s)', hint: 'Seconds between checks (Flagger: 60)' },
  { key: 'analysisChecks', label: 'Checks per window', hint: 'Checks after each step (Argo count)' },
  { key: 'failureLimit', label: 'Failure limit', hint: 'Failed checks tolerated; one more rolls back (Argo: 0)' },
  { key: 'maxTtftP99Ratio', label: 'Max TTFT p99 ratio', hint: '× the previous artifact on the other nodes', step: '0.01' },
  { key: 'maxTtftP99Seconds', label: 'Max TTFT p99 (s)', hint: 'Absolute cap; empty = none', nullable: true, step: '0.01' },
  { key: 'maxErrorRatePct', label: 'Max error rate (%)', hint: 'Failed among finished requests (Flagger: 1)', step: '0.01' },
  { key: 'minTokensPerSecondRatio', label: 'Min tokens/s ratio', hint: '× the previous artifact per node (0–1)', step: '0.01' },
];

export function RolloutPolicyDialog({ clusterId, trigger }: { clusterId: string; trigger: React.ReactNode }) {
  const trpc = useTRPC();
  const invalidate = useInvalidateRollouts();
  const [open, setOpen] = useState(false);
  const current = useQuery({ ...trpc.rollouts.policy.queryOptions({ clusterId }), enabled: open });
  const update = useMutation(trpc.rollouts.updatePolicy.mutationOptions());
  return (
    <FormDialog<FormIn, FormOut, FormOut>
      trigger={trigger}
      onOpenChange={setOpen}
      title="Rollout policy"
      description="How upgrades reach this cluster: canary size, waves, the analysis window and its thresholds. Running rollouts keep the policy they started with."
      formLabel="Rollout policy form"
      contentClassName="max-w-2xl"
      schema={ZRolloutPolicy}
      values={current.data}
      submit={(policy) => update.mutateAsync({ clusterId, policy })}
      onSuccess={async () => {
        toast.success('Rollout policy saved');
        await invalidate();
      }}
      submitLabel="Save policy"
    >
      {({ register, formState: { errors } }) => (
        <>
          <div className="grid gap-4 sm:grid-cols-2">
            {NUMBER_FIELDS.map((f) => (
              <Field key={f.key} label={f.label} htmlFor={`policy-${f.key}`} hint={f.hint} error={errors[f.key]?.message}>
                <Input
                  id={`policy-${f.key}`}
                  type="number"
                  step={f.step ?? '1'}
                  aria-invalid={!!errors[f.key]}
                  {...register(f.key, { setValueAs: f.nullable ? toNullableNumber : toNumber })}
                />
              </Field>
            ))}
          </div>
          <div className="space-y-2">
            <label className="flex items-center gap-2 text-sm">
              <input type="checkbox" {...register('failOnNoTraffic')} /> A check without traffic on the canary fails (Flagger); off, it is
              inconclusive and the rollout pauses for a person (Argo)
            </label>
            <label className="flex items-center gap-2 text-sm">
              <input type="checkbox" {...register('autoRolloutOnApproval')} /> Roll out automatically when a proposal is approved
            </label>
          </div>
        </>
      )}
    </FormDialog>
  );
}
