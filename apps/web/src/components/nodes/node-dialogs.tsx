'use client';
import { useMutation } from '@tanstack/react-query';
import { toast } from 'sonner';
import { z } from 'zod';
import { ZHostname } from '@fleetplane/contracts';
import { ConfirmDialog } from '~/components/confirm-dialog';
import { FormDialog } from '~/components/form-dialog';
import { Field } from '~/components/form-helpers';
import { Input } from '~/components/ui/input';
import { useInvalidateNodes } from '~/trpc/invalidate';
import { useTRPC } from '~/trpc/react';
import { countOf } from '@fleetplane/domain';

// The form edits labels as "key=value" lines; the API receives the shared contract's record.
const ZNodeForm = z.object({
  hostname: ZHostname,
  ipAddress: z.union([z.ipv4(), z.ipv6(), z.literal('')], { error: 'Enter a valid IPv4 or IPv6 address' }),
  labels: z
    .string()
    .refine(
      (s) => s.split(/[\n,]/).every((l) => !l.trim() || /^[A-Za-z0-9][A-Za-z0-9._/-]*=.{0,256}$/.test(l.trim())),
      'Use key=value pairs, one per line',
    ),
  reportIntervalSeconds: z.number({ error: 'Enter a number of seconds' }).int().min(1).max(3600),
});
type TNodeForm = z.infer<typeof ZNodeForm>;

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
  const invalidateNodes = useInvalidateNodes();
  const create = useMutation(trpc.nodes.create.mutationOptions());
  const update = useMutation(trpc.nodes.update.mutationOptions());
  const values: TNodeForm = {
    hostname: node?.hostname ?? '',
    ipAddress: node?.ipAddress ?? '',
    labels: Object.entries((node?.labels as Record<string, string>) ?? {})
      .map(([k, v]) => `${k}=${v}`)
      .join('\n'),
    reportIntervalSeconds: node?.reportIntervalSeconds ?? 10,
  };
  return (
    <FormDialog<TNodeForm, TNodeForm, { hostname: string }>
      trigger={trigger}
      title={node ? `Edit ${node.hostname}` : 'Add node'}
      description="A GPU server in this cluster. Enrolled agents register their nodes themselves."
      formLabel="Node form"
      schema={ZNodeForm}
      values={values}
      submit={(v) => {
        const data = {
          hostname: v.hostname,
          ipAddress: v.ipAddress || null,
          labels: parseLabels(v.labels),
          reportIntervalSeconds: v.reportIntervalSeconds,
        };
        return node ? update.mutateAsync({ id: node.id, data }) : create.mutateAsync({ clusterId, ...data });
      }}
      onSuccess={async (r) => {
        toast.success(node ? `Node ${r.hostname} updated` : `Node ${r.hostname} added`);
        await invalidateNodes();
      }}
      submitLabel={node ? 'Save changes' : 'Add node'}
    >
      {({ register, formState: { errors } }) => (
        <>
          <Field label="Hostname" htmlFor="node-hostname" error={errors.hostname?.message}>
            <Input id="node-hostname" aria-invalid={!!errors.hostname} {...register('hostname')} />
          </Field>
          <Field label="IP address" htmlFor="node-ip" error={errors.ipAddress?.message}>
            <Input id="node-ip" placeholder="10.0.3.21" aria-invalid={!!errors.ipAddress} {...register('ipAddress')} />
          </Field>
          <Field label="Labels" htmlFor="node-labels" error={errors.labels?.message} hint="key=value, one per line (e.g. rack=r12)">
            <textarea
              id="node-labels"
              rows={3}
              className="rounded-md border border-input bg-card px-3 py-2 font-mono text-sm"
              aria-invalid={!!errors.labels}
              {...register('labels')}
            />
          </Field>
          <Field
            label="Report interval (s)"
            htmlFor="node-interval"
            error={errors.reportIntervalSeconds?.message}
            hint="Offline after 3 missed intervals"
          >
            <Input
              id="node-interval"
              type="number"
              aria-invalid={!!errors.reportIntervalSeconds}
              {...register('reportIntervalSeconds', { valueAsNumber: true })}
            />
          </Field>
        </>
      )}
    </FormDialog>
  );
}

export function DeleteNodeButton({
  node,
  children,
  onDeleted,
}: {
  node: { id: string; hostname: string; gpus: unknown[] };
  children: React.ReactNode;
  onDeleted?: () => void;
}) {
  const trpc = useTRPC();
  const invalidateNodes = useInvalidateNodes();
  const del = useMutation(trpc.nodes.delete.mutationOptions());
  return (
    <ConfirmDialog
      title={`Delete node ${node.hostname}?`}
      description={`Its ${countOf(node.gpus.length, 'GPU record')} and their telemetry are deleted with it.`}
      confirmLabel="Delete node"
      trigger={children}
      onConfirm={async () => {
        await del.mutateAsync({ id: node.id });
        toast.success(`Node ${node.hostname} deleted`);
        onDeleted?.();
        await invalidateNodes();
      }}
    />
  );
}
