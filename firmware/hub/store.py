# Small JSON files on flash that survive a power cut at any instant: a save
# replaces NAME through NAME.new (uplink/outbox.py replace(), as the outbox
# file), and load() falls back to NAME.new where the rename could not replace.
import json
import os

from uplink.outbox import replace


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
                    return json.loads(f.read())
            except OSError:
                continue
            except Exception:       # ValueError, UnicodeError, MemoryError: unreadable
                self.corrupt += 1
                continue
        return default

    def save(self, name, value):
        replace(self._path(name), (json.dumps(value),), "w")
