"""Shared by the web-side tests: the console in-process through Starlette's
test client on a fake clock, operators, logging in, same-origin requests."""
from monitor import operators
from monitor.store import Store
from monitor.web import WebConfig
from monitor.web import app as webapp

ORIGIN = "http://127.0.0.1:8080"
OP_PASSWORD = "correct horse battery"


class FakeClock:
    def __init__(self, t=1_800_000_000.0):
        self.t = t

    def __call__(self):
        return self.t

    def advance(self, s):
        self.t += s


def add_operator(db, name="ann", role="operator", password=OP_PASSWORD):
    store = Store(db)
    try:
        operators.add(store, name, password, role)
    finally:
        store.close()


def client_for(rx, clock=None, base_url=ORIGIN, **config):
    """A test client on the console app for a started Receiver: (client, web)."""
    from starlette.testclient import TestClient
    config.setdefault("clock", clock or FakeClock())
    web = webapp.Web(rx, WebConfig(**config))
    return TestClient(webapp.build(web), base_url=base_url), web


def login(client, name="ann", password=OP_PASSWORD):
    r = client.post("/api/login", json={"name": name, "password": password},
                    headers={"Origin": ORIGIN})
    assert r.status_code == 200, r.text
    return r.json()["csrf"]


def post(client, path, body=None, csrf=None, origin=ORIGIN, **headers):
    h = {"Origin": origin} if origin else {}
    if csrf:
        h["X-CSRF-Token"] = csrf
    h.update(headers)
    return client.post(path, json=body if body is not None else {}, headers=h)


def owner_link(db, hub="hub-1"):
    """A new owner's-app link token for `hub` (what `account link` makes)."""
    store = Store(db)
    try:
        return operators.link_owner(store, hub)
    finally:
        store.close()
