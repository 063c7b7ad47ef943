export * from './define-job';
export * from './maintenance.job';
export * from './upstream.job';
export * from './pipeline.job';
export * from './telemetry.job';
export * from './health.job';
export * from './notifications.job';
export * from './validation.job';
