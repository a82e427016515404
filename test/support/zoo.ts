/**
 * The schema zoo: every kind of object PostgreSQL users have, made on blue with rows in everything that
 * holds rows, so each path of the tool is tried on what it was not written for (STYLE.md, "Test on what
 * you did not write for the feature"). Names are hostile on purpose: quotes, spaces, dots, capitals and
 * unicode in schema, table, column, index, constraint, type, trigger, policy and role names.
 *
 * Replication-safe by construction: the ENABLE ALWAYS trigger (which also fires in green's apply worker)
 * is idempotent (it lower-cases a value already lower-cased), the ENABLE REPLICA one only reads, and the
 * plain ones (which the apply worker skips) write what blue then replicates itself.
 */
import pg from 'pg';
import { quoteIdent } from '../../src/core/quote.js';

/** The zoo's schema: a name with a quote, a space, a dot and unicode. */
export const ZOO_SCHEMA = 'Zoo "ä". x';
const S = quoteIdent(ZOO_SCHEMA);
/** A role with a space and capitals: column grants and default privileges name it. */
export const ZOO_READER = 'Zoo Reader';
const R = quoteIdent(ZOO_READER);

/** The range-partitioned table the acknowledged writer inserts into (its root), with its key column. */
export const ZOO_EVENTS = { schema: ZOO_SCHEMA, name: 'Events' } as const;

/**
 * Every table the zoo puts rows in as compare and the publication see them: plain tables and the roots
 * of partitioned ones (their rows are their leaves').
 */
export const ZOO_TABLES: ReadonlyArray<string> = [
  'customers', 'Events', 'regions', 'buckets', 'line items', 'vehicle', 'car', 'people', 'cache', 'documents',
  'no key full', 'no key index', 'made', 'kinds', 'exts', 'indexed', 'bookings', 'checks', 'audit', 'secrets', 'toast',
  'Mixed.Case "tbl" ✓',
];
/** The leaf partitions, each holding rows. */
export const ZOO_PARTITIONS: ReadonlyArray<string> = [
  'events 2025', 'events 2026 h1', 'events 2026 rest', 'events default', 'regions eu', 'regions default', 'buckets 0', 'buckets 1', 'buckets 2',
];

/** The unlogged table: its rows are copied by the clone and not replicated after it. */
export const ZOO_UNLOGGED = { schema: ZOO_SCHEMA, name: 'cache' } as const;
/** Materialized views: "a top" sits over a view over "z base" (refresh order is not name order); "m unpopulated" has no data. */
export const ZOO_MATVIEWS = { base: 'z base', top: 'a top', unpopulated: 'm unpopulated' } as const;
/** The foreign key with a comment (COMMENT ON CONSTRAINT), between two plain tables. */
export const ZOO_COMMENTED_FOREIGN_KEY = { table: 'line items', name: 'line "item". customer fk' } as const;
/** How many large objects the zoo makes (each referenced by a row of `documents`). */
export const ZOO_LARGE_OBJECTS = 4;

