-- bluegreen:no-transaction
DROP INDEX CONCURRENTLY IF EXISTS trades_executed_at_idx;
