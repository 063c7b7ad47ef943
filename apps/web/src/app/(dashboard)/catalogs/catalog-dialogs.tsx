'use client';
import { useMutation } from '@tanstack/react-query';
import { toast } from 'sonner';
import { z } from 'zod';
import {
  ARTIFACT_FORMATS,
  GPU_GENERATIONS,
  GPU_VENDORS,
  ZApiPriceFields,
  ZCatalogEngineFields,
  ZCatalogGpuFields,
  type TCapacityEngineKind,
  type TCatalogEngineFields,
  type TCatalogGpuFields,
} from '@fleetplane/contracts';
import type { RouterOutputs } from '@fleetplane/api';
import { ConfirmDialog } from '~/components/confirm-dialog';
import { FormDialog } from '~/components/form-dialog';
import { Field } from '~/components/form-helpers';
import { Input, NativeSelect } from '~/components/ui/input';
import { useInvalidateCatalogs } from '~/trpc/invalidate';
import { useTRPC } from '~/trpc/react';

type CatalogGpu = RouterOutputs['catalog']['gpus'][number];
type CatalogEngine = RouterOutputs['catalog']['engines'][number];
type ApiPrice = RouterOutputs['catalog']['apiPrices'][number];

const checkbox = 'size-4 rounded border-input accent-primary';

// Empty text fields mean "not known" (null) to the catalog; the form edits them as text.
const ZGpuForm = ZCatalogGpuFields.extend({
  computeCapability: z
    .string()
    .trim()
    .regex(/^(\d+\.\d+)?$/, 'Like 9.0, or empty'),
  typicalHourlyUsd: z.union([z.nan(), z.number().min(0, 'Not negative').max(1000)]),
});
type TGpuForm = z.input<typeof ZGpuForm>;

