export * from './clock.js';
export * from './events.js';
export * from './build-prompt.js';
export * from './call-lm.js';
export * from './prediction-pipeline.js';
