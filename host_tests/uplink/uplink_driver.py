"""The uplink under test: mp_uplink_driver.py running under the host micropython,
its JSON lines in a queue (used by the uplink tests' fixtures)."""
import json
import os
import queue
import signal
import subprocess
import threading
import time

from tools import paths

HERE = os.path.dirname(os.path.abspath(__file__))


class Driver:
    """mp_uplink_driver.py running under the host micropython; its JSON lines in a queue."""

    def __init__(self, lib, cfg, script="mp_uplink_driver.py"):
        env = paths.micropython_env(*([lib, HERE] if lib else [HERE]))
        env["UPLINK_DRIVER_CFG"] = json.dumps(cfg)   # not argv: see mp_uplink_driver.py
        self.proc = subprocess.Popen(
            [paths.venv_tool("micropython"), os.path.join(HERE, script)],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
        self.lines = queue.Queue()
        self.seen = []
        self.err = b""
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for raw in self.proc.stdout:
            try:
                self.lines.put(json.loads(raw))
            except ValueError:
                self.lines.put({"ev": "junk", "raw": raw.decode(errors="replace")})
        self.lines.put(None)

    def wait_for(self, pred, timeout=10.0):
        """The first line (in order, from now on) that satisfies pred."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError("driver: timed out; seen %s\nstderr: %s"
                                     % (self.seen[-20:], self.stderr()))
            try:
                line = self.lines.get(timeout=left)
            except queue.Empty:
                continue
            if line is None:
                raise AssertionError("driver ended; seen %s\nstderr: %s"
                                     % (self.seen[-20:], self.stderr()))
            self.seen.append(line)
            if pred(line):
                return line

    def ev(self, name, timeout=10.0, **match):
        return self.wait_for(lambda l: l.get("ev") == name
                             and all(l.get(k) == v for k, v in match.items()), timeout)

    def stderr(self):
        if self.proc.poll() is not None and self.proc.stderr:
            self.err += self.proc.stderr.read() or b""
        return self.err.decode(errors="replace")

    def kill(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)
