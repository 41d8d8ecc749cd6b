"""The case store's schema as text, to compare a store with what it must be:
SQLite's sqlite_master (every CREATE as stored) and user_version; PostgreSQL's
columns, constraints, indexes, triggers and functions from its catalogs, and
the schema_version row. Names and definitions only, nothing that differs
between two databases made alike (oids, the database's name)."""


def sqlite(store):
    lines = ["user_version %d" % store.one("PRAGMA user_version")[0]]
    for r in store.q("SELECT type, name, tbl_name, sql FROM sqlite_master "
                     "WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name"):
        lines.append("%s %s on %s:\n%s" % (r["type"], r["name"], r["tbl_name"], r["sql"]))
    for t in [r["name"] for r in store.q("SELECT name FROM sqlite_master WHERE type = 'table' "
                                         "ORDER BY name")]:
        for c in store.q("SELECT * FROM pragma_table_info(?) ORDER BY cid", t):
            lines.append("column %s.%s %s %s notnull=%s default=%s pk=%s"
                         % (t, c["cid"], c["name"], c["type"], c["notnull"], c["dflt_value"],
                            c["pk"]))
    return "\n".join(lines) + "\n"


def postgresql(store):
    lines = ["schema_version %d" % store.one("SELECT version FROM schema_version")[0]]
    for c in store.q("SELECT table_name, ordinal_position, column_name, data_type, is_nullable,"
                     " column_default, is_identity, identity_generation "
                     "FROM information_schema.columns WHERE table_schema = 'public' "
                     "ORDER BY table_name, ordinal_position"):
        lines.append("column %s.%s %s %s nullable=%s default=%s identity=%s %s" % tuple(c))
    for c in store.q("SELECT conrelid::regclass::text AS t, conname, pg_get_constraintdef(oid) "
                     "FROM pg_constraint WHERE connamespace = 'public'::regnamespace "
                     "ORDER BY 1, 2"):
        lines.append("constraint %s %s %s" % tuple(c))
    for i in store.q("SELECT tablename, indexname, indexdef FROM pg_indexes "
                     "WHERE schemaname = 'public' ORDER BY 1, 2"):
        lines.append("index %s %s %s" % tuple(i))
    for t in store.q("SELECT tgrelid::regclass::text, tgname, pg_get_triggerdef(oid) "
                     "FROM pg_trigger WHERE NOT tgisinternal ORDER BY 1, 2"):
        lines.append("trigger %s %s %s" % tuple(t))
    for f in store.q("SELECT proname, pg_get_functiondef(oid) FROM pg_proc "
                     "WHERE pronamespace = 'public'::regnamespace ORDER BY 1"):
        lines.append("function %s %s" % tuple(f))
    for s in store.q("SELECT sequencename, data_type::text, start_value, increment_by "
                     "FROM pg_sequences WHERE schemaname = 'public' ORDER BY 1"):
        lines.append("sequence %s %s %s %s" % tuple(s))
    return "\n".join(lines) + "\n"


def dump(store):
    return postgresql(store) if store.postgres else sqlite(store)
