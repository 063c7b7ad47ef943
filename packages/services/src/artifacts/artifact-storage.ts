// Where an artifact's files live on the control plane's disk. The download stage (and quantise) store an
// artifact as a directory and record it as a file: URL in artifact.storage_uri; a file is that directory
// joined with its manifest path. Nothing outside the directory may ever be reached through a path.
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The artifact's directory, or null when it is not stored on this machine's file system (another scheme). */
export function artifactDirectory(storageUri: string): string | null {
  if (!storageUri.startsWith('file:')) return null;
  try {
    return fileURLToPath(storageUri);
  } catch {
    return null;
  }
}

/**
 * `dir` joined with a relative POSIX path from a manifest, or null when the result would leave `dir`
 * (absolute paths, `..`, backslashes, NUL, empty or `.` segments). Callers additionally only serve paths
 * that are in the artifact's manifest, so this is the second fence, not the only one.
 */
export function safeArtifactFilePath(dir: string, relativePath: string): string | null {
  if (relativePath === '' || relativePath.includes('\0') || relativePath.includes('\\') || relativePath.startsWith('/')) return null;
  const segments = relativePath.split('/');
  if (segments.some((s) => s === '' || s === '.' || s === '..')) return null;
  const root = path.resolve(dir);
  const full = path.resolve(root, ...segments);
  const rel = path.relative(root, full);
  if (rel === '' || rel.startsWith('..') || path.isAbsolute(rel)) return null;
  return full;
}
