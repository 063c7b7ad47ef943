import picomatch from 'picomatch';
import { setTimeout as sleep } from 'node:timers/promises';
import { ZFaults, type TFaults, type TParsedFaults } from './schemas';

export interface FaultTarget {
  /** Decoded request path, e.g. /api/models/o/n or /_cdn/lfs/o/n/<sha>/model.safetensors */
  pathname: string;
  /** Repository file served by this request, if any. */
  filePath?: string;
  isApi: boolean;
}

type Count = number | 'always';

function compileGlob(glob: string | undefined): ((t: FaultTarget) => boolean) | null {
  if (!glob) return null;
  // Like the repo patterns: no slash means "file name at any depth".
  const m = picomatch(glob, { dot: true, basename: !glob.includes('/') });
  return (t) => m(t.pathname) || m(t.pathname.replace(/^\//, '')) || (t.filePath !== undefined && m(t.filePath));
}

/** Shared leaky bucket: each chunk is scheduled after the previous one at the configured rate. */
class Pacer {
  private next = 0;
  constructor(readonly bytesPerSec: number) {}
  async take(bytes: number): Promise<void> {
    const now = performance.now();
    const start = Math.max(now, this.next);
    this.next = start + (bytes / this.bytesPerSec) * 1000;
    if (start > now) await sleep(start - now);
  }
}

/** Active faults with their remaining counts. Counts go down only when a fault actually fires. */
export class FaultState {
  private faults: TParsedFaults = {};
  private counts: { drop: Count; corrupt: Count; rateLimit: number; status5xx: number; ignoreRange: Count } = {
    drop: 0,
    corrupt: 0,
    rateLimit: 0,
    status5xx: 0,
    ignoreRange: 0,
  };
  private matchers: Partial<Record<keyof TParsedFaults, ((t: FaultTarget) => boolean) | null>> = {};
  private pacer: Pacer | null = null;

  set(input: TFaults): void {
    const f = ZFaults.parse(input);
    this.faults = f;
    this.counts = {
      drop: f.dropAfterBytes?.times ?? 0,
      corrupt: f.corruptByteAt?.times ?? 0,
      rateLimit: f.rateLimit?.requests ?? 0,
      status5xx: f.status5xx?.requests ?? 0,
      ignoreRange: f.ignoreRange?.times ?? 0,
    };
    this.matchers = {};
    for (const key of Object.keys(f) as Array<keyof TParsedFaults>) this.matchers[key] = compileGlob(f[key]?.path);
    this.pacer = f.bandwidthBytesPerSec ? new Pacer(f.bandwidthBytesPerSec.bytesPerSec) : null;
  }

  clear(): void {
    this.set({});
  }

  snapshot(): {
    faults: TParsedFaults;
    remaining: { dropAfterBytes: Count; corruptByteAt: Count; rateLimit: number; status5xx: number; ignoreRange: Count };
  } {
    const { drop, corrupt, rateLimit, status5xx, ignoreRange } = this.counts;
    return { faults: this.faults, remaining: { dropAfterBytes: drop, corruptByteAt: corrupt, rateLimit, status5xx, ignoreRange } };
  }

  /** True when this ranged file request should be answered with the whole body (200). */
  takeIgnoreRange(t: FaultTarget): boolean {
    if (this.counts.ignoreRange === 0 || !this.applies('ignoreRange', t, (x) => x.filePath !== undefined)) return false;
    if (this.counts.ignoreRange !== 'always') this.counts.ignoreRange--;
    return true;
  }

  private applies(key: keyof TParsedFaults, t: FaultTarget, defaultScope: (t: FaultTarget) => boolean): boolean {
    if (!this.faults[key]) return false;
    const m = this.matchers[key];
    return m ? m(t) : defaultScope(t);
  }

  latencyMs(t: FaultTarget): number {
    return this.applies('latencyMs', t, () => true) ? this.faults.latencyMs!.ms : 0;
  }

  /** Status to answer instead of handling the request, or null. */
  takeStatus5xx(t: FaultTarget): number | null {
    if (this.counts.status5xx <= 0 || !this.applies('status5xx', t, () => true)) return null;
    this.counts.status5xx--;
    return this.faults.status5xx!.status;
  }

  /** Retry-After seconds for a 429, or null. Default scope: API requests. */
  takeRateLimit(t: FaultTarget): number | null {
    if (this.counts.rateLimit <= 0 || !this.applies('rateLimit', t, (x) => x.isApi)) return null;
    this.counts.rateLimit--;
    return this.faults.rateLimit!.retryAfterSeconds;
  }

  /** Body plan for a file response covering [start, end). Consumes the faults that will fire. */
  bodyPlan(t: FaultTarget, start: number, end: number): { dropAfter: number | null; corruptAt: number | null; pacer: Pacer | null } {
    const fileBody = (x: FaultTarget) => x.filePath !== undefined;
    let dropAfter: number | null = null;
    const drop = this.faults.dropAfterBytes;
    if (drop && this.counts.drop !== 0 && this.applies('dropAfterBytes', t, fileBody) && end - start > drop.bytes) {
      dropAfter = drop.bytes;
      if (this.counts.drop !== 'always') this.counts.drop--;
    }
    let corruptAt: number | null = null;
    const corrupt = this.faults.corruptByteAt;
    if (
      corrupt &&
      this.counts.corrupt !== 0 &&
      this.applies('corruptByteAt', t, fileBody) &&
      corrupt.offset >= start &&
      corrupt.offset < end
    ) {
      corruptAt = corrupt.offset;
      if (this.counts.corrupt !== 'always') this.counts.corrupt--;
    }
    const pacer = this.pacer && this.applies('bandwidthBytesPerSec', t, fileBody) ? this.pacer : null;
    return { dropAfter, corruptAt, pacer };
  }
}
