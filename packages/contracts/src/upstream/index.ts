export * from './upstream.schema';
export * from './pipeline.schema';
export * from './repo-names';
