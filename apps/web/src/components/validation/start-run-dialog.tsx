'use client';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useRouter } from 'next/navigation';
import { useEffect, useState } from 'react';
import { toast } from 'sonner';
import { Field } from '~/components/form-helpers';
import { Alert, AlertDescription } from '~/components/ui/alert';
import { Button } from '~/components/ui/button';
import { Dialog, DialogContent, DialogDescription, DialogFooter, DialogHeader, DialogTitle, DialogTrigger } from '~/components/ui/dialog';
import { NativeSelect } from '~/components/ui/input';
import { formatDateTime } from '~/lib/utils';
import { useTRPC } from '~/trpc/react';

const AUTO = '__auto__';
const NONE = '__none__';

/** Starts a run (operator+). The baseline defaults to the latest passing run of the suite on the cluster. */
export function StartRunDialog({ trigger, clusterId: presetCluster }: { trigger: React.ReactNode; clusterId?: string }) {
  const trpc = useTRPC();
  const router = useRouter();
  const queryClient = useQueryClient();
  const [open, setOpen] = useState(false);
  const [clusterId, setClusterId] = useState(presetCluster ?? '');
  const [suiteName, setSuiteName] = useState('smoke');
  const [baseline, setBaseline] = useState(AUTO);
  const [error, setError] = useState<string | null>(null);
  const clusters = useQuery({ ...trpc.clusters.options.queryOptions(), enabled: open });
  const suites = useQuery({ ...trpc.validationSuites.list.queryOptions(), enabled: open });
  const candidates = useQuery({
    ...trpc.validationRuns.list.queryOptions({ clusterId: clusterId || undefined, suiteName, verdict: 'pass', page: 1, pageSize: 20, sortBy: 'createdAt', sortDir: 'desc' }),
    enabled: open && !!clusterId,
  });
  useEffect(() => {
    if (open) {
      setError(null);
      setBaseline(AUTO);
      if (presetCluster) setClusterId(presetCluster);
    }
  }, [open, presetCluster]);

  const start = useMutation(
    trpc.validationRuns.start.mutationOptions({
      onSuccess: async (r) => {
        toast.success('Validation run started');
        setOpen(false);
        await queryClient.invalidateQueries({ queryKey: trpc.validationRuns.pathKey() });
        router.push(`/validation/${r.id}`);
      },
      onError: (e) => setError(e.message),
    }),
  );

  const submit = (e: React.FormEvent) => {
    e.preventDefault();
    if (!clusterId) return setError('Choose a cluster.');
    start.mutate({ clusterId, suiteName, ...(baseline === AUTO ? {} : { baselineRunId: baseline === NONE ? null : baseline }) });
  };
  const suite = suites.data?.find((s) => s.name === suiteName);

  return (
    <Dialog open={open} onOpenChange={setOpen}>
      <DialogTrigger asChild>{trigger}</DialogTrigger>
      <DialogContent className="max-w-lg">
        <DialogHeader>
          <DialogTitle>Start validation run</DialogTitle>
          <DialogDescription>Runs a suite against the cluster&apos;s endpoint, within its validation concurrency cap.</DialogDescription>
        </DialogHeader>
        <form onSubmit={submit} className="grid gap-4" aria-label="Start validation run">
          {error ? (
            <Alert variant="destructive">
              <AlertDescription>{error}</AlertDescription>
            </Alert>
          ) : null}
          <Field label="Cluster" htmlFor="run-cluster">
            <NativeSelect id="run-cluster" value={clusterId} onChange={(e) => setClusterId(e.target.value)} disabled={!!presetCluster}>
              <option value="">{clusters.isPending ? 'Loading clusters…' : 'Choose a cluster'}</option>
              {clusters.data?.map((c) => (
                <option key={c.id} value={c.id}>
                  {c.name}
                </option>
              ))}
            </NativeSelect>
          </Field>
          <Field label="Suite" htmlFor="run-suite" hint={suite ? `v${suite.version}: ${suite.checks.map((c) => c.key).join(', ')}` : undefined}>
            <NativeSelect id="run-suite" value={suiteName} onChange={(e) => setSuiteName(e.target.value)}>
              {(suites.data ?? [{ name: 'smoke', version: 1 }]).map((s) => (
                <option key={s.name} value={s.name}>
                  {s.name} (v{s.version})
                </option>
              ))}
            </NativeSelect>
          </Field>
          <Field label="Baseline" htmlFor="run-baseline" hint="Metrics are gated against the baseline run (e.g. TTFT p99 at most 10% worse).">
            <NativeSelect id="run-baseline" value={baseline} onChange={(e) => setBaseline(e.target.value)}>
              <option value={AUTO}>Latest passing run (default)</option>
              <option value={NONE}>No baseline</option>
              {candidates.data?.items.map((r) => (
                <option key={r.id} value={r.id}>
                  {formatDateTime(r.finishedAt ?? r.createdAt)} · {r.suite.name} v{r.suite.version}
                </option>
              ))}
            </NativeSelect>
          </Field>
          <DialogFooter>
            <Button type="button" variant="outline" onClick={() => setOpen(false)}>
              Cancel
            </Button>
            <Button type="submit" disabled={start.isPending}>
              {start.isPending ? 'Starting…' : 'Start run'}
            </Button>
          </DialogFooter>
        </form>
      </DialogContent>
    </Dialog>
  );
}
