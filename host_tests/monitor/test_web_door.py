"""The console's door, tried the way someone breaking in would: through the
framework's test client, in-process, on a fake clock. Each of these passed
(the attack worked) on the old hand-written console, which had no login."""
import json
import re

import pytest

from desk_helpers import SECRET, add_account, query
from web_helpers import ORIGIN, FakeClock, add_operator, client_for, login, owner_link, post


EVIL = "http://evil.example"


@pytest.fixture
def held_case(db, monitor, hubs):
    """A running service with one open burglar case waiting for the operator."""
    add_account(db)
    rx, lines = monitor(calls="console", ring_s=600)
    h = hubs()
    h.signal("hub-1", "E134", zone=1, name="front_door")
    case = lines.wait(step="call")["case"]
    return rx, lines, case


def test_a_foreign_host_header_is_refused(db, monitor):
    add_account(db)
    rx, _ = monitor(calls="console")
    client, _ = client_for(rx)
    assert client.get("/login").status_code == 200
    r = client.get("/login", headers={"Host": "evil.example"})
    assert r.status_code == 400 and "Invalid host" in r.text
    # DNS rebinding: a name that resolves here is still not this console's name.
    assert client.get("/api/me", headers={"Host": "attacker.test:8080"}).status_code == 400
    # A name configured for a proxy in front is served.
    client2, _ = client_for(rx, allowed_hosts=("console.example.com",))
    assert client2.get("/login", headers={"Host": "console.example.com"}).status_code == 200


def test_no_page_can_be_framed(db, monitor):
    add_account(db)
    rx, _ = monitor(calls="console")
    client, _ = client_for(rx)
    for path in ("/", "/login", "/case/1", "/app", "/api/me", "/static/console.js",
                 "/static/api.js"):
        r = client.get(path)
        assert "frame-ancestors 'none'" in r.headers["content-security-policy"], path
        assert r.headers["x-frame-options"] == "DENY", path
        assert r.headers["x-content-type-options"] == "nosniff", path


def test_a_cross_origin_text_plain_post_dispatches_nothing(db, held_case):
    rx, lines, case = held_case
    add_operator(db)
    client, _ = client_for(rx)
    csrf = login(client)      # the operator is logged in in this browser
    # What a page on another site can send with the operator's cookies: a "simple" request.
    r = client.post("/api/cases/%d/dispatch" % case, content=b'{}',
                    headers={"Origin": EVIL, "Content-Type": "text/plain"})
    assert r.status_code == 403 and "Origin" in r.json()["error"]
    # Same with the token guessed right and the type it cannot send without a preflight.
    r = post(client, "/api/cases/%d/dispatch" % case, csrf=csrf, origin=EVIL)
    assert r.status_code == 403
    # No Origin at all is not this site either.
    r = client.post("/api/cases/%d/dispatch" % case, json={}, headers={"X-CSRF-Token": csrf})
    assert r.status_code == 403
    # From this site but not JSON.
    r = client.post("/api/cases/%d/dispatch" % case, content=b"{}",
                    headers={"Origin": ORIGIN, "Content-Type": "text/plain",
                             "X-CSRF-Token": csrf})
    assert r.status_code == 415 and "application/json" in r.json()["error"]
    # From this site, JSON, but without the session's CSRF token.
    assert post(client, "/api/cases/%d/dispatch" % case).status_code == 403
    assert post(client, "/api/cases/%d/dispatch" % case, csrf="x" * 43).status_code == 403
    assert query(db, "SELECT status FROM cases") == [{"status": "open"}]
    assert query(db, "SELECT * FROM dispatches") == []
    # The operator's own click goes through, and the timeline names them.
    r = post(client, "/api/cases/%d/dispatch" % case, csrf=csrf)
    assert r.status_code == 200, r.text
    assert query(db, "SELECT status FROM cases") == [{"status": "dispatched"}]
    who = lines.wait(step="operator")
    assert (who["operator"], who["reason"]) == ("ann", "dispatch")
    assert lines.wait(step="dispatch")["reason"] == "operator"


# The routes anyone may call (access.py's @public). A new one belongs here only
# on purpose: every other route is locked by the route table.
PUBLIC = {"/", "/login", "/case/{case}", "/account/{hub}", "/operators", "/app",
          "/api/login", "/api/logout", "/api/me", "/app/link/{token}", "/favicon.ico", "/health",
          "/static"}


