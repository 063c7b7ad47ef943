import { BandwidthLimiter, DownloadSlots, type BandwidthBudget, type FileSlots } from '@fleetplane/hub';
import type { PrismaClient } from '@fleetplane/db';
import { RedisBandwidthBudget, RedisFileSlots, type DownloadLimitsRedis } from './shared-download-limits';

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

interface ClusterEntry {
  limiter?: BandwidthBudget;
  slots?: FileSlots;
  rate: number;
  capacity: number;
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

  private slotsFor(clusterId: string, entry: ClusterEntry): FileSlots {
    if (this.shared) return new RedisFileSlots(this.shared.redis, `${this.shared.keyPrefix}:download-slots:${clusterId}`, () => entry.capacity);
    return new DownloadSlots(entry.capacity);
  }

  private limiterFor(clusterId: string, entry: ClusterEntry): BandwidthBudget {
    if (this.shared) return new RedisBandwidthBudget(this.shared.redis, `${this.shared.keyPrefix}:download-bandwidth:${clusterId}`, () => entry.rate);
    return new BandwidthLimiter(entry.rate);
  }

  async forTarget(targetKey: string): Promise<DownloadLimits | undefined> {
    const cluster = await this.prisma.cluster.findFirst({
      where: { OR: [{ id: targetKey }, { name: targetKey }] },
      select: { id: true, name: true, downloadConcurrency: true, downloadBandwidthMbps: true },
    });
    if (!cluster) return undefined;
    const entry: ClusterEntry = this.byCluster.get(cluster.id) ?? { rate: 0, capacity: 0 };
    this.byCluster.set(cluster.id, entry);

    if (cluster.downloadBandwidthMbps) {
      entry.rate = cluster.downloadBandwidthMbps * MBIT;
      if (entry.limiter instanceof BandwidthLimiter) entry.limiter.setRate(entry.rate);
      entry.limiter ??= this.limiterFor(cluster.id, entry);
    } else entry.limiter = undefined; // steps already running keep the limiter they took
    if (cluster.downloadConcurrency) {
      entry.capacity = cluster.downloadConcurrency;
      if (entry.slots instanceof DownloadSlots) entry.slots.setCapacity(entry.capacity);
      entry.slots ??= this.slotsFor(cluster.id, entry);
    } else entry.slots = undefined;

    const parts = [
      cluster.downloadConcurrency ? `at most ${cluster.downloadConcurrency} file(s) at once` : 'no file limit',
      cluster.downloadBandwidthMbps ? `${cluster.downloadBandwidthMbps} Mbit/s` : 'no bandwidth cap',
    ];
    return { clusterId: cluster.id, clusterName: cluster.name, limiter: entry.limiter, slots: entry.slots, description: `Cluster ${cluster.name} download limits: ${parts.join(', ')} (shared by its runs ${this.shared ? 'across all workers' : 'in this worker'})` };
  }
}
