"""Start `make run` (or its entry point) as a person would, find the URL it
prints, and stop it with Ctrl-C (SIGINT to its process group)."""
import os
import queue
import re
import signal
import subprocess
import threading

from procs import using
from tools import paths


class Running:
    def __init__(self, argv, tmpdir, timeout=90):
        env = dict(os.environ, TMPDIR=str(tmpdir))   # its work files land where we can look
        self.tmpdir = str(tmpdir)
        self.proc = subprocess.Popen(argv, cwd=paths.ROOT, env=env, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True,
                                     start_new_session=True)
        self.output = []
        lines = queue.Queue()

        def read():
            for line in self.proc.stdout:
                self.output.append(line)
                lines.put(line)
            lines.put(None)
        threading.Thread(target=read, daemon=True).start()
        self.url = None
        while self.url is None:
            line = lines.get(timeout=timeout)
            if line is None:
                raise AssertionError("it ended without a URL:\n" + "".join(self.output))
            m = re.search(r"open (http://127\.0\.0\.1:\d+/)", line)
            if m:
                self.url = m.group(1)

    def interrupt(self, timeout=30):
        """Ctrl-C, as in a terminal; returns the exit code."""
        os.killpg(self.proc.pid, signal.SIGINT)
        return self.proc.wait(timeout)

    def leftovers(self):
        return using(self.tmpdir)

    def kill(self):
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)
