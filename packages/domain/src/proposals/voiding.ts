/**
 * A proposal is voided when one for a newer revision of the same repo arrives for the same cluster.
 * Revisions are ordered by their commit time (the Hub's), falling back to when Fleetplane saw them.
 */
export interface TRevisionOrderKey {
  trackedRepoId: string;
  revisionId: string;
  committedAt: Date | null;
  detectedAt: Date;
}

function orderTime(r: TRevisionOrderKey): number {
  return (r.committedAt ?? r.detectedAt).getTime();
}

/** -1 when a is older than b, 1 when newer, 0 when the same revision or indistinguishable; null across repos. */
export function compareRevisions(a: TRevisionOrderKey, b: TRevisionOrderKey): -1 | 0 | 1 | null {
  if (a.trackedRepoId !== b.trackedRepoId) return null;
  if (a.revisionId === b.revisionId) return 0;
  const d = orderTime(a) - orderTime(b) || a.detectedAt.getTime() - b.detectedAt.getTime();
  return d < 0 ? -1 : d > 0 ? 1 : 0;
}

export interface TOpenProposalForVoiding {
  id: string;
  clusterId: string;
  revision: TRevisionOrderKey;
}

/**
 * Which open proposals a new proposal supersedes (same cluster, same repo, older revision), and whether
 * the new one is itself already superseded by an open proposal for a newer revision.
 */
export function planVoiding(
  incoming: { clusterId: string; revision: TRevisionOrderKey },
  open: readonly TOpenProposalForVoiding[],
): { voids: string[]; supersededBy: string | null } {
  const voids: string[] = [];
  let supersededBy: string | null = null;
  for (const p of open) {
    if (p.clusterId !== incoming.clusterId) continue;
    const cmp = compareRevisions(p.revision, incoming.revision);
    if (cmp === -1) voids.push(p.id);
    else if (cmp === 1 && supersededBy === null) supersededBy = p.id;
  }
  return { voids, supersededBy };
}
