-- v2.6: margin trading. A default keeps existing rows valid and the change expand-only.
ALTER TABLE positions ADD COLUMN leverage numeric(6,2) NOT NULL DEFAULT 1;