const schemaSql = (app: string) => `
CREATE EXTENSION IF NOT EXISTS citext; CREATE EXTENSION IF NOT EXISTS hstore; CREATE EXTENSION IF NOT EXISTS pg_trgm;
DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'Zoo Reader') THEN CREATE ROLE ${R} NOLOGIN; END IF; END $$;
CREATE SCHEMA ${S};
SET search_path = ${S}, public;
GRANT USAGE ON SCHEMA ${S} TO ${quoteIdent(app)}, ${R};
ALTER DEFAULT PRIVILEGES IN SCHEMA ${S} GRANT SELECT ON TABLES TO ${R};
ALTER DEFAULT PRIVILEGES IN SCHEMA ${S} GRANT ALL ON TABLES TO ${quoteIdent(app)};
ALTER DEFAULT PRIVILEGES IN SCHEMA ${S} GRANT ALL ON SEQUENCES TO ${quoteIdent(app)};
CREATE COLLATION "de ICU.coll" (provider = icu, locale = 'de-DE');

-- Types: enum (a label with a quote and unicode), composite, range, multirange, domains with constraints.
CREATE TYPE "Mood" AS ENUM ('calm', 'busy "very"', 'ünï');
CREATE TYPE "pair.t" AS (a int, m "Mood");
CREATE TYPE "float range" AS RANGE (subtype = float8);
CREATE DOMAIN "positive int" AS int CONSTRAINT "must be > 0" CHECK (VALUE > 0) NOT NULL;
CREATE DOMAIN email AS citext CONSTRAINT "has @" CHECK (VALUE ~ '@');
CREATE TYPE person AS (name text, born date);

CREATE FUNCTION "lower email"() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.email := lower(NEW.email); RETURN NEW; END $$;
CREATE FUNCTION "read only"() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
CREATE FUNCTION "audit it"() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN INSERT INTO ${S}.audit (what, row_key) VALUES (TG_TABLE_NAME, NEW.id::text); RETURN NEW; END $$;
CREATE FUNCTION "stamp"() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW."note ✓" := coalesce(NEW."note ✓", 'stamped'); RETURN NEW; END $$;
CREATE FUNCTION "no drop"() RETURNS event_trigger LANGUAGE plpgsql AS $$
  BEGIN IF EXISTS (SELECT 1 FROM pg_event_trigger_dropped_objects() WHERE object_name = 'never drop me') THEN RAISE EXCEPTION 'protected'; END IF; END $$;

CREATE TABLE audit (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, what text NOT NULL, row_key text, at timestamptz DEFAULT now());

-- Partitioned tables: range (two levels, a default), list (a default), hash; keys to and from them.
CREATE TABLE customers (id int PRIMARY KEY, email email NOT NULL, name text COLLATE "de ICU.coll");
CREATE TRIGGER "always lower" BEFORE INSERT OR UPDATE ON customers FOR EACH ROW EXECUTE FUNCTION "lower email"();
ALTER TABLE customers ENABLE ALWAYS TRIGGER "always lower";
CREATE TRIGGER "replica only" AFTER INSERT ON customers FOR EACH ROW EXECUTE FUNCTION "read only"();
ALTER TABLE customers ENABLE REPLICA TRIGGER "replica only";
CREATE TABLE "Events" (id bigint NOT NULL, at date NOT NULL, region text NOT NULL, customer_id int REFERENCES customers (id),
  "note ✓" text, PRIMARY KEY (id, at)) PARTITION BY RANGE (at);
CREATE TABLE "events 2025" PARTITION OF "Events" FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
CREATE TABLE "events 2026" PARTITION OF "Events" FOR VALUES FROM ('2026-01-01') TO ('2027-01-01') PARTITION BY RANGE (at);
CREATE TABLE "events 2026 h1" PARTITION OF "events 2026" FOR VALUES FROM ('2026-01-01') TO ('2026-07-01');
CREATE TABLE "events 2026 rest" PARTITION OF "events 2026" DEFAULT;
CREATE TABLE "events default" PARTITION OF "Events" DEFAULT;
CREATE INDEX "events 2025 note" ON "events 2025" ("note ✓");
CREATE TRIGGER "stamp 2025" BEFORE INSERT ON "events 2025" FOR EACH ROW EXECUTE FUNCTION "stamp"();
CREATE TRIGGER "audit events" AFTER INSERT ON "Events" FOR EACH ROW EXECUTE FUNCTION "audit it"();
CREATE SEQUENCE "events id" OWNED BY "Events".id;
ALTER TABLE "Events" ALTER id SET DEFAULT nextval('"events id"');
CREATE TABLE regions (id int, code text NOT NULL, PRIMARY KEY (id, code)) PARTITION BY LIST (code);
CREATE TABLE "regions eu" PARTITION OF regions FOR VALUES IN ('eu', 'uk');
CREATE TABLE "regions default" PARTITION OF regions DEFAULT;
CREATE TABLE buckets (id int PRIMARY KEY, payload jsonb) PARTITION BY HASH (id);
CREATE TABLE "buckets 0" PARTITION OF buckets FOR VALUES WITH (MODULUS 3, REMAINDER 0);
CREATE TABLE "buckets 1" PARTITION OF buckets FOR VALUES WITH (MODULUS 3, REMAINDER 1);
CREATE TABLE "buckets 2" PARTITION OF buckets FOR VALUES WITH (MODULUS 3, REMAINDER 2);
CREATE TABLE "line items" (id int PRIMARY KEY, event_id bigint NOT NULL, event_at date NOT NULL, customer_id int NOT NULL,
  FOREIGN KEY (event_id, event_at) REFERENCES "Events" (id, at));
ALTER TABLE "line items" ADD CONSTRAINT "line ""item"". customer fk" FOREIGN KEY (customer_id) REFERENCES customers (id);

-- Inheritance (the parent gains a column after the child exists), a typed table, an unlogged table.
CREATE TABLE vehicle (id int PRIMARY KEY, wheels int);
CREATE TABLE car (doors int, PRIMARY KEY (id)) INHERITS (vehicle);
ALTER TABLE vehicle ADD COLUMN colour text;
CREATE TABLE people OF person (PRIMARY KEY (name));
CREATE UNLOGGED TABLE cache (k text PRIMARY KEY, v jsonb);

-- Large objects referenced by a column of type oid.
CREATE TABLE documents (id int PRIMARY KEY, body oid NOT NULL);

-- No primary key: replica identity FULL, and USING INDEX.
CREATE TABLE "no key full" (a int, b text);
ALTER TABLE "no key full" REPLICA IDENTITY FULL;
CREATE TABLE "no key index" (a int NOT NULL, b text);
CREATE UNIQUE INDEX "no key index a" ON "no key index" (a);
ALTER TABLE "no key index" REPLICA IDENTITY USING INDEX "no key index a";

-- Generated and identity columns; owned and unowned sequences.
CREATE TABLE made (id int GENERATED ALWAYS AS IDENTITY PRIMARY KEY, n int GENERATED BY DEFAULT AS IDENTITY,
  w numeric, "w twice" numeric GENERATED ALWAYS AS (w * 2) STORED);
CREATE SEQUENCE "free ""seq""" START 1000;

-- Every kind of value: arrays of each, reg* values.
CREATE TABLE kinds (id serial PRIMARY KEY, m "Mood", ms "Mood"[], p "pair.t", ps "pair.t"[], r "float range", rs "float range"[],
  mr "float multirange", mrs "float multirange"[], i4r int4range, d "positive int", ds "positive int"[], e email, es email[],
  rc regclass, rt regtype, rp regproc, rn regnamespace, rr regrole, rcfg regconfig, rop regoperator, rcs regclass[]);

-- Extension types and their indexes.
CREATE TABLE exts (id int PRIMARY KEY, ci citext, h hstore, t text);
CREATE INDEX "exts ci" ON exts (ci);
CREATE INDEX "exts h gin" ON exts USING gin (h);
CREATE INDEX "exts trgm gin" ON exts USING gin (t gin_trgm_ops);
CREATE INDEX "exts trgm gist" ON exts USING gist (t gist_trgm_ops);

-- Every index kind.
CREATE TABLE indexed (id int PRIMARY KEY, code text, tags text[], doc jsonb, at timestamptz, pt point, span int4range, flag boolean);
CREATE INDEX "i hash" ON indexed USING hash (code);
CREATE INDEX "i gin" ON indexed USING gin (tags);
CREATE INDEX "i gin doc" ON indexed USING gin (doc jsonb_path_ops);
CREATE INDEX "i gist" ON indexed USING gist (span);
CREATE INDEX "i brin" ON indexed USING brin (at);
CREATE INDEX "i spgist" ON indexed USING spgist (pt);
CREATE INDEX "i partial" ON indexed (code) WHERE flag;
CREATE INDEX "i expr" ON indexed (lower(code));
CREATE UNIQUE INDEX "i include" ON indexed (code) INCLUDE (at);

-- Exclusion, deferrable and NOT VALID constraints.
CREATE TABLE bookings (id int PRIMARY KEY, during tstzrange NOT NULL, room int,
  CONSTRAINT "no overlap" EXCLUDE USING gist (during WITH &&),
  CONSTRAINT "room unique later" UNIQUE (room) DEFERRABLE INITIALLY DEFERRED);
CREATE TABLE checks (id int PRIMARY KEY, n int, customer_id int);

-- Rows in everything (the NOT VALID constraints are added after rows that break them).
`;

