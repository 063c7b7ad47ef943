import { constants } from 'node:fs';
import { copyFile, link, mkdir, open, readdir, rename, rm, stat, statfs as nodeStatfs } from 'node:fs/promises';
import path from 'node:path';
import { PARTIAL_SUFFIX, type ArtifactStore } from './artifact-store';

export interface StatfsResult {
  bavail: number | bigint;
  bsize: number | bigint;
  blocks: number | bigint;
}

export interface LocalDirectoryStoreOptions {
  /** Injected in tests to simulate a full disk. */
  statfs?: (dir: string) => Promise<StatfsResult>;
  /** fsync files before they become final (default true): a verified file must survive a crash. */
  durable?: boolean;
}

const SAFE_SEGMENT = /^(?!\.{1,2}$)[^/\\\0]+$/;

/** One directory per artifact key under a root directory (the caller picks keys: per cluster, per revision...). */
export class LocalDirectoryStore implements ArtifactStore {
  readonly root: string;
  private readonly statfsFn: (dir: string) => Promise<StatfsResult>;
  private readonly durable: boolean;

  constructor(rootDir: string, options: LocalDirectoryStoreOptions = {}) {
    this.root = path.resolve(rootDir);
    this.statfsFn = options.statfs ?? ((dir) => nodeStatfs(dir));
    this.durable = options.durable ?? true;
  }

  private checkRelative(kind: string, value: string): string[] {
    const parts = value.split('/');
    if (value === '' || value.startsWith('/') || !parts.every((p) => SAFE_SEGMENT.test(p))) {
      throw new Error(`Invalid ${kind} "${value}": use relative paths without empty, "." or ".." segments`);
    }
    return parts;
  }

  pathFor(artifactKey: string, relPath: string): string {
    const full = path.join(this.root, ...this.checkRelative('artifact key', artifactKey), ...this.checkRelative('file path', relPath));
    if (!full.startsWith(this.root + path.sep)) throw new Error(`Path escapes the store root: ${relPath}`);
    return full;
  }

  async exists(p: string): Promise<{ sizeBytes: number } | null> {
    try {
      const s = await stat(p);
      return s.isFile() ? { sizeBytes: s.size } : null;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
  }

  async statfs(): Promise<{ freeBytes: number; totalBytes: number }> {
    await mkdir(this.root, { recursive: true });
    const s = await this.statfsFn(this.root);
    return { freeBytes: Number(s.bavail) * Number(s.bsize), totalBytes: Number(s.blocks) * Number(s.bsize) };
  }

  async prepare(p: string): Promise<void> {
    await mkdir(path.dirname(p), { recursive: true });
  }

  async finalize(partialPath: string, finalPath: string): Promise<void> {
    if (this.durable) {
      const fh = await open(partialPath, 'r');
      try {
        await fh.sync();
      } finally {
        await fh.close();
      }
    }
    await mkdir(path.dirname(finalPath), { recursive: true });
    await rename(partialPath, finalPath);
  }

  async link(existingPath: string, targetPath: string): Promise<'hardlink' | 'copy'> {
    await mkdir(path.dirname(targetPath), { recursive: true });
    await rm(targetPath, { force: true });
    try {
      await link(existingPath, targetPath);
      return 'hardlink';
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'EXDEV' && code !== 'EPERM' && code !== 'EMLINK' && code !== 'ENOTSUP') throw err;
    }
    // Another filesystem: copy to a partial, then rename, so a crash never leaves half a file in place.
    const partial = targetPath + PARTIAL_SUFFIX;
    await copyFile(existingPath, partial, constants.COPYFILE_FICLONE);
    await this.finalize(partial, targetPath);
    return 'copy';
  }

  async remove(p: string): Promise<void> {
    await rm(p, { force: true });
  }

  async list(artifactKey: string): Promise<Array<{ path: string; sizeBytes: number }>> {
    const dir = path.join(this.root, ...this.checkRelative('artifact key', artifactKey));
    let entries;
    try {
      entries = await readdir(dir, { recursive: true, withFileTypes: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    const out: Array<{ path: string; sizeBytes: number }> = [];
    for (const e of entries) {
      if (!e.isFile() || e.name.endsWith(PARTIAL_SUFFIX)) continue;
      const full = path.join(e.parentPath, e.name);
      out.push({ path: path.relative(dir, full).split(path.sep).join('/'), sizeBytes: (await stat(full)).size });
    }
    return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  }
}
