'use client';
import { useQuery } from '@tanstack/react-query';
import type { RouterOutputs } from '@fleetplane/api';
import { SERVING_ENGINE_LABELS, type TServingEngine } from '@fleetplane/contracts';
import { DriftBadge, EngineStateBadge } from '~/components/engine/drift-badge';
import { RelativeTime } from '~/components/relative-time';
import { EmptyState, QueryView } from '~/components/states';
import { Card, CardContent, CardDescription, CardHeader, CardTitle } from '~/components/ui/card';
import { Skeleton } from '~/components/ui/skeleton';
import { Table, TableBody, TableCell, TableHead, TableHeader, TableRow } from '~/components/ui/table';
import { LIVE_REFRESH_MS } from '~/lib/live-refresh';
import { formatBytes } from '~/lib/utils';
import { useTRPC } from '~/trpc/react';

const shortDigest = (d: string | null) => (d ? d.slice(0, 12) : '—');

function Fact({ label, children }: { label: string; children: React.ReactNode }) {
  return (
    <div>
      <p className="text-xs uppercase text-muted-foreground">{label}</p>
      <div className="text-sm font-medium break-words">{children}</div>
    </div>
  );
}

const tokens = (n: number) => `${n.toLocaleString('en-US')} tokens`;

type TKvCapacity = NonNullable<RouterOutputs['engine']['nodeState']['kvCapacity']>;

/**
 * The engine's own KV-cache size (vLLM's num_gpu_blocks x block_size) beside the capacity planner's estimate
 * for the same node and settings: two bars on one scale, so a planner that is off shows at a glance.
 */
function KvCapacityCompare({ kv }: { kv: TKvCapacity }) {
  const planned = kv.comparison?.plannedTokens ?? null;
  const scale = Math.max(kv.engine.tokens, planned ?? 0);
  const bar = (label: string, value: number, className: string, detail: string) => (
    <div className="grid grid-cols-[7rem_1fr] items-center gap-3 text-sm">
      <span className="text-muted-foreground">{label}</span>
      <div>
        <div className="h-2.5 rounded-full bg-muted" aria-hidden="true">
          <div className={`h-2.5 rounded-full ${className}`} style={{ width: `${Math.max(1, (value / scale) * 100)}%` }} />
        </div>
        <p className="mt-1 text-xs">
          <span className="font-medium">{tokens(value)}</span> <span className="text-muted-foreground">{detail}</span>
        </p>
      </div>
    </div>
  );
  return (
    <div data-testid="kv-capacity" className="space-y-2 rounded-lg border p-3">
      <p className="text-xs uppercase text-muted-foreground">KV cache capacity</p>
      {bar(
        'Engine',
        kv.engine.tokens,
        'bg-primary',
        `${kv.engine.numGpuBlocks.toLocaleString('en-US')} blocks × ${kv.engine.blockSize}${kv.engine.cacheDtype ? `, ${kv.engine.cacheDtype}` : ''}`,
      )}
      {kv.comparison && planned !== null ? (
        <>
          {bar('Planner', planned, 'bg-muted-foreground', 'estimate for this node, artifact and context')}
          <p className="text-sm" data-testid="kv-capacity-error">
            <span className="font-medium">
              {kv.comparison.errorFraction >= 0 ? '+' : '−'}
              {Math.abs(kv.comparison.errorFraction * 100).toFixed(1)} %
            </span>{' '}
            <span className="text-muted-foreground">{kv.comparison.summary}</span>
          </p>
        </>
      ) : (
        <p className="text-sm text-muted-foreground">{kv.note}</p>
      )}
    </div>
  );
}

