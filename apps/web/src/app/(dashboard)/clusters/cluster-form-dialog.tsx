'use client';
import { useMutation, useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { toast } from 'sonner';
import type { z } from 'zod';
import { SERVING_ENGINE_LABELS, SERVING_ENGINES, ZClusterFields } from '@fleetplane/contracts';
import { FormDialog } from '~/components/form-dialog';
import { Field } from '~/components/form-helpers';
import { Alert, AlertDescription } from '~/components/ui/alert';
import { Input, NativeSelect, Textarea } from '~/components/ui/input';
import { useInvalidateClusters } from '~/trpc/invalidate';
import { useTRPC } from '~/trpc/react';

type FormIn = z.input<typeof ZClusterFields>;
type FormOut = z.output<typeof ZClusterFields>;

const EMPTY: FormIn = {
  name: '',
  siteId: '',
  description: '',
  servingEngine: 'vllm',
  engineVersion: '',
  endpointUrl: null,
  endpointApiKeyRef: null,
  servedModelName: null,
  maxContextTokens: 131072,
  gpuHourlyCostUsd: 0,
  validationConcurrencyCap: 16,
  downloadConcurrency: null,
  downloadBandwidthMbps: null,
};

const emptyToNull = (v: unknown) => (typeof v === 'string' && v.trim() === '' ? null : v);
const toNumber = (v: unknown) => (v === '' || v === null || v === undefined ? Number.NaN : Number(v));
// Optional limits: an empty box means "no limit" (null).
const toNullableNumber = (v: unknown) => (v === '' || v === null || v === undefined ? null : Number(v));

export function ClusterFormDialog({ clusterId, trigger }: { clusterId?: string; trigger: React.ReactNode }) {
  const trpc = useTRPC();
  const invalidateClusters = useInvalidateClusters();
  const [open, setOpen] = useState(false);
  const sites = useQuery({ ...trpc.sites.list.queryOptions(), enabled: open });
  const existing = useQuery({ ...trpc.clusters.get.queryOptions({ id: clusterId ?? '' }), enabled: open && !!clusterId });
  const create = useMutation(trpc.clusters.create.mutationOptions());
  const update = useMutation(trpc.clusters.update.mutationOptions());
  const c = existing.data;
  const values: FormIn | undefined = !clusterId
    ? EMPTY
    : c
      ? {
          name: c.name,
          siteId: c.siteId,
          description: c.description,
          servingEngine: c.servingEngine,
          engineVersion: c.engineVersion,
          endpointUrl: c.endpointUrl,
          endpointApiKeyRef: c.endpointApiKeyRef,
          servedModelName: c.servedModelName,
          maxContextTokens: c.maxContextTokens,
          gpuHourlyCostUsd: c.gpuHourlyCostUsd,
          validationConcurrencyCap: c.validationConcurrencyCap,
          downloadConcurrency: c.downloadConcurrency,
          downloadBandwidthMbps: c.downloadBandwidthMbps,
        }
      : undefined;

  return (
    <FormDialog<FormIn, FormOut, { name: string; endpointApiKeyDropped?: boolean }>
      trigger={trigger}
      onOpenChange={setOpen}
      title={clusterId ? 'Edit cluster' : 'New cluster'}
      description="A serving deployment of DeepSeek V4: its engine, endpoint and cost."
      formLabel="Cluster form"
      contentClassName="max-w-2xl"
      schema={ZClusterFields}
      values={values}
      submit={(data) => (clusterId ? update.mutateAsync({ id: clusterId, data }) : create.mutateAsync(data))}
      onSuccess={async (r) => {
        if (r.endpointApiKeyDropped)
          toast.warning(
            `Cluster ${r.name} updated. The endpoint changed, so its API key secret was removed; name one for the new endpoint if it needs one.`,
          );
        else toast.success(clusterId ? `Cluster ${r.name} updated` : `Cluster ${r.name} created`);
        await invalidateClusters();
      }}
      submitLabel={clusterId ? 'Save changes' : 'Create cluster'}
    >
      {({ register: reg, formState: { errors }, watch }) => {
        // The service drops a stored API key secret when the endpoint changes and the same secret is kept:
        // an API key never follows the cluster to another server. Say so before saving.
        const [endpointUrl, endpointApiKeyRef] = watch(['endpointUrl', 'endpointApiKeyRef']);
        const stored = existing.data;
        const keyWillBeDropped =
          !!clusterId &&
          !!stored?.endpointApiKeyRef &&
          (endpointUrl || null) !== (stored.endpointUrl ?? null) &&
          (endpointApiKeyRef || null) === stored.endpointApiKeyRef;
        return (
          <>
            <div className="grid gap-4 sm:grid-cols-2">
              <Field label="Name" htmlFor="cluster-name" error={errors.name?.message} hint="Lower-case, digits and dashes">
                <Input id="cluster-name" aria-invalid={!!errors.name} {...reg('name')} />
              </Field>
              <Field label="Site" htmlFor="cluster-site" error={errors.siteId?.message}>
                <NativeSelect id="cluster-site" aria-invalid={!!errors.siteId} {...reg('siteId')}>
                  <option value="">{sites.isPending ? 'Loading sites…' : 'Choose a site'}</option>
                  {sites.data?.map((s) => (
                    <option key={s.id} value={s.id}>
                      {s.name} ({s.region}, {s.dataResidency})
                    </option>
                  ))}
                </NativeSelect>
              </Field>
              <Field label="Serving engine" htmlFor="cluster-engine" error={errors.servingEngine?.message}>
                <NativeSelect id="cluster-engine" {...reg('servingEngine')}>
                  {SERVING_ENGINES.map((e) => (
                    <option key={e} value={e}>
                      {SERVING_ENGINE_LABELS[e]}
                    </option>
                  ))}
                </NativeSelect>
              </Field>
              <Field label="Engine version" htmlFor="cluster-engine-version" error={errors.engineVersion?.message} hint="e.g. 0.11.2">
                <Input id="cluster-engine-version" aria-invalid={!!errors.engineVersion} {...reg('engineVersion')} />
              </Field>
              <Field label="Endpoint URL" htmlFor="cluster-endpoint" error={errors.endpointUrl?.message} hint="OpenAI-compatible base URL">
                <Input
                  id="cluster-endpoint"
                  placeholder="http://10.0.0.5:8000"
                  aria-invalid={!!errors.endpointUrl}
                  {...reg('endpointUrl', { setValueAs: emptyToNull })}
                />
              </Field>
              <Field
                label="API key secret"
                htmlFor="cluster-key-ref"
                error={errors.endpointApiKeyRef?.message}
                hint="Name of an env var, never the key itself"
              >
                <Input
                  id="cluster-key-ref"
                  placeholder="VLLM_API_KEY"
                  aria-invalid={!!errors.endpointApiKeyRef}
                  {...reg('endpointApiKeyRef', { setValueAs: emptyToNull })}
                />
              </Field>
              {keyWillBeDropped ? (
                <Alert className="sm:col-span-2" data-testid="api-key-drop-notice">
                  <AlertDescription>
                    Changing the endpoint removes the API key secret {stored?.endpointApiKeyRef} unless you name a different one, so a key
                    never reaches a server it was not meant for.
                  </AlertDescription>
                </Alert>
              ) : null}
              <Field label="Served model name" htmlFor="cluster-served-model" error={errors.servedModelName?.message}>
                <Input
                  id="cluster-served-model"
                  placeholder="deepseek-ai/DeepSeek-V4-Flash"
                  {...reg('servedModelName', { setValueAs: emptyToNull })}
                />
              </Field>
              <Field label="Max context (tokens)" htmlFor="cluster-max-ctx" error={errors.maxContextTokens?.message}>
                <Input
                  id="cluster-max-ctx"
                  type="number"
                  inputMode="numeric"
                  aria-invalid={!!errors.maxContextTokens}
                  {...reg('maxContextTokens', { setValueAs: toNumber })}
                />
              </Field>
              <Field label="GPU cost ($ per GPU-hour)" htmlFor="cluster-cost" error={errors.gpuHourlyCostUsd?.message}>
                <Input
                  id="cluster-cost"
                  type="number"
                  step="0.01"
                  inputMode="decimal"
                  aria-invalid={!!errors.gpuHourlyCostUsd}
                  {...reg('gpuHourlyCostUsd', { setValueAs: toNumber })}
                />
              </Field>
              <Field
                label="Validation concurrency cap"
                htmlFor="cluster-cap"
                error={errors.validationConcurrencyCap?.message}
                hint="Most requests a validation run sends at once"
              >
                <Input
                  id="cluster-cap"
                  type="number"
                  inputMode="numeric"
                  aria-invalid={!!errors.validationConcurrencyCap}
                  {...reg('validationConcurrencyCap', { setValueAs: toNumber })}
                />
              </Field>
              <Field
                label="Download files at once"
                htmlFor="cluster-dl-concurrency"
                error={errors.downloadConcurrency?.message}
                hint="Across all pipeline runs for this cluster; empty = no limit"
              >
                <Input
                  id="cluster-dl-concurrency"
                  type="number"
                  inputMode="numeric"
                  placeholder="no limit"
                  aria-invalid={!!errors.downloadConcurrency}
                  {...reg('downloadConcurrency', { setValueAs: toNullableNumber })}
                />
              </Field>
              <Field
                label="Download bandwidth (Mbit/s)"
                htmlFor="cluster-dl-bandwidth"
                error={errors.downloadBandwidthMbps?.message}
                hint="Shared by this cluster's pipeline downloads; empty = no cap"
              >
                <Input
                  id="cluster-dl-bandwidth"
                  type="number"
                  inputMode="numeric"
                  placeholder="no cap"
                  aria-invalid={!!errors.downloadBandwidthMbps}
                  {...reg('downloadBandwidthMbps', { setValueAs: toNullableNumber })}
                />
              </Field>
            </div>
            <Field label="Description" htmlFor="cluster-description" error={errors.description?.message}>
              <Textarea id="cluster-description" rows={2} {...reg('description')} />
            </Field>
          </>
        );
      }}
    </FormDialog>
  );
}
