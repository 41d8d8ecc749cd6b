"""The case store's health as the engine sees it: failing since when, why, how
often, and when to say so in the log.

Kept in memory, not in the store: the store is what is failing. Pure: every
call takes the time in milliseconds; the caller logs the line it is given."""
import sqlite3

LOG_EVERY_MS = 60_000       # while failing, one line a minute, not a traceback per message
RETRY_MIN_MS = 200          # the engine tries the store again after this...
RETRY_MAX_MS = 5_000        # ...doubling up to this while it keeps failing
MAX_ERROR_WORDS = 240


def store_fault(exc):
    """True when exc says the store itself failed (disk full, read-only or
    unwritable file, I/O error, database unreachable, connection lost), not
    that one item was wrong. SQLite says so with OperationalError; a server
    database driver with OperationalError/InterfaceError (psycopg and the DB-API)."""
    if isinstance(exc, sqlite3.OperationalError):
        return True
    if type(exc).__name__ == "PipelineAborted":
        return False        # an earlier statement of the pipeline failed, not the store
    for cls in type(exc).__mro__:
        if cls.__name__ in ("OperationalError", "InterfaceError") and \
                cls.__module__.split(".")[0] in ("psycopg", "psycopg2", "asyncpg"):
            return True
    return False


# A server that answered and refused us (no such database, a bad login) says
# FATAL; these FATALs are a server on its way up or down, worth waiting for.
PASSING_FATALS = ("starting up", "shutting down", "recovery mode", "too many clients",
                  "connection slots")


def unreachable(exc):
    """True when exc says a store server could not be reached at all, or is
    starting or stopping: an outage, which passes (a worker waits for it).
    False for one that answered and refused: a configuration error, which
    does not (said at once). psycopg gives no SQLSTATE for a failed
    connection, so its message tells them apart."""
    if not store_fault(exc) or isinstance(exc, sqlite3.Error):
        return False
    text = str(exc)
    return "FATAL" not in text or any(words in text for words in PASSING_FATALS)


def in_words(exc):
    """The error as an on-call person reads it: one line, no traceback."""
    text = " ".join(str(exc).split()) or exc.__class__.__name__
    return text[:MAX_ERROR_WORDS]


class StoreHealth:
    log_every_ms = LOG_EVERY_MS

    def __init__(self, now_ms):
        self.failing_since_ms = None
        self.last_error = None
        self.last_error_ms = None
        self.last_ok_ms = now_ms
        self.failures = 0           # attempts (batches, timer runs) the store refused
        self.outages = 0            # times it went from ok to failing
        self.recovered = 0          # times it came back by itself
        self.logged_ms = None
        self.failed_since_log = 0
        self.retry_ms = RETRY_MIN_MS

    @property
    def ok(self):
        return self.failing_since_ms is None

    def failed(self, now_ms, exc, waiting):
        """The store refused an attempt. Returns the log line to write, or None
        (one line when it starts failing, then one per log_every_ms).
        waiting: signals held unacked for the retry."""
        self.failures += 1
        self.failed_since_log += 1
        self.last_error = in_words(exc)
        self.last_error_ms = now_ms
        if self.failing_since_ms is None:
            self.failing_since_ms = now_ms
            self.outages += 1
            self.retry_ms = RETRY_MIN_MS
            self.logged_ms = now_ms
            self.failed_since_log = 0
            return ("case store failing: %s; signals are not acked (the hubs keep them) "
                    "and are retried every %.1f-%.0f s" % (self.last_error, RETRY_MIN_MS / 1000,
                                                           RETRY_MAX_MS / 1000))
        self.retry_ms = min(self.retry_ms * 2, RETRY_MAX_MS)
        if now_ms - self.logged_ms < self.log_every_ms:
            return None
        line = ("case store still failing after %.0f s: %s; %d attempts failed since the "
                "last line, %d signals waiting unacked" % (
                    (now_ms - self.failing_since_ms) / 1000, self.last_error,
                    self.failed_since_log, waiting))
        self.logged_ms = now_ms
        self.failed_since_log = 0
        return line

    def succeeded(self, now_ms):
        """An attempt committed. Returns the log line when this ends an outage."""
        self.last_ok_ms = now_ms
        if self.failing_since_ms is None:
            return None
        took = now_ms - self.failing_since_ms
        self.failing_since_ms = None
        self.recovered += 1
        self.retry_ms = RETRY_MIN_MS
        return "case store back after %.1f s (%d attempts failed); acking what waited" % (
            took / 1000, self.failures)

    def snapshot(self, now_ms):
        return {
            "ok": self.ok,
            "failing_since_ms": self.failing_since_ms,
            "failing_for_s": None if self.ok else round((now_ms - self.failing_since_ms) / 1000, 1),
            "last_error": self.last_error,
            "last_error_ms": self.last_error_ms,
            "last_ok_ms": self.last_ok_ms,
            "failures": self.failures,
            "outages": self.outages,
            "recovered": self.recovered,
        }
