import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { gitBlobOid, lfsPointer, sha256Hex } from './git-hash';

describe('git hashing', () => {
  it('computes blob oids exactly like git hash-object', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'fake-hub-git-'));
    try {
      for (const content of ['', 'hello\n', '{"a":1}\n'.repeat(100)]) {
        const file = path.join(dir, 'f');
        writeFileSync(file, content);
        const expected = execFileSync('git', ['hash-object', file], { encoding: 'utf8' }).trim();
        expect(gitBlobOid(Buffer.from(content))).toBe(expected);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('knows the well-known empty blob and writes spec LFS pointers', () => {
    expect(gitBlobOid(new Uint8Array())).toBe('e69de29bb2d1d6434b8b29ae775ad8c2e48c5391');
    const sha = sha256Hex('x');
    expect(lfsPointer(sha, 1).toString()).toBe(`version https://git-lfs.github.com/spec/v1\noid sha256:${sha}\nsize 1\n`);
  });
});