/** The node's serving engine as its agent last reported it, against what it should serve, and its model cache. */
export function EnginePanel({ nodeId }: { nodeId: string }) {
  const trpc = useTRPC();
  const engine = useQuery({ ...trpc.engine.nodeState.queryOptions({ nodeId }), refetchInterval: LIVE_REFRESH_MS });
  return (
    <Card data-testid="engine-panel">
      <CardHeader>
        <CardTitle>Serving engine</CardTitle>
        <CardDescription>
          What the engine itself says it serves (its /v1/models and metrics), compared with the node&apos;s desired artifact.
        </CardDescription>
      </CardHeader>
      <CardContent className="space-y-4">
        <QueryView
          query={engine}
          skeleton={<Skeleton className="h-32" />}
          isEmpty={(d) => d.reported === null && d.desired.kind === 'none'}
          empty={<EmptyState title="No engine reported yet" description="The agent reports its engine once it runs with engine support." />}
        >
          {(d) => {
            const r = d.reported;
            const desired =
              d.desired.kind === 'artifact'
                ? `${d.desired.artifact.label} (${shortDigest(d.desired.artifact.digest)})`
                : d.desired.kind === 'stopped'
                  ? 'stopped'
                  : '—';
            return (
              <>
                <div className="grid grid-cols-2 gap-4 md:grid-cols-4">
                  <Fact label="State">
                    <EngineStateBadge state={r?.state ?? null} />
                  </Fact>
                  <Fact label="Engine">
                    {r?.kind
                      ? `${SERVING_ENGINE_LABELS[r.kind as TServingEngine] ?? r.kind} ${r.version ?? ''}`
                      : `${SERVING_ENGINE_LABELS[d.clusterEngine.kind]} ${d.clusterEngine.version} (cluster)`}
                  </Fact>
                  <Fact label="Drift">
                    <span className="inline-flex flex-wrap items-center gap-2">
                      <DriftBadge drift={d.drift} />
                      {d.isStagingNode ? <span className="text-xs text-muted-foreground">staging node</span> : null}
                    </span>
                  </Fact>
                  <Fact label="Last report">{r ? <RelativeTime date={r.observedAt} /> : '—'}</Fact>
                  <Fact label="Serving">
                    {r?.servedArtifactDigest
                      ? `${r.servedLabel ?? 'unknown artifact'} (${shortDigest(r.servedArtifactDigest)})`
                      : r?.servedModelIds.join(', ') || '—'}
                  </Fact>
                  <Fact label="Desired">{desired}</Fact>
                  <Fact label="Load time / restarts">
                    {r?.lastLoadSeconds != null ? `${r.lastLoadSeconds.toFixed(1)} s` : '—'} / {r?.restarts ?? 0}
                  </Fact>
                  <Fact label="Endpoint">{r?.endpointUrl ?? '—'}</Fact>
                </div>
                {d.drift.message ? (
                  <p className="text-sm" data-testid="drift-message">
                    {d.drift.message}
                  </p>
                ) : null}
                {d.kvCapacity ? <KvCapacityCompare kv={d.kvCapacity} /> : null}
                {r?.lastError ? (
                  <div>
                    <p className="text-xs uppercase text-muted-foreground">Last error</p>
                    <pre className="mt-1 max-h-40 overflow-auto rounded-md bg-muted p-2 text-xs whitespace-pre-wrap">{r.lastError}</pre>
                  </div>
                ) : null}
                <div>
                  <p className="mb-2 text-xs uppercase text-muted-foreground">
                    Model cache · {formatBytes(d.cache.freeBytes)} free of {formatBytes(d.cache.totalBytes)}
                  </p>
                  {d.cache.artifacts.length === 0 ? (
                    <p className="text-sm text-muted-foreground">No artifacts cached.</p>
                  ) : (
                    <div className="rounded-lg border">
                      <Table data-testid="model-cache-table">
                        <TableHeader>
                          <TableRow>
                            <TableHead>Artifact</TableHead>
                            <TableHead>Digest</TableHead>
                            <TableHead>Size</TableHead>
                            <TableHead>Complete</TableHead>
                            <TableHead>Last used</TableHead>
                          </TableRow>
                        </TableHeader>
                        <TableBody>
                          {d.cache.artifacts.map((a) => (
                            <TableRow key={a.digest}>
                              <TableCell>{a.label ?? 'unknown'}</TableCell>
                              <TableCell className="font-mono text-xs">{shortDigest(a.digest)}</TableCell>
                              <TableCell>{formatBytes(a.sizeBytes)}</TableCell>
                              <TableCell>{a.complete ? 'yes' : 'partial'}</TableCell>
                              <TableCell>
                                <RelativeTime date={a.lastUsedAt} />
                              </TableCell>
                            </TableRow>
                          ))}
                        </TableBody>
                      </Table>
                    </div>
                  )}
                </div>
              </>
            );
          }}
        </QueryView>
      </CardContent>
    </Card>
  );
}
