'use client';
import { useMutation, useQuery } from '@tanstack/react-query';
import { useRouter } from 'next/navigation';
import { useState } from 'react';
import type { UseFormReturn } from 'react-hook-form';
import { toast } from 'sonner';
import { z } from 'zod';
import { FormDialog } from '~/components/form-dialog';
import { Field } from '~/components/form-helpers';
import { NativeSelect } from '~/components/ui/input';
import { formatDateTime } from '~/lib/utils';
import { useInvalidateValidationRuns } from '~/trpc/invalidate';
import { useTRPC } from '~/trpc/react';

const AUTO = '__auto__';
const NONE = '__none__';

// The cluster and suite come from lists; the baseline select adds "latest passing" and "none" to the
// runs it offers, and becomes the API's optional baselineRunId.
const ZStartRunForm = z.object({
  clusterId: z.string().min(1, 'Choose a cluster.'),
  suiteName: z.string().min(1),
  baseline: z.string(),
});
type TStartRunForm = z.infer<typeof ZStartRunForm>;

/** Starts a run (operator+). The baseline defaults to the latest passing run of the suite on the cluster. */
export function StartRunDialog({ trigger, clusterId: presetCluster }: { trigger: React.ReactNode; clusterId?: string }) {
  const trpc = useTRPC();
  const router = useRouter();
  const invalidateValidationRuns = useInvalidateValidationRuns();
  const [open, setOpen] = useState(false);
  const clusters = useQuery({ ...trpc.clusters.options.queryOptions(), enabled: open });
  const suites = useQuery({ ...trpc.validationSuites.list.queryOptions(), enabled: open });
  const start = useMutation(trpc.validationRuns.start.mutationOptions());

  return (
    <FormDialog<TStartRunForm, TStartRunForm, { id: string }>
      trigger={trigger}
      onOpenChange={setOpen}
      title="Start validation run"
      description="Runs a suite against the cluster's endpoint, within its validation concurrency cap."
      formLabel="Start validation run"
      contentClassName="max-w-lg"
      schema={ZStartRunForm}
      values={{ clusterId: presetCluster ?? '', suiteName: 'smoke', baseline: AUTO }}
      submit={({ clusterId, suiteName, baseline }) =>
        start.mutateAsync({ clusterId, suiteName, ...(baseline === AUTO ? {} : { baselineRunId: baseline === NONE ? null : baseline }) })
      }
      onSuccess={async (r) => {
        toast.success('Validation run started');
        await invalidateValidationRuns();
        router.push(`/validation/${r.id}`);
      }}
      submitLabel="Start run"
      pendingLabel="Starting…"
    >
      {(form) => (
        <StartRunFields
          form={form}
          presetCluster={presetCluster}
          clusters={clusters.data}
          clustersPending={clusters.isPending}
          suites={suites.data}
        />
      )}
    </FormDialog>
  );
}

function StartRunFields({
  form,
  presetCluster,
  clusters,
  clustersPending,
  suites,
}: {
  form: UseFormReturn<TStartRunForm>;
  presetCluster?: string;
  clusters?: { id: string; name: string }[];
  clustersPending: boolean;
  suites?: { name: string; version: number; checks: { key: string }[] }[];
}) {
  const trpc = useTRPC();
  const {
    register,
    watch,
    formState: { errors },
  } = form;
  const clusterId = watch('clusterId');
  const suiteName = watch('suiteName');
  // Earlier passing runs of this suite on this cluster, offered as explicit baselines.
  const candidates = useQuery({
    ...trpc.validationRuns.list.queryOptions({
      clusterId: clusterId || undefined,
      suiteName,
      verdict: 'pass',
      page: 1,
      pageSize: 20,
      sortBy: 'createdAt',
      sortDir: 'desc',
    }),
    enabled: !!clusterId,
  });
  const suite = suites?.find((s) => s.name === suiteName);
  return (
    <>
      <Field label="Cluster" htmlFor="run-cluster" error={errors.clusterId?.message}>
        {/* A preset cluster is shown but not editable; the form already holds it. */}
        <NativeSelect
          id="run-cluster"
          aria-invalid={!!errors.clusterId}
          {...(presetCluster ? { value: presetCluster, disabled: true } : register('clusterId'))}
        >
          <option value="">{clustersPending ? 'Loading clusters…' : 'Choose a cluster'}</option>
          {clusters?.map((c) => (
            <option key={c.id} value={c.id}>
              {c.name}
            </option>
          ))}
        </NativeSelect>
      </Field>
      <Field label="Suite" htmlFor="run-suite" hint={suite ? `v${suite.version}: ${suite.checks.map((c) => c.key).join(', ')}` : undefined}>
        <NativeSelect id="run-suite" {...register('suiteName')}>
          {(suites ?? [{ name: 'smoke', version: 1 }]).map((s) => (
            <option key={s.name} value={s.name}>
              {s.name} (v{s.version})
            </option>
          ))}
        </NativeSelect>
      </Field>
      <Field label="Baseline" htmlFor="run-baseline" hint="Metrics are gated against the baseline run (e.g. TTFT p99 at most 10% worse).">
        <NativeSelect id="run-baseline" {...register('baseline')}>
          <option value={AUTO}>Latest passing run (default)</option>
          <option value={NONE}>No baseline</option>
          {candidates.data?.items.map((r) => (
            <option key={r.id} value={r.id}>
              {formatDateTime(r.finishedAt ?? r.createdAt)} · {r.suite.name} v{r.suite.version}
            </option>
          ))}
        </NativeSelect>
      </Field>
    </>
  );
}
