export * from './types';
export * from './catalog-defaults';
export * from './compatibility';
export * from './model-config';
export * from './planner';
export * from './launch-command';
export * from './cost';
export * from './engine-capacity';
