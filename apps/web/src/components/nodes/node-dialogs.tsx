'use client';
import { zodResolver } from '@hookform/resolvers/zod';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { useForm } from 'react-hook-form';
import { toast } from 'sonner';
import { z } from 'zod';
import { ZHostname } from '@fleetplane/contracts';
import { ConfirmDialog } from '~/components/confirm-dialog';
import { applyServerErrors, Field } from '~/components/form-helpers';
import { Alert, AlertDescription } from '~/components/ui/alert';
import { Button } from '~/components/ui/button';
import { Dialog, DialogContent, DialogDescription, DialogFooter, DialogHeader, DialogTitle, DialogTrigger } from '~/components/ui/dialog';
import { Input } from '~/components/ui/input';
import { useTRPC } from '~/trpc/react';

// The form edits labels as "key=value" lines; the API receives the shared contract's record.
const ZNodeForm = z.object({
  hostname: ZHostname,
  ipAddress: z.union([z.ipv4(), z.ipv6(), z.literal('')], { error: 'Enter a valid IPv4 or IPv6 address' }),
  labels: z.string().refine((s) => s.split(/[\n,]/).every((l) => !l.trim() || /^[A-Za-z0-9][A-Za-z0-9._/-]*=.{0,256}$/.test(l.trim())), 'Use key=value pairs, one per line'),
  reportIntervalSeconds: z.number({ error: 'Enter a number of seconds' }).int().min(1).max(3600),
});
type TNodeForm = z.infer<typeof ZNodeForm>;
const FIELDS = ['hostname', 'ipAddress', 'labels', 'reportIntervalSeconds'] as const;

function parseLabels(s: string): Record<string, string> {
  return Object.fromEntries(
    s
      .split(/[\n,]/)
      .map((l) => l.trim())
      .filter(Boolean)
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
}

interface NodeLike {
  id: string;
  hostname: string;
  ipAddress: string | null;
  labels: unknown;
  reportIntervalSeconds: number;
}

export function NodeFormDialog({ clusterId, node, trigger }: { clusterId: string; node?: NodeLike; trigger: React.ReactNode }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [open, setOpen] = useState(false);
  const [formError, setFormError] = useState<string | null>(null);
  const form = useForm<TNodeForm>({ resolver: zodResolver(ZNodeForm), mode: 'onTouched' });

  useEffect(() => {
    if (!open) return;
    setFormError(null);
    form.reset({
      hostname: node?.hostname ?? '',
      ipAddress: node?.ipAddress ?? '',
      labels: Object.entries((node?.labels as Record<string, string>) ?? {}).map(([k, v]) => `${k}=${v}`).join('\n'),
      reportIntervalSeconds: node?.reportIntervalSeconds ?? 10,
    });
  }, [open, node, form]);

  const done = async (hostname: string) => {
    toast.success(node ? `Node ${hostname} updated` : `Node ${hostname} added`);
    setOpen(false);
    await queryClient.invalidateQueries({ queryKey: trpc.nodes.pathKey() });
    await queryClient.invalidateQueries({ queryKey: trpc.clusters.pathKey() });
    await queryClient.invalidateQueries({ queryKey: trpc.fleet.pathKey() });
  };
  const onError = (e: Parameters<typeof applyServerErrors>[0]) => setFormError(applyServerErrors(e, form.setError, FIELDS));
  const create = useMutation(trpc.nodes.create.mutationOptions({ onSuccess: (r) => done(r.hostname), onError }));
  const update = useMutation(trpc.nodes.update.mutationOptions({ onSuccess: (r) => done(r.hostname), onError }));

  const onSubmit = form.handleSubmit((v) => {
    const data = { hostname: v.hostname, ipAddress: v.ipAddress || null, labels: parseLabels(v.labels), reportIntervalSeconds: v.reportIntervalSeconds };
    if (node) update.mutate({ id: node.id, data });
    else create.mutate({ clusterId, ...data });
  });
  const { errors } = form.formState;
  return (
    <Dialog open={open} onOpenChange={setOpen}>
      <DialogTrigger asChild>{trigger}</DialogTrigger>
      <DialogContent>
        <DialogHeader>
          <DialogTitle>{node ? `Edit ${node.hostname}` : 'Add node'}</DialogTitle>
          <DialogDescription>A GPU server in this cluster. Enrolled agents register their nodes themselves.</DialogDescription>
        </DialogHeader>
        <form onSubmit={onSubmit} noValidate className="grid gap-4" aria-label="Node form">
          {formError ? (
            <Alert variant="destructive">
              <AlertDescription>{formError}</AlertDescription>
            </Alert>
          ) : null}
          <Field label="Hostname" htmlFor="node-hostname" error={errors.hostname?.message}>
            <Input id="node-hostname" aria-invalid={!!errors.hostname} {...form.register('hostname')} />
          </Field>
          <Field label="IP address" htmlFor="node-ip" error={errors.ipAddress?.message}>
            <Input id="node-ip" placeholder="10.0.3.21" aria-invalid={!!errors.ipAddress} {...form.register('ipAddress')} />
          </Field>
          <Field label="Labels" htmlFor="node-labels" error={errors.labels?.message} hint="key=value, one per line (e.g. rack=r12)">
            <textarea id="node-labels" rows={3} className="rounded-md border border-input bg-card px-3 py-2 font-mono text-sm" aria-invalid={!!errors.labels} {...form.register('labels')} />
          </Field>
          <Field label="Report interval (s)" htmlFor="node-interval" error={errors.reportIntervalSeconds?.message} hint="Offline after 3 missed intervals">
            <Input id="node-interval" type="number" aria-invalid={!!errors.reportIntervalSeconds} {...form.register('reportIntervalSeconds', { valueAsNumber: true })} />
          </Field>
          <DialogFooter>
            <Button type="button" variant="outline" onClick={() => setOpen(false)}>
              Cancel
            </Button>
            <Button type="submit" disabled={create.isPending || update.isPending}>
              {node ? 'Save changes' : 'Add node'}
            </Button>
          </DialogFooter>
        </form>
      </DialogContent>
    </Dialog>
  );
}

export function DeleteNodeButton({ node, children, onDeleted }: { node: { id: string; hostname: string; gpus: unknown[] }; children: React.ReactNode; onDeleted?: () => void }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const del = useMutation(trpc.nodes.delete.mutationOptions());
  return (
    <ConfirmDialog
      title={`Delete node ${node.hostname}?`}
      description={`Its ${node.gpus.length} GPU record(s) and their telemetry are deleted with it.`}
      confirmLabel="Delete node"
      trigger={children}
      onConfirm={async () => {
        await del.mutateAsync({ id: node.id });
        toast.success(`Node ${node.hostname} deleted`);
        onDeleted?.();
        await queryClient.invalidateQueries({ queryKey: trpc.nodes.pathKey() });
        await queryClient.invalidateQueries({ queryKey: trpc.clusters.pathKey() });
        await queryClient.invalidateQueries({ queryKey: trpc.fleet.pathKey() });
      }}
    />
  );
}