export function GpuFormDialog({ gpu, trigger }: { gpu?: CatalogGpu; trigger: React.ReactNode }) {
  const trpc = useTRPC();
  const invalidate = useInvalidateCatalogs();
  const create = useMutation(trpc.catalog.createGpu.mutationOptions());
  const update = useMutation(trpc.catalog.updateGpu.mutationOptions());
  const values: TGpuForm = {
    model: gpu?.model ?? '',
    vendor: gpu?.vendor ?? 'nvidia',
    generation: gpu?.generation ?? 'hopper',
    memoryMib: gpu?.memoryMib ?? 81_920,
    computeCapability: gpu?.computeCapability ?? '',
    fp8TensorCores: gpu?.fp8TensorCores ?? true,
    fp4TensorCores: gpu?.fp4TensorCores ?? false,
    interconnect: gpu?.interconnect ?? 'NVLink',
    typicalHourlyUsd: gpu?.typicalHourlyUsd ?? Number.NaN,
  };
  return (
    <FormDialog<TGpuForm, z.output<typeof ZGpuForm>, { model: string }>
      trigger={trigger}
      title={gpu ? `Edit ${gpu.model}` : 'Add a GPU'}
      description="Fit plans, compatibility verdicts and costs read these figures; the change is audited with before and after."
      formLabel="GPU catalog form"
      schema={ZGpuForm}
      values={values}
      submit={(v) => {
        const data: TCatalogGpuFields = {
          ...v,
          computeCapability: v.computeCapability || null,
          typicalHourlyUsd: Number.isNaN(v.typicalHourlyUsd) ? null : v.typicalHourlyUsd,
        };
        return gpu ? update.mutateAsync({ id: gpu.id, data }) : create.mutateAsync(data);
      }}
      onSuccess={async (r) => {
        toast.success(gpu ? `${r.model} updated` : `${r.model} added to the catalog`);
        await invalidate();
      }}
      submitLabel={gpu ? 'Save changes' : 'Add GPU'}
    >
      {({ register, formState: { errors } }) => (
        <div className="grid gap-3 sm:grid-cols-2">
          <Field label="Model (as nvidia-smi names it)" htmlFor="gpu-model" error={errors.model?.message}>
            <Input id="gpu-model" aria-invalid={!!errors.model} {...register('model')} />
          </Field>
          <Field label="Memory (MiB)" htmlFor="gpu-memory" error={errors.memoryMib?.message}>
            <Input id="gpu-memory" type="number" aria-invalid={!!errors.memoryMib} {...register('memoryMib', { valueAsNumber: true })} />
          </Field>
          <Field label="Vendor" htmlFor="gpu-vendor" error={errors.vendor?.message}>
            <NativeSelect id="gpu-vendor" {...register('vendor')}>
              {GPU_VENDORS.map((v) => (
                <option key={v} value={v}>
                  {v}
                </option>
              ))}
            </NativeSelect>
          </Field>
          <Field label="Generation" htmlFor="gpu-generation" error={errors.generation?.message}>
            <NativeSelect id="gpu-generation" {...register('generation')}>
              {GPU_GENERATIONS.map((g) => (
                <option key={g} value={g}>
                  {g}
                </option>
              ))}
            </NativeSelect>
          </Field>
          <Field label="Compute capability" htmlFor="gpu-cc" error={errors.computeCapability?.message} hint="e.g. 9.0; empty if not CUDA">
            <Input id="gpu-cc" aria-invalid={!!errors.computeCapability} {...register('computeCapability')} />
          </Field>
          <Field label="Interconnect" htmlFor="gpu-interconnect" error={errors.interconnect?.message}>
            <Input id="gpu-interconnect" aria-invalid={!!errors.interconnect} {...register('interconnect')} />
          </Field>
          <Field label="Typical $ per GPU-hour" htmlFor="gpu-hourly" error={errors.typicalHourlyUsd?.message} hint="Empty when unknown">
            <Input
              id="gpu-hourly"
              type="number"
              step="0.01"
              aria-invalid={!!errors.typicalHourlyUsd}
              {...register('typicalHourlyUsd', { valueAsNumber: true })}
            />
          </Field>
          <fieldset className="grid gap-2 text-sm">
            <legend className="mb-1 text-sm font-medium">Tensor cores</legend>
            <label className="flex items-center gap-2">
              <input type="checkbox" className={checkbox} {...register('fp8TensorCores')} /> FP8
            </label>
            <label className="flex items-center gap-2">
              <input type="checkbox" className={checkbox} {...register('fp4TensorCores')} /> FP4
            </label>
          </fieldset>
        </div>
      )}
    </FormDialog>
  );
}

export function DeleteGpuButton({ gpu, children }: { gpu: CatalogGpu; children: React.ReactNode }) {
  const trpc = useTRPC();
  const invalidate = useInvalidateCatalogs();
  const remove = useMutation(trpc.catalog.deleteGpu.mutationOptions());
  return (
    <ConfirmDialog
      title={`Remove ${gpu.model} from the catalog?`}
      description="Clusters with this GPU get no fit plan or compatibility verdict until it is added again."
      confirmLabel="Remove"
      trigger={children}
      onConfirm={async () => {
        await remove.mutateAsync({ id: gpu.id });
        toast.success(`${gpu.model} removed`);
        await invalidate();
      }}
    />
  );
}

// Images are edited as "generation=image" lines; versions left empty mean "unknown" (null).
const optionalVersion = z
  .string()
  .trim()
  .regex(/^(\d+(\.\d+){0,3})?$/, 'A version such as 0.20.0, or empty');
const ZEngineForm = ZCatalogEngineFields.extend({
  servesV4: z.enum(['yes', 'no', 'unknown']),
  minV4Version: optionalVersion,
  minV4OfficialVersion: optionalVersion,
  hopperFp4MinVersion: optionalVersion,
  images: z.string().refine(
    (s) =>
      s
        .split('\n')
        .map((l) => l.trim())
        .filter(Boolean)
        .every((l) => new RegExp(`^(${GPU_GENERATIONS.join('|')})=\\S.{0,299}$`).test(l)),
    `One "generation=image" per line; generations: ${GPU_GENERATIONS.join(', ')}`,
  ),
});
type TEngineForm = z.input<typeof ZEngineForm>;

