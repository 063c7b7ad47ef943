export * from './alert.schema';
export * from './alert-webhook.schema';
export * from './gpu-series.schema';
