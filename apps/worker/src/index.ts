export * from './create-worker.js';
export * from './job-processor.js';
export * from './metrics-server.js';
export * from './observers.js';