export function EngineFormDialog({ engine, trigger }: { engine: CatalogEngine; trigger: React.ReactNode }) {
  const trpc = useTRPC();
  const invalidate = useInvalidateCatalogs();
  const update = useMutation(trpc.catalog.updateEngine.mutationOptions());
  const values: TEngineForm = {
    label: engine.label,
    servesV4: engine.servesV4 === null ? 'unknown' : engine.servesV4 ? 'yes' : 'no',
    minV4Version: engine.minV4Version ?? '',
    minV4OfficialVersion: engine.minV4OfficialVersion ?? '',
    minV4Source: engine.minV4Source,
    formats: engine.formats,
    hopperFp4MinVersion: engine.hopperFp4MinVersion ?? '',
    hopperFp4Source: engine.hopperFp4Source,
    images: Object.entries(engine.images)
      .map(([g, image]) => `${g}=${image}`)
      .join('\n'),
    needsTrustRemoteCode: engine.needsTrustRemoteCode,
  };
  return (
    <FormDialog<TEngineForm, z.output<typeof ZEngineForm>, unknown>
      trigger={trigger}
      title={`Edit ${engine.label}`}
      description="Version floors and formats decide which artifacts a cluster running this engine may serve. Say where each figure comes from."
      formLabel="Engine catalog form"
      schema={ZEngineForm}
      values={values}
      contentClassName="sm:max-w-2xl"
      submit={(v) => {
        const data: TCatalogEngineFields = {
          ...v,
          servesV4: v.servesV4 === 'unknown' ? null : v.servesV4 === 'yes',
          minV4Version: v.minV4Version || null,
          minV4OfficialVersion: v.minV4OfficialVersion || null,
          hopperFp4MinVersion: v.hopperFp4MinVersion || null,
          images: Object.fromEntries(
            v.images
              .split('\n')
              .map((l) => l.trim())
              .filter(Boolean)
              .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
          ),
        };
        return update.mutateAsync({ kind: engine.kind as TCapacityEngineKind, data });
      }}
      onSuccess={async () => {
        toast.success(`${engine.label} updated`);
        await invalidate();
      }}
      submitLabel="Save changes"
    >
      {({ register, formState: { errors } }) => (
        <div className="grid gap-3 sm:grid-cols-2">
          <Field label="Name" htmlFor="engine-label" error={errors.label?.message}>
            <Input id="engine-label" aria-invalid={!!errors.label} {...register('label')} />
          </Field>
          <Field label="Serves DeepSeek V4" htmlFor="engine-serves" error={errors.servesV4?.message}>
            <NativeSelect id="engine-serves" {...register('servesV4')}>
              <option value="yes">yes</option>
              <option value="no">no</option>
              <option value="unknown">unknown</option>
            </NativeSelect>
          </Field>
          <Field label="First version serving V4" htmlFor="engine-min" error={errors.minV4Version?.message}>
            <Input id="engine-min" aria-invalid={!!errors.minV4Version} {...register('minV4Version')} />
          </Field>
          <Field label="First official release" htmlFor="engine-min-official" error={errors.minV4OfficialVersion?.message}>
            <Input id="engine-min-official" aria-invalid={!!errors.minV4OfficialVersion} {...register('minV4OfficialVersion')} />
          </Field>
          <div className="sm:col-span-2">
            <Field label="Source of the V4 floor" htmlFor="engine-min-source" error={errors.minV4Source?.message}>
              <Input id="engine-min-source" aria-invalid={!!errors.minV4Source} {...register('minV4Source')} />
            </Field>
          </div>
          <Field label="Hopper FP4 kernels from" htmlFor="engine-fp4" error={errors.hopperFp4MinVersion?.message} hint="Empty: none">
            <Input id="engine-fp4" aria-invalid={!!errors.hopperFp4MinVersion} {...register('hopperFp4MinVersion')} />
          </Field>
          <Field label="Source of the Hopper FP4 version" htmlFor="engine-fp4-source" error={errors.hopperFp4Source?.message}>
            <Input id="engine-fp4-source" aria-invalid={!!errors.hopperFp4Source} {...register('hopperFp4Source')} />
          </Field>
          <fieldset className="grid gap-1 text-sm sm:col-span-2">
            <legend className="mb-1 text-sm font-medium">Formats it serves</legend>
            <div className="flex flex-wrap gap-x-4 gap-y-1">
              {ARTIFACT_FORMATS.map((f) => (
                <label key={f} className="flex items-center gap-2">
                  <input type="checkbox" value={f} className={checkbox} {...register('formats')} /> {f}
                </label>
              ))}
            </div>
          </fieldset>
          <div className="sm:col-span-2">
            <Field
              label="Images per GPU generation"
              htmlFor="engine-images"
              error={errors.images?.message}
              hint="generation=image, one per line"
            >
              <textarea
                id="engine-images"
                rows={3}
                className="rounded-md border border-input bg-card px-3 py-2 font-mono text-sm"
                aria-invalid={!!errors.images}
                {...register('images')}
              />
            </Field>
          </div>
          <label className="flex items-center gap-2 text-sm sm:col-span-2">
            <input type="checkbox" className={checkbox} {...register('needsTrustRemoteCode')} /> Needs --trust-remote-code for V4
          </label>
        </div>
      )}
    </FormDialog>
  );
}

