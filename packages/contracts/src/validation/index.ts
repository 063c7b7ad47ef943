export * from './check-definition.schema';
export * from './suite.schema';
export * from './check-result.schema';
export * from './baseline.schema';
export * from './run-target.schema';
export * from './evidence.schema';
export * from './task-data.schema';
