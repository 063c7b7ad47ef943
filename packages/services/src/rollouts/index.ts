export * from './rollouts.service';
export { advanceRollout, advanceRollouts, type RolloutTickOptions } from './rollout-tick.service';
