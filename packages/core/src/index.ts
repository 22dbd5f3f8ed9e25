export * from './errors/index.js';
export * from './config/index.js';
export * from './program/index.js';
export * from './lm/index.js';
export * from './queue/index.js';
export * from './telemetry/index.js';
export * from './pipeline/index.js';
