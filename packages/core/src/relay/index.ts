export * from './chunk-relay.js';
