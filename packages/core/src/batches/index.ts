export * from './batch-object.js';
export * from './batch-store.js';
