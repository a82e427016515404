-- bluegreen:no-transaction
-- v2.6: the trade history screen filters by time. CONCURRENTLY cannot run in a transaction, hence the marker above.
CREATE INDEX CONCURRENTLY IF NOT EXISTS trades_executed_at_idx ON trades (executed_at);
