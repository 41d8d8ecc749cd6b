"""Driving the pages in a real headless Chromium as a person does: the browser,
a hand's click, and the console a test fails on (any error or warning)."""
from tools import debian

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run"]
HAND_MS = 120          # press-to-release of a normal click


def ensure_chromium():
    debian.ensure("chromium")


# Real ms for what a person acts within (the entry delay, the abort window, the
# phone's ring): real seconds at any speed (tools/sim/house.py, tools/run.py).
def real_s(s):
    return (s + 10) * 1000


class Console:
    """Every console message (any level: Chromium's DOM advice comes as
    "verbose") and uncaught exception of a page: a test fails on any."""

    def __init__(self, page):
        self.seen = []
        page.on("console", lambda m: self.seen.append("%s: %s" % (m.type, m.text)))
        page.on("pageerror", lambda e: self.seen.append("exception: %s" % e))

    def assert_clean(self):
        assert self.seen == [], self.seen
