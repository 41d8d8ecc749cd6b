"""Guessing an operator's password, locking one out, hogging the live
streams, reading /health's details: what a stranger or one session can do to
the console's door, and what it must not."""
import threading

import httpx
from starlette.testclient import TestClient

from desk_helpers import add_account
from web_helpers import OP_PASSWORD, ORIGIN, FakeClock, add_operator, client_for, login, post

WRONG = "not it at all"


def from_address(client, address):
    """Another browser on the same console, coming from `address`."""
    return TestClient(client.app, base_url=ORIGIN, client=(address, 40000))


def attempt(client, name="ann", password=WRONG):
    return post(client, "/api/login", {"name": name, "password": password})


def test_guesses_sent_at_once_are_counted_before_the_slow_hash(db, monitor, console):
    add_account(db)
    add_operator(db)
    rx, _ = monitor(calls="console")
    # A wait far longer than the burst takes: on a loaded machine the 30
    # guesses may spread over more than the default 1 s, and a guess after
    # the wait is rightly let through.
    web = console(rx, login_delay_s=600)
    free = web.config.login_free_fails
    codes, start = [], threading.Barrier(30)

    def guess():
        with httpx.Client(base_url=web.url, timeout=60) as c:
            start.wait()
            codes.append(c.post("/api/login", json={"name": "ann", "password": WRONG},
                                headers={"Origin": web.url}).status_code)
    threads = [threading.Thread(target=guess) for _ in range(30)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert sorted(codes) == [401] * free + [429] * (30 - free), sorted(codes)


def test_a_stranger_cannot_lock_an_operator_out(db, monitor):
    add_account(db)
    add_operator(db)
    rx, _ = monitor(calls="console")
    clock = FakeClock()
    client, web = client_for(rx, clock=clock)
    stranger = from_address(client, "203.0.113.66")
    ops_desk = from_address(client, "198.51.100.7")
    free = web.config.login_free_fails
    for _ in range(free):
        assert attempt(stranger).status_code == 401
    # The stranger now waits, longer after each wrong guess...
    waits = []
    for _ in range(4):
        r = attempt(stranger)
        assert r.status_code == 429 and "try again" in r.json()["error"]
        waits.append(int(r.headers["retry-after"]))
        clock.advance(waits[-1])
        assert attempt(stranger).status_code == 401
    assert waits == [1, 2, 4, 8]
    # ...and the right password from the operator's own desk works at once.
    assert login(from_address(client, "198.51.100.7"))
    # A typo or two at the desk do not cost the operator the stranger's delays.
    assert attempt(ops_desk).status_code == 401
    assert login(ops_desk)


def test_guessing_from_many_addresses_gets_one_free_try_each_not_a_lockout(db, monitor):
    add_account(db)
    add_operator(db)
    rx, _ = monitor(calls="console")
    clock = FakeClock()
    # A low ceiling: each guess is a real Argon2 hash, and the rule is the same at 50.
    client, web = client_for(rx, clock=clock, login_user_ceiling=12)
    ceiling = web.config.login_user_ceiling
    for i in range(ceiling):
        assert attempt(from_address(client, "203.0.113.%d" % (i % 250))).status_code == 401
    # Past the ceiling a new address gets one try, then waits from its first miss...
    botnet = from_address(client, "192.0.2.1")
    assert attempt(botnet).status_code == 401
    assert attempt(botnet).status_code == 429
    # ...but the operator's own address, that guessed nothing wrong, gets in.
    assert login(from_address(client, "198.51.100.7"))


def test_a_logged_in_operators_right_password_clears_its_own_count(db, monitor):
    add_account(db)
    add_operator(db)
    rx, _ = monitor(calls="console")
    client, web = client_for(rx, clock=FakeClock())
    for _ in range(3):
        for _ in range(web.config.login_free_fails - 1):
            assert attempt(client).status_code == 401
        assert login(client)


def test_health_details_only_to_a_logged_in_operator_not_to_loopback(db, monitor):
    add_account(db)
    add_operator(db)
    rx, _ = monitor(calls="console")
    client, web = client_for(rx)
    # A proxy on this machine that adds no forwarding header looks like loopback.
    local = from_address(client, "127.0.0.1")
    assert local.get("/health").json() == {"ok": True, "status": "ok"}
    login(local)
    seen = local.get("/health").json()
    assert seen["store"]["ok"] and seen["engine"]["alive"] and "live" in seen


def _stream(c):
    return c.stream("GET", "/api/stream", headers={"Origin": str(c.base_url).rstrip("/")})


def test_one_session_cannot_take_every_live_stream(db, monitor, console):
    add_account(db)
    add_operator(db, "ann")
    add_operator(db, "bob")
    rx, _ = monitor(calls="console")
    web = console(rx, max_live_clients=6)
    per_session = web.config.max_live_per_session
    ann, bob = httpx.Client(base_url=web.url, timeout=10), httpx.Client(base_url=web.url,
                                                                         timeout=10)
    opened = []
    try:
        for c, name in ((ann, "ann"), (bob, "bob")):
            assert c.post("/api/login", json={"name": name, "password": OP_PASSWORD},
                          headers={"Origin": web.url}).status_code == 200
        codes = []
        for _ in range(6):
            cm = _stream(ann)
            r = cm.__enter__()
            opened.append(cm)
            codes.append(r.status_code)
        assert codes == [200] * per_session + [429] * (6 - per_session), codes
        cm = _stream(bob)
        r = cm.__enter__()
        opened.append(cm)
        assert r.status_code == 200
        # A stream closed gives its place back to its session.
        opened.pop(0).__exit__(None, None, None)
        cm = _stream(ann)
        assert cm.__enter__().status_code == 200 or _retry_stream(ann, opened)
        opened.append(cm)
    finally:
        for cm in opened:
            cm.__exit__(None, None, None)
        ann.close()
        bob.close()


def _retry_stream(c, opened):
    # The server notices a closed stream when it next writes (a keepalive or a change).
    import time
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        cm = _stream(c)
        r = cm.__enter__()
        if r.status_code == 200:
            opened.append(cm)
            return True
        cm.__exit__(None, None, None)
        time.sleep(0.5)
    return False
