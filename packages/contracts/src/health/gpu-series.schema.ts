import { z } from 'zod';
import { ZId } from '../common/pagination';

/** 1 h reads raw samples, 24 h minute rollups, 7 d hour rollups: each range stays a few hundred to ~1,500 points. */
export const GPU_SERIES_RANGES = ['1h', '24h', '7d'] as const;
export const ZGpuSeriesRange = z.enum(GPU_SERIES_RANGES);
export type TGpuSeriesRange = z.infer<typeof ZGpuSeriesRange>;

export const GPU_SERIES_RANGE_SECONDS: Record<TGpuSeriesRange, number> = { '1h': 3600, '24h': 86_400, '7d': 7 * 86_400 };

export const ZGpuSeriesInput = z.object({ gpuId: ZId, range: ZGpuSeriesRange.default('1h') });
export type TGpuSeriesInput = z.input<typeof ZGpuSeriesInput>;

export const ZClusterGridInput = z.object({ clusterId: ZId });
