export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(2)} ${units[i]}`;
}

/** Downloaded bytes did not match the manifest. The bad file has already been deleted. */
export class DownloadVerificationError extends Error {
  override readonly name = 'DownloadVerificationError';
  constructor(
    readonly path: string,
    readonly algorithm: 'sha256' | 'git-sha1' | 'size',
    readonly expected: string,
    readonly actual: string,
  ) {
    super(`Verification failed for ${path}: expected ${algorithm} ${expected}, got ${actual}. The downloaded file was deleted.`);
  }
}

/** Refused before any file request: not enough free space for what still has to be fetched. */
export class InsufficientDiskError extends Error {
  override readonly name = 'InsufficientDiskError';
  constructor(
    readonly root: string,
    readonly neededBytes: number,
    readonly freeBytes: number,
    readonly toFetchBytes: number,
    readonly marginBytes: number,
  ) {
    super(
      `Not enough disk space in ${root}: need ${formatBytes(neededBytes)} (${neededBytes} bytes = ${toFetchBytes} to download + ${marginBytes} margin) ` +
        `but only ${formatBytes(freeBytes)} (${freeBytes} bytes) are free.`,
    );
  }
}

/** The Hub refused a file for a reason retries cannot fix (401/403/404...). */
export class DownloadHttpError extends Error {
  override readonly name = 'DownloadHttpError';
  constructor(
    readonly path: string,
    readonly status: number,
    readonly errorCode: string | null,
    detail: string,
  ) {
    super(`Downloading ${path} failed with HTTP ${status}${errorCode ? ` ${errorCode}` : ''}${detail ? `: ${detail}` : ''}`);
  }
}

/** Retries ran out on a transient problem (network, 5xx, 429, stalled transfer). */
export class DownloadRetriesExhaustedError extends Error {
  override readonly name = 'DownloadRetriesExhaustedError';
  constructor(
    readonly path: string,
    readonly attempts: number,
    readonly lastReason: string,
  ) {
    super(
      `Downloading ${path} failed after ${attempts} attempts without progress; last error: ${lastReason}. The partial file was kept for a later resume.`,
    );
  }
}
