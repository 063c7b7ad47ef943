export * from './upstream.schema';
export * from './pipeline.schema';
