export * from './exact-answer-tasks';
export * from './reasoning-prompts';
export * from './tool-cases';
export * from './filler';
export * from './haystack';
export * from './suites';
