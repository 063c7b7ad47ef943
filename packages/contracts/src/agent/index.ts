export * from './agent-api';
export * from './agent-error.schema';
export * from './enroll.schema';
export * from './pci-bus-id';
export * from './telemetry.schema';
export * from './commands.schema';