def routes_of(app, case):
    """[(path with its parameters filled, methods, Access)] for every route the app has."""
    from starlette.routing import Route

    from monitor.web.access import access_of
    sample = {"case": str(case), "hub": "hub-1", "action": "dispatch", "token": "A" * 43}
    out = []
    for route in app.routes:
        path = re.sub(r"{(\w+)(:\w+)?}", lambda m: sample[m.group(1)], route.path)
        if isinstance(route, Route):
            methods = sorted(route.methods)
        else:                           # a Mount takes any method
            path, methods = path + "/x", ["GET", "HEAD", "POST"]
        out.append((route.path, path, methods, access_of(route)))
    return out


def knock(client, method, path, csrf=None):
    if method == "POST":
        return post(client, path, {}, csrf=csrf)
    return client.request(method, path)


def test_nothing_is_read_or_changed_without_logging_in(db, held_case):
    rx, _, case = held_case
    client, _ = client_for(rx)
    found = routes_of(client.app, case)
    assert {p for p, _, _, a in found if a.kind is None} == PUBLIC
    locked = [(path, m) for p, path, methods, a in found if a.kind is not None
              for m in methods]
    assert ("/api/cases/%d/dispatch" % case, "POST") in locked and ("/api/app", "GET") in locked
    for path, method in locked:
        assert knock(client, method, path).status_code == 401, (method, path)
    # The old unauthenticated routes are gone: SOS for any hub, scripting the callee.
    assert post(client, "/api/accounts/hub-1/sos", {"service": "police"}).status_code in (404, 405)
    assert post(client, "/api/callee", {"contact": 1}).status_code in (404, 405)
    assert query(db, "SELECT status FROM cases") == [{"status": "open"}]
    # What a load balancer may see: that it is up, and nothing about its insides.
    assert client.get("/health").json() == {"ok": True, "status": "ok"}
    # A logged-in operator sees the store, the broker, the engine and the live feed.
    add_operator(db)
    login(client)
    health = client.get("/health").json()
    assert health["store"]["ok"] and health["broker"]["connected"] and health["engine"]["alive"]
    assert health["live"]["errors"] == 0 and "clients" in health["live"]
    assert "secret" not in json.dumps(health)


def test_a_refused_action_leaves_no_operator_step(db, held_case):
    rx, lines, case = held_case
    add_operator(db)
    client, _ = client_for(rx)
    csrf = login(client)
    r = post(client, "/api/cases/%d/cancel" % case, csrf=csrf)
    assert r.status_code == 409 and "password" in r.json()["error"]
    r = post(client, "/api/cases/%d/fly" % case, csrf=csrf)
    assert r.status_code == 409 and "unknown action" in r.json()["error"]
    assert query(db, "SELECT step FROM timeline WHERE step = 'operator'") == []
    r = post(client, "/api/cases/%d/answered" % case, csrf=csrf)
    assert r.status_code == 200
    r = post(client, "/api/cases/%d/password" % case, {"password": "blue heron"}, csrf=csrf)
    assert r.json() == {"result": "right"}
    steps = [(s["step"], s.get("reason"), s.get("operator"))
             for s in client.get("/api/cases/%d" % case).json()["timeline"]]
    assert steps[-4:] == [("operator", "answered", "ann"), ("answered", None, None),
                          ("operator", "password", "ann"), ("password", None, None)]
    assert "blue heron" not in json.dumps(query(db, "SELECT * FROM timeline"))


def test_login_attempts_are_limited_per_user_and_per_address(db, monitor):
    add_account(db)
    add_operator(db, "ann")
    add_operator(db, "bob")
    rx, _ = monitor(calls="console")
    clock = FakeClock()
    client, web = client_for(rx, clock=clock)
    wrong = {"name": "ann", "password": "not it at all"}
    for _ in range(web.config.login_free_fails):
        assert post(client, "/api/login", wrong).status_code == 401
    # Now even the right password waits: guessing gets 5 tries per window.
    r = post(client, "/api/login", {"name": "ann", "password": "correct horse battery"})
    assert r.status_code == 429 and int(r.headers["retry-after"]) > 0
    assert "try again" in r.json()["error"]
    # Another user from the same address is not locked out by ann's failures...
    assert post(client, "/api/login", {"name": "bob", "password": "correct horse battery"}
                ).status_code == 200
    clock.advance(web.config.login_window_s + 1)
    assert login(client, "ann")
    # ...but one address trying many names is.
    for i in range(web.config.login_fails_per_address):
        assert post(client, "/api/login", {"name": "user%d" % i, "password": "x" * 12}
                    ).status_code == 401
    r = post(client, "/api/login", {"name": "bob", "password": "correct horse battery"})
    assert r.status_code == 429


