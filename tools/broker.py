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


class Broker:
    """mosquitto on a fixed loopback port that can be stopped and restarted.

    Plain and open by default (fast, for most tests). With `hubs` it is the
    secure broker an install runs: TLS with a private CA, a login per hub, the
    ACL, a packet size limit, all written by monitor.broker_access into
    workdir/access (self.access: the CA, the passwords, the pin)."""

    def __init__(self, workdir, port=None, binary=None, hubs=None, prefix="alarm", extra=""):
        """extra: more mosquitto.conf lines (the bench lifts the queue limits)."""
        self.binary = binary or ensure_mosquitto()
        self.port = port or free_port()
        os.makedirs(workdir, exist_ok=True)
        self.conf = os.path.join(workdir, "mosquitto.conf")
        self.log = os.path.join(workdir, "mosquitto.log")
        self.access = None
        if hubs is None:
            conf = "listener %d 127.0.0.1\nallow_anonymous true\n" % self.port
        else:
            from monitor import broker_access
            self.access = broker_access.write(os.path.join(workdir, "access"), hubs, prefix,
                                              port=self.port, bind="127.0.0.1",
                                              service_port=free_port(avoid=self.port))
            conf = self.access.conf()
            if os.geteuid() == 0:
                # A private broker in a private temp dir: as root, mosquitto would
                # drop to its own user, which cannot enter that dir.
                conf = "user root\n" + conf
        with open(self.conf, "w") as f:
            f.write(conf + "persistence false\nlog_dest stderr\n" + extra)
        self.proc = None

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
        with open(self.log, "ab") as logf:
            self.proc = subprocess.Popen([self.binary, "-c", self.conf], stdout=logf,
                                         stderr=logf, start_new_session=True)
        deadline = time.monotonic() + timeout
        ports = {self.port, self.port_for("monitor")}
        while not all(port_open(p) for p in ports):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                with open(self.log) as f:
                    raise RuntimeError("mosquitto did not start:\n" + f.read())
            time.sleep(0.02)
        return self

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
