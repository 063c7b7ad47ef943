import { createHash } from 'node:crypto';
import type { TVerifiedFile } from './manifest-file.schema';

/** Canonical text of a manifest: sorted by path (code-unit order), one `path\tsize\tsha256\n` line per file. */
export function canonicalManifest(files: readonly TVerifiedFile[]): string {
  const sorted = [...files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i]!.path === sorted[i - 1]!.path) throw new Error(`Duplicate path in manifest: ${sorted[i]!.path}`);
  }
  return sorted.map((f) => `${f.path}\t${f.sizeBytes}\t${f.sha256}\n`).join('');
}

/**
 * sha256 of the canonical manifest. Approvals bind to this digest, so it must not depend on the order
 * in which files were listed or downloaded.
 */
export function manifestDigest(files: readonly TVerifiedFile[]): string {
  return createHash('sha256').update(canonicalManifest(files), 'utf8').digest('hex');
}
