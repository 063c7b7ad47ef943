export * from './partitions';
