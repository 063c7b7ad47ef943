// The commit history a fake Hub serves for its seeds, computed without starting a server: the same
// RepoState and commit shas as startFakeHub builds. The demo's database seed records exactly this
// history, so the watcher's first check of a freshly seeded demo finds the repos unchanged instead of
// "history rewritten" revisions that diff the hub's head against made-up commits.
import { demoRepos } from './demo-repos';
import { DigestCache } from './file-source';
import { toChange } from './hub';
import { RepoState } from './repo-state';
import { ZRepoSeed, type TRepoSeed } from './schemas';

export interface HistoryFile {
  path: string;
  /** Content size (for LFS files the real size, not the pointer's). */
  size: number;
  lfs: boolean;
  sha256: string;
  /** Git blob oid at this path (of the LFS pointer for LFS files), as the Hub's tree lists it. */
  oid: string;
}

export interface HistoryCommit {
  sha: string;
  title: string;
  date: string;
  files: HistoryFile[];
}

/**
 * Each seeded repo's default-branch history, oldest commit first, as a fresh hub (no journal of
 * published commits) serves it. Commits published later through the dev panel come on top of it.
 */
export async function repoHistories(seeds: TRepoSeed[] = demoRepos()): Promise<Map<string, HistoryCommit[]>> {
  const digests = new DigestCache();
  const out = new Map<string, HistoryCommit[]>();
  for (const raw of seeds) {
    const seed = ZRepoSeed.parse(raw);
    const repo = new RepoState(seed.id, seed.private, seed.gated, new Set(seed.tokens));
    for (const c of seed.commits) await repo.commit(toChange(c), digests);
    const head = repo.branches.get(repo.defaultBranch);
    const chain = head ? repo.history(head).reverse() : [];
    out.set(
      seed.id,
      chain.map((c) => ({
        sha: c.id,
        title: c.title,
        date: c.date,
        files: [...c.files.values()]
          .map((f) => ({ path: f.path, size: f.size, lfs: f.lfs, sha256: f.sha256, oid: f.oid }))
          .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0)),
      })),
    );
  }
  return out;
}
