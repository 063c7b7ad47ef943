import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { manifestDigest } from '@fleetplane/domain/revisions/manifest-digest';

// An artifact's manifest: every file with its size and sha256, sorted by path, and one digest over that list.
// Same files -> same digest, whatever order they were written in or which folder they sit in.

export interface ManifestFile {
  path: string;
  size: number;
  sha256: string;
}

export interface ArtifactManifest {
  files: ManifestFile[];
  totalBytes: number;
  /**
   * The artifact's identity: `manifestDigest` (packages/domain), the same digest the download stage records and
   * the agent recomputes from a load command's file list before it accepts the artifact.
   */
  digest: string;
}

export function buildManifest(files: ManifestFile[]): ArtifactManifest {
  const sorted = [...files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return {
    files: sorted,
    totalBytes: sorted.reduce((a, f) => a + f.size, 0),
    digest: manifestDigest(sorted.map((f) => ({ path: f.path, sizeBytes: f.size, sha256: f.sha256 }))),
  };
}

export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Hashes every regular file under `dir` (recursively); for outputs written by something else, e.g. an external tool. */
export async function manifestOfDirectory(dir: string): Promise<ArtifactManifest> {
  const files: ManifestFile[] = [];
  async function walk(d: string): Promise<void> {
    for (const entry of await readdir(d, { withFileTypes: true })) {
      const p = join(d, entry.name);
      if (entry.isDirectory()) await walk(p);
      else if (entry.isFile())
        files.push({ path: relative(dir, p).split(sep).join('/'), size: (await stat(p)).size, sha256: await sha256File(p) });
    }
  }
  await walk(dir);
  return buildManifest(files);
}
