"""`make run` itself: it starts everything, serves the page over HTTP, and
Ctrl-C stops all of it with no process left behind."""
import json
import re
import signal
import time
import urllib.request

from running import Running


def get(url):
    with urllib.request.urlopen(url, timeout=10) as r:
        return r.status, r.read()


def test_make_run_serves_the_house_and_stops_cleanly_on_ctrl_c(tmp_path):
    run = Running(["make", "--no-print-directory", "run", "SPEED=20", "PORT=0"], tmp_path)
    try:
        status, page = get(run.url)
        assert status == 200 and b"house.js" in page
        assert get(run.url + "house.js")[0] == 200
        state = json.loads(get(run.url + "api/state")[1])
        assert state["online"] == "online" and state["panel"]["state"] == "disarmed"
        assert {z["name"] for z in state["zones"]} >= {"front_door", "garage_door", "hub_tamper"}
        assert run.leftovers(), "the hub and mosquitto should be running under TMPDIR"
        # A newcomer can log into the console with what it printed.
        m = re.search(r"console: (http://127\.80\.0\.1:\d+/)  user (\S+)  password (\S+)",
                      "".join(run.output))
        assert m, "".join(run.output)
        console, user, password = m.groups()
        assert not set(password) & set("0Oo1lI"), password     # read off a screen, typed by hand
        # Its login page points there, not to `operator add` (a server command).
        hint = json.loads(get(console + "api/me")[1])["login_hint"]
        assert "password `make run` printed" in hint
        req = urllib.request.Request(
            console + "api/login", data=json.dumps({"name": user, "password": password}).encode(),
            method="POST", headers={"Content-Type": "application/json",
                                    "Origin": console.rstrip("/")})
        status, body = get(req)
        assert status == 200 and json.loads(body)["role"] == "admin"
        req = urllib.request.Request(run.url + "api/keys", data=b'{"keys": "1234B"}',
                                     method="POST",
                                     headers={"Content-Type": "application/json",
                                              "Origin": run.url.rstrip("/")})
        assert get(req)[0] == 200
        deadline = time.monotonic() + 10
        while json.loads(get(run.url + "api/state")[1])["panel"]["state"] != "arming":
            assert time.monotonic() < deadline, "the keypad did not arm the hub"
            time.sleep(0.1)
    finally:
        code = run.interrupt() if run.proc.poll() is None else run.proc.returncode
        run.kill()
    out = "".join(run.output)
    assert "stopped." in out, out
    # make passes the Ctrl-C on, waits for the recipe, then dies of SIGINT itself.
    assert code in (0, -signal.SIGINT), (code, out)
    time.sleep(0.5)
    assert run.leftovers() == []


def test_the_printed_password_has_no_look_alike_letters():
    from tools.run import PASSWORD_LENGTH, demo_password
    seen = set()
    for _ in range(500):
        pw = demo_password()
        assert len(pw) == PASSWORD_LENGTH
        seen |= set(pw)
    assert not seen & set("0Oo1lI")
    assert len(seen) > 40                   # still a wide alphabet: no guessable password
