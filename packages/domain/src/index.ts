export * from './auth/roles';
export * from './health/index';
export * from './validation/index';
export * from './capacity/index';
export * from './quantisation/index';
export * from './runs/lost-run-decision';
export * from './proposals/index';
export * from './runs/staging-node';
