import { mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InsufficientDiskSpaceError, OutputExistsError, assertFreeSpace, freeBytes, writeAtomically } from './output-dir';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'fp-outdir-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('atomic artifact folders', () => {
  it('publishes the folder only when the build resolves', async () => {
    const final = join(root, 'ok');
    const r = await writeAtomically(final, async (tmp) => {
      await writeFile(join(tmp, 'a.bin'), 'x');
      await expect(stat(final)).rejects.toThrow(/ENOENT/);
      return 42;
    });
    expect(r).toBe(42);
    expect(await readdir(final)).toEqual(['a.bin']);
  });

  it('removes everything when the build throws, and refuses an existing folder', async () => {
    const final = join(root, 'bad');
    await expect(
      writeAtomically(final, async (tmp) => {
        await writeFile(join(tmp, 'half.bin'), 'x');
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    await expect(stat(final)).rejects.toThrow(/ENOENT/);
    expect((await readdir(root)).filter((f) => f.includes('.partial-'))).toEqual([]);
    await expect(writeAtomically(join(root, 'ok'), async () => 1)).rejects.toBeInstanceOf(OutputExistsError);
  });
});

describe('free disk space (statfs)', () => {
  it('passes when the output fits and refuses with both numbers when it does not', async () => {
    await assertFreeSpace(root, 1024);
    const free = await freeBytes(root);
    const err = await assertFreeSpace(root, free + 1).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InsufficientDiskSpaceError);
    expect((err as InsufficientDiskSpaceError).availableBytes).toBeLessThanOrEqual(free + 2 ** 30);
    expect((err as Error).message).toMatch(/^not enough free disk space in .*: the output needs .* is available$/);
  });
});
