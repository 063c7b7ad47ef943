'use client';
import { useMutation } from '@tanstack/react-query';
import { useRouter } from 'next/navigation';
import { toast } from 'sonner';
import { ConfirmDialog } from '~/components/confirm-dialog';
import { useInvalidateClusters } from '~/trpc/invalidate';
import { useTRPC } from '~/trpc/react';

export function DeleteClusterButton({
  id,
  name,
  children,
  redirectTo,
}: {
  id: string;
  name: string;
  children: React.ReactNode;
  redirectTo?: string;
}) {
  const trpc = useTRPC();
  const invalidateClusters = useInvalidateClusters();
  const router = useRouter();
  const del = useMutation(trpc.clusters.delete.mutationOptions());
  return (
    <ConfirmDialog
      title={`Delete cluster ${name}?`}
      description="The cluster record goes away. Clusters that still have nodes cannot be deleted."
      confirmLabel="Delete cluster"
      trigger={children}
      onConfirm={async () => {
        await del.mutateAsync({ id });
        toast.success(`Cluster ${name} deleted`);
        if (redirectTo) router.push(redirectTo);
        await invalidateClusters();
      }}
    />
  );
}
