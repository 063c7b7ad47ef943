export * from './state-machine';
export * from './delivery';
export * from './report';
export * from './sweeper';
export * from './lanes';
