// Temporary: every importer moves to src/adapters/catalog/<concern>.ts in the next commits, then this goes.
export * from './catalog/activity.js';
export * from './catalog/collation-indexes.js';
export * from './catalog/integrity.js';
export * from './catalog/materialized-views.js';
export * from './catalog/schema-snapshot.js';
export * from './catalog/search-path.js';
export * from './catalog/sequences.js';
export * from './catalog/statistics.js';
export * from './catalog/tables.js';
export * from './catalog/user-schemas.js';
export * from './catalog/written-rows.js';
