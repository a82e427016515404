ALTER TABLE positions DROP COLUMN leverage;
