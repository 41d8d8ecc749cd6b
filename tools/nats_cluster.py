"""A broker cluster on one machine for the tests: nats-server nodes (Debian's
package, installed with apt-get when missing) on free loopback ports, each
with its MQTT listener, JetStream and routes to the others; a node can be
killed with SIGKILL. Plain and open by default; given `access` (what
monitor.broker_cluster.write made) it runs the nodes from those files."""
import os
import random
import signal
import socket
import subprocess
import time

from monitor import broker_cluster
from tools import debian
from tools.broker import PortTaken, port_open

PICKS = 5


def ensure_nats():
    return debian.ensure("nats-server")


def _free_ports(n):
    # Held open together so no two are the same.
    socks = []
    for _ in range(n):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        socks.append(s)
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


def free_base(span=21, tries=200):
    """A port base whose base, base + 10 and base + 20 are free: one node's
    port each, as monitor.broker_cluster numbers them."""
    # Three nodes take base, base + 10 and base + 20.
    for _ in range(tries):
        base = random.randrange(20000, 60000)
        socks = []
        try:
            for off in range(0, span, 10):
                s = socket.socket()
                socks.append(s)
                s.bind(("127.0.0.1", base + off))
            return base
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
    raise RuntimeError("no free ports")


def mqtt_ready(port, timeout=0.5):
    """A node takes MQTT connections once JetStream (sessions, retained messages)
    is up, seconds after its port opens: CONNACK 0 on a throwaway session."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
            cid = b"ready-probe-%d" % os.getpid()
            var = b"\x00\x04MQTT\x04\x02\x00\x0a" + len(cid).to_bytes(2, "big") + cid
            s.sendall(bytes([0x10, len(var)]) + var)
            s.settimeout(timeout)
            return s.recv(4) == b"\x20\x02\x00\x00"
    except OSError:
        return False


class Cluster:
    def __init__(self, workdir, n=3, access=None, binary=None):
        self.binary = binary or ensure_nats()
        self.workdir = workdir
        os.makedirs(workdir, exist_ok=True)
        if access is not None and not hasattr(access, "nodes"):
            raise ValueError("access: what monitor.broker_cluster.write returned")
        # Until it has run once: picked ports are free when picked, not when a
        # node binds them (another xdist worker's server can take one between).
        self.repick = access is None
        if access is None:
            self._write_confs(n)
        else:
            self.nodes = access.nodes
            self.confs = [access.path("nats-%d.conf" % (node.index + 1))
                          for node in self.nodes]
        self.procs = [None] * len(self.nodes)
        self._log_at = [0] * len(self.nodes)
        self.tls = access is not None

    def _write_confs(self, n):
        ports = _free_ports(3 * n)
        self.nodes = [broker_cluster.Node(i, "127.0.0.1", *ports[3 * i:3 * i + 3])
                      for i in range(n)]
        self.confs = []
        for node in self.nodes:
            path = os.path.join(self.workdir, "nats-%d.conf" % (node.index + 1))
            with open(path, "w") as f:
                f.write(broker_cluster.node_conf(node, self.nodes, store=self.workdir))
            self.confs.append(path)

    @property
    def mqtt_ports(self):
        return [node.mqtt_port for node in self.nodes]

    @property
    def nats_urls(self):
        return [node.nats_url for node in self.nodes]

    def log_text(self, i):
        with open(os.path.join(self.workdir, "node-%d.log" % (i + 1)), errors="replace") as f:
            return f.read()

    def start_node(self, i):
        with open(os.path.join(self.workdir, "node-%d.log" % (i + 1)), "ab") as logf:
            self._log_at[i] = logf.tell()
            self.procs[i] = subprocess.Popen([self.binary, "-c", self.confs[i]], stdout=logf,
                                             stderr=logf, cwd=self.workdir,
                                             start_new_session=True)

    def start(self, timeout=30):
        for _ in range(PICKS - 1 if self.repick else 0):
            try:
                return self._start(timeout)
            except PortTaken:
                self.stop()
                self._write_confs(len(self.nodes))
        return self._start(timeout)

    def _start(self, timeout):
        for i in range(len(self.nodes)):
            self.start_node(i)
        self.wait_ready(timeout)
        self.repick = False
        return self

    def wait_ready(self, timeout=30, nodes=None):
        deadline = time.monotonic() + timeout
        waited = list(nodes if nodes is not None else range(len(self.nodes)))
        for i in waited:
            node = self.nodes[i]
            # An open port may be whoever took it: the node says when it listens.
            while not (self._ready(node) and "Server is ready" in self._log_since(i)):
                # A dead peer keeps the others from electing their stream leaders;
                # one killed on purpose and not waited for is not an error.
                dead = [j for j in waited if self.procs[j].poll() is not None]
                if dead or time.monotonic() > deadline:
                    j = dead[0] if dead else i
                    said = self._log_since(j)
                    kind = PortTaken if "address already in use" in said else RuntimeError
                    raise kind("nats-server %s did not start:\n%s"
                               % (self.nodes[j].name, said[-3000:]))
                time.sleep(0.1)

    def _log_since(self, i):
        with open(os.path.join(self.workdir, "node-%d.log" % (i + 1)), "rb") as f:
            f.seek(self._log_at[i])
            return f.read().decode(errors="replace")

    def _ready(self, node):
        if self.tls:        # no plain probe on a TLS listener: the ports, then a client
            return port_open(node.mqtt_port) and port_open(node.nats_port)
        return mqtt_ready(node.mqtt_port)

    def kill(self, i):
        """SIGKILL: no goodbye to the clients or to the peers."""
        p = self.procs[i]
        if p is not None and p.poll() is None:
            os.kill(p.pid, signal.SIGKILL)
            p.wait(10)

    def stop(self):
        for i in range(len(self.nodes)):
            self.kill(i)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

