"""The case store's tables on PostgreSQL: SQLite's schema at version 3
(schema.postgres_baseline(): the first three entries of schema.MIGRATIONS in
one) in PostgreSQL's types, plus what only PostgreSQL has (the version table,
an index on calls by case, the timeline's announcements). A new database gets
this, then every later entry of MIGRATIONS (Store.migrate)."""
from monitor import pg, schema

BASELINE_VERSION = schema.BASELINE_VERSION

ONLY_POSTGRESQL = """
CREATE TABLE schema_version (version BIGINT NOT NULL);
CREATE INDEX calls_case ON calls (case_id);
-- Every step a worker commits is announced to every console (web/live.py):
-- timeline ids are not committed in id order when workers write side by side,
-- so a reader cannot just follow the highest id. Delivered on commit only.
CREATE FUNCTION timeline_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('timeline', NEW.case_id || ' ' || NEW.id);
  RETURN NULL;
END $$;
CREATE TRIGGER timeline_notify AFTER INSERT ON timeline
  FOR EACH ROW EXECUTE FUNCTION timeline_notify();
"""

BASELINE = pg.ddl(schema.postgres_baseline()) + ONLY_POSTGRESQL
