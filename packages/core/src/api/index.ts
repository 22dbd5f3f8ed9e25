export * from './prediction-object.js';
