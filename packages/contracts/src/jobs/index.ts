export * from './define-job';
export * from './maintenance.job';
