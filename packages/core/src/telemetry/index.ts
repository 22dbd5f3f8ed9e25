export * from './logger.js';
export * from './metrics.js';
export * from './queue-watch.js';
export * from './tracing.js';
export * from './bounded-label.js';
export * from './cost-metrics.js';
export * from './scaling-watch.js';
