import type { Logger } from '../logger';

const REPEAT_MS = 5 * 60_000;

/**
 * Logs a failing source once when it starts failing (and again if the reason changes or every few
 * minutes), and once when it recovers, so a node without a GPU driver does not log every cycle.
 */
export class SourceHealth {
  private lastError: string | null = null;
  private loggedAt = 0;

  constructor(
    private readonly source: string,
    private readonly logger: Logger,
  ) {}

  report(error: string | null, now = Date.now()): void {
    if (error === null) {
      if (this.lastError !== null) this.logger.info({ source: this.source }, `${this.source} recovered`);
      this.lastError = null;
      return;
    }
    if (error !== this.lastError || now - this.loggedAt >= REPEAT_MS) {
      this.logger.error({ source: this.source }, `${error}; other sources keep reporting`);
      this.loggedAt = now;
    }
    this.lastError = error;
  }
}

/** Warnings that recur every cycle (an unsupported query on an old GPU) are logged once per few minutes. */
export class RepeatedWarnings {
  private readonly lastLogged = new Map<string, number>();

  constructor(private readonly logger: Logger) {}

  warn(source: string, message: string, now = Date.now()): void {
    const key = `${source}\u0000${message}`;
    const last = this.lastLogged.get(key);
    if (last !== undefined && now - last < REPEAT_MS) return;
    if (this.lastLogged.size > 1000) this.lastLogged.clear(); // stays bounded even if messages vary
    this.lastLogged.set(key, now);
    this.logger.warn({ source }, message);
  }
}
