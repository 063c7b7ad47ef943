export * from './connection';
export * from './producer';
