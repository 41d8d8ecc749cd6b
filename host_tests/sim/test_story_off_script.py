"""A story that goes off its script says so: each keys line ending an entry
implies the keypad's answer (ok, or the line's "expect"); when the hub answers
otherwise, the run names the line, leaves out the captions that no longer hold
and ends with a non-zero status."""
import json
import subprocess
import sys

from tools import paths
from tools.sim.storyfile import StoryError, parse
from tools.story import OFF_SCRIPT, off_script

CAPTION = "The owner arms Away: the house is armed."


def _story(tmp_path, lines, *args):
    path = tmp_path / "story.jsonl"
    path.write_text("".join(json.dumps(x) + "\n" for x in lines))
    # Speed 5, not 20: on a busy machine a hub 20 times faster than the wall
    # falls seconds of its own time behind the story, and its answers look late.
    return subprocess.run([sys.executable, "-m", "tools.story", str(path), "--speed", "5",
                           "--settle", "2000", *args], cwd=paths.ROOT, capture_output=True,
                          text=True, timeout=120)


def test_an_arming_that_did_not_happen_is_off_script(tmp_path):
    done = _story(tmp_path, [{"note": CAPTION}, {"t": 0, "keys": "1111A"},
                             {"t": 10000, "keys": "1234C"}], "--pretty")
    assert done.returncode == OFF_SCRIPT != 0, done.stderr
    assert "Traceback" not in done.stderr
    said = done.stderr.splitlines()
    assert len(said) == 1, done.stderr
    assert "story.jsonl line 2: off script" in said[0] and "1111A" in said[0]
    assert "should answer ok" in said[0] and "wrong_code" in said[0]
    assert CAPTION not in done.stdout                   # no longer true: left out
    assert "OFF SCRIPT" in done.stdout and "Keypad: wrong code" in done.stdout


def test_a_story_that_expects_the_refusal_is_on_script(tmp_path):
    done = _story(tmp_path, [{"note": CAPTION}, {"t": 0, "keys": "1111A", "expect": "wrong_code"},
                             {"t": 10000, "keys": "1234A"}, {"t": 20000, "keys": "1234C"}],
                  "--pretty")
    assert done.returncode == 0, done.stderr
    assert done.stderr == "" and CAPTION in done.stdout and "OFF SCRIPT" not in done.stdout


def test_the_keypad_answer_is_matched_to_its_own_keys_line():
    story = parse([json.dumps(x) for x in [
        {"t": 0, "keys": "1234A"}, {"t": 1000, "keys": "D"},
        {"t": 20000, "keys": "1234C"}, {"t": 40000, "keys": "9999#", "expect": "wrong_code"}]])
    hub = lambda t, answer: {"t": t, "source": "hub", "keypad": answer}     # noqa: E731
    lines = [hub(150, "ok"), {"t": 1100, "source": "hub", "state": "triggered"},
             hub(20100, "ok"), hub(40100, "ok")]
    assert off_script(story, lines, slack_ms=50) == [
        (4, "keys 9999# at 40.0 s: the keypad should answer wrong_code and answered ok")]
    # An answer before its keys were typed is the previous line's, not this one's.
    assert [n for n, _ in off_script(story, [hub(150, "ok"), hub(19000, "ok")])] == [3, 4]


def test_expect_is_checked_when_the_story_is_read():
    for bad, words in [({"t": 0, "keys": "1234A", "expect": "armed"}, "expect 'armed'"),
                       ({"t": 0, "zone": "front_door", "event": "open", "expect": "ok"},
                        "expect goes with keys")]:
        try:
            parse([json.dumps(bad)], "s.jsonl")
        except StoryError as e:
            assert words in str(e) and "s.jsonl line 1" in str(e)
        else:
            raise AssertionError("accepted %r" % bad)
