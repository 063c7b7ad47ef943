export * from './server';
export * from './degradations.schema';
export * from './options.schema';
export { planAnswer, type TPlan } from './model';
