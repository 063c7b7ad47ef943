// The rollout page's plan line: what this rollout really does on its cluster, read from its planned steps, not
// the policy's wishes (a policy of 2 waves on a two-node cluster has one node left for one wave).
import { countOf } from '@fleetplane/domain';

/**
 * `stepSizes[0]` is the canary's node count, the rest the waves' (as planRollout made them); `policyWaves` is what
 * the policy asked for, mentioned only when the cluster had fewer nodes left than that.
 */
export function rolloutPlanText(stepSizes: number[], policyWaves: number): string {
  const [canary = 0, ...waves] = stepSizes;
  if (canary === 0) return 'No nodes.';
  if (waves.length === 0) return `Canary on ${countOf(canary, 'node')}, the whole cluster: no waves.`;
  const equal = waves.every((w) => w === waves[0]);
  const sizes = !equal ? `${waves.join(', ')} nodes` : waves.length > 1 ? `${countOf(waves[0]!, 'node')} each` : countOf(waves[0]!, 'node');
  const left = waves.reduce((a, b) => a + b, 0);
  const fewer =
    waves.length < policyWaves ? ` (the policy allows up to ${policyWaves}; ${countOf(left, 'node')} left after the canary)` : '';
  return `Canary on ${countOf(canary, 'node')}, then ${countOf(waves.length, 'wave')} of ${sizes}${fewer}.`;
}
