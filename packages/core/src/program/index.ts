export * from './types.js';
export * from './parse-signature.js';
export * from './validate-inputs.js';
export * from './render-chat.js';
export * from './parse-reply.js';
export * from './predict.js';
export * from './chain-of-thought.js';
export * from './load-dspy-program.js';