const rowsSql = `
INSERT INTO customers SELECT g, 'User' || g || '@Example.COM', 'Ärger ' || g FROM generate_series(1, 50) g;
INSERT INTO "Events" (at, region, customer_id) SELECT date '2025-03-01' + (g * 3), (ARRAY['eu', 'us', 'apac'])[1 + g % 3], 1 + g % 50
  FROM generate_series(1, 300) g;
INSERT INTO "Events" (at, region) VALUES ('2030-01-01', 'eu');
INSERT INTO regions SELECT g, (ARRAY['eu', 'uk', 'us'])[1 + g % 3] FROM generate_series(1, 30) g;
INSERT INTO buckets SELECT g, jsonb_build_object('g', g) FROM generate_series(1, 60) g;
INSERT INTO "line items" SELECT g, e.id, e.at, e.customer_id FROM generate_series(1, 100) g
  JOIN "Events" e ON e.id = g WHERE e.customer_id IS NOT NULL;
INSERT INTO vehicle VALUES (1, 2, 'red');
INSERT INTO car (id, wheels, doors, colour) VALUES (2, 4, 5, 'blue'), (3, 4, 3, NULL);
INSERT INTO people VALUES ('Zoë "Z" Ünï', '1990-01-02'), ('Bob', NULL);
INSERT INTO cache SELECT 'k ' || g, jsonb_build_object('v', g) FROM generate_series(1, 40) g;
INSERT INTO documents SELECT g, lo_from_bytea(0, convert_to(repeat('large object ' || g, 1000), 'UTF8')) FROM generate_series(1, 4) g;
INSERT INTO "no key full" SELECT g % 5, 'dup ' || (g % 5) FROM generate_series(1, 20) g;
INSERT INTO "no key index" SELECT g, 'v' || g FROM generate_series(1, 20) g;
INSERT INTO made (w) SELECT g / 3.0 FROM generate_series(1, 25) g;
INSERT INTO made (id, w) OVERRIDING SYSTEM VALUE VALUES (1000, 1);
SELECT setval('"free ""seq"""', 1234);
INSERT INTO kinds (m, ms, p, ps, r, rs, mr, mrs, i4r, d, ds, e, es, rc, rt, rp, rn, rr, rcfg, rop, rcs) VALUES
  ('busy "very"', '{calm,ünï}', '(1,calm)', ARRAY['(2,ünï)'::"pair.t"], '[1.5,2)', ARRAY['(,0]'::"float range"], '{[1,2),[3,4)}',
   ARRAY['{[5,6)}'::"float multirange"], '[1,10)', 7, '{1,2}', 'A@b.c', '{x@y.z}', '"Events"', 'int4', 'now', 'pg_catalog',
   'postgres', 'english', '+(int4,int4)', ARRAY['customers'::regclass, '"line items"'::regclass]),
  (NULL, '{}', NULL, NULL, 'empty', NULL, '{}', NULL, NULL, 1, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
INSERT INTO exts SELECT g, 'MiXeD ' || g, hstore('k' || g, 'v'), 'trigram text ' || md5(g::text) FROM generate_series(1, 50) g;
INSERT INTO indexed SELECT g, 'c' || g, ARRAY['t' || g % 4], jsonb_build_object('n', g), '2026-01-01'::timestamptz + g * interval '1 hour',
  point(g, g), int4range(g, g + 5), g % 2 = 0 FROM generate_series(1, 200) g;
INSERT INTO bookings SELECT g, tstzrange('2026-01-01'::timestamptz + g * interval '1 day', '2026-01-01'::timestamptz + (g + 1) * interval '1 day'), g
  FROM generate_series(1, 20) g;
INSERT INTO checks VALUES (1, 5, 1), (2, -5, 999);
ALTER TABLE checks ADD CONSTRAINT "n positive (later)" CHECK (n > 0) NOT VALID;
ALTER TABLE checks ADD CONSTRAINT "checks customer (later)" FOREIGN KEY (customer_id) REFERENCES customers (id) NOT VALID;

-- Row-level security with FORCE, column grants.
CREATE TABLE secrets (id int PRIMARY KEY, owner_name text NOT NULL, secret text);
ALTER TABLE secrets ENABLE ROW LEVEL SECURITY; ALTER TABLE secrets FORCE ROW LEVEL SECURITY;
CREATE POLICY "own ""rows""" ON secrets USING (owner_name = current_user);
INSERT INTO secrets SELECT g, 'user' || g % 3, 'secret ' || g FROM generate_series(1, 12) g;
GRANT SELECT (id, owner_name) ON secrets TO ${R};
REVOKE ALL ON secrets FROM ${R};
GRANT SELECT (id, owner_name), UPDATE (secret) ON secrets TO ${R};

-- TOAST-sized values: compressed and stored out of line uncompressed.
CREATE TABLE toast (id int PRIMARY KEY, doc text, raw bytea);
ALTER TABLE toast ALTER raw SET STORAGE EXTERNAL;
INSERT INTO toast SELECT g, repeat(md5(g::text), 30000), decode(string_agg(md5((g * 1000 + x)::text), ''), 'hex')
  FROM generate_series(1, 8) g, generate_series(1, 8000) x GROUP BY g;

CREATE TABLE "Mixed.Case ""tbl"" ✓" ("Col ""A"" ✓" int PRIMARY KEY, "select" text, "UPPER.dot" text);
INSERT INTO "Mixed.Case ""tbl"" ✓" SELECT g, 'kw ' || g, 'U.' || g FROM generate_series(1, 10) g;

-- Views, a rule, materialized views over views over materialized views (not in name order), one left unpopulated.
CREATE VIEW "customer view" AS SELECT id, email, name FROM customers;
CREATE RULE "view update" AS ON UPDATE TO "customer view" DO INSTEAD UPDATE customers SET name = NEW.name WHERE id = OLD.id;
CREATE MATERIALIZED VIEW "z base" AS SELECT customer_id, count(*) AS n FROM "Events" GROUP BY customer_id;
CREATE UNIQUE INDEX "z base key" ON "z base" (customer_id);
CREATE VIEW "mid view" AS SELECT b.customer_id, b.n, c.email FROM "z base" b JOIN customers c ON c.id = b.customer_id;
CREATE MATERIALIZED VIEW "a top" AS SELECT count(*) AS customers, sum(n) AS events FROM "mid view";
CREATE MATERIALIZED VIEW "m unpopulated" AS SELECT * FROM "mid view";
REFRESH MATERIALIZED VIEW "m unpopulated" WITH NO DATA;

-- The application's own publication and event trigger.
CREATE PUBLICATION "zoo app pub" FOR TABLE customers, audit;
CREATE EVENT TRIGGER "zoo no drop" ON sql_drop EXECUTE FUNCTION ${S}."no drop"();
`;

