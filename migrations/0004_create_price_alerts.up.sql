-- v2.6: users get notified when a symbol crosses a price.
CREATE TABLE price_alerts (
  id bigserial PRIMARY KEY,
  user_id bigint NOT NULL REFERENCES users(id),
  symbol text NOT NULL,
  threshold numeric(18,4) NOT NULL,
  direction text NOT NULL CHECK (direction IN ('above', 'below')),
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX price_alerts_user_idx ON price_alerts (user_id);
