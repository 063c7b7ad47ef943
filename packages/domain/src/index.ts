export * from './auth/roles';
