export * from './template';
export * from './launch-spec';
export * from './drift';
