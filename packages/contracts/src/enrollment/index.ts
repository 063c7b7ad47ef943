export * from './join-token.schema';
