import { describe, expect, it } from 'vitest';
import {
  defaultPartitionName,
  PARTITION_MS,
  partitionName,
  partitionsToCreate,
  partitionStart,
  retentionPlan,
  type PartitionBounds,
} from './partitions';

const H = PARTITION_MS;
const t0 = new Date('2026-12-03T07:00:00.000Z');
const at = (hours: number) => new Date(t0.getTime() + hours * H);
const hourly = (table: string, hours: number): PartitionBounds => ({
  name: partitionName(table, at(hours)),
  from: at(hours),
  to: at(hours + 1),
  isDefault: false,
});
const dflt: PartitionBounds = { name: 'gpu_sample_default', from: null, to: null, isDefault: true };

describe('partition names and hours', () => {
  it('floors to the UTC hour and names partitions by it', () => {
    expect(partitionStart(new Date('2026-12-03T07:59:59.999Z'))).toEqual(t0);
    expect(partitionStart(t0)).toEqual(t0);
    expect(partitionName('gpu_sample', t0)).toBe('gpu_sample_p2026120307');
    expect(partitionName('engine_sample', new Date('2027-01-09T23:00:00Z'))).toBe('engine_sample_p2027010923');
    expect(defaultPartitionName('gpu_sample')).toBe('gpu_sample_default');
  });

  it('sorts names in time order (retention and listings rely on it)', () => {
    const names = [at(-30), at(-2), at(0), at(20)].map((d) => partitionName('gpu_sample', d));
    expect([...names].sort()).toEqual(names);
  });
});

describe('partitionsToCreate', () => {
  it('plans every hour touching the range, in order', () => {
    const plan = partitionsToCreate('gpu_sample', [], new Date(t0.getTime() + 30 * 60_000), at(3));
    expect(plan.map((p) => [p.name, p.from.toISOString(), p.to.toISOString()])).toEqual([
      ['gpu_sample_p2026120307', '2026-12-03T07:00:00.000Z', '2026-12-03T08:00:00.000Z'],
      ['gpu_sample_p2026120308', '2026-12-03T08:00:00.000Z', '2026-12-03T09:00:00.000Z'],
      ['gpu_sample_p2026120309', '2026-12-03T09:00:00.000Z', '2026-12-03T10:00:00.000Z'],
    ]);
  });

  it('skips hours that exist, so a second call plans nothing', () => {
    const first = partitionsToCreate('gpu_sample', [hourly('gpu_sample', 1)], at(0), at(3));
    expect(first.map((p) => p.from)).toEqual([at(0), at(2)]);
    const existing = [hourly('gpu_sample', 0), hourly('gpu_sample', 1), hourly('gpu_sample', 2), dflt];
    expect(partitionsToCreate('gpu_sample', existing, at(0), at(3))).toEqual([]);
  });

  it('never plans an hour the migrated old table covers (MINVALUE up to the hour after its newest row)', () => {
    const legacy: PartitionBounds = { name: 'gpu_sample_legacy', from: null, to: at(2), isDefault: false };
    expect(partitionsToCreate('gpu_sample', [legacy], at(-5), at(4)).map((p) => p.from)).toEqual([at(2), at(3)]);
  });

  it('adds the hours the DEFAULT partition holds rows for, once each', () => {
    const plan = partitionsToCreate('gpu_sample', [dflt], at(0), at(1), [
      new Date(at(-5).getTime() + 10_000),
      at(-5),
      new Date(at(0).getTime() + 5),
    ]);
    expect(plan.map((p) => p.from)).toEqual([at(-5), at(0)]);
  });

  it('an empty range plans only the extra hours; a reversed one is a bug', () => {
    expect(partitionsToCreate('gpu_sample', [], at(0), at(0))).toEqual([]);
    expect(() => partitionsToCreate('gpu_sample', [], at(1), at(0))).toThrow(/ends before it starts/);
  });
});

describe('retentionPlan', () => {
  const partitions = [-50, -49, -48, -47, 0, 1].map((h) => hourly('gpu_sample', h));

  it('drops partitions that ended by the cutoff and keeps the one straddling it whole', () => {
    const now = at(0.5);
    const cutoff = new Date(now.getTime() - 48 * H); // inside hour -48 (at -47.5)
    const plan = retentionPlan([...partitions, dflt], cutoff, now);
    expect(plan.drop.map((p) => p.name)).toEqual([partitionName('gpu_sample', at(-50)), partitionName('gpu_sample', at(-49))]);
    expect(plan.deleteRowsFrom.map((p) => p.name)).toEqual(['gpu_sample_default']);
  });

  it('drops a partition whose end is exactly the cutoff', () => {
    const plan = retentionPlan(partitions, at(-47), at(1));
    expect(plan.drop.map((p) => p.from)).toEqual([at(-50), at(-49), at(-48)]);
  });

  it('never drops the current hour or later, whatever the cutoff', () => {
    const now = at(0.25);
    const plan = retentionPlan(partitions, now, now);
    expect(plan.drop.map((p) => p.from)).toEqual([at(-50), at(-49), at(-48), at(-47)]);
    expect(() => retentionPlan(partitions, at(2), at(1))).toThrow(/after now/);
  });

  it('deletes rows from a wide partition straddling the cutoff, drops it once it has expired', () => {
    const legacy: PartitionBounds = { name: 'gpu_sample_legacy', from: null, to: at(-40), isDefault: false };
    expect(retentionPlan([legacy], at(-48), at(0))).toEqual({ drop: [], deleteRowsFrom: [legacy] });
    expect(retentionPlan([legacy], at(-40), at(8))).toEqual({ drop: [legacy], deleteRowsFrom: [] });
    const wide: PartitionBounds = { name: 'gpu_sample_wide', from: at(-50), to: at(-44), isDefault: false };
    expect(retentionPlan([wide], at(-48), at(0)).deleteRowsFrom).toEqual([wide]);
    // Entirely inside the window: nothing to do.
    expect(retentionPlan([wide], at(-51), at(-3))).toEqual({ drop: [], deleteRowsFrom: [] });
  });
});
