export * from './node-commands.schema';
