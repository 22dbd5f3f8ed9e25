export * from './define-scripts.js';
