"""A real full disk for the store-fault tests: a tmpfs of a few hundred KB
mounted for the test (root only; mount(2) needs it), and a ballast file that
takes its last free byte and gives it back."""
import errno
import os
import subprocess

import pytest

SIZE = "768k"


class SmallFs:
    def __init__(self, where):
        self.where = str(where)
        os.makedirs(self.where, exist_ok=True)
        if os.geteuid() != 0:
            pytest.skip("a full filesystem needs a tmpfs mount, which needs root")
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=%s,mode=0700" % SIZE,
                               "tmpfs", self.where], capture_output=True, text=True)
        if done.returncode != 0:
            pytest.skip("cannot mount a tmpfs here: %s" % done.stderr.strip())
        self.ballast = os.path.join(self.where, "ballast")

    def fill(self):
        """Take every free byte: writes to the store now fail with ENOSPC."""
        chunk = b"\0" * 4096
        with open(self.ballast, "ab", buffering=0) as f:
            while True:
                try:
                    f.write(chunk)
                except OSError as e:
                    if e.errno != errno.ENOSPC:
                        raise
                    break
            for size in (512, 64, 1):   # the last partial page too
                try:
                    while True:
                        f.write(b"\0" * size)
                except OSError as e:
                    if e.errno != errno.ENOSPC:
                        raise
        return os.statvfs(self.where).f_bfree

    def free(self):
        os.remove(self.ballast)

    def unmount(self):
        subprocess.run(["umount", "-l", self.where], capture_output=True)
