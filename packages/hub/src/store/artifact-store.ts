/**
 * Where verified artifacts live. Paths handed out are local files: a remote (S3-compatible) store can
 * implement this by staging locally under `root` and uploading in `finalize`.
 */
export interface ArtifactStore {
  readonly root: string;
  /** Absolute local path of `relPath` inside the artifact `artifactKey`; rejects traversal. */
  pathFor(artifactKey: string, relPath: string): string;
  exists(path: string): Promise<{ sizeBytes: number } | null>;
  /** Free and total bytes of the filesystem holding `root`. */
  statfs(): Promise<{ freeBytes: number; totalBytes: number }>;
  /** Creates the parent directory of a path that is about to be written. */
  prepare(path: string): Promise<void>;
  /** Makes a fully written, verified partial file the final file (atomically). */
  finalize(partialPath: string, finalPath: string): Promise<void>;
  /** Places an identical copy of an existing verified file at `targetPath`: hard link when possible. */
  link(existingPath: string, targetPath: string): Promise<'hardlink' | 'copy'>;
  remove(path: string): Promise<void>;
  /** Final files of an artifact (partials excluded), paths relative to the artifact. */
  list(artifactKey: string): Promise<Array<{ path: string; sizeBytes: number }>>;
}

export const PARTIAL_SUFFIX = '.partial';
