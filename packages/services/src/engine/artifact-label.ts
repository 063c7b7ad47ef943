/** How people see an artifact in engine views and drift messages: repo@short-sha and its quantisation. */
export function artifactLabel(a: { quantisation: string; revision: { commitSha: string; trackedRepo: { hubRepoId: string } } }): string {
  return `${a.revision.trackedRepo.hubRepoId}@${a.revision.commitSha.slice(0, 7)} ${a.quantisation}`;
}

export const ARTIFACT_LABEL_SELECT = {
  id: true,
  digest: true,
  quantisation: true,
  revision: { select: { commitSha: true, trackedRepo: { select: { hubRepoId: true } } } },
} as const;
