import { randomUUID } from 'node:crypto';
import { mkdir, rename, rm, stat, statfs } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

// Artifacts appear all at once or not at all: everything is written into a hidden sibling folder on the same
// filesystem and renamed into place only after it is complete (and its quality checked). Any failure, an abort,
// or a refused quality check removes the temporary folder; a kill -9 leaves only a `.<name>.partial-*` folder,
// which never has the final name and which `removeStalePartials` clears before a retry.

export class InsufficientDiskSpaceError extends Error {
  constructor(
    readonly neededBytes: number,
    readonly availableBytes: number,
    dir: string,
  ) {
    super(
      `not enough free disk space in ${dir}: the output needs ${formatBytes(neededBytes)}, ${formatBytes(availableBytes)} is available`,
    );
    this.name = 'InsufficientDiskSpaceError';
  }
}

export class OutputExistsError extends Error {
  constructor(dir: string) {
    super(`${dir} already exists; an artifact folder is never overwritten`);
    this.name = 'OutputExistsError';
  }
}

export function formatBytes(n: number): string {
  if (n >= 2 ** 30) return `${(n / 2 ** 30).toFixed(2)} GiB`;
  if (n >= 2 ** 20) return `${(n / 2 ** 20).toFixed(1)} MiB`;
  return `${n} bytes`;
}

/** Free bytes for an unprivileged writer (f_bavail · f_bsize) on the filesystem holding `dir`. */
export async function freeBytes(dir: string): Promise<number> {
  const s = await statfs(dir);
  return Number(s.bavail) * Number(s.bsize);
}

/** Refuses early when `needed` bytes (plus a 1% / 64 MiB margin for metadata) do not fit under `dir`. */
export async function assertFreeSpace(dir: string, needed: number): Promise<void> {
  const available = await freeBytes(dir);
  const margin = Math.max(64 * 2 ** 20, Math.ceil(needed * 0.01));
  if (needed + margin > available) throw new InsufficientDiskSpaceError(needed + margin, available, dir);
}

async function exists(p: string): Promise<boolean> {
  try {
    await stat(p);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw e;
  }
}

export function partialPrefix(finalDir: string): string {
  return `.${basename(finalDir)}.partial-`;
}

/**
 * Runs `build(tempDir)` and renames the folder to `finalDir` when it resolves. The final folder must not exist.
 * `build` may throw to refuse the result (e.g. a quality breach); the temporary folder is then removed.
 */
export async function writeAtomically<T>(finalDir: string, build: (tempDir: string) => Promise<T>): Promise<T> {
  const parent = dirname(finalDir);
  await mkdir(parent, { recursive: true });
  if (await exists(finalDir)) throw new OutputExistsError(finalDir);
  const temp = join(parent, `${partialPrefix(finalDir)}${randomUUID()}`);
  await mkdir(temp);
  try {
    const result = await build(temp);
    if (await exists(finalDir)) throw new OutputExistsError(finalDir);
    await rename(temp, finalDir);
    return result;
  } catch (e) {
    await rm(temp, { recursive: true, force: true });
    throw e;
  }
}
