'use client';
import { useMutation, useQuery } from '@tanstack/react-query';
import { FlaskConical } from 'lucide-react';
import { useState } from 'react';
import { toast } from 'sonner';
import { useCan } from '~/components/session-context';
import { Button } from '~/components/ui/button';
import { Card, CardContent, CardHeader, CardTitle } from '~/components/ui/card';
import { NativeSelect } from '~/components/ui/input';
import { useInvalidateModels } from '~/trpc/invalidate';
import { useTRPC } from '~/trpc/react';

const KINDS = [
  { kind: 'weights', label: 'Publish new weights' },
  { kind: 'tokenizer', label: 'Publish tokenizer fix' },
  { kind: 'docs', label: 'Publish docs change' },
] as const;

/** Demo installs only: publish a new upstream revision to the demo Hub and watch it flow through. */
export function DevPanel() {
  const trpc = useTRPC();
  const invalidateModels = useInvalidateModels();
  const canUse = useCan('operator');
  const status = useQuery(trpc.demo.status.queryOptions());
  const repos = useQuery(trpc.models.listRepos.queryOptions());
  const [repoId, setRepoId] = useState('');
  const publish = useMutation(
    trpc.demo.publishRevision.mutationOptions({
      onSuccess: async (r) => {
        toast.success(`Published ${r.sha.slice(0, 12)}: ${r.title}. The watcher picks it up in a moment.`);
        await invalidateModels();
      },
      onError: (e) => toast.error(e.message),
    }),
  );
  if (!canUse || !status.data?.enabled) return null;
  const selected = repoId || repos.data?.[0]?.id || '';
  return (
    <Card className="border-dashed" data-testid="dev-panel">
      <CardHeader className="pb-2">
        <CardTitle className="flex items-center gap-2 text-base">
          <FlaskConical className="size-4" /> Dev panel (demo mode)
        </CardTitle>
      </CardHeader>
      <CardContent className="flex flex-wrap items-center gap-2">
        <label htmlFor="dev-repo" className="text-sm text-muted-foreground">
          Upstream repo
        </label>
        <NativeSelect id="dev-repo" className="w-80" value={selected} onChange={(e) => setRepoId(e.target.value)}>
          {(repos.data ?? []).map((r) => (
            <option key={r.id} value={r.id}>
              {r.hubRepoId}@{r.branch}
            </option>
          ))}
        </NativeSelect>
        {KINDS.map((k) => (
          <Button
            key={k.kind}
            variant="outline"
            size="sm"
            disabled={!selected || publish.isPending}
            onClick={() => publish.mutate({ trackedRepoId: selected, kind: k.kind })}
          >
            {k.label}
          </Button>
        ))}
      </CardContent>
    </Card>
  );
}
