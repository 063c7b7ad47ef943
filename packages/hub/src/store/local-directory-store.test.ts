import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LocalDirectoryStore } from './local-directory-store';

let root: string;
beforeEach(() => {
  root = mkdtempSync(path.join(tmpdir(), 'hub-store-'));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

describe('LocalDirectoryStore', () => {
  it('maps keys and paths under the root and refuses traversal', () => {
    const s = new LocalDirectoryStore(root);
    expect(s.pathFor('cluster-a/rev1', 'Q4/x.gguf')).toBe(path.join(root, 'cluster-a', 'rev1', 'Q4', 'x.gguf'));
    for (const bad of ['../x', '/etc/passwd', 'a//b', 'a/./b', '']) expect(() => s.pathFor('k', bad)).toThrow(/Invalid file path/);
    expect(() => s.pathFor('..', 'x')).toThrow(/Invalid artifact key/);
  });

  it('finalizes partials, links identical files and lists final files only', async () => {
    const s = new LocalDirectoryStore(root);
    const final = s.pathFor('k', 'dir/a.bin');
    await s.prepare(final);
    writeFileSync(`${final}.partial`, 'hello');
    expect(await s.exists(final)).toBeNull();
    await s.finalize(`${final}.partial`, final);
    expect(await s.exists(final)).toEqual({ sizeBytes: 5 });
    const other = s.pathFor('k2', 'b.bin');
    expect(await s.link(final, other)).toBe('hardlink');
    expect(statSync(other).ino).toBe(statSync(final).ino);
    writeFileSync(s.pathFor('k', 'c.bin.partial'), 'x');
    expect(await s.list('k')).toEqual([{ path: 'dir/a.bin', sizeBytes: 5 }]);
    expect(await s.list('missing')).toEqual([]);
    await s.remove(final);
    expect(await s.exists(final)).toBeNull();
    expect(readFileSync(other, 'utf8')).toBe('hello');
  });

  it('reports free space from statfs (injectable)', async () => {
    const s = new LocalDirectoryStore(root, { statfs: async () => ({ bavail: 10n, bsize: 4096n, blocks: 100n }) });
    expect(await s.statfs()).toEqual({ freeBytes: 40960, totalBytes: 409600 });
    const real = await new LocalDirectoryStore(root).statfs();
    expect(real.freeBytes).toBeGreaterThan(0);
  });
});
