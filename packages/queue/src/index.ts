export * from './connection';
export * from './producer';
export * from './job-liveness';
export * from './redis-settings';
export * from './schedulers';
export * from './flows';
