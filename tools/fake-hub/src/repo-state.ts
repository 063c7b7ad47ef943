import { createHash } from 'node:crypto';
import { commitSha, treeHash } from './git-hash';
import { storeFile, type DigestCache, type FileSource, type StoredFile } from './file-source';

export interface CommitRecord {
  id: string;
  title: string;
  message: string;
  date: string;
  author: string;
  parent: string | null;
  files: ReadonlyMap<string, StoredFile>;
}

export interface CommitChange {
  title: string;
  message: string;
  date?: string;
  author?: string;
  branch?: string;
  files: Record<string, FileSource | null>;
  tags?: string[];
}

export type Gated = false | 'auto' | 'manual';

/** One model repository: commits (a first-parent chain per branch), branches and tags. */
export class RepoState {
  readonly objectId: string;
  readonly owner: string;
  readonly defaultBranch = 'main';
  readonly commits = new Map<string, CommitRecord>();
  readonly branches = new Map<string, string>();
  readonly tags = new Map<string, string>();
  private readonly bySha256 = new Map<string, StoredFile>();
  createdAt: string | null = null;

  constructor(
    readonly id: string,
    readonly isPrivate: boolean,
    readonly gated: Gated,
    readonly tokens: ReadonlySet<string>,
  ) {
    // Hub object ids are 24-hex Mongo ids; derive a stable one from the name.
    this.objectId = createHash('sha1').update(`repo:${id}`).digest('hex').slice(0, 24);
    this.owner = id.split('/')[0]!;
  }

  /** A branch name, a tag, a full 40-hex sha, or HEAD (the default branch). */
  resolve(revision: string): CommitRecord | undefined {
    const rev = revision === 'HEAD' ? this.defaultBranch : revision.replace(/^refs\/(heads|tags)\//, '');
    const sha = this.branches.get(rev) ?? this.tags.get(rev) ?? (/^[0-9a-f]{40}$/.test(rev) ? rev : undefined);
    return sha ? this.commits.get(sha) : undefined;
  }

  /** Commits reachable from `sha`, newest first. */
  history(sha: string): CommitRecord[] {
    const out: CommitRecord[] = [];
    for (let c = this.commits.get(sha); c; c = c.parent ? this.commits.get(c.parent) : undefined) out.push(c);
    return out;
  }

  fileBySha256(sha256: string): StoredFile | undefined {
    return this.bySha256.get(sha256);
  }

  /** The newest commit in `sha`'s history that changed `path` (what the Hub calls lastCommit). */
  lastCommitFor(sha: string, path: string): CommitRecord | undefined {
    const chain = this.history(sha);
    let last: CommitRecord | undefined;
    for (const c of chain) {
      const f = c.files.get(path);
      const parent = c.parent ? this.commits.get(c.parent)?.files.get(path) : undefined;
      if (f && parent?.oid !== f.oid) return c;
      last = c;
    }
    return last;
  }

  async commit(change: CommitChange, digests: DigestCache): Promise<CommitRecord> {
    const branch = change.branch ?? this.defaultBranch;
    const parentSha = this.branches.get(branch) ?? this.branches.get(this.defaultBranch) ?? null;
    const parent = parentSha ? this.commits.get(parentSha) : undefined;
    const files = new Map(parent?.files ?? []);
    for (const [path, source] of Object.entries(change.files)) {
      if (source === null) {
        if (!files.delete(path)) throw new Error(`Cannot delete ${path}: it does not exist in ${this.id}@${branch}`);
        continue;
      }
      for (const existing of files.keys()) {
        if (existing.startsWith(`${path}/`) || path.startsWith(`${existing}/`)) throw new Error(`${path} conflicts with ${existing}`);
      }
      files.set(path, await storeFile(path, source, digests));
    }
    // Dates only move forward, so commit order and "newest first" stay consistent.
    const now = change.date ? new Date(change.date).getTime() : Date.now();
    const after = parent ? new Date(parent.date).getTime() + 1000 : 0;
    const date = new Date(Math.max(now, after)).toISOString().replace(/\.\d{3}Z$/, '.000Z');
    const author = change.author ?? this.owner;
    const tree = treeHash([...files.values()].map((f) => ({ path: f.path, oid: f.oid })));
    const id = commitSha({ tree, parent: parentSha, author, date, title: change.title, message: change.message });
    const record: CommitRecord = { id, title: change.title, message: change.message, date, author, parent: parentSha, files };
    this.commits.set(id, record);
    this.branches.set(branch, id);
    for (const tag of change.tags ?? []) this.tags.set(tag, id);
    for (const f of files.values()) if (f.lfs) this.bySha256.set(f.sha256, f);
    this.createdAt ??= date;
    return record;
  }
}
