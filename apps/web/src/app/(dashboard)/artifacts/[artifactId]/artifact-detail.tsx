'use client';
import { useQuery } from '@tanstack/react-query';
import Link from 'next/link';
import { notFound } from 'next/navigation';
import type { RouterOutputs } from '@fleetplane/api';
import { ErrorState, PageHeader } from '~/components/states';
import { Card, CardContent, CardHeader, CardTitle } from '~/components/ui/card';
import { Skeleton } from '~/components/ui/skeleton';
import { Table, TableBody, TableCell, TableHead, TableHeader, TableRow } from '~/components/ui/table';
import { formatBytes, formatDateTime } from '~/lib/utils';
import { useTRPC } from '~/trpc/react';
import { TensorQualityChart } from './quality-chart';

type Artifact = RouterOutputs['artifacts']['get'];
type Link_ = Artifact['lineage'][number] | Artifact;

function fmt(n: number | null | undefined, digits = 4) {
  return n === null || n === undefined ? '—' : n.toPrecision(digits);
}

/** One link of the chain: what it is, the recipe that built it (or the upstream commit), when and by whom. */
function LineageLink({ link, current }: { link: Link_; current: boolean }) {
  const build = (link.build ?? {}) as { toolVersion?: string; durationMs?: number; mode?: string; notes?: string[]; trigger?: string };
  return (
    <li className="rounded-md border p-3" data-testid="lineage-link">
      <p className="font-medium">
        {current ? (
          <>
            {link.format} · {link.quantisation}
          </>
        ) : (
          <Link className="text-primary hover:underline" href={`/artifacts/${link.id}`}>
            {link.format} · {link.quantisation}
          </Link>
        )}{' '}
        <span className="font-mono text-xs text-muted-foreground">{link.digest.slice(0, 16)}…</span>
      </p>
      {link.recipe ? (
        <div className="mt-1 space-y-0.5 text-sm">
          <p data-testid="lineage-recipe">
            Recipe {link.recipe.name} v{link.recipe.version} · {link.recipe.tool} {build.toolVersion ?? link.recipe.toolVersion}
            {build.mode === 'copy-tokenizer' ? ' · tokenizer-only copy over the last artifact' : ''}
          </p>
          <p className="font-mono text-xs text-muted-foreground">recipe digest {link.recipe.digest}</p>
          <p className="font-mono text-xs text-muted-foreground">parameters {JSON.stringify(link.recipe.params)}</p>
          <p className="text-muted-foreground">
            Built {formatDateTime(link.createdAt)}
            {build.durationMs !== undefined ? ` in ${(build.durationMs / 1000).toFixed(1)} s` : ''}
            {link.run ? ` by a ${link.run.trigger} run` : ''}
            {link.startedBy
              ? ` started by ${link.startedBy.name}`
              : link.run?.trigger === 'auto'
                ? ' (no click: the repo’s auto-start policy)'
                : ''}
            {link.run ? (
              <>
                {' '}
                (
                <Link className="text-primary hover:underline" href={`/pipelines/${link.run.id}`}>
                  run
                </Link>
                )
              </>
            ) : null}
          </p>
        </div>
      ) : (
        <p className="mt-1 text-sm" data-testid="lineage-upstream">
          Upstream download: {link.revision.trackedRepo.hubRepoId}@{link.revision.trackedRepo.branch} commit{' '}
          <Link className="font-mono text-primary hover:underline" href={`/models/revisions/${link.revision.id}`}>
            {link.revision.commitSha.slice(0, 12)}
          </Link>{' '}
          {link.revision.commitTitle ? `(${link.revision.commitTitle})` : ''}, recorded {formatDateTime(link.createdAt)}
        </p>
      )}
    </li>
  );
}

