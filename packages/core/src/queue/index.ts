export * from './names.js';
export * from './schemas.js';
export * from './connection.js';
export * from './job-options.js';
export * from './job-error.js';
export * from './prediction-object.js';
