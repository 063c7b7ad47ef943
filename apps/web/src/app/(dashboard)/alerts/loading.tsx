import { TableSkeleton } from '~/components/states';
import { Skeleton } from '~/components/ui/skeleton';

export default function Loading() {
  return (
    <div className="space-y-4" role="status" aria-busy="true" aria-label="Loading">
      <Skeleton className="h-8 w-48" />
      <TableSkeleton rows={8} columns={6} />
    </div>
  );
}
