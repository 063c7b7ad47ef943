import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import type { TManifestFile } from '@fleetplane/domain/revisions/manifest-file.schema';

/** sha256 always (results carry it), plus git's blob sha1 for non-LFS files (what the Hub lists for them). */
export class ContentHashes {
  private readonly sha256: Hash = createHash('sha256');
  private readonly git: Hash | null;

  constructor(readonly file: TManifestFile) {
    // The git header needs the size up front; the manifest gives it, and a wrong size fails the oid anyway.
    this.git = file.lfs ? null : createHash('sha1').update(`blob ${file.sizeBytes}\0`);
  }

  update(chunk: Uint8Array): void {
    this.sha256.update(chunk);
    this.git?.update(chunk);
  }

  digest(): { sha256: string; gitOid: string | null } {
    return { sha256: this.sha256.digest('hex'), gitOid: this.git ? this.git.digest('hex') : null };
  }
}

/** Feeds the first `bytes` bytes of a local file into the hashes (used to resume a partial file). */
export async function hashFilePrefix(path: string, bytes: number, hashes: ContentHashes, signal?: AbortSignal): Promise<void> {
  if (bytes === 0) return;
  const stream = createReadStream(path, { start: 0, end: bytes - 1, highWaterMark: 1 << 20, signal });
  let seen = 0;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    hashes.update(chunk);
    seen += chunk.length;
  }
  if (seen !== bytes) throw new Error(`${path} shrank while it was being hashed (${seen} of ${bytes} bytes)`);
}

/** Verifies a complete local file against its manifest entry; returns its sha256 or null when it does not match. */
export async function verifyLocalFile(path: string, file: TManifestFile, signal?: AbortSignal): Promise<string | null> {
  const hashes = new ContentHashes(file);
  await hashFilePrefix(path, file.sizeBytes, hashes, signal);
  const d = hashes.digest();
  if (file.sha256 && d.sha256 !== file.sha256) return null;
  if (d.gitOid && d.gitOid !== file.gitOid) return null;
  return d.sha256;
}
