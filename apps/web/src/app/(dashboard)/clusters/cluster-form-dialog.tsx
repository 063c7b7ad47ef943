'use client';
import { zodResolver } from '@hookform/resolvers/zod';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { useForm } from 'react-hook-form';
import { toast } from 'sonner';
import type { z } from 'zod';
import { SERVING_ENGINE_LABELS, SERVING_ENGINES, ZClusterFields } from '@fleetplane/contracts';
import { applyServerErrors, Field } from '~/components/form-helpers';
import { Alert, AlertDescription } from '~/components/ui/alert';
import { Button } from '~/components/ui/button';
import { Dialog, DialogContent, DialogDescription, DialogFooter, DialogHeader, DialogTitle, DialogTrigger } from '~/components/ui/dialog';
import { Input, NativeSelect, Textarea } from '~/components/ui/input';
import { useTRPC } from '~/trpc/react';

type FormIn = z.input<typeof ZClusterFields>;
type FormOut = z.output<typeof ZClusterFields>;
const FIELDS = ['name', 'siteId', 'description', 'servingEngine', 'engineVersion', 'endpointUrl', 'endpointApiKeyRef', 'servedModelName', 'maxContextTokens', 'gpuHourlyCostUsd', 'validationConcurrencyCap', 'downloadConcurrency', 'downloadBandwidthMbps'] as const;

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
  const queryClient = useQueryClient();
  const [open, setOpen] = useState(false);
  const [formError, setFormError] = useState<string | null>(null);
  const sites = useQuery({ ...trpc.sites.list.queryOptions(), enabled: open });
  const existing = useQuery({ ...trpc.clusters.get.queryOptions({ id: clusterId ?? '' }), enabled: open && !!clusterId });
  const form = useForm<FormIn, unknown, FormOut>({ resolver: zodResolver(ZClusterFields), defaultValues: EMPTY, mode: 'onTouched' });

  useEffect(() => {
    if (!open) return;
    setFormError(null);
    if (clusterId && existing.data) {
      const c = existing.data;
      form.reset({
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
      });
    } else if (!clusterId) {
      form.reset(EMPTY);
    }
  }, [open, clusterId, existing.data, form]);

  const onDone = async (name: string, endpointApiKeyDropped = false) => {
    if (endpointApiKeyDropped) toast.warning(`Cluster ${name} updated. The endpoint changed, so its API key secret was removed; name one for the new endpoint if it needs one.`);
    else toast.success(clusterId ? `Cluster ${name} updated` : `Cluster ${name} created`);
    setOpen(false);
    await queryClient.invalidateQueries({ queryKey: trpc.clusters.pathKey() });
    await queryClient.invalidateQueries({ queryKey: trpc.fleet.pathKey() });
  };
  const onError = (error: Parameters<typeof applyServerErrors>[0]) => setFormError(applyServerErrors(error, form.setError, FIELDS));
  const create = useMutation(trpc.clusters.create.mutationOptions({ onSuccess: (r) => onDone(r.name), onError }));
  const update = useMutation(trpc.clusters.update.mutationOptions({ onSuccess: (r) => onDone(r.name, r.endpointApiKeyDropped), onError }));
  const pending = create.isPending || update.isPending;

  const onSubmit = form.handleSubmit((data) => {
    setFormError(null);
    if (clusterId) update.mutate({ id: clusterId, data });
    else create.mutate(data);
  });
  const { errors } = form.formState;
  const reg = form.register;
  // The service drops a stored API key secret when the endpoint changes and the same secret is kept:
  // an API key never follows the cluster to another server. Say so before saving.
  const [endpointUrl, endpointApiKeyRef] = form.watch(['endpointUrl', 'endpointApiKeyRef']);
  const stored = existing.data;
  const keyWillBeDropped = !!clusterId && !!stored?.endpointApiKeyRef && (endpointUrl || null) !== (stored.endpointUrl ?? null) && (endpointApiKeyRef || null) === stored.endpointApiKeyRef;

  return (
    <Dialog open={open} onOpenChange={setOpen}>
      <DialogTrigger asChild>{trigger}</DialogTrigger>
      <DialogContent className="max-w-2xl">
        <DialogHeader>
          <DialogTitle>{clusterId ? 'Edit cluster' : 'New cluster'}</DialogTitle>
          <DialogDescription>A serving deployment of DeepSeek V4: its engine, endpoint and cost.</DialogDescription>
        </DialogHeader>
        <form onSubmit={onSubmit} noValidate className="grid gap-4" aria-label="Cluster form">
          {formError ? (
            <Alert variant="destructive">
              <AlertDescription>{formError}</AlertDescription>
            </Alert>
          ) : null}
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
              <Input id="cluster-endpoint" placeholder="http://10.0.0.5:8000" aria-invalid={!!errors.endpointUrl} {...reg('endpointUrl', { setValueAs: emptyToNull })} />
            </Field>
            <Field label="API key secret" htmlFor="cluster-key-ref" error={errors.endpointApiKeyRef?.message} hint="Name of an env var, never the key itself">
              <Input id="cluster-key-ref" placeholder="VLLM_API_KEY" aria-invalid={!!errors.endpointApiKeyRef} {...reg('endpointApiKeyRef', { setValueAs: emptyToNull })} />
            </Field>
            {keyWillBeDropped ? (
              <Alert className="sm:col-span-2" data-testid="api-key-drop-notice">
                <AlertDescription>Changing the endpoint removes the API key secret {stored?.endpointApiKeyRef} unless you name a different one, so a key never reaches a server it was not meant for.</AlertDescription>
              </Alert>
            ) : null}
            <Field label="Served model name" htmlFor="cluster-served-model" error={errors.servedModelName?.message}>
              <Input id="cluster-served-model" placeholder="deepseek-ai/DeepSeek-V4-Flash" {...reg('servedModelName', { setValueAs: emptyToNull })} />
            </Field>
            <Field label="Max context (tokens)" htmlFor="cluster-max-ctx" error={errors.maxContextTokens?.message}>
              <Input id="cluster-max-ctx" type="number" inputMode="numeric" aria-invalid={!!errors.maxContextTokens} {...reg('maxContextTokens', { setValueAs: toNumber })} />
            </Field>
            <Field label="GPU cost ($ per GPU-hour)" htmlFor="cluster-cost" error={errors.gpuHourlyCostUsd?.message}>
              <Input id="cluster-cost" type="number" step="0.01" inputMode="decimal" aria-invalid={!!errors.gpuHourlyCostUsd} {...reg('gpuHourlyCostUsd', { setValueAs: toNumber })} />
            </Field>
            <Field label="Validation concurrency cap" htmlFor="cluster-cap" error={errors.validationConcurrencyCap?.message} hint="Most requests a validation run sends at once">
              <Input id="cluster-cap" type="number" inputMode="numeric" aria-invalid={!!errors.validationConcurrencyCap} {...reg('validationConcurrencyCap', { setValueAs: toNumber })} />
            </Field>
            <Field label="Download files at once" htmlFor="cluster-dl-concurrency" error={errors.downloadConcurrency?.message} hint="Across all pipeline runs for this cluster; empty = no limit">
              <Input id="cluster-dl-concurrency" type="number" inputMode="numeric" placeholder="no limit" aria-invalid={!!errors.downloadConcurrency} {...reg('downloadConcurrency', { setValueAs: toNullableNumber })} />
            </Field>
            <Field label="Download bandwidth (Mbit/s)" htmlFor="cluster-dl-bandwidth" error={errors.downloadBandwidthMbps?.message} hint="Shared by this cluster's pipeline downloads; empty = no cap">
              <Input id="cluster-dl-bandwidth" type="number" inputMode="numeric" placeholder="no cap" aria-invalid={!!errors.downloadBandwidthMbps} {...reg('downloadBandwidthMbps', { setValueAs: toNullableNumber })} />
            </Field>
          </div>
          <Field label="Description" htmlFor="cluster-description" error={errors.description?.message}>
            <Textarea id="cluster-description" rows={2} {...reg('description')} />
          </Field>
          <DialogFooter>
            <Button type="button" variant="outline" onClick={() => setOpen(false)}>
              Cancel
            </Button>
            <Button type="submit" disabled={pending || (!!clusterId && existing.isPending)}>
              {pending ? 'Saving…' : clusterId ? 'Save changes' : 'Create cluster'}
            </Button>
          </DialogFooter>
        </form>
      </DialogContent>
    </Dialog>
  );
}
