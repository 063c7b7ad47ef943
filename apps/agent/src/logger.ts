import pino, { type Logger } from 'pino';

export type { Logger };

/**
 * JSON lines on stderr, written synchronously: stdout stays free for --dry-run output, and nothing is lost
 * when the process exits right after a fatal message.
 */
export function createLogger(level: string = process.env.FLEETPLANE_AGENT_LOG_LEVEL ?? 'info'): Logger {
  return pino(
    { level, base: { app: 'fleetplane-agent', pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime },
    pino.destination({ fd: 2, sync: true }),
  );
}
