"""Run a story through the whole system and print what happens.

    python -m tools.story FILE [FILE ...] [--speed N] [--settle MS] [--pretty]

A story (docs/simulation.md) is JSON Lines of hub inputs and callee behaviour
at "t" ms of story time. It runs on a private mosquitto, the real hub firmware
under the host micropython and the monitoring endpoint with its automatic
callee. Story time is hub time: the hub's clock runs N times faster than the
wall clock (--speed N), so a step at t waits t/N real ms, and the monitor's
ring and answer times shrink by N as well. Output: one JSON line per event,
in story-time order, each with "t" (ms) and "source" ("hub" or "monitor")."""
import json
import os
import shutil
import signal
import sys
import tempfile
import time

from monitor import terminal
from tools.sim import demo, pretty
from tools.sim.sensors import Sensors, UnknownZone
from tools.sim.storyfile import StoryError, expected_keypad, parse
from tools.sim.world import World

DEFAULT_SPEED = 20
DEFAULT_SETTLE_MS = 5000
# Real seconds for what is already on its way (MQTT, the monitor's commit)
# to arrive after the story's last moment.
GRACE_S = 0.4
# Exit status of a run that went off its script (2 is a story the hub refused).
OFF_SCRIPT = 1


def load(path):
    try:
        with open(path, encoding="utf-8") as f:
            story = parse(f, os.path.basename(path))
    except OSError as e:
        raise StoryError("cannot read the story %s: %s" % (path, e.strerror or e))
    except UnicodeDecodeError:
        raise StoryError("cannot read the story %s: it is not UTF-8 text" % path)
    config = demo.hub_config(story.config)
    account = demo.account(config, story.account)
    sensors = Sensors(config)
    for t, n, item in story.steps:
        if "zone" in item:
            try:
                sensors.find(item["zone"])
            except UnknownZone as e:
                raise StoryError("%s line %d: %s" % (os.path.basename(path), n, e))
    return story, config, account


def run(story, config, account, speed, settle_ms, workdir):
    """The story's output lines, in story-time order, and where it went off its
    script: (lines, [(line number, why)]); lines and None when the hub refused
    its config."""
    world = World(workdir, config, account, speed=speed, calls="auto")
    try:
        world.start()
        if world.trouble is not None:
            return [dict({"t": 0, "source": "hub"}, **world.trouble)], None
        # Keys are typed so the last one goes down at t, so typing starts earlier;
        # t=0 lies far enough ahead for that (and for the boot report to settle).
        starts = [t - world.typing_ms(item["keys"]) if "keys" in item else t
                  for t, _, item in story.steps]
        world.begin(0.3 + max([0] + [-s for s in starts]) / 1000.0 / speed)
        for start, (t, _, item) in zip(starts, story.steps):
            time.sleep(world.clock.real_wait(start))
            _apply(world, item)
        end = story.end + settle_ms
        time.sleep(world.clock.real_wait(end) + GRACE_S)
    finally:
        world.stop()
    lines = []
    for ev in list(world.events):
        t = world.story_t(ev)
        if t is not None and 0 <= t <= end:
            lines.append(world.story_line(ev))
    lines.sort(key=lambda line: line["t"])     # stable: equal times keep arrival order
    return lines, off_script(story, lines, slack_ms=world.typing_ms("12"))


def off_script(story, lines, slack_ms=0):
    """Where the hub did not do what the story's keys imply: [(line number, why)].
    A keys line's answer is the first keypad line from its last key (less
    `slack_ms`, the two clocks' jitter) to the next keys line's last key: a story
    whose arming did not happen goes on with captions that are no longer true,
    so this is said, not left to a reader to notice."""
    keys = [(t, n, item) for t, n, item in story.steps if "keys" in item]
    answers = [line for line in lines if line["source"] == "hub" and "keypad" in line]
    found = []
    for i, (t, n, item) in enumerate(keys):
        want = expected_keypad(item)
        if want is None:
            continue
        until = keys[i + 1][0] - slack_ms if i + 1 < len(keys) else None
        got = next((a for a in answers
                    if a["t"] >= t - slack_ms and (until is None or a["t"] < until)), None)
        if got is None:
            found.append((n, "keys %s at %.1f s: the keypad should answer %s and answered "
                             "nothing" % (item["keys"], t / 1000.0, want)))
        elif got["keypad"] != want:
            detail = "".join(" %s=%s" % (k, v) for k, v in got.items()
                             if k not in ("t", "source", "keypad"))
            found.append((n, "keys %s at %.1f s: the keypad should answer %s and answered %s%s"
                             % (item["keys"], t / 1000.0, want, got["keypad"], detail)))
    return found


def _apply(world, item):
    if "keys" in item:
        world.keys(item["keys"])
    elif "hold" in item:
        world.hold(item["hold"], item["ms"])
    elif "zone" in item:
        world.zone(item["zone"], item["event"])
    elif "command" in item:
        world.command(item["command"])
    elif "callee" in item:
        world.callee(item["callee"])


def main(argv=None):
    ap = terminal.Parser(prog="python -m tools.story", description=__doc__.split("\n")[0])
    ap.add_argument("files", nargs="+", metavar="FILE", help="story, JSON Lines")
    ap.add_argument("--speed", type=terminal.whole(1, variable="SPEED"), default=DEFAULT_SPEED,
                    help="hub clock / wall clock (default %d; 1 = real time)" % DEFAULT_SPEED)
    ap.add_argument("--settle", type=terminal.whole(0), default=DEFAULT_SETTLE_MS, metavar="MS",
                    help="story ms to keep watching after the last step (default %d)"
                    % DEFAULT_SETTLE_MS)
    ap.add_argument("--pretty", action="store_true", help="a readable timeline instead of JSON")
    ap.add_argument("--workdir", help="keep the run's files here (default: a temporary "
                    "directory, removed afterwards)")
    args = ap.parse_args(argv)
    # SIGTERM unwinds like Ctrl-C, so the broker and the hub are always stopped.
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(143))
    try:
        loaded = [(path,) + load(path) for path in args.files]
    except (StoryError, ValueError) as e:
        terminal.refuse(ap.prog, str(e))
    status = 0
    for i, (path, story, config, account) in enumerate(loaded):
        workdir = args.workdir and os.path.join(args.workdir, "%d-%s" % (
            i, os.path.splitext(os.path.basename(path))[0]))
        tmp = None if workdir else tempfile.mkdtemp(prefix="story-")
        try:
            lines, off = run(story, config, account, args.speed, args.settle, workdir or tmp)
        finally:
            if tmp:
                shutil.rmtree(tmp, ignore_errors=True)
        name = os.path.basename(path)
        if args.pretty:
            # The captions tell the story as written; off script they would mislead.
            notes = story.notes if not off else (
                ["OFF SCRIPT: the hub did not do what the story says; its captions are left out"]
                + ["  line %d: %s" % (n, why) for n, why in off])
            print(pretty.timeline(name, notes, lines), flush=True)
        else:
            for line in lines:
                sys.stdout.write(json.dumps(line) + "\n")
            sys.stdout.flush()
        for n, why in off or []:
            print("%s: %s line %d: off script: %s" % (ap.prog, name, n, why), file=sys.stderr,
                  flush=True)
        if off is None:
            status = 2
        elif off:
            status = max(status, OFF_SCRIPT)
    return status


if __name__ == "__main__":
    terminal.run(main)
