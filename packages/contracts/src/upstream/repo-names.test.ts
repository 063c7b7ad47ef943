import { describe, expect, it } from 'vitest';
import { branchProblem, hubRepoIdProblem, ZBranchName, ZHubRepoId } from './repo-names';
import { ZTrackedRepoFields } from './upstream.schema';

describe('Hub repo ids', () => {
  it('accepts the ids the Hub accepts', () => {
    for (const id of [
      'deepseek-ai/DeepSeek-V4-Flash',
      'a/b',
      'user_1/model.v2',
      `n/${'x'.repeat(96)}`,
      'Org/Name-With_Mixed.Chars',
      '_a/_b_',
    ]) {
      expect(hubRepoIdProblem(id), id).toBeNull();
    }
  });

  it('refuses what the Hub refuses, with a reason', () => {
    const cases: Array<[string, RegExp]> = [
      ['no-namespace', /namespace\/name/],
      ['a/b/c', /namespace\/name/],
      ['/name', /namespace\/name/],
      ['ns/', /namespace\/name/],
      [`n/${'x'.repeat(97)}`, /at most 96/],
      [`${'x'.repeat(97)}/n`, /at most 96/],
      ['ns/na me', /letters, digits/],
      ['ns/name!', /letters, digits/],
      ['ns/na--me', /"--" or "\.\."/],
      ['ns/na..me', /"--" or "\.\."/],
      ['ns/..', /"--" or "\.\."/],
      ['ns/-name', /start or end/],
      ['ns/name-', /start or end/],
      ['.ns/name', /start or end/],
      ['ns/name.', /start or end/],
      ['ns/model.git', /\.git/],
    ];
    for (const [id, why] of cases) expect(hubRepoIdProblem(id), id).toMatch(why);
  });

  it('is the schema the tracked-repo form uses, with the field named', () => {
    expect(ZHubRepoId.safeParse('  deepseek-ai/DeepSeek-V4-Pro ').data).toBe('deepseek-ai/DeepSeek-V4-Pro');
    const bad = ZTrackedRepoFields.safeParse({ familyId: 'f', hubRepoId: 'ns/a..b', branch: 'ok', filePatterns: ['*'] });
    expect(bad.success).toBe(false);
    expect(bad.error?.issues.map((i) => i.path.join('.'))).toEqual(['hubRepoId']);
  });
});

describe('branch names (git check-ref-format --branch)', () => {
  it('accepts ordinary branch names', () => {
    for (const b of ['main', 'v1.0', 'release/2026-12', 'feature/a.b_c-d', 'refs-like/x/y', 'ünïcode', 'a@b', 'x'.repeat(255)]) {
      expect(branchProblem(b), b).toBeNull();
    }
  });

  it('refuses what git refuses', () => {
    const cases: Array<[string, RegExp]> = [
      ['', /Required/],
      ['a..b', /"\.\."/],
      ['a@{1}', /"@\{"/],
      ['@', /"@"/],
      ['has space', /spaces or control/],
      ['tab\tbranch', /spaces or control/],
      ['nul\u0000', /spaces or control/],
      ['del\u007f', /spaces or control/],
      ['a~1', /~ \^ :/],
      ['a^b', /~ \^ :/],
      ['a:b', /~ \^ :/],
      ['a?b', /~ \^ :/],
      ['a*b', /~ \^ :/],
      ['a[b', /~ \^ :/],
      ['a\\b', /~ \^ :/],
      ['main.lock', /\.lock/],
      ['x/y.lock/z', /\.lock/],
      ['.hidden', /start with "\."/],
      ['a/.b', /start with "\."/],
      ['trailing/', /"\/"/],
      ['/leading', /"\/"/],
      ['a//b', /"\/"/],
      ['ends.', /end with "\."/],
      ['-flag', /start with "-"/],
      ['x'.repeat(256), /255 bytes/],
      ['é'.repeat(128), /255 bytes/],
    ];
    for (const [b, why] of cases) expect(branchProblem(b), JSON.stringify(b)).toMatch(why);
  });

  it('is the schema the tracked-repo form uses, defaulting to main', () => {
    expect(ZBranchName.safeParse('release/1').success).toBe(true);
    expect(ZTrackedRepoFields.parse({ familyId: 'f', hubRepoId: 'a/b', filePatterns: ['*'] }).branch).toBe('main');
    const bad = ZTrackedRepoFields.safeParse({ familyId: 'f', hubRepoId: 'a/b', branch: 'x..y', filePatterns: ['*'] });
    expect(bad.error?.issues.map((i) => [i.path.join('.'), i.message])).toEqual([['branch', 'Branch names may not contain ".."']]);
  });
});
