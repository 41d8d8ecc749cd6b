"""Running stories through the whole system (tools/story.py) for the sim tests."""
import json
import os
import subprocess
import sys

import pytest

from procs import using
from tools import paths

STORIES = os.path.join(paths.ROOT, "tools", "demo", "stories")
# 10, not 20: the suite runs on more workers than cores, and a hub 20 times
# faster than the wall falls behind its story on a busy machine (a held panic
# key looks short, a keypad answer late).
SPEED = 10


@pytest.fixture
def story(tmp_path):
    """Run a bundled story (name) or the given lines; returns its output lines."""
    def run(name=None, lines=None, speed=SPEED):
        if lines is not None:
            path = tmp_path / "story.jsonl"
            path.write_text("".join(json.dumps(x) + "\n" for x in lines))
        else:
            path = os.path.join(STORIES, name + ".jsonl")
        work = str(tmp_path / "work")
        done = subprocess.run([sys.executable, "-m", "tools.story", str(path), "--speed",
                               str(speed), "--workdir", work], cwd=paths.ROOT,
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr + done.stdout
        assert using(work) == [], "processes left behind"
        out = [json.loads(x) for x in done.stdout.splitlines()]
        times = [o["t"] for o in out]
        assert times == sorted(times) and all(o["source"] in ("hub", "monitor") for o in out)
        return out
    return run