def test_session_cookie_flags_and_expiry(db, monitor):
    add_account(db)
    add_operator(db)
    rx, _ = monitor(calls="console")
    clock = FakeClock()
    client, web = client_for(rx, clock=clock)
    r = post(client, "/api/login", {"name": "ann", "password": "correct horse battery"})
    cookie = r.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and "path=/" in cookie
    assert "secure" not in cookie                  # plain http: a Secure cookie would not come back
    assert r.json()["role"] == "operator"
    token = client.cookies.get("op_session")
    assert token and token not in json.dumps(query(db, "SELECT * FROM web_sessions"))
    assert client.get("/api/cases").status_code == 200
    clock.advance(web.config.session_ttl_s + 1)
    assert client.get("/api/cases").status_code == 401
    # Over https (a TLS proxy in front): Secure, and a __Host- name no subdomain can set.
    https, _ = client_for(rx, https=True)
    r = post(https, "/api/login", {"name": "ann", "password": "correct horse battery"})
    cookie = r.headers["set-cookie"]
    assert cookie.startswith("__Host-op_session=") and "secure" in cookie.lower()
    # Reached over https, the session works as over http.
    tls, _ = client_for(rx, base_url="https://127.0.0.1:8443")
    r = post(tls, "/api/login", {"name": "ann", "password": "correct horse battery"},
             origin="https://127.0.0.1:8443")
    assert r.headers["set-cookie"].startswith("__Host-op_session=")
    assert tls.get("/api/cases").status_code == 200


def test_logout_ends_the_session(db, monitor):
    add_account(db)
    add_operator(db)
    rx, _ = monitor(calls="console")
    client, _ = client_for(rx)
    csrf = login(client)
    token = client.cookies.get("op_session")
    assert post(client, "/api/logout", {}, csrf=csrf).status_code == 200
    client.cookies.set("op_session", token)        # a copy of the old cookie opens nothing
    assert client.get("/api/cases").status_code == 401


def test_only_an_admin_edits_accounts_and_adds_operators(db, monitor):
    add_account(db)
    add_operator(db, "ann", "operator")
    add_operator(db, "root", "admin")
    rx, _ = monitor(calls="console")
    client, _ = client_for(rx)
    csrf = login(client, "ann")
    assert client.get("/api/accounts/hub-1").status_code == 200      # reading: any operator
    r = post(client, "/api/accounts/hub-1", {"policy": "only_if_i_say"}, csrf=csrf)
    assert r.status_code == 403 and "admin" in r.json()["error"]
    r = post(client, "/api/operators", {"name": "eve", "password": "x" * 12}, csrf=csrf)
    assert r.status_code == 403
    assert post(client, "/api/accounts/hub-1/link", {}, csrf=csrf).status_code == 403
    admin, _ = client_for(rx)
    csrf = login(admin, "root")
    r = post(admin, "/api/accounts/hub-1", {"policy": "only_if_i_say"}, csrf=csrf)
    assert r.status_code == 200 and r.json()["policy"] == "only_if_i_say"
    r = post(admin, "/api/operators", {"name": "eve", "password": "short"}, csrf=csrf)
    assert r.status_code == 400 and "at least" in r.json()["error"]
    r = post(admin, "/api/operators", {"name": "eve", "password": "x" * 12}, csrf=csrf)
    assert r.status_code == 200
    assert {"name": "eve", "role": "operator"} in admin.get("/api/operators").json()


def test_the_owners_app_reaches_only_its_own_hub(db, monitor, hubs):
    add_account(db, "hub-1")
    add_account(db, "hub-2", secret=bytes(range(1, 33)))
    add_operator(db, "root", "admin")
    rx, _ = monitor(calls="console")
    h = hubs({"hub-1": SECRET, "hub-2": bytes(range(1, 33))})
    admin, _ = client_for(rx)
    csrf = login(admin, "root")
    url = post(admin, "/api/accounts/hub-1/link", {}, csrf=csrf).json()["url"]
    assert url.startswith(ORIGIN + "/app/link/")
    owner, _ = client_for(rx)
    assert owner.get("/api/app").status_code == 401
    assert owner.get("/app/link/" + "A" * 43, follow_redirects=False).status_code == 404
    r = post(owner, url[len(ORIGIN):], {})
    assert r.status_code == 200 and r.json()["go"] == "/app"
    me = owner.get("/api/app").json()
    assert me["hub"] == "hub-1"
    # Naming another hub in the body changes nothing: the session's hub is the only one.
    r = post(owner, "/api/app/sos", {"service": "police", "hub": "hub-2"}, csrf=me["csrf"])
    assert r.status_code == 200, r.text
    with h.lock:
        h.lock.wait_for(lambda: h.commands, 10)
    assert [(c["hub"], c["service"]) for c in h.commands] == [("hub-1", "police")]
    # An owner is not an operator, and has no other door to hub-2.
    assert owner.get("/api/cases").status_code == 401
    assert post(owner, "/api/accounts/hub-2/sos", {"service": "police"},
                csrf=me["csrf"]).status_code in (404, 405)
    assert post(owner, "/api/app/sos", {"service": "police"}).status_code == 403   # no CSRF
    assert post(owner, "/api/app/sos", {"service": "pizza"}, csrf=me["csrf"]).status_code == 409
    assert len(h.commands) == 1


