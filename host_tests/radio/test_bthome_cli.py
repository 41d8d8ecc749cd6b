"""python -m tools.bthome, run as a user would."""
import json
import subprocess
import sys

import pytest

from tools import paths

pytestmark = pytest.mark.fast

KEY = "231d39c1d7cc1ab1aee224cd096db932"
MAC = "54:48:E6:8F:80:A5"


def run(*args):
    done = subprocess.run([sys.executable, "-m", "tools.bthome"] + list(args),
                          cwd=paths.ROOT, capture_output=True, text=True, timeout=60)
    return done.returncode, done.stdout, done.stderr


def test_decode_published_temperature_humidity_vector():
    rc, out, err = run("decode", "--mac", MAC, "--key", KEY, "41a47266c95f730011223378237214")
    assert rc == 0, err
    r = json.loads(out)
    assert r["encrypted"] is True and r["counter"] == 0x33221100 and r["mac"] == MAC
    assert [(o["name"], o["value"]) for o in r["objects"]] == [
        ("temperature", 25.06), ("humidity", 50.55)]
    assert r["values"] == {"temperature": 25.06, "humidity": 50.55}


def test_decode_published_motion_vector_with_pasted_spacing():
    rc, out, _ = run("decode", "--mac", MAC.lower(), "--key", KEY, "41 87 b9 00 11 22 33 72 b0 23 1f")
    assert rc == 0
    assert json.loads(out)["values"] == {"motion": 1}


def test_decode_plain():
    rc, out, _ = run("decode", "--mac", MAC, "40000c1a01")
    assert rc == 0
    r = json.loads(out)
    assert r["encrypted"] is False and r["counter"] is None
    assert r["values"] == {"packet_id": 12, "door": 1}


def test_decode_keeps_the_objects_before_an_unknown_id():
    rc, out, _ = run("decode", "--mac", MAC, "4002ca09fe00")
    assert rc == 0
    r = json.loads(out)
    assert r["values"] == {"temperature": 25.06} and r["unknown"] == 2


def test_decode_errors_are_json_and_exit_1():
    cases = (
        (("--key", KEY, "41a47266c95f730011223378237215"), "bad MIC"),
        (("--key", KEY, "41a472"), "short packet"),
        (("4002ca",), "short packet"),
        (("2002ca09",), "not BTHome v2"),
        (("41a47266c95f730011223378237214",), "encrypted but no key"),
        (("--key", KEY, "401a01"), "key given but packet not encrypted"),
        (("zz",), "bad hex"),
        (("--key", "abc", "401a01"), "bad key"),
    )
    for args, reason in cases:
        rc, out, _ = run("decode", "--mac", MAC, *args)
        assert rc == 1, args
        assert json.loads(out)["error"] == reason, (args, out)


def test_encode_then_decode():
    rc, out, _ = run("encode", "--mac", MAC, "packet_id=5", "battery=90", "door=1", "0x45=-4.5")
    assert rc == 0
    assert out.strip() == "400005015a1a0145d3ff"
    rc, out, _ = run("encode", "--mac", MAC, "--key", KEY, "--counter", "0x33221100",
                     "temperature=25.06", "humidity=50.55")
    assert rc == 0
    assert out.strip() == "41a47266c95f730011223378237214"
    rc, out, _ = run("encode", "--mac", MAC, "--key", KEY, "--counter", "9", "--trigger",
                     "button=1")
    rc2, out2, _ = run("decode", "--mac", MAC, "--key", KEY, out.strip())
    r = json.loads(out2)
    assert rc == rc2 == 0
    assert r["trigger"] is True and r["counter"] == 9
    assert r["objects"] == [{"id": 0x3A, "name": "button", "value": 1, "event": "press"}]


def test_encode_errors():
    for objs, reason in ((["battery=300"], "value out of range for battery"),
                         (["bogus=1"], "unknown object bogus"),
                         (["door"], "expected name=value, got 'door'"),
                         (["door=open"], "bad value 'door=open'")):
        rc, out, _ = run("encode", "--mac", MAC, *objs)
        assert rc == 1
        assert json.loads(out)["error"] == reason
