import { ZNodeStateReport, type TNodeStateReport } from '@fleetplane/contracts';
import type { Logger } from '../logger';
import { readServedIdentity } from './probe';
import type { EngineSupervisor } from './supervisor';

export interface NodeStateSink {
  putNodeState(report: TNodeStateReport): Promise<{ kind: string; message?: string }>;
}

export interface NodeStateReporterOptions {
  client: NodeStateSink;
  supervisor: EngineSupervisor;
  /** The model cache's report; null = no cache on this agent (reported empty). */
  cacheReport: (() => Promise<TNodeStateReport['cache']>) | null;
  intervalSeconds: number;
  log: Logger;
}

const EMPTY_CACHE: TNodeStateReport['cache'] = { totalBytes: 0, freeBytes: 0, artifacts: [] };

/**
 * PUTs what the node really runs every interval and right after each engine change. The served
 * identity is read from the engine itself (/v1/models, its metrics, the identity file of the directory
 * it names), not from what the supervisor asked for: that difference is what drift is about.
 */
export class NodeStateReporter {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private again = false;
  private stopped = false;
  private unsubscribe: (() => void) | null = null;

  constructor(private readonly o: NodeStateReporterOptions) {}

  start(): this {
    this.unsubscribe = this.o.supervisor.onChange(() => this.kick());
    this.kick();
    return this;
  }

  /** Report now (coalesced with a report in flight). */
  kick(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    if (this.timer) clearTimeout(this.timer);
    this.running = this.reportOnce()
      .catch((err: unknown) => this.o.log.warn({ err: (err as Error).message }, 'node state report failed'))
      .finally(() => {
        this.running = null;
        if (this.stopped) return;
        if (this.again) {
          this.again = false;
          this.kick();
          return;
        }
        this.timer = setTimeout(() => this.kick(), this.o.intervalSeconds * 1000);
        this.timer.unref();
      });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.unsubscribe?.();
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }

  async build(): Promise<TNodeStateReport> {
    const st = this.o.supervisor.status();
    const observedAt = new Date().toISOString();
    const served =
      st.probeUrl && st.kind && (st.state === 'ready' || st.state === 'draining') ? await readServedIdentity(st.probeUrl, st.kind) : null;
    const cache = this.o.cacheReport ? await this.o.cacheReport().catch(() => EMPTY_CACHE) : EMPTY_CACHE;
    return ZNodeStateReport.parse({
      observedAt,
      engine: {
        state: st.state,
        kind: st.kind,
        version: st.version,
        endpointUrl: st.endpointUrl,
        served,
        restarts: st.restarts,
        lastError: st.lastError ? st.lastError.slice(0, 4096) : null,
        lastLoadSeconds: st.lastLoadSeconds,
      },
      cache,
    });
  }

  async reportOnce(): Promise<void> {
    const report = await this.build();
    const r = await this.o.client.putNodeState(report);
    if (r.kind !== 'ok') this.o.log.warn({ result: r.kind, message: r.message }, 'the control plane did not take the node state');
  }
}
