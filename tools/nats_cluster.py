"""A broker cluster on one machine for the tests: nats-server nodes (Debian's
package, installed with apt-get when missing) on free loopback ports, each
with its MQTT listener, JetStream and routes to the others; a node can be
killed with SIGKILL. Plain and open by default; given `access` (what
monitor.broker_cluster.write made) it runs the nodes from those files."""
import os
import signal
import socket
import subprocess
import time

from monitor import broker_cluster
from tools import debian
from tools.broker import port_open


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
        if access is None:
            ports = _free_ports(3 * n)
            self.nodes = [broker_cluster.Node(i, "127.0.0.1", *ports[3 * i:3 * i + 3])
                          for i in range(n)]
            self.confs = []
            for node in self.nodes:
                path = os.path.join(workdir, "nats-%d.conf" % (node.index + 1))
                with open(path, "w") as f:
                    f.write(broker_cluster.node_conf(node, self.nodes, store=workdir))
                self.confs.append(path)
        else:
            self.nodes = access.nodes
            self.confs = [access.path("nats-%d.conf" % (node.index + 1))
                          for node in self.nodes]
        self.procs = [None] * len(self.nodes)
        self.tls = access is not None

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
            self.procs[i] = subprocess.Popen([self.binary, "-c", self.confs[i]], stdout=logf,
                                             stderr=logf, cwd=self.workdir,
                                             start_new_session=True)

    def start(self, timeout=30):
        for i in range(len(self.nodes)):
            self.start_node(i)
        self.wait_ready(timeout)
        return self

    def wait_ready(self, timeout=30, nodes=None):
        deadline = time.monotonic() + timeout
        for i in nodes if nodes is not None else range(len(self.nodes)):
            node = self.nodes[i]
            while not (self._ready(node)):
                if self.procs[i].poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("nats-server %s did not start:\n%s"
                                       % (node.name, self.log_text(i)[-3000:]))
                time.sleep(0.1)

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

