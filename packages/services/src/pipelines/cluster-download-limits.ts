import { BandwidthLimiter, DownloadSlots } from '@fleetplane/hub';
import type { PrismaClient } from '@fleetplane/db';

/** 1 Mbit/s in bytes per second. */
export const MBIT = 125_000;

export interface DownloadLimits {
  clusterId: string;
  clusterName: string;
  /** Shared by every download step of the cluster in this process; absent = no bandwidth cap. */
  limiter?: BandwidthLimiter;
  /** Files fetched at once across the cluster's download steps; absent = no cluster-wide cap. */
  slots?: DownloadSlots;
  description: string;
}

/**
 * The per-cluster download limits of one worker process: a run whose target is a cluster (its id or
 * name) takes file slots and bandwidth tokens from objects shared by all download steps for that
 * cluster. The cluster's settings are read again at every step start, so an operator's change applies
 * to the next step (and a new rate or capacity also to steps already running on the shared objects).
 */
export class ClusterDownloadLimits {
  private readonly byCluster = new Map<string, { limiter?: BandwidthLimiter; slots?: DownloadSlots }>();

  constructor(private readonly prisma: PrismaClient) {}

  async forTarget(targetKey: string): Promise<DownloadLimits | undefined> {
    const cluster = await this.prisma.cluster.findFirst({
      where: { OR: [{ id: targetKey }, { name: targetKey }] },
      select: { id: true, name: true, downloadConcurrency: true, downloadBandwidthMbps: true },
    });
    if (!cluster) return undefined;
    const entry = this.byCluster.get(cluster.id) ?? {};
    this.byCluster.set(cluster.id, entry);

    if (cluster.downloadBandwidthMbps) {
      const rate = cluster.downloadBandwidthMbps * MBIT;
      if (entry.limiter) entry.limiter.setRate(rate);
      else entry.limiter = new BandwidthLimiter(rate);
    } else entry.limiter = undefined; // steps already running keep the limiter they took
    if (cluster.downloadConcurrency) {
      if (entry.slots) entry.slots.setCapacity(cluster.downloadConcurrency);
      else entry.slots = new DownloadSlots(cluster.downloadConcurrency);
    } else entry.slots = undefined;

    const parts = [
      cluster.downloadConcurrency ? `at most ${cluster.downloadConcurrency} file(s) at once` : 'no file limit',
      cluster.downloadBandwidthMbps ? `${cluster.downloadBandwidthMbps} Mbit/s` : 'no bandwidth cap',
    ];
    return { clusterId: cluster.id, clusterName: cluster.name, ...entry, description: `Cluster ${cluster.name} download limits: ${parts.join(', ')} (shared by its runs)` };
  }
}
