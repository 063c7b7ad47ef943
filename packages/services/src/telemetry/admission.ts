/**
 * Admission control for telemetry: at most `limit` batches are read, validated and written at once
 * (about the database pool's size); later ones wait their turn before their body is read, so a burst
 * of agents costs queued sockets instead of dozens of half-parsed bodies fighting over two cores and
 * the garbage collector. Past `maxWaiting` the caller is told to come back later (429).
 */
export class Admission {
  private active = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(
    readonly limit: number,
    readonly maxWaiting: number,
  ) {}

  get queued(): number {
    return this.waiting.length;
  }

  /** Resolves with a release function, or null when the queue is full. */
  async enter(): Promise<(() => void) | null> {
    if (this.active < this.limit) {
      this.active += 1;
      return this.release();
    }
    if (this.waiting.length >= this.maxWaiting) return null;
    await new Promise<void>((resolve) => this.waiting.push(resolve));
    // The slot was handed over by the leaving request; `active` did not change.
    return this.release();
  }

  private release(): () => void {
    let done = false;
    return () => {
      if (done) return;
      done = true;
      const next = this.waiting.shift();
      if (next) next();
      else this.active -= 1;
    };
  }
}

const g = globalThis as unknown as { __fleetplaneIngestAdmission?: Admission };

/** One per process (Next.js may load the route module more than once). */
export function ingestAdmission(): Admission {
  return (g.__fleetplaneIngestAdmission ??= new Admission(8, 1024));
}
