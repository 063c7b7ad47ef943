// Time partitions of the raw telemetry tables (gpu_sample, engine_sample): which hourly partitions to
// create and which to drop, decided from the catalogue's partition bounds. Pure: the service reads the
// catalogue and runs the DDL (packages/services/src/telemetry/partitions.service.ts).

/**
 * One hour per partition. At 8,000 GPUs every 10 s an hour of gpu_sample is 2.88 M rows, about 1 GB
 * with its indexes (docs/performance.md): small enough that keeping the partition that straddles the
 * retention cutoff costs at most 2% over a 48 h window, and few enough (~55 live) that planning stays cheap.
 */
export const PARTITION_MS = 3_600_000;

/** A partition as the catalogue describes it. `from` null: MINVALUE; both null: the DEFAULT partition. */
export interface PartitionBounds {
  name: string;
  from: Date | null;
  to: Date | null;
  isDefault: boolean;
}

export interface PlannedPartition {
  name: string;
  from: Date;
  to: Date;
}

/** Start of the UTC hour holding `at`. */
export function partitionStart(at: Date): Date {
  return new Date(Math.floor(at.getTime() / PARTITION_MS) * PARTITION_MS);
}

/** `gpu_sample_p2026120307`: table, then the partition's first UTC hour (sortable, unique per hour). */
export function partitionName(table: string, start: Date): string {
  const iso = start.toISOString(); // 2026-12-03T07:00:00.000Z
  return `${table}_p${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}${iso.slice(11, 13)}`;
}

/** The name every partitioned table's DEFAULT partition has (created by the migration). */
export function defaultPartitionName(table: string): string {
  return `${table}_default`;
}

function overlaps(p: PartitionBounds, from: Date, to: Date): boolean {
  if (p.isDefault) return false;
  const pFrom = p.from?.getTime() ?? Number.NEGATIVE_INFINITY;
  const pTo = p.to?.getTime() ?? Number.POSITIVE_INFINITY;
  return pFrom < to.getTime() && from.getTime() < pTo;
}

/**
 * Hourly partitions to create so that every hour touching [from, to), plus each hour in `extraHours`
 * (hours the DEFAULT partition holds rows for), has one. Hours an existing partition already overlaps
 * (an hourly one, or the wider one a migration attached with the old table's rows) are left alone.
 */
export function partitionsToCreate(
  table: string,
  existing: readonly PartitionBounds[],
  from: Date,
  to: Date,
  extraHours: readonly Date[] = [],
): PlannedPartition[] {
  if (to.getTime() < from.getTime()) throw new Error(`partition range ends before it starts: ${from.toISOString()} > ${to.toISOString()}`);
  const starts = new Set<number>();
  for (let t = partitionStart(from).getTime(); t < to.getTime(); t += PARTITION_MS) starts.add(t);
  for (const h of extraHours) starts.add(partitionStart(h).getTime());
  return [...starts]
    .sort((a, b) => a - b)
    .map((t) => ({ name: partitionName(table, new Date(t)), from: new Date(t), to: new Date(t + PARTITION_MS) }))
    .filter((p) => !existing.some((e) => overlaps(e, p.from, p.to)));
}

export interface RetentionPlan {
  /** Partitions whose every row is past the cutoff: dropped whole. */
  drop: PartitionBounds[];
  /** Partitions that may hold rows past the cutoff but not only those: rows deleted by statement. */
  deleteRowsFrom: PartitionBounds[];
}

/**
 * What retention does with each partition for rows older than `cutoff`:
 * - a partition that ends at or before the cutoff is dropped whole (never one ending after `now`, so
 *   never the current hour, whatever the cutoff);
 * - the hourly partition straddling the cutoff is kept whole until it has fully expired, so raw samples
 *   live between the retention window and one hour longer, and no row is deleted one by one;
 * - the DEFAULT partition (rows that arrived before their hour's partition existed, normally none) and a
 *   wider partition straddling the cutoff (the old table's rows, attached by the migration) get a row
 *   delete, so they never keep data much longer than the window.
 */
export function retentionPlan(partitions: readonly PartitionBounds[], cutoff: Date, now: Date): RetentionPlan {
  if (cutoff.getTime() > now.getTime()) throw new Error(`retention cutoff ${cutoff.toISOString()} is after now ${now.toISOString()}`);
  const drop: PartitionBounds[] = [];
  const deleteRowsFrom: PartitionBounds[] = [];
  for (const p of partitions) {
    if (p.isDefault) {
      deleteRowsFrom.push(p);
      continue;
    }
    if (p.to && p.to.getTime() <= cutoff.getTime() && p.to.getTime() <= now.getTime()) {
      drop.push(p);
      continue;
    }
    const startsBefore = p.from === null || p.from.getTime() < cutoff.getTime();
    const hourly = p.from !== null && p.to !== null && p.to.getTime() - p.from.getTime() <= PARTITION_MS;
    if (startsBefore && !hourly) deleteRowsFrom.push(p);
  }
  const byName = (a: PartitionBounds, b: PartitionBounds) => a.name.localeCompare(b.name);
  return { drop: drop.sort(byName), deleteRowsFrom: deleteRowsFrom.sort(byName) };
}
