"""On the house page the person is the called contact: answering, giving the
verbal password and asking for a cancel reaches the real monitoring endpoint,
through the service's own operator actions (the console's verbs)."""
import json
import sys
import time
import urllib.error
import urllib.request

from running import Running


def call(url, path, body=None, origin=True):
    data = None if body is None else json.dumps(body).encode()
    headers = {"Content-Type": "application/json"} if data else {}
    if origin:
        headers["Origin"] = url.rstrip("/")     # what the page's own fetch sends
    req = urllib.request.Request(url + path, data=data, method="POST" if data else "GET",
                                 headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=15) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def wait(url, pred, timeout=20):
    deadline = time.monotonic() + timeout
    while True:
        state = call(url, "api/state")[1]
        if pred(state):
            return state
        assert time.monotonic() < deadline, json.dumps(state["cases"])
        time.sleep(0.1)


def test_panic_button_then_the_contact_cancels_with_the_right_password(tmp_path):
    run = Running([sys.executable, "-m", "tools.run", "--speed", "5", "--port", "0"], tmp_path)
    try:
        u = run.url
        assert call(u, "api/zone", {"zone": "nowhere", "event": "open"})[0] == 400
        assert call(u, "api/zone", {"zone": "panic_button", "event": "press"})[0] == 200
        s = wait(u, lambda s: s["cases"] and s["cases"][0]["call"])
        case = s["cases"][0]
        assert case["plan"] == "panic" and case["call"]["status"] == "ringing"
        act = "api/service/cases/%d/" % case["id"]
        # Nothing to say before the phone is picked up.
        assert call(u, act + "password", {"password": "blue heron"})[0] == 409
        # Another site's page cannot answer for the contact.
        assert call(u, act + "answered", {}, origin=False)[0] == 403
        assert call(u, act + "answered", {})[0] == 200
        code, said = call(u, act + "password", {"password": "blue heron"})
        assert code == 200 and said["result"] == "right"
        assert call(u, act + "request", {"request": "cancel"})[0] == 200
        s = wait(u, lambda s: s["cases"][0]["status"] != "open")
        assert s["cases"][0]["status"] == "cancelled"
        assert s["cases"][0]["ended"]["reason"] == "requested"
        assert s["panel"]["state"] == "triggered"     # the hub still wants its code
        # The page's actions carry the demo operator's name on the timeline.
        assert "answered by demo" in s["cases"][0]["steps"]
    finally:
        if run.proc.poll() is None:
            run.interrupt()
        run.kill()
    assert run.leftovers() == []


def test_the_operator_can_dispatch_but_not_cancel_unverified(tmp_path):
    run = Running([sys.executable, "-m", "tools.run", "--speed", "5", "--port", "0"], tmp_path)
    try:
        u = run.url
        assert call(u, "api/zone", {"zone": "panic_button", "event": "press"})[0] == 200
        s = wait(u, lambda s: s["cases"] and s["cases"][0]["call"])
        act = "api/service/cases/%d/" % s["cases"][0]["id"]
        assert call(u, act + "fly", {})[0] == 409
        code, said = call(u, act + "cancel", {})
        assert code == 409 and "password" in said["error"]
        assert call(u, act + "dispatch", {})[0] == 200
        s = wait(u, lambda s: s["cases"][0]["status"] != "open")
        assert s["cases"][0]["ended"]["step"] == "dispatch"
        assert s["cases"][0]["ended"]["reason"] == "operator"
    finally:
        if run.proc.poll() is None:
            run.interrupt()
        run.kill()
    assert run.leftovers() == []
