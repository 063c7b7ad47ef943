export * from './histogram';
export * from './plan';
export * from './analysis';
export * from './state';
