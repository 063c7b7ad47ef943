/**
 * What the downloader needs from a bandwidth cap and a file-slot cap. In one process these are
 * BandwidthLimiter and DownloadSlots; across worker processes the service layer backs them with Redis.
 */
export interface BandwidthBudget {
  /** Resolves once `bytes` may be transferred; rejects if `signal` aborts first. */
  take(bytes: number, signal?: AbortSignal): Promise<void>;
}

export interface FileSlots {
  /** Resolves with a release function once a file may start; rejects if `signal` aborts first. */
  acquire(signal?: AbortSignal): Promise<() => void>;
}
