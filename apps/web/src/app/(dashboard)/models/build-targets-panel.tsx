'use client';
import { useMutation, useQuery } from '@tanstack/react-query';
import { createColumnHelper } from '@tanstack/react-table';
import { Pencil, RotateCcw } from 'lucide-react';
import Link from 'next/link';
import { useState } from 'react';
import { toast } from 'sonner';
import { z } from 'zod';
import type { RouterOutputs } from '@fleetplane/api';
import { ZSetBuildTargetsInput } from '@fleetplane/contracts';
import { ConfirmDialog } from '~/components/confirm-dialog';
import { pageLocally, QueryDataTable, type TableQueryState } from '~/components/data-table';
import { FormDialog } from '~/components/form-dialog';
import { useCan } from '~/components/session-context';
import { EmptyState, TableSkeleton } from '~/components/states';
import { Badge } from '~/components/ui/badge';
import { Button } from '~/components/ui/button';
import { NativeSelect } from '~/components/ui/input';
import { useInvalidateRecipes } from '~/trpc/invalidate';
import { useTRPC } from '~/trpc/react';

type Repo = RouterOutputs['models']['listRepos'][number];
type Row = RouterOutputs['recipes']['buildTargets'][number];
type Sort = 'clusterName';
const col = createColumnHelper<Row>();
const SORT_VALUE: Record<Sort, (r: Row) => string> = { clusterName: (r) => r.clusterName };

// The form ticks recipe names; the contract's own rule checks the list (none ticked = back to the defaults).
const ZBuildTargetForm = z.object({ recipeNames: ZSetBuildTargetsInput.shape.recipeNames });
type BuildTargetFormIn = z.input<typeof ZBuildTargetForm>;
type BuildTargetFormOut = z.output<typeof ZBuildTargetForm>;

/** Add or remove the recipes one (repo, cluster) builds; the service refuses a recipe the cluster cannot serve, with the reason. */
function BuildTargetDialog({ repo, target, trigger }: { repo: Repo; target: Row; trigger: React.ReactNode }) {
  const trpc = useTRPC();
  const invalidateRecipes = useInvalidateRecipes();
  const [open, setOpen] = useState(false);
  // Recipes are a short, versioned list; load it only while the dialog is open.
  const recipes = useQuery({ ...trpc.recipes.list.queryOptions({ page: 1, pageSize: 100 }), enabled: open });
  const setTargets = useMutation(trpc.recipes.setBuildTargets.mutationOptions());
  const values: BuildTargetFormIn = { recipeNames: target.source === 'configured' ? target.recipes.map((r) => r.name) : [] };
  return (
    <FormDialog<BuildTargetFormIn, BuildTargetFormOut, unknown>
      trigger={trigger}
      onOpenChange={setOpen}
      title={`Build targets: ${repo.hubRepoId} on ${target.clusterName}`}
      description="The recipes each new revision of this repo is quantised with for this cluster. None ticked: the defaults from the cluster's GPUs and engine."
      formLabel="Build targets form"
      contentClassName="max-w-lg"
      schema={ZBuildTargetForm}
      values={values}
      submit={(v) => setTargets.mutateAsync({ trackedRepoId: repo.id, clusterId: target.clusterId, recipeNames: v.recipeNames })}
      onSuccess={async () => {
        toast.success(`Build targets for ${target.clusterName} saved`);
        await invalidateRecipes();
      }}
      submitLabel="Save"
    >
      {({ watch, setValue, formState: { errors } }) => {
        const ticked = watch('recipeNames') ?? [];
        return (
          <fieldset
            className="grid gap-1.5 rounded-md border p-3"
            aria-invalid={!!errors.recipeNames}
            aria-describedby={errors.recipeNames ? 'recipeNames-error' : undefined}
          >
            <legend className="px-1 text-sm font-medium">Recipes</legend>
            {recipes.isPending ? <p className="text-sm text-muted-foreground">Loading recipes…</p> : null}
            {recipes.isError ? <p className="text-sm text-destructive">{recipes.error.message}</p> : null}
            {(recipes.data?.items ?? []).map((r) => (
              <label key={r.name} className="flex items-start gap-2 text-sm">
                <input
                  type="checkbox"
                  className="mt-1"
                  checked={ticked.includes(r.name)}
                  onChange={(e) =>
                    setValue('recipeNames', e.target.checked ? [...ticked, r.name] : ticked.filter((n) => n !== r.name), {
                      shouldValidate: true,
                    })
                  }
                />
                <span>
                  <span className="font-medium">{r.name}</span> <span className="text-muted-foreground">v{r.version}</span>{' '}
                  <span className="font-mono text-xs text-muted-foreground">{r.outputFormat}</span>
                  {r.description ? <span className="block text-xs text-muted-foreground">{r.description}</span> : null}
                </span>
              </label>
            ))}
            {errors.recipeNames?.message ? (
              <p id="recipeNames-error" role="alert" className="text-xs text-destructive">
                {errors.recipeNames.message}
              </p>
            ) : null}
          </fieldset>
        );
      }}
    </FormDialog>
  );
}

