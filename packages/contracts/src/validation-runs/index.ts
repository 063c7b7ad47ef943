export * from './validation-runs.schema';
