"""Reading the case timeline back from the store: the JSON line each step is
emitted as, and every committed step after a cursor (the live stream).

On SQLite timeline ids rise in commit order (one writer at a time), so a
reader that remembers the last id it saw misses nothing and sees nothing twice.
On PostgreSQL workers commit side by side and a lower id may commit after a
higher one: follow the store's announcements there (web/live.py, LISTEN)."""
import json

TIMELINE_SQL = ("SELECT timeline.*, cases.plan, cases.hub FROM timeline "
                "JOIN cases ON cases.id = timeline.case_id ")


def line(row):
    """A timeline row (joined with its case) as the JSON line the service emits."""
    out = {"t": row["t"], "source": "monitor", "case": row["case_id"], "plan": row["plan"],
           "hub": row["hub"], "step": row["step"], "id": row["id"]}
    for k in ("contact", "service", "reason"):
        if row[k] is not None:
            out[k] = row[k]
    if row["detail"]:
        out.update(json.loads(row["detail"]))
    return out


def events_since(store, cursor=0, limit=500):
    """Committed steps with id > cursor, oldest first, as JSON-line dicts.
    The next cursor is the last one's "id" (for SSE: its Last-Event-ID)."""
    return [line(r) for r in store.q(TIMELINE_SQL + "WHERE timeline.id > ? "
                                     "ORDER BY timeline.id LIMIT ?", cursor, limit)]


def lines(store, ids):
    """The given steps, in id order."""
    if not ids:
        return []
    marks = ",".join("?" * len(ids))
    return [line(r) for r in store.q(TIMELINE_SQL + "WHERE timeline.id IN (%s) "
                                     "ORDER BY timeline.id" % marks, *ids)]


def last_id(store):
    return store.one("SELECT COALESCE(MAX(id), 0) AS m FROM timeline")["m"]
