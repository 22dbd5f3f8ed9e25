export * from './lm-client.js';
export * from './retry-after.js';
export * from './count-tokens.js';
export * from './token-estimate.js';
