import { createHash } from 'node:crypto';

/** Git blob oid: sha1 of `blob <len>\0<content>`, exactly what `git hash-object` prints. */
export function gitBlobOid(content: Uint8Array): string {
  return createHash('sha1').update(`blob ${content.byteLength}\0`).update(content).digest('hex');
}

/** The Git LFS pointer that git stores in place of a large file. */
export function lfsPointer(sha256: string, size: number): Buffer {
  return Buffer.from(`version https://git-lfs.github.com/spec/v1\noid sha256:${sha256}\nsize ${size}\n`, 'utf8');
}

export function sha256Hex(content: Uint8Array | string): string {
  return createHash('sha256').update(content).digest('hex');
}

/** A stable 40-hex digest of a flat tree (sorted `path\0oid` entries); stands in for git's nested tree objects. */
export function treeHash(entries: Iterable<{ path: string; oid: string }>): string {
  const sorted = [...entries].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const body = sorted.map((e) => `100644 ${e.path}\0${e.oid}`).join('\n');
  return createHash('sha1')
    .update(`tree ${Buffer.byteLength(body)}\0${body}`)
    .digest('hex');
}

/** Commit sha the git way: sha1 of a commit object naming the tree, the parent, author date and title. */
export function commitSha(input: {
  tree: string;
  parent: string | null;
  author: string;
  date: string;
  title: string;
  message: string;
}): string {
  const unix = Math.floor(new Date(input.date).getTime() / 1000);
  const lines = [`tree ${input.tree}`];
  if (input.parent) lines.push(`parent ${input.parent}`);
  lines.push(`author ${input.author} <${input.author}@users.noreply.huggingface.co> ${unix} +0000`);
  lines.push(`committer ${input.author} <${input.author}@users.noreply.huggingface.co> ${unix} +0000`);
  const body = `${lines.join('\n')}\n\n${input.title}\n${input.message ? `\n${input.message}\n` : ''}`;
  return createHash('sha1')
    .update(`commit ${Buffer.byteLength(body)}\0${body}`)
    .digest('hex');
}
