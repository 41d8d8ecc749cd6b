"""A person's mistake at the command line gets one line on stderr naming it and
exit status 2, never a traceback; a reader that stops early (`| head`) ends the
command quietly. Each case here is one a person makes."""
import os
import subprocess
import sys

import pytest

from tools import paths

SCENARIO = os.path.join(paths.ROOT, "host_tests", "scenarios", "away_entry_alarm.jsonl")


def cli(*args, env=None, cwd=None, stdout=subprocess.PIPE):
    environ = dict(os.environ)
    environ["PATH"] = os.path.dirname(sys.executable) + os.pathsep + environ.get("PATH", "")
    environ["PYTHONPATH"] = paths.ROOT      # for a command run in another folder
    environ.update(env or {})
    return subprocess.run([sys.executable, "-m", *args], cwd=cwd or paths.ROOT, env=environ,
                          stdin=subprocess.DEVNULL, stdout=stdout, stderr=subprocess.PIPE,
                          text=True, timeout=120)


def refused(done, *names):
    """Exit status 2 and one line on stderr that names each of `names`."""
    assert done.returncode == 2, (done.returncode, done.stderr)
    assert "Traceback" not in done.stderr, done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    for name in names:
        assert name in lines[0], (name, lines[0])
    return lines[0]


# ---- make run: PORT and SPEED ----

@pytest.mark.parametrize("args, env, names", [
    (["--port", "abc"], {}, ["--port", "'abc'"]),
    ([], {"PORT": "abc"}, ["--port", "PORT", "'abc'"]),
    ([], {"PORT": "70000"}, ["--port", "70000"]),
    (["--speed", "fast"], {}, ["--speed", "'fast'"]),
    ([], {"SPEED": "x"}, ["--speed", "SPEED", "'x'"]),
    ([], {"SPEED": "0"}, ["--speed", "0"]),
    (["--config", "/nonexistent/my-config.json"], {}, ["/nonexistent/my-config.json"]),
])
def test_run_refuses_a_bad_port_speed_or_config_in_one_line(args, env, names):
    refused(cli("tools.run", *args, env=env), *names)


# ---- tools.replay and tools.story: files ----

@pytest.mark.parametrize("runtime", ["micropython", "cpython"])
def test_replay_names_a_missing_or_unreadable_file(runtime, tmp_path):
    refused(cli("tools.replay", str(tmp_path / "nope.jsonl"), "--runtime", runtime),
            "nope.jsonl", "No such file")
    refused(cli("tools.replay", str(tmp_path), "--runtime", runtime), str(tmp_path),
            "directory")


def test_story_names_a_missing_or_unreadable_file(tmp_path):
    refused(cli("tools.story", str(tmp_path / "nope.jsonl")), "nope.jsonl", "No such file")
    binary = tmp_path / "binary.jsonl"
    binary.write_bytes(b"\xff\xfe{}\n")
    refused(cli("tools.story", str(binary)), "binary.jsonl", "UTF-8")
    refused(cli("tools.story", "--speed", "0", str(binary)), "--speed")


# ---- output piped to head ----

@pytest.mark.parametrize("runtime", ["micropython", "cpython"])
def test_replay_into_a_closed_pipe_ends_quietly(runtime):
    r, w = os.pipe()
    os.close(r)             # the reader is gone before the first line, as `| head -0`
    try:
        done = cli("tools.replay", SCENARIO, "--runtime", runtime, stdout=w)
    finally:
        os.close(w)
    assert (done.returncode, done.stderr) == (0, "")


# ---- tools.replay --pretty ----

@pytest.mark.parametrize("runtime", ["micropython", "cpython"])
def test_replay_pretty_prints_a_timeline(runtime):
    done = cli("tools.replay", SCENARIO, "--runtime", runtime, "--pretty")
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "== away_entry_alarm.jsonl" in out
    assert "Arm Away, leave by the front door" in out          # the scenario's note
    assert "330.0 s  hub      Siren sounding" in out
    assert "Sent to the monitoring center: Burglary \u2014 front door (entry/exit) E134" in out
    assert "{" not in out                                       # words, not JSON


def test_replay_pretty_shows_a_refused_config():
    text = '{"config": {"zones": [{"number": 1, "name": "x", "type": "laser"}]}}\n'
    done = subprocess.run([sys.executable, "-m", "tools.replay", "-", "--pretty",
                           "--runtime", "cpython"], input=text, capture_output=True,
                          text=True, cwd=paths.ROOT, timeout=60)
    assert done.returncode == 2
    assert "zones[0].type" in done.stdout and "laser" in done.stdout


