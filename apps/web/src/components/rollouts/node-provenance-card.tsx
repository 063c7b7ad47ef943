'use client';
import { useQuery } from '@tanstack/react-query';
import Link from 'next/link';
import { EmptyState, QueryView, TableSkeleton } from '~/components/states';
import { Badge } from '~/components/ui/badge';
import { Card, CardContent, CardDescription, CardHeader, CardTitle } from '~/components/ui/card';
import { formatDateTime } from '~/lib/utils';
import { useTRPC } from '~/trpc/react';
import { shortDigest } from './rollout-badges';

function Row({ label, children }: { label: string; children: React.ReactNode }) {
  return (
    <div className="grid grid-cols-[10rem_1fr] gap-2 py-1">
      <dt className="text-sm text-muted-foreground">{label}</dt>
      <dd className="text-sm">{children}</dd>
    </div>
  );
}

/** What runs on this node, built from what, approved by whom, on what evidence. */
export function NodeProvenanceCard({ nodeId }: { nodeId: string }) {
  const trpc = useTRPC();
  const query = useQuery(trpc.rollouts.provenance.queryOptions({ nodeId }));
  return (
    <Card data-testid="node-provenance">
      <CardHeader>
        <CardTitle>What runs here</CardTitle>
        <CardDescription>The node&apos;s deployed artifact, where it came from and who approved it.</CardDescription>
      </CardHeader>
      <CardContent>
        <QueryView
          query={query}
          skeleton={<TableSkeleton rows={3} columns={2} />}
          isEmpty={(p) => p.deployment === null}
          empty={<EmptyState title="Nothing deployed" description="No rollout has put an artifact on this node yet." />}
        >
          {(p) => {
            const d = p.deployment!;
            return (
              <dl>
                <Row label="Artifact">
                  {d.artifact.label} <span className="font-mono text-xs text-muted-foreground">{shortDigest(d.artifact.digest)}</span>
                  {p.drift ? (
                    <Badge variant="warning" className="ml-2">
                      engine serves {shortDigest(p.servedDigest)}
                    </Badge>
                  ) : null}
                </Row>
                <Row label="Built from">
                  <Link href={`/models/revisions/${d.artifact.revisionId}`} className="text-primary hover:underline">
                    {d.artifact.repo}@{d.artifact.commitSha.slice(0, 7)}
                  </Link>
                  {d.artifact.pipelineRunId ? (
                    <>
                      {' '}
                      by{' '}
                      <Link href={`/pipelines/${d.artifact.pipelineRunId}`} className="text-primary hover:underline">
                        pipeline run
                      </Link>
                    </>
                  ) : null}
                </Row>
                <Row label="Requested by">{d.proposal?.requestedBy ?? '—'}</Row>
                <Row label="Approved by">
                  {d.proposal?.approvals.length ? d.proposal.approvals.map((a) => `${a.by} (${formatDateTime(a.at)})`).join(', ') : '—'}
                </Row>
                <Row label="Evidence">
                  {d.proposal?.validationRun ? (
                    <Link href={`/validation/${d.proposal.validationRun.id}`} className="text-primary hover:underline">
                      {d.proposal.validationRun.suite.name} v{d.proposal.validationRun.suite.version}:{' '}
                      {d.proposal.validationRun.verdict ?? 'no verdict'}
                    </Link>
                  ) : (
                    '—'
                  )}{' '}
                  <span className="font-mono text-xs text-muted-foreground">{shortDigest(d.proposal?.evidenceDigest)}</span>
                </Row>
                <Row label="Deployed">
                  {formatDateTime(d.since)} by {d.startedBy}
                  {d.rollout ? (
                    <>
                      {' '}
                      ·{' '}
                      <Link href={`/rollouts/${d.rollout.id}`} className="text-primary hover:underline">
                        {d.rollout.kind}
                      </Link>
                    </>
                  ) : null}
                </Row>
              </dl>
            );
          }}
        </QueryView>
      </CardContent>
    </Card>
  );
}
