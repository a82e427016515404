-- v2.6: API keys can be limited to some operations.
ALTER TABLE api_keys ADD COLUMN scopes text[] NOT NULL DEFAULT '{read}';
