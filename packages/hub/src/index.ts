export { resolveHubUrl, resolveFileUrl, DEFAULT_HUB_URL } from './hub-url';
export { checkRepo, type CheckRepoOptions } from './check-repo';
export {
  ZCheckRepoInput,
  ZRepoCheckResult,
  ZRevisionCommit,
  CHECK_ERROR_STATUSES,
  type TCheckRepoInput,
  type TRepoCheckResult,
  type TRevisionCommit,
} from './check-repo.schema';
export { downloadFiles, defaultArtifactKey, type DownloadFilesOptions, type DownloadResult } from './download/download-files';
export { BandwidthLimiter } from './download/bandwidth-limiter';
export { DownloadSlots } from './download/download-slots';
export type { BandwidthBudget, FileSlots } from './download/limits';
export type { DownloadProgress } from './download/progress';
export type { DownloadLogger } from './download/download-file';
export {
  DownloadVerificationError,
  InsufficientDiskError,
  DownloadHttpError,
  DownloadRetriesExhaustedError,
  formatBytes,
} from './download/errors';
export { PARTIAL_SUFFIX, type ArtifactStore } from './store/artifact-store';
export { LocalDirectoryStore, type LocalDirectoryStoreOptions, type StatfsResult } from './store/local-directory-store';
export { backoffDelayMs, parseRetryAfter, createRetryingFetch, DEFAULT_RETRY, type RetryPolicy } from './retry';