/** A comment on every kind of object, a foreign key's included. */
const commentsSql = `
COMMENT ON SCHEMA ${S} IS 'the zoo';
COMMENT ON TABLE customers IS 'table';
COMMENT ON TABLE "Events" IS 'partitioned table';
COMMENT ON TABLE "events 2025" IS 'partition';
COMMENT ON COLUMN customers.email IS 'column';
COMMENT ON INDEX "i brin" IS 'index';
COMMENT ON CONSTRAINT customers_pkey ON customers IS 'primary key';
COMMENT ON CONSTRAINT "line ""item"". customer fk" ON "line items" IS 'foreign key between plain tables';
COMMENT ON CONSTRAINT "line items_event_id_event_at_fkey" ON "line items" IS 'foreign key to a partitioned table';
COMMENT ON CONSTRAINT "n positive (later)" ON checks IS 'NOT VALID check';
COMMENT ON CONSTRAINT "no overlap" ON bookings IS 'exclusion';
COMMENT ON CONSTRAINT "must be > 0" ON DOMAIN "positive int" IS 'domain constraint';
COMMENT ON VIEW "customer view" IS 'view';
COMMENT ON MATERIALIZED VIEW "a top" IS 'materialized view';
COMMENT ON SEQUENCE "free ""seq""" IS 'unowned sequence';
COMMENT ON FUNCTION "audit it"() IS 'function';
COMMENT ON TRIGGER "audit events" ON "Events" IS 'trigger on a partitioned table';
COMMENT ON TRIGGER "always lower" ON customers IS 'ENABLE ALWAYS trigger';
COMMENT ON RULE "view update" ON "customer view" IS 'rule';
COMMENT ON POLICY "own ""rows""" ON secrets IS 'policy';
COMMENT ON TYPE "Mood" IS 'enum';
COMMENT ON TYPE "pair.t" IS 'composite';
COMMENT ON TYPE "float range" IS 'range';
COMMENT ON DOMAIN email IS 'domain';
COMMENT ON COLLATION "de ICU.coll" IS 'ICU collation';
COMMENT ON EXTENSION hstore IS 'extension';
COMMENT ON EVENT TRIGGER "zoo no drop" IS 'event trigger';
COMMENT ON PUBLICATION "zoo app pub" IS 'publication';
`;

