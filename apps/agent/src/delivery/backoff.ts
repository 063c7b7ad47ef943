/**
 * Exponential backoff with full jitter: a uniformly random delay in [0, min(cap, base * 2^attempt)).
 * Many agents that lost the server at the same moment then come back spread out, not in lockstep.
 */
export function backoffDelayMs(attempt: number, baseMs: number, capMs: number, random: () => number = Math.random): number {
  const ceiling = Math.min(capMs, baseMs * 2 ** Math.min(attempt, 30));
  return Math.floor(random() * ceiling);
}