# ---- python -m monitor ----

SECRET_HEX = "00112233445566778899aabbccddeeff"
VERBAL = {"MONITOR_VERBAL_PASSWORD": "blue heron"}


def test_account_add_names_a_secret_that_is_not_hex_and_makes_no_store(tmp_path):
    db = tmp_path / "m.db"
    line = refused(cli("monitor", "account", "add", "hub-1", "--secret", "zz", "--db", str(db),
                       env=VERBAL), "--secret", "hex")
    assert "zz" not in line                 # a secret, even a mistyped one, is not echoed
    assert not db.exists()


def test_a_database_folder_that_does_not_exist_is_named(tmp_path):
    db = str(tmp_path / "nope" / "x.db")
    refused(cli("monitor", "account", "add", "hub-1", "--secret", SECRET_HEX, "--db", db,
                env=VERBAL), "--db", str(tmp_path / "nope"), "does not exist")
    for args in (["account", "list"], ["cases"], ["stats"], ["operator", "list"]):
        refused(cli("monitor", *args, "--db", db), "--db", "does not exist")


@pytest.mark.parametrize("args", [["account", "list"], ["account", "show", "hub-1"],
                                  ["cases"], ["case", "1"], ["stats"], ["operator", "list"],
                                  ["broker", "write", "--dir", "broker"]])
def test_reading_commands_refuse_a_missing_store_and_create_none(args, tmp_path):
    refused(cli("monitor", *args, cwd=str(tmp_path)), "--db monitor.db", "no case store")
    assert sorted(os.listdir(tmp_path)) == []


def test_a_file_that_is_not_a_store_is_named(tmp_path):
    db = tmp_path / "notes.db"
    db.write_text("my shopping list\n")
    refused(cli("monitor", "cases", "--db", str(db)), "--db", str(db), "not a database")


def test_cases_and_accounts_say_when_there_are_none(tmp_path):
    db = str(tmp_path / "m.db")
    done = cli("monitor", "account", "add", "hub-1", "--secret", SECRET_HEX, "--db", db,
               env=VERBAL)
    assert done.returncode == 0, done.stderr
    done = cli("monitor", "cases", "--db", db)
    assert (done.returncode, done.stdout) == (0, "") and "no cases" in done.stderr
    done = cli("monitor", "cases", "--open", "--db", db)
    assert "no open cases" in done.stderr
    done = cli("monitor", "operator", "list", "--db", db)
    assert (done.returncode, done.stdout) == (0, "") and "no operators" in done.stderr
    done = cli("monitor", "account", "list", "--db", db)
    assert done.stdout.split("\t")[0] == "hub-1" and done.stderr == ""


def test_run_without_a_broker_says_so_at_once(tmp_path):
    import socket
    import time
    with socket.socket() as s:      # a port that was free a moment ago: nothing listens
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    began = time.monotonic()
    done = cli("monitor", "run", "--port", str(port), "--db", str(tmp_path / "m.db"))
    assert time.monotonic() - began < 10
    refused(done, "no MQTT broker", "127.0.0.1:%d" % port)


def test_monitor_output_into_a_closed_pipe_ends_quietly(tmp_path):
    db = str(tmp_path / "m.db")
    assert cli("monitor", "account", "add", "hub-1", "--secret", SECRET_HEX, "--db", db,
               env=VERBAL).returncode == 0
    r, w = os.pipe()
    os.close(r)
    try:
        done = cli("monitor", "account", "show", "hub-1", "--db", db, stdout=w)
    finally:
        os.close(w)
    assert (done.returncode, done.stderr) == (0, "")


def test_a_usage_mistake_is_one_line():
    refused(cli("monitor", "account"), "action")
    refused(cli("monitor", "case", "seven"), "'seven'")


def test_account_add_without_a_password_source_refuses_and_makes_no_store(tmp_path):
    db = tmp_path / "m.db"
    env = {k: "" for k in ("MONITOR_VERBAL_PASSWORD",)}
    refused(cli("monitor", "account", "add", "hub-1", "--secret", SECRET_HEX, "--db", str(db),
                env=env), "no verbal password", "--password-file")
    assert not db.exists()
