# Small JSON files on flash that survive a power cut at any instant.
#
# A save writes NAME.new, then renames it over NAME: on LittleFS (the ESP32
# default) and POSIX the rename replaces atomically, so a reader sees the old
# file or the new one, never half of one. Where rename cannot replace (FAT),
# the old file is removed first and load() falls back to NAME.new.
import json
import os


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
        path = self._path(name)
        text = json.dumps(value)
        with open(path + ".new", "w") as f:
            f.write(text)
        try:
            os.rename(path + ".new", path)
        except OSError:
            os.remove(path)
            os.rename(path + ".new", path)
