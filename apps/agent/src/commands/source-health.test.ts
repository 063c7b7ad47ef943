import { describe, expect, it } from 'vitest';
import type { Logger } from '../logger';
import { RepeatedWarnings, SourceHealth } from './source-health';

function recorder() {
  const lines: Array<[string, string]> = [];
  const logger = {
    error: (_o: unknown, msg: string) => lines.push(['error', msg]),
    warn: (_o: unknown, msg: string) => lines.push(['warn', msg]),
    info: (_o: unknown, msg: string) => lines.push(['info', msg]),
  } as unknown as Logger;
  return { lines, logger };
}

describe('SourceHealth', () => {
  it('logs a failure once, again when it changes or after 5 minutes, and the recovery', () => {
    const { lines, logger } = recorder();
    const h = new SourceHealth('nvidia-smi', logger);
    h.report('nvidia-smi not found', 0);
    h.report('nvidia-smi not found', 10_000);
    h.report('nvidia-smi exited with code 9', 20_000);
    h.report('nvidia-smi exited with code 9', 20_000 + 5 * 60_000);
    h.report(null, 400_000);
    h.report(null, 410_000);
    expect(lines).toEqual([
      ['error', 'nvidia-smi not found; other sources keep reporting'],
      ['error', 'nvidia-smi exited with code 9; other sources keep reporting'],
      ['error', 'nvidia-smi exited with code 9; other sources keep reporting'],
      ['info', 'nvidia-smi recovered'],
    ]);
  });
});

describe('RepeatedWarnings', () => {
  it('rate-limits each distinct warning', () => {
    const { lines, logger } = recorder();
    const w = new RepeatedWarnings(logger);
    w.warn('nvidia-smi', 'a', 0);
    w.warn('nvidia-smi', 'a', 1000);
    w.warn('nvidia-smi', 'b', 1000);
    w.warn('nvidia-smi', 'a', 5 * 60_000);
    expect(lines).toEqual([
      ['warn', 'a'],
      ['warn', 'b'],
      ['warn', 'a'],
    ]);
  });
});
