import { z } from 'zod';
import { ZId } from '../common/pagination';
import { HEALTH_STATUSES } from '../inventory/cluster.schema';

/** 1 h reads raw samples, 24 h minute rollups, 7 d hour rollups: each range stays a few hundred to ~1,500 points. */
export const GPU_SERIES_RANGES = ['1h', '24h', '7d'] as const;
export const ZGpuSeriesRange = z.enum(GPU_SERIES_RANGES);
export type TGpuSeriesRange = z.infer<typeof ZGpuSeriesRange>;

export const GPU_SERIES_RANGE_SECONDS: Record<TGpuSeriesRange, number> = { '1h': 3600, '24h': 86_400, '7d': 7 * 86_400 };

export const ZGpuSeriesInput = z.object({ gpuId: ZId, range: ZGpuSeriesRange.default('1h') });
export type TGpuSeriesInput = z.input<typeof ZGpuSeriesInput>;

/**
 * The cluster page's node × GPU grid, one page of nodes at a time (a 1,000-node cluster would otherwise send
 * 8,000 cells with their readings on every refresh). Nodes come worst first (critical, warning, offline,
 * unknown, healthy), then by hostname; `health` keeps nodes whose own verdict or any GPU's is in the set.
 */
export const CLUSTER_GRID_MAX_PAGE_SIZE = 100;
export const ZClusterGridInput = z.object({
  clusterId: ZId,
  page: z.number().int().min(1).max(100_000).default(1),
  pageSize: z.number().int().min(1).max(CLUSTER_GRID_MAX_PAGE_SIZE).default(24),
  health: z.array(z.enum(HEALTH_STATUSES)).max(HEALTH_STATUSES.length).optional(),
  hostname: z.string().trim().max(255).optional(),
});
export type TClusterGridInput = z.input<typeof ZClusterGridInput>;