/**
 * Which recipes a new revision of a tracked repo is built with, per target cluster: configured by an operator,
 * or the defaults the service derives from the cluster's GPUs and engine.
 */
export function BuildTargetsPanel({ repos }: { repos: Repo[] }) {
  const trpc = useTRPC();
  const canEdit = useCan('operator');
  const invalidateRecipes = useInvalidateRecipes();
  const [repoId, setRepoId] = useState<string | null>(null);
  const repo = repos.find((r) => r.id === repoId) ?? repos[0];
  const [state, setState] = useState<TableQueryState<Sort>>({ page: 1, pageSize: 10, sortBy: 'clusterName', sortDir: 'asc' });
  const targets = useQuery({
    ...trpc.recipes.buildTargets.queryOptions({ trackedRepoId: repo?.id ?? '' }),
    enabled: !!repo,
    // One row per cluster, so the API returns them all and the table pages here.
    select: (rows) => pageLocally(rows, state, SORT_VALUE),
  });
  const reset = useMutation(trpc.recipes.setBuildTargets.mutationOptions());
  if (!repo) return <EmptyState title="No tracked repos" description="Track a Hub repo first; its build targets are chosen per cluster." />;

  const columns = [
    col.accessor('clusterName', {
      header: 'Cluster',
      enableSorting: true,
      cell: (c) => (
        <Link className="font-medium text-primary hover:underline" href={`/clusters/${c.row.original.clusterId}`}>
          {c.getValue()}
        </Link>
      ),
    }),
    col.accessor('source', {
      header: 'Source',
      enableSorting: false,
      cell: (c) =>
        c.getValue() === 'configured' ? <Badge variant="default">configured</Badge> : <Badge variant="secondary">cluster default</Badge>,
    }),
    col.display({
      id: 'recipes',
      header: 'Recipes',
      cell: (c) =>
        c.row.original.recipes.length ? (
          <ul className="space-y-0.5" data-testid="build-target-recipes">
            {c.row.original.recipes.map((r) => (
              <li key={r.name} className="text-sm">
                <span className="font-medium">{r.name}</span> <span className="text-muted-foreground">v{r.version}</span>{' '}
                <span className="font-mono text-xs text-muted-foreground">{r.outputFormat}</span>
              </li>
            ))}
          </ul>
        ) : (
          <span className="text-muted-foreground">none</span>
        ),
    }),
    col.display({
      id: 'notes',
      header: 'Why',
      cell: (c) =>
        c.row.original.notes.length ? (
          <ul className="max-w-sm list-disc pl-4 text-xs text-muted-foreground">
            {c.row.original.notes.map((n) => (
              <li key={n}>{n}</li>
            ))}
          </ul>
        ) : (
          <span className="text-muted-foreground">—</span>
        ),
    }),
    ...(canEdit
      ? [
          col.display({
            id: 'actions',
            header: () => <span className="sr-only">Actions</span>,
            cell: (c) => {
              const t = c.row.original;
              return (
                <span className="inline-flex justify-end gap-1">
                  <BuildTargetDialog
                    repo={repo}
                    target={t}
                    trigger={
                      <Button variant="ghost" size="sm" aria-label={`Edit build targets for ${t.clusterName}`}>
                        <Pencil /> Edit
                      </Button>
                    }
                  />
                  {t.source === 'configured' ? (
                    <ConfirmDialog
                      title={`Back to the defaults for ${t.clusterName}?`}
                      description="New revisions of this repo are then built with the recipes the cluster's GPUs and engine call for. Artifacts already built keep their recipe."
                      confirmLabel="Use defaults"
                      trigger={
                        <Button variant="ghost" size="sm" aria-label={`Use default build targets for ${t.clusterName}`}>
                          <RotateCcw /> Defaults
                        </Button>
                      }
                      onConfirm={async () => {
                        await reset.mutateAsync({ trackedRepoId: repo.id, clusterId: t.clusterId, recipeNames: [] });
                        toast.success(`${t.clusterName} builds the default recipes again`);
                        await invalidateRecipes();
                      }}
                    />
                  ) : null}
                </span>
              );
            },
          }),
        ]
      : []),
  ];

  return (
    <div className="space-y-3">
      {repos.length > 1 ? (
        <div className="flex items-center gap-2">
          <label htmlFor="build-target-repo" className="text-sm text-muted-foreground">
            Repo
          </label>
          <NativeSelect id="build-target-repo" className="w-72" value={repo.id} onChange={(e) => setRepoId(e.target.value)}>
            {repos.map((r) => (
              <option key={r.id} value={r.id}>
                {r.hubRepoId}
              </option>
            ))}
          </NativeSelect>
        </div>
      ) : null}
      <QueryDataTable<Row, Sort>
        query={targets}
        skeleton={<TableSkeleton rows={2} columns={4} />}
        testId="build-targets"
        columns={columns}
        state={state}
        onStateChange={setState}
        getRowId={(r) => r.clusterId}
        empty={<EmptyState title="No clusters yet" description="Build targets are chosen per cluster; add a cluster first." />}
      />
    </div>
  );
}
