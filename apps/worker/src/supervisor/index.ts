export * from './scale-policy.js';
export * from './supervisor.js';
export * from './worker-plan.js';
export * from './worker-pool.js';
