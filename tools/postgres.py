"""A private PostgreSQL server in a temp dir, for tests and benches: Debian's
`postgresql` package (installed with apt-get when missing, like mosquitto),
`initdb` + `pg_ctl`, listening only on a unix socket inside its own dir, so
no other machine and no other local user can reach it.

PostgreSQL refuses to run as root; when we are root (CI, a fresh machine) the
server runs as the `postgres` user the package creates, and its dir belongs to
that user. We connect as the database superuser `postgres` over the socket
(trust: the socket's dir is the only way in, and it is 0700)."""
import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import time

from tools import debian

PG_USER = "postgres"


def bin_dir():
    """Where Debian keeps the server binaries (/usr/lib/postgresql/<major>/bin),
    installing the `postgresql` package when there is none."""
    found = _bin_dir()
    if found is None:
        debian.install("postgresql", "initdb")
        found = _bin_dir()
    if found is None:
        raise RuntimeError("the postgresql package is installed but no initdb was found "
                           "under /usr/lib/postgresql/*/bin")
    return found


def _bin_dir():
    for d in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if os.path.exists(os.path.join(d, "initdb")):
            return d
    initdb = shutil.which("initdb")
    return os.path.dirname(initdb) if initdb else None


class PostgresServer:
    """start() / stop() / restart(); url(dbname) for `--db`; create_database().

    durable=False (tests): no fsync, so a fresh database per test is cheap.
    A commit is still written to the WAL before it returns, so killing the
    server (stop("immediate")) loses nothing; only a crash of the machine
    would, which tests do not need. A bench that measures commits passes
    durable=True to pay for each fsync as an install does."""

    def __init__(self, workdir=None, durable=False):
        self.bin = bin_dir()
        # Not under pytest's tmp dirs: those are 0700 root, which the postgres
        # user cannot enter.
        self.dir = workdir or tempfile.mkdtemp(prefix="oha-pg-")
        self.data = os.path.join(self.dir, "data")
        self.socket_dir = self.dir
        self.log = os.path.join(self.dir, "server.log")
        self.durable = durable
        self.port = 5432        # only names the socket file (.s.PGSQL.5432) in our dir
        self._as = None
        if os.geteuid() == 0:
            pw = pwd.getpwnam(PG_USER)      # created by the postgresql package
            self._as = (pw.pw_uid, pw.pw_gid)
            os.chown(self.dir, *self._as)
        os.chmod(self.dir, 0o700)
        self._initdb()

    def _run(self, args, **kw):
        def drop():
            if self._as:
                os.setgid(self._as[1])
                os.setuid(self._as[0])
        return subprocess.run([os.path.join(self.bin, args[0])] + list(args[1:]),
                              preexec_fn=drop, capture_output=True, cwd=self.dir, **kw)

    def _initdb(self):
        if os.path.exists(os.path.join(self.data, "PG_VERSION")):
            return
        done = self._run(["initdb", "-D", self.data, "-U", PG_USER, "--auth=trust",
                          "--encoding=UTF8", "--locale=C", "--no-sync"], timeout=120)
        if done.returncode:
            raise RuntimeError("initdb failed: %s" % done.stderr.decode(errors="replace"))

    def start(self, timeout=30):
        opts = ["-c listen_addresses=''", "-c unix_socket_directories='%s'" % self.socket_dir,
                "-c max_connections=200", "-c shared_buffers=32MB"]
        if not self.durable:
            opts += ["-c fsync=off", "-c full_page_writes=off"]
        done = self._run(["pg_ctl", "start", "-w", "-t", str(int(timeout)), "-D", self.data,
                          "-l", self.log, "-o", " ".join(opts)], timeout=timeout + 10)
        if done.returncode:
            raise RuntimeError("PostgreSQL did not start: %s\n%s"
                               % (done.stderr.decode(errors="replace"), self.log_text()))
        return self

    def stop(self, mode="fast"):
        """mode: "fast" (clean), or "immediate" (as a crash: no shutdown checkpoint)."""
        self._run(["pg_ctl", "stop", "-w", "-m", mode, "-D", self.data], timeout=60)

    def restart(self):
        self.stop()
        return self.start()

    def running(self):
        return self._run(["pg_ctl", "status", "-D", self.data], timeout=10).returncode == 0

    def log_text(self):
        try:
            with open(self.log, errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def url(self, dbname="postgres"):
        return "postgresql://%s@/%s?host=%s&port=%d" % (PG_USER, dbname, self.socket_dir,
                                                        self.port)

    def admin(self):
        """An autocommit connection to the maintenance database."""
        import psycopg
        return psycopg.connect(self.url(), autocommit=True)

    def create_database(self, name, template=None):
        """A new empty database (or a copy of `template`, which is fast); returns its URL."""
        from psycopg import sql
        with self.admin() as conn:
            q = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
            if template:
                q = sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                    sql.Identifier(name), sql.Identifier(template))
            conn.execute(q)
        return self.url(name)

    def drop_database(self, name):
        from psycopg import sql
        with self.admin() as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)")
                         .format(sql.Identifier(name)))

    def remove(self):
        """Stop the server and delete its dir."""
        if self.running():
            self.stop("immediate")
        shutil.rmtree(self.dir, ignore_errors=True)


def wait_ready(server, timeout=30):
    """Until the server takes connections (after start or a restart)."""
    import psycopg
    deadline = time.monotonic() + timeout
    while True:
        try:
            server.admin().close()
            return
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)
