'use client';
import { zodResolver } from '@hookform/resolvers/zod';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { useForm } from 'react-hook-form';
import { toast } from 'sonner';
import type { z } from 'zod';
import { INTERCONNECTS, ZGpuFields, type TInterconnect } from '@fleetplane/contracts';
import { ConfirmDialog } from '~/components/confirm-dialog';
import { applyServerErrors, Field } from '~/components/form-helpers';
import { Alert, AlertDescription } from '~/components/ui/alert';
import { Button } from '~/components/ui/button';
import { Dialog, DialogContent, DialogDescription, DialogFooter, DialogHeader, DialogTitle, DialogTrigger } from '~/components/ui/dialog';
import { Input, NativeSelect } from '~/components/ui/input';
import { useTRPC } from '~/trpc/react';

type FormIn = z.input<typeof ZGpuFields>;
type FormOut = z.output<typeof ZGpuFields>;
const FIELDS = ['uuid', 'index', 'model', 'memoryMib', 'interconnect', 'pciBusId'] as const;
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
  const queryClient = useQueryClient();
  const [open, setOpen] = useState(false);
  const [formError, setFormError] = useState<string | null>(null);
  const form = useForm<FormIn, unknown, FormOut>({ resolver: zodResolver(ZGpuFields), mode: 'onTouched' });
  useEffect(() => {
    if (!open) return;
    setFormError(null);
    form.reset(
      gpu
        ? { nodeId, uuid: gpu.uuid, index: gpu.index, model: gpu.model, memoryMib: gpu.memoryMib, interconnect: gpu.interconnect, pciBusId: gpu.pciBusId }
        : { nodeId, uuid: '', index: 0, model: 'NVIDIA H100 80GB HBM3', memoryMib: 81559, interconnect: 'nvlink', pciBusId: null },
    );
  }, [open, gpu, nodeId, form]);
  const done = async () => {
    toast.success(gpu ? 'GPU updated' : 'GPU added');
    setOpen(false);
    await queryClient.invalidateQueries({ queryKey: trpc.nodes.pathKey() });
    await queryClient.invalidateQueries({ queryKey: trpc.clusters.pathKey() });
    await queryClient.invalidateQueries({ queryKey: trpc.fleet.pathKey() });
  };
  const onError = (e: Parameters<typeof applyServerErrors>[0]) => setFormError(applyServerErrors(e, form.setError, FIELDS));
  const create = useMutation(trpc.gpus.create.mutationOptions({ onSuccess: done, onError }));
  const update = useMutation(trpc.gpus.update.mutationOptions({ onSuccess: done, onError }));
  const onSubmit = form.handleSubmit((v) => {
    if (gpu) update.mutate({ id: gpu.id, data: { index: v.index, model: v.model, memoryMib: v.memoryMib, interconnect: v.interconnect, pciBusId: v.pciBusId } });
    else create.mutate(v);
  });
  const { errors } = form.formState;
  return (
    <Dialog open={open} onOpenChange={setOpen}>
      <DialogTrigger asChild>{trigger}</DialogTrigger>
      <DialogContent>
        <DialogHeader>
          <DialogTitle>{gpu ? `Edit GPU ${gpu.index}` : 'Add GPU'}</DialogTitle>
          <DialogDescription>Identify the card by the UUID nvidia-smi prints; indexes can change across reboots.</DialogDescription>
        </DialogHeader>
        <form onSubmit={onSubmit} noValidate className="grid gap-4" aria-label="GPU form">
          {formError ? (
            <Alert variant="destructive">
              <AlertDescription>{formError}</AlertDescription>
            </Alert>
          ) : null}
          <Field label="UUID" htmlFor="gpu-uuid" error={errors.uuid?.message}>
            <Input id="gpu-uuid" className="font-mono" disabled={!!gpu} placeholder="GPU-xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" aria-invalid={!!errors.uuid} {...form.register('uuid')} />
          </Field>
          <div className="grid grid-cols-2 gap-4">
            <Field label="Index" htmlFor="gpu-index" error={errors.index?.message}>
              <Input id="gpu-index" type="number" aria-invalid={!!errors.index} {...form.register('index', { valueAsNumber: true })} />
            </Field>
            <Field label="Memory (MiB)" htmlFor="gpu-memory" error={errors.memoryMib?.message}>
              <Input id="gpu-memory" type="number" aria-invalid={!!errors.memoryMib} {...form.register('memoryMib', { valueAsNumber: true })} />
            </Field>
          </div>
          <Field label="Model" htmlFor="gpu-model" error={errors.model?.message}>
            <Input id="gpu-model" aria-invalid={!!errors.model} {...form.register('model')} />
          </Field>
          <div className="grid grid-cols-2 gap-4">
            <Field label="Interconnect" htmlFor="gpu-interconnect" error={errors.interconnect?.message}>
              <NativeSelect id="gpu-interconnect" {...form.register('interconnect')}>
                {INTERCONNECTS.map((i) => (
                  <option key={i} value={i}>
                    {i}
                  </option>
                ))}
              </NativeSelect>
            </Field>
            <Field label="PCI bus id" htmlFor="gpu-pci" error={errors.pciBusId?.message}>
              <Input id="gpu-pci" className="font-mono" placeholder="00000000:18:00.0" aria-invalid={!!errors.pciBusId} {...form.register('pciBusId', { setValueAs: emptyToNull })} />
            </Field>
          </div>
          <DialogFooter>
            <Button type="button" variant="outline" onClick={() => setOpen(false)}>
              Cancel
            </Button>
            <Button type="submit" disabled={create.isPending || update.isPending}>
              {gpu ? 'Save changes' : 'Add GPU'}
            </Button>
          </DialogFooter>
        </form>
      </DialogContent>
    </Dialog>
  );
}

export function DeleteGpuButton({ gpu, children }: { gpu: GpuLike; children: React.ReactNode }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
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
        await queryClient.invalidateQueries({ queryKey: trpc.nodes.pathKey() });
        await queryClient.invalidateQueries({ queryKey: trpc.fleet.pathKey() });
      }}
    />
  );
}