def test_an_operator_is_no_owner_an_owner_no_operator_and_an_operator_no_admin(db, held_case):
    rx, _, case = held_case
    add_operator(db)
    operator, _ = client_for(rx)
    csrf = login(operator)
    token = owner_link(db)
    owner, _ = client_for(rx)
    assert post(owner, "/app/link/" + token, {}).status_code == 200
    owner_csrf = owner.get("/api/app").json()["csrf"]
    for _, path, methods, access in routes_of(operator.app, case):
        for method in methods:
            if access.kind == "owner":
                assert knock(operator, method, path, csrf).status_code == 401, (method, path)
            elif access.kind == "operator":
                assert knock(owner, method, path, owner_csrf).status_code == 401, (method, path)
                if access.role == "admin":
                    assert knock(operator, method, path, csrf).status_code == 403, (method, path)
    assert query(db, "SELECT status FROM cases") == [{"status": "open"}]
    assert query(db, "SELECT * FROM dispatches") == []


def test_json_bodies_are_bounded_and_must_be_objects(db, monitor):
    add_account(db)
    add_operator(db)
    rx, _ = monitor(calls="console")
    client, _ = client_for(rx)
    csrf = login(client)
    r = post(client, "/api/cases/1/password", {"password": "x" * 20000}, csrf=csrf)
    assert r.status_code == 400 and "over" in r.json()["error"]
    r = client.post("/api/cases/1/password", content=b"[1, 2]",
                    headers={"Origin": ORIGIN, "X-CSRF-Token": csrf,
                             "Content-Type": "application/json"})
    assert r.status_code == 400 and "object" in r.json()["error"]
    assert client.get("/api/cases/abc").status_code == 400


def test_the_case_is_told_in_words_with_its_code_and_countdown(db, monitor, hubs):
    add_account(db)
    add_operator(db)
    rx, lines = monitor(calls="console", ring_s=600)
    clock = FakeClock()
    client, _ = client_for(rx, clock=clock)
    login(client)
    h = hubs()
    h.signal("hub-1", "E134", zone=1, name="front_door")
    h.signal("hub-1", "E459", zone=1, name="front_door")
    h.signal("hub-1", "E406", user=1, name="owner")
    lines.wait(step="keypad_cancel")
    row = client.get("/api/cases").json()
    assert row["now_ms"] == int(clock() * 1000)
    c = row["cases"][0]
    assert (c["what"], c["code"]) == ("Burglary \u2014 front door (entry/exit)", "E134")
    assert c["ring_due_ms"] > c["opened_ms"] and c["held_since_ms"] is None
    said = [s.get("words") for s in client.get("/api/cases/%d" % c["id"]).json()["timeline"]]
    assert said == ["Burglary \u2014 front door (entry/exit)", None,
                    "Recent closing: armed less than 2 minutes before", "Keypad cancel by owner"]


def test_a_standing_duress_case_stays_in_the_queue_until_an_operator_closes_it(db, monitor, hubs):
    # Police are sent at once, but only a person ends a duress case: until then
    # the hub's alarms join it and nobody is called (monitor/queue.py).
    add_account(db)
    add_operator(db)
    rx, lines = monitor(calls="console", ring_s=600)
    client, _ = client_for(rx)
    csrf = login(client)
    h = hubs()
    h.signal("hub-1", "E121", user=9, name="duress")
    case = lines.wait(step="dispatch")["case"]
    queued = client.get("/api/cases").json()["cases"]
    assert [(c["id"], c["status"]) for c in queued] == [(case, "dispatched")]
    assert "close the case" in queued[0]["next"]
    r = post(client, "/api/cases/%d/cancel" % case, csrf=csrf)
    assert r.status_code != 200                          # nothing cancels a duress
    r = post(client, "/api/cases/%d/close" % case, csrf=csrf)
    assert r.status_code == 200, r.text
    assert client.get("/api/cases").json()["cases"] == []
    assert lines.wait(step="close", case=case)["reason"] == "operator"
