# Small JSON files on flash that survive a power cut at any instant: a save
# replaces NAME through NAME.new (uplink/outbox.py replace(), as the outbox
# file), and load() falls back to NAME.new where the rename could not replace.
import json
import os

from uplink.outbox import replace_with


class Store:
    def __init__(self, root):
        self.root = root
        self.corrupt = 0      # files that failed to parse (counted, then ignored)
        try:
            os.mkdir(root)
        except OSError:
            pass

    def _path(self, name):
        return self.root + "/" + name

    def load(self, name, default=None):
        for path in (self._path(name), self._path(name) + ".new"):
            try:
                with open(path) as f:
                    return json.load(f)
            except OSError:
                continue
            except Exception:       # ValueError, UnicodeError, MemoryError: unreadable
                self.corrupt += 1
                continue
        return default

    def save(self, name, value):
        # Streamed: the sensors' counters or the panel's snapshot would each
        # need one contiguous string, the biggest blocks the loop asks for.
        replace_with(self._path(name), lambda f: (json.dump(value, f), f.write("\n")), "w")
