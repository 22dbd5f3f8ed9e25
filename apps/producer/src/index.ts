export * from './create-app.js';
export * from './http-errors.js';
export * from './prediction-queues.js';
export * from './prediction-object.js';
export * from './prediction-request.js';
export * from './callback-check.js';