export function ArtifactDetail({ artifactId }: { artifactId: string }) {
  const trpc = useTRPC();
  const q = useQuery(trpc.artifacts.get.queryOptions({ id: artifactId }));
  if (q.isError && q.error.data?.code === 'NOT_FOUND') notFound();
  if (q.isPending) return <Skeleton className="h-40" />;
  if (q.isError) return <ErrorState error={q.error} onRetry={() => void q.refetch()} />;
  const a = q.data;
  const limit = (a.recipe?.params as { thresholds?: { maxRelRmse?: number } } | undefined)?.thresholds?.maxRelRmse ?? null;
  return (
    <div className="space-y-6">
      <PageHeader
        title={`${a.revision.trackedRepo.hubRepoId} · ${a.quantisation}`}
        description={
          <span>
            {a.format} · {formatBytes(a.sizeBytes)} · {a.status} · <span className="font-mono text-xs">digest {a.digest}</span>
          </span>
        }
      />
      <Card>
        <CardHeader>
          <CardTitle>How it was built</CardTitle>
        </CardHeader>
        <CardContent>
          <ol className="space-y-2" data-testid="lineage" aria-label="Lineage, this artifact first">
            <LineageLink link={a} current />
            {a.lineage.map((l) => (
              <LineageLink key={l.id} link={l} current={false} />
            ))}
          </ol>
        </CardContent>
      </Card>
      <Card>
        <CardHeader>
          <CardTitle>Quality</CardTitle>
        </CardHeader>
        <CardContent className="space-y-4" data-testid="quality">
          {a.quality && a.quality.quantisedTensors > 0 ? (
            <>
              <dl className="grid grid-cols-2 gap-2 text-sm sm:grid-cols-4">
                <div>
                  <dt className="text-muted-foreground">Quantised tensors</dt>
                  <dd className="tabular-nums">{a.quality.quantisedTensors}</dd>
                </div>
                <div>
                  <dt className="text-muted-foreground">Worst relative RMSE</dt>
                  <dd className="tabular-nums">{fmt(a.quality.worstRelRmse)}</dd>
                </div>
                <div>
                  <dt className="text-muted-foreground">Worst SNR</dt>
                  <dd className="tabular-nums">{a.quality.worstSnrDb === null ? '∞' : `${a.quality.worstSnrDb.toFixed(1)} dB`}</dd>
                </div>
                <div>
                  <dt className="text-muted-foreground">Max abs error</dt>
                  <dd className="tabular-nums">{fmt(a.quality.maxAbsError)}</dd>
                </div>
              </dl>
              <TensorQualityChart tensors={a.quality.tensors} limit={limit} />
            </>
          ) : (
            <p className="text-sm text-muted-foreground">
              {a.recipe
                ? 'No lossy tensors were measured for this artifact.'
                : 'An upstream download: nothing was converted, so there is nothing to measure.'}
            </p>
          )}
          {a.quality?.external ? (
            <p className="text-sm" data-testid="external-quality">
              Quality command {a.quality.external.command.join(' ')}:{' '}
              {Object.entries(a.quality.external.figures)
                .map(([k, v]) => `${k} ${v}`)
                .join(', ') || 'no figures parsed'}
            </p>
          ) : null}
        </CardContent>
      </Card>
      <Card>
        <CardHeader>
          <CardTitle>Files</CardTitle>
        </CardHeader>
        <CardContent>
          <p className="mb-2 font-mono text-xs text-muted-foreground">{a.storageUri}</p>
          <Table data-testid="artifact-files">
            <TableHeader>
              <TableRow>
                <TableHead>Path</TableHead>
                <TableHead>Size</TableHead>
                <TableHead>sha256</TableHead>
              </TableRow>
            </TableHeader>
            <TableBody>
              {a.files.map((f) => (
                <TableRow key={f.path}>
                  <TableCell className="font-mono text-xs">{f.path}</TableCell>
                  <TableCell className="tabular-nums">{formatBytes(f.sizeBytes)}</TableCell>
                  <TableCell className="font-mono text-xs">{f.sha256.slice(0, 16)}…</TableCell>
                </TableRow>
              ))}
            </TableBody>
          </Table>
        </CardContent>
      </Card>
    </div>
  );
}