export function ApiPriceFormDialog({ price, trigger }: { price: ApiPrice; trigger: React.ReactNode }) {
  const trpc = useTRPC();
  const invalidate = useInvalidateCatalogs();
  const update = useMutation(trpc.catalog.updateApiPrice.mutationOptions());
  type TPriceForm = z.input<typeof ZApiPriceFields>;
  const values: TPriceForm = {
    inputPerM: price.inputPerM,
    outputPerM: price.outputPerM,
    cacheHitInputPerM: price.cacheHitInputPerM,
    asOf: price.asOf,
  };
  return (
    <FormDialog<TPriceForm, z.output<typeof ZApiPriceFields>, unknown>
      trigger={trigger}
      title={`Edit ${price.family} API prices`}
      description="What the hosted API charges per million tokens; the cost page compares self-hosting with it. Date the change."
      formLabel="API price form"
      schema={ZApiPriceFields}
      values={values}
      submit={(data) => update.mutateAsync({ family: price.family, data })}
      onSuccess={async () => {
        toast.success(`${price.family} prices updated`);
        await invalidate();
      }}
      submitLabel="Save prices"
    >
      {({ register, formState: { errors } }) => (
        <div className="grid gap-3 sm:grid-cols-2">
          <Field label="Input $ / 1M tokens" htmlFor="price-input" error={errors.inputPerM?.message}>
            <Input
              id="price-input"
              type="number"
              step="any"
              aria-invalid={!!errors.inputPerM}
              {...register('inputPerM', { valueAsNumber: true })}
            />
          </Field>
          <Field label="Output $ / 1M tokens" htmlFor="price-output" error={errors.outputPerM?.message}>
            <Input
              id="price-output"
              type="number"
              step="any"
              aria-invalid={!!errors.outputPerM}
              {...register('outputPerM', { valueAsNumber: true })}
            />
          </Field>
          <Field label="Cache-hit input $ / 1M tokens" htmlFor="price-cache" error={errors.cacheHitInputPerM?.message}>
            <Input
              id="price-cache"
              type="number"
              step="any"
              aria-invalid={!!errors.cacheHitInputPerM}
              {...register('cacheHitInputPerM', { valueAsNumber: true })}
            />
          </Field>
          <Field label="As of" htmlFor="price-as-of" error={errors.asOf?.message}>
            <Input id="price-as-of" type="date" aria-invalid={!!errors.asOf} {...register('asOf')} />
          </Field>
        </div>
      )}
    </FormDialog>
  );
}
