export * from './recommend-workers.js';
export * from './route-loads.js';
export * from './scaling-signal.js';
export * from './supervisor-status.js';
