import type { TValidationSuiteInput } from '@fleetplane/contracts';

/**
 * A suite whose performance check runs long enough (~4 s: 8 requests of 200 tokens at 10 ms per token,
 * two at a time) for a test to kill a worker or empty Redis while it is under way.
 */
export function slowValidationSuite(name: string): TValidationSuiteInput {
  return {
    name,
    version: 1,
    checks: [
      { key: 'endpoint', kind: 'endpoint' },
      {
        key: 'performance',
        kind: 'performance',
        params: { concurrencyLevels: [2], inputTokens: 64, outputTokens: 200, requestsPerLevel: 8 },
        thresholds: { maxErrorRate: 0 },
      },
      { key: 'exact-answers', kind: 'exact_answer', params: { taskIds: ['arith-mul', 'unit-f-c'] }, thresholds: { minAccuracy: 1 } },
    ],
  };
}
