import { BandwidthLimiter, DownloadSlots, type BandwidthBudget, type FileSlots } from '@fleetplane/hub';
import type { PrismaClient } from '@fleetplane/db';
import { RedisBandwidthBudget, RedisFileSlots, type DownloadLimitsRedis } from './shared-download-limits';
import { countOf } from '@fleetplane/domain';

/** 1 Mbit/s in bytes per second. */
export const MBIT = 125_000;

export interface DownloadLimits {
  clusterId: string;
  clusterName: string;
  /** Shared by every download step of the cluster; absent = no bandwidth cap. */
  limiter?: BandwidthBudget;
  /** Files fetched at once across the cluster's download steps; absent = no cluster-wide cap. */
  slots?: FileSlots;
  description: string;
}

/** A cap whose value an operator can change while downloads hold it (in process or in Redis alike). */
type AdjustableBudget = BandwidthBudget & { setRate(bytesPerSecond: number): void };
type AdjustableSlots = FileSlots & { setCapacity(n: number): void };

interface ClusterEntry {
  limiter?: AdjustableBudget;
  slots?: AdjustableSlots;
}

/**
 * Per-cluster download limits: a run whose target is a cluster (its id or name) takes file slots and
 * bandwidth tokens from objects shared by all download steps for that cluster. With `redis` (the
 * worker passes its queue connection) the slots and the token bucket live in Redis, so the caps hold
 * across every worker process; without it, within this process. The cluster's settings are read again
 * at every step start, so an operator's change applies to the next step (and a new rate or capacity
 * also to steps already running on the shared objects).
 */
export class ClusterDownloadLimits {
  private readonly byCluster = new Map<string, ClusterEntry>();

  constructor(
    private readonly prisma: PrismaClient,
    private readonly shared?: { redis: DownloadLimitsRedis; keyPrefix: string },
  ) {}

  private newSlots(clusterId: string, capacity: number): AdjustableSlots {
    if (this.shared) return new RedisFileSlots(this.shared.redis, `${this.shared.keyPrefix}:download-slots:${clusterId}`, capacity);
    return new DownloadSlots(capacity);
  }

  private newLimiter(clusterId: string, bytesPerSecond: number): AdjustableBudget {
    if (this.shared)
      return new RedisBandwidthBudget(this.shared.redis, `${this.shared.keyPrefix}:download-bandwidth:${clusterId}`, bytesPerSecond);
    return new BandwidthLimiter(bytesPerSecond);
  }

  async forTarget(targetKey: string): Promise<DownloadLimits | undefined> {
    const cluster = await this.prisma.cluster.findFirst({
      where: { OR: [{ id: targetKey }, { name: targetKey }] },
      select: { id: true, name: true, downloadConcurrency: true, downloadBandwidthMbps: true },
    });
    if (!cluster) return undefined;
    const entry: ClusterEntry = this.byCluster.get(cluster.id) ?? {};
    this.byCluster.set(cluster.id, entry);

    // Steps already running keep the objects they took: a new value reaches them, a removed cap does not.
    if (cluster.downloadBandwidthMbps) {
      const rate = cluster.downloadBandwidthMbps * MBIT;
      if (entry.limiter) entry.limiter.setRate(rate);
      else entry.limiter = this.newLimiter(cluster.id, rate);
    } else entry.limiter = undefined;
    if (cluster.downloadConcurrency) {
      if (entry.slots) entry.slots.setCapacity(cluster.downloadConcurrency);
      else entry.slots = this.newSlots(cluster.id, cluster.downloadConcurrency);
    } else entry.slots = undefined;

    const parts = [
      cluster.downloadConcurrency ? `at most ${countOf(cluster.downloadConcurrency, 'file')} at once` : 'no file limit',
      cluster.downloadBandwidthMbps ? `${cluster.downloadBandwidthMbps} Mbit/s` : 'no bandwidth cap',
    ];
    return {
      clusterId: cluster.id,
      clusterName: cluster.name,
      limiter: entry.limiter,
      slots: entry.slots,
      description: `Cluster ${cluster.name} download limits: ${parts.join(', ')} (shared by its runs ${this.shared ? 'across all workers' : 'in this worker'})`,
    };
  }
}
