'use client';
import { useMutation } from '@tanstack/react-query';
import { toast } from 'sonner';
import type { z } from 'zod';
import { INTERCONNECTS, ZGpuFields, type TInterconnect } from '@fleetplane/contracts';
import { ConfirmDialog } from '~/components/confirm-dialog';
import { FormDialog } from '~/components/form-dialog';
import { Field } from '~/components/form-helpers';
import { Input, NativeSelect } from '~/components/ui/input';
import { useInvalidateGpus } from '~/trpc/invalidate';
import { useTRPC } from '~/trpc/react';

type FormIn = z.input<typeof ZGpuFields>;
type FormOut = z.output<typeof ZGpuFields>;
const emptyToNull = (v: unknown) => (typeof v === 'string' && v.trim() === '' ? null : v);

interface GpuLike {
  id: string;
  uuid: string;
  index: number;
  model: string;
  memoryMib: number;
  interconnect: TInterconnect;
  pciBusId: string | null;
}

export function GpuFormDialog({ nodeId, gpu, trigger }: { nodeId: string; gpu?: GpuLike; trigger: React.ReactNode }) {
  const trpc = useTRPC();
  const invalidateGpus = useInvalidateGpus();
  const create = useMutation(trpc.gpus.create.mutationOptions());
  const update = useMutation(trpc.gpus.update.mutationOptions());
  const values: FormIn = gpu
    ? {
        nodeId,
        uuid: gpu.uuid,
        index: gpu.index,
        model: gpu.model,
        memoryMib: gpu.memoryMib,
        interconnect: gpu.interconnect,
        pciBusId: gpu.pciBusId,
      }
    : { nodeId, uuid: '', index: 0, model: 'NVIDIA H100 80GB HBM3', memoryMib: 81559, interconnect: 'nvlink', pciBusId: null };
  return (
    <FormDialog<FormIn, FormOut, unknown>
      trigger={trigger}
      title={gpu ? `Edit GPU ${gpu.index}` : 'Add GPU'}
      description="Identify the card by the UUID nvidia-smi prints; indexes can change across reboots."
      formLabel="GPU form"
      schema={ZGpuFields}
      values={values}
      submit={(v) =>
        gpu
          ? update.mutateAsync({
              id: gpu.id,
              data: { index: v.index, model: v.model, memoryMib: v.memoryMib, interconnect: v.interconnect, pciBusId: v.pciBusId },
            })
          : create.mutateAsync(v)
      }
      onSuccess={async () => {
        toast.success(gpu ? 'GPU updated' : 'GPU added');
        await invalidateGpus();
      }}
      submitLabel={gpu ? 'Save changes' : 'Add GPU'}
    >
      {({ register, formState: { errors } }) => (
        <>
          <Field label="UUID" htmlFor="gpu-uuid" error={errors.uuid?.message}>
            <Input
              id="gpu-uuid"
              className="font-mono"
              disabled={!!gpu}
              placeholder="GPU-xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx"
              aria-invalid={!!errors.uuid}
              {...register('uuid')}
            />
          </Field>
          <div className="grid grid-cols-2 gap-4">
            <Field label="Index" htmlFor="gpu-index" error={errors.index?.message}>
              <Input id="gpu-index" type="number" aria-invalid={!!errors.index} {...register('index', { valueAsNumber: true })} />
            </Field>
            <Field label="Memory (MiB)" htmlFor="gpu-memory" error={errors.memoryMib?.message}>
              <Input id="gpu-memory" type="number" aria-invalid={!!errors.memoryMib} {...register('memoryMib', { valueAsNumber: true })} />
            </Field>
          </div>
          <Field label="Model" htmlFor="gpu-model" error={errors.model?.message}>
            <Input id="gpu-model" aria-invalid={!!errors.model} {...register('model')} />
          </Field>
          <div className="grid grid-cols-2 gap-4">
            <Field label="Interconnect" htmlFor="gpu-interconnect" error={errors.interconnect?.message}>
              <NativeSelect id="gpu-interconnect" {...register('interconnect')}>
                {INTERCONNECTS.map((i) => (
                  <option key={i} value={i}>
                    {i}
                  </option>
                ))}
              </NativeSelect>
            </Field>
            <Field label="PCI bus id" htmlFor="gpu-pci" error={errors.pciBusId?.message}>
              <Input
                id="gpu-pci"
                className="font-mono"
                placeholder="00000000:18:00.0"
                aria-invalid={!!errors.pciBusId}
                {...register('pciBusId', { setValueAs: emptyToNull })}
              />
            </Field>
          </div>
        </>
      )}
    </FormDialog>
  );
}

export function DeleteGpuButton({ gpu, children }: { gpu: GpuLike; children: React.ReactNode }) {
  const trpc = useTRPC();
  const invalidateGpus = useInvalidateGpus();
  const del = useMutation(trpc.gpus.delete.mutationOptions());
  return (
    <ConfirmDialog
      title={`Delete GPU ${gpu.index}?`}
      description={`${gpu.model} (${gpu.uuid}) and its telemetry are deleted. An enrolled agent re-registers a GPU it still sees.`}
      confirmLabel="Delete GPU"
      trigger={children}
      onConfirm={async () => {
        await del.mutateAsync({ id: gpu.id });
        toast.success(`GPU ${gpu.index} deleted`);
        await invalidateGpus();
      }}
    />
  );
}