/**
 * Writes to every zoo table after the clone, as an application would: inserts, updates (TOAST values
 * unchanged and changed, keys of tables without one), deletes, through partition roots and triggers.
 * The unlogged table is written too: its change must show as a difference, never as "same".
 */
export async function changeZoo(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`SET search_path = ${S}, public;
      INSERT INTO customers VALUES (51, 'New@Example.COM', 'Öl');
      UPDATE customers SET name = name || ' ✓' WHERE id <= 5;
      UPDATE "Events" SET "note ✓" = 'moved', at = '2025-12-01' WHERE id = 120;
      DELETE FROM "line items" WHERE id = 100; DELETE FROM "Events" WHERE id = 300;
      UPDATE regions SET code = 'us' WHERE id = 1;
      UPDATE buckets SET payload = payload || '{"x": 1}' WHERE id % 7 = 0; DELETE FROM buckets WHERE id = 60;
      UPDATE car SET colour = 'green', doors = 4 WHERE id = 2; UPDATE vehicle SET wheels = 3 WHERE id = 1;
      UPDATE people SET born = '2000-01-01' WHERE name = 'Bob';
      UPDATE cache SET v = '{"changed": true}' WHERE k = 'k 1';
      UPDATE "no key full" SET b = 'changed' WHERE a = 1; DELETE FROM "no key full" WHERE a = 2;
      UPDATE "no key index" SET b = 'changed' WHERE a = 1; DELETE FROM "no key index" WHERE a = 2;
      UPDATE made SET w = 99 WHERE id = 1; INSERT INTO made (w) VALUES (7);
      UPDATE kinds SET ms = ms || 'calm'::"Mood", p = '(9,ünï)', mr = '{[7,8)}', rc = 'checks', ds = '{3}' WHERE id = 1;
      INSERT INTO kinds (m, d, rt) VALUES ('calm', 5, 'text');
      UPDATE exts SET h = h || hstore('new', 'v'), ci = 'CHANGED' WHERE id = 1;
      UPDATE indexed SET tags = tags || 'x'::text, flag = NOT flag WHERE id <= 10; DELETE FROM indexed WHERE id = 200;
      INSERT INTO bookings VALUES (21, tstzrange('2030-01-01', '2030-01-02'), 21);
      UPDATE checks SET n = 6 WHERE id = 1;
      UPDATE secrets SET secret = 'rotated' WHERE id = 1;
      UPDATE toast SET id = id + 100 WHERE id = 1; UPDATE toast SET raw = raw || '\\x00'::bytea WHERE id = 2; DELETE FROM toast WHERE id = 3;
      UPDATE "Mixed.Case ""tbl"" ✓" SET "select" = 'changed' WHERE "Col ""A"" ✓" = 1;`);
  } finally {
    await client.end();
  }
}

/**
 * Makes the zoo on the database at `url` (a superuser's URL: extensions, event triggers), with
 * `appUser` (the application's role) granted what the application would have.
 */
export async function createZoo(url: string, options: { appUser: string }): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(schemaSql(options.appUser));
    await client.query(rowsSql);
    await client.query(commentsSql);
    await client.query(`GRANT ALL ON ALL TABLES IN SCHEMA ${S} TO ${quoteIdent(options.appUser)};
                        GRANT ALL ON ALL SEQUENCES IN SCHEMA ${S} TO ${quoteIdent(options.appUser)};
                        ANALYZE`);
  } finally {
    await client.end();
  }
}
