export * from './auth/roles';
export * from './common/pagination';
export * from './inventory/site.schema';
export * from './inventory/cluster.schema';
export * from './inventory/node.schema';
export * from './inventory/gpu.schema';
export * from './jobs/index';
