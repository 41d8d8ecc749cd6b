"""A private mosquitto broker on a free loopback port, for tests, `make run` and
story runs. mosquitto is installed with apt-get when it is missing."""
import os
import socket
import subprocess
import time

from tools import debian


def free_port(avoid=None):
    while True:
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        if port != avoid:
            return port


def port_open(port, host="127.0.0.1"):
    try:
        socket.create_connection((host, port), timeout=0.2).close()
        return True
    except OSError:
        return False


def ensure_mosquitto():
    """Path of the mosquitto binary, installing Debian's package when missing."""
    return debian.ensure("mosquitto")


class PortTaken(RuntimeError):
    """Another process listens on a port the broker was to bind."""


class Broker:
    """mosquitto on a fixed loopback port that can be stopped and restarted.

    Plain and open by default (fast, for most tests). With `hubs` it is the
    secure broker an install runs: TLS with a private CA, a login per hub, the
    ACL, a packet size limit, all written by monitor.broker_access into
    workdir/access (self.access: the CA, the passwords, the pin)."""

    # Auto-chosen ports are free when picked, not when mosquitto binds them:
    # another xdist worker's server can take one in between.
    PICKS = 5

    def __init__(self, workdir, port=None, binary=None, hubs=None, prefix="alarm", extra=""):
        """extra: more mosquitto.conf lines (the bench lifts the queue limits)."""
        self.binary = binary or ensure_mosquitto()
        os.makedirs(workdir, exist_ok=True)
        self.workdir = workdir
        self.conf = os.path.join(workdir, "mosquitto.conf")
        self.log = os.path.join(workdir, "mosquitto.log")
        self.hubs, self.prefix, self.extra = hubs, prefix, extra
        # Until it has listened once; after that a restart keeps the port its clients know.
        self.repick = port is None
        self.access = None
        self._write_conf(port or free_port())
        self.proc = None

    def _write_conf(self, port):
        self.port = port
        if self.hubs is None:
            from monitor.broker_access import MAX_QUEUED
            # Queueing a busy subscriber's messages as an install's broker does:
            # with mosquitto's default 1,000 a burst is partly dropped and the
            # test measures the hubs' resends, not the service.
            conf = ("listener %d 127.0.0.1\nallow_anonymous true\nset_tcp_nodelay true\n"
                    "max_queued_messages %d\n" % (self.port, MAX_QUEUED))
        else:
            from monitor import broker_access
            # Rewriting keeps the CA and the passwords (write reuses them).
            self.access = broker_access.write(os.path.join(self.workdir, "access"), self.hubs,
                                              self.prefix, port=self.port, bind="127.0.0.1",
                                              service_port=free_port(avoid=self.port))
            conf = self.access.conf()
            if os.geteuid() == 0:
                # A private broker in a private temp dir: as root, mosquitto would
                # drop to its own user, which cannot enter that dir.
                conf = "user root\n" + conf
        with open(self.conf, "w") as f:
            f.write(conf + "persistence false\nlog_dest stderr\n" + self.extra)

    @property
    def tls(self):
        return self.access is not None

    def client_auth(self, client, user):
        """Make a paho client log in as `user` (a hub id, "monitor" or
        "homeassistant") over TLS with the private CA; nothing on a plain broker."""
        if self.access is None:
            return client
        client.tls_set(ca_certs=self.access.ca)
        client.username_pw_set(user, self.access.password(user))
        return client

    def port_for(self, user):
        """The port `user` logs in on: the monitor has a listener of its own
        (monitor.broker_access.conf_text); a plain broker has one for all."""
        return self.port if self.access is None else self.access.port_for(user)

    def log_text(self):
        with open(self.log, errors="replace") as f:
            return f.read()

    def start(self, timeout=10):
        for _ in range(self.PICKS - 1 if self.repick else 0):
            try:
                return self._start(timeout)
            except PortTaken:
                self._write_conf(free_port(avoid=self.port))
        return self._start(timeout)

    def _start(self, timeout):
        seen = os.path.getsize(self.log) if os.path.exists(self.log) else 0
        with open(self.log, "ab") as logf:
            self.proc = subprocess.Popen([self.binary, "-c", self.conf], stdout=logf,
                                         stderr=logf, start_new_session=True)
        deadline = time.monotonic() + timeout
        ports = {self.port, self.port_for("monitor")}
        # An open port alone may be whoever took it: mosquitto says "running"
        # once every listener is bound.
        while not (" running" in self._log_since(seen) and all(port_open(p) for p in ports)):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                said = self._log_since(seen)
                if "Address already in use" in said:
                    raise PortTaken("mosquitto could not bind port %s:\n%s"
                                    % (" or ".join(map(str, sorted(ports))), said))
                raise RuntimeError("mosquitto did not start:\n" + said)
            time.sleep(0.02)
        self.repick = False
        return self

    def _log_since(self, offset):
        with open(self.log, "rb") as f:
            f.seek(offset)
            return f.read().decode(errors="replace")

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
        self.proc = None

    def restart(self, down_s=0.0):
        self.stop()
        time.sleep(down_s)
        self.start()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
