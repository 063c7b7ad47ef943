import pino, { type Logger } from 'pino';

export type { Logger };

/** Structured JSON logs (one line per event); `npm start` pipes them through pino-pretty for people. */
export function createLogger(name: string, level = process.env.LOG_LEVEL ?? 'info'): Logger {
  return pino({
    name,
    level,
    base: { service: name },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: ['*.password', '*.token', '*.credential', '*.authorization'],
  });
}
