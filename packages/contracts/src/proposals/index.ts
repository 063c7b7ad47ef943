export * from './proposals.schema';
