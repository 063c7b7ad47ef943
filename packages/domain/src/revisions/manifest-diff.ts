import type { TManifestFile } from './manifest-file.schema';

export interface ManifestDiff {
  added: TManifestFile[];
  removed: TManifestFile[];
  /** Files present in both whose content changed; `next` holds the new entry. */
  changed: Array<{ path: string; prev: TManifestFile; next: TManifestFile }>;
  /** Bytes of new content that is not already present (under any path) in `prev`. */
  bytesToFetch: number;
}

export type ChangeKind = 'weights' | 'tokenizer_template' | 'docs' | 'none';

/** sha256 when the Hub gave one (LFS), otherwise the git oid: both identify content. */
export function contentKey(file: TManifestFile): string {
  return file.sha256 ? `sha256:${file.sha256}` : `git:${file.gitOid}`;
}

function sameContent(a: TManifestFile, b: TManifestFile): boolean {
  if (a.sizeBytes !== b.sizeBytes) return false;
  // A file can move between git and LFS storage with identical bytes; only then do the keys differ in kind.
  if (a.sha256 && b.sha256) return a.sha256 === b.sha256;
  if (!a.sha256 && !b.sha256) return a.gitOid === b.gitOid;
  return false;
}

function byPath(files: readonly TManifestFile[]): Map<string, TManifestFile> {
  const map = new Map<string, TManifestFile>();
  for (const f of files) {
    if (map.has(f.path)) throw new Error(`Duplicate path in manifest: ${f.path}`);
    map.set(f.path, f);
  }
  return map;
}

export function diffManifests(prev: readonly TManifestFile[], next: readonly TManifestFile[]): ManifestDiff {
  const before = byPath(prev);
  const after = byPath(next);
  const added: TManifestFile[] = [];
  const removed: TManifestFile[] = [];
  const changed: ManifestDiff['changed'] = [];
  for (const [path, file] of after) {
    const old = before.get(path);
    if (!old) added.push(file);
    else if (!sameContent(old, file)) changed.push({ path, prev: old, next: file });
  }
  for (const [path, file] of before) if (!after.has(path)) removed.push(file);

  // Renamed or duplicated content is linked locally, not downloaded again.
  const have = new Set(prev.map(contentKey));
  let bytesToFetch = 0;
  for (const file of [...added, ...changed.map((c) => c.next)]) {
    const key = contentKey(file);
    if (have.has(key)) continue;
    have.add(key);
    bytesToFetch += file.sizeBytes;
  }
  const byPathOrder = (a: { path: string }, b: { path: string }) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0);
  return { added: added.sort(byPathOrder), removed: removed.sort(byPathOrder), changed: changed.sort(byPathOrder), bytesToFetch };
}

const TOKENIZER_TEMPLATE = [
  /^tokenizer[^/]*$/i,
  /^chat_template[^/]*$/i,
  /^generation_config\.json$/i,
  /^special_tokens_map\.json$/i,
  /^added_tokens\.json$/i,
  /^vocab\.(json|txt)$/i,
  /^merges\.txt$/i,
  /\.tiktoken$/i,
];

const DOCS = [
  /\.(md|markdown|rst)$/i,
  /^readme[^/]*$/i,
  /^license[^/]*$/i,
  /^licence[^/]*$/i,
  /^notice[^/]*$/i,
  /^\.gitattributes$/i,
  /^\.gitignore$/i,
  /\.(png|jpe?g|gif|svg|webp|pdf)$/i,
];

/**
 * Kind of a single path. Anything not recognised as tokenizer/template or documentation counts as
 * weights: config.json, the safetensors index, modelling code and unknown files can all change what the
 * model computes, and a false "docs only" would skip validation.
 */
export function classifyPath(path: string): Exclude<ChangeKind, 'none'> {
  const name = path.slice(path.lastIndexOf('/') + 1);
  if (TOKENIZER_TEMPLATE.some((re) => re.test(name))) return 'tokenizer_template';
  if (DOCS.some((re) => re.test(name))) return 'docs';
  return 'weights';
}

const RANK: Record<ChangeKind, number> = { none: 0, docs: 1, tokenizer_template: 2, weights: 3 };

/** The most consequential kind among all touched paths: weights > tokenizer_template > docs > none. */
export function classifyChange(diff: Pick<ManifestDiff, 'added' | 'removed' | 'changed'>): ChangeKind {
  let kind: ChangeKind = 'none';
  const paths = [...diff.added.map((f) => f.path), ...diff.removed.map((f) => f.path), ...diff.changed.map((c) => c.path)];
  for (const path of paths) {
    const k = classifyPath(path);
    if (RANK[k] > RANK[kind]) kind = k;
    if (kind === 'weights') break;
  }
  return kind;
}
