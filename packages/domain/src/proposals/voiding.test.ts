import { describe, expect, it } from 'vitest';
import { compareRevisions, planVoiding, type TRevisionOrderKey } from './voiding';

const rev = (id: string, committed: string | null, detected = '2026-12-01T00:00:00Z', repo = 'repo1'): TRevisionOrderKey => ({
  trackedRepoId: repo,
  revisionId: id,
  committedAt: committed ? new Date(committed) : null,
  detectedAt: new Date(detected),
});

describe('revision order', () => {
  it('orders by commit time, then by when it was seen', () => {
    expect(compareRevisions(rev('a', '2026-11-01T00:00:00Z'), rev('b', '2026-11-02T00:00:00Z'))).toBe(-1);
    expect(compareRevisions(rev('b', '2026-11-02T00:00:00Z'), rev('a', '2026-11-01T00:00:00Z'))).toBe(1);
    expect(compareRevisions(rev('a', null, '2026-11-01T00:00:00Z'), rev('b', null, '2026-11-03T00:00:00Z'))).toBe(-1);
    expect(compareRevisions(rev('a', '2026-11-01T00:00:00Z'), rev('a', '2026-11-01T00:00:00Z'))).toBe(0);
  });

  it('does not compare revisions of different repos', () => {
    expect(compareRevisions(rev('a', null), rev('b', null, undefined, 'repo2'))).toBeNull();
  });
});

describe('voiding', () => {
  const incoming = { clusterId: 'c1', revision: rev('new', '2026-11-05T00:00:00Z') };

  it('voids open proposals for older revisions of the same repo on the same cluster', () => {
    const plan = planVoiding(incoming, [
      { id: 'p-old', clusterId: 'c1', revision: rev('old', '2026-11-01T00:00:00Z') },
      { id: 'p-other-cluster', clusterId: 'c2', revision: rev('old', '2026-11-01T00:00:00Z') },
      { id: 'p-other-repo', clusterId: 'c1', revision: rev('x', '2026-11-01T00:00:00Z', undefined, 'repo2') },
      { id: 'p-same-rev', clusterId: 'c1', revision: rev('new', '2026-11-05T00:00:00Z') },
    ]);
    expect(plan).toEqual({ voids: ['p-old'], supersededBy: null });
  });

  it('says when the incoming proposal is itself already superseded', () => {
    const plan = planVoiding(incoming, [{ id: 'p-newer', clusterId: 'c1', revision: rev('newer', '2026-11-09T00:00:00Z') }]);
    expect(plan).toEqual({ voids: [], supersededBy: 'p-newer' });
  });
});
