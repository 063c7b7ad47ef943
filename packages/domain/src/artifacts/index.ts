export * from './artifact-access';
export * from './byte-range';
