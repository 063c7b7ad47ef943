export * from './state-machine';
export * from './approvals';
export * from './evidence';
export * from './voiding';
