export * from './stored-program.js';
export * from './define-program.js';
export * from './program-store.js';
