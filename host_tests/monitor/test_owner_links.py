"""The owners' app links: each expires, a new one revokes the account's old
one, they can be listed and revoked, and opening one logs nothing in by
itself: the GET is a page, the login its same-origin POST (so another site
cannot log a victim's browser into the attacker's app)."""
from desk_helpers import add_account
from web_helpers import client_for, owner_link, post

from monitor import operators
from monitor.store import Store


def test_links_expire_a_new_one_revokes_the_old_and_they_can_be_listed_and_revoked(db):
    add_account(db)
    add_account(db, "hub-2")
    store = Store(db)
    t = [1_700_000_000.0]
    clock = lambda: t[0]        # noqa: E731
    try:
        old = operators.link_owner(store, "hub-1", ttl_s=3600, clock=clock)
        assert operators.owner_hub(store, old, clock) == "hub-1"
        new = operators.link_owner(store, "hub-1", ttl_s=3600, clock=clock)
        other = operators.link_owner(store, "hub-2", clock=clock)
        assert operators.owner_hub(store, old, clock) is None
        assert operators.owner_hub(store, new, clock) == "hub-1"
        listed = operators.links(store, clock)
        assert [(l["hub"], l["expires_ms"]) for l in listed] == \
            [("hub-1", int(t[0] * 1000) + 3_600_000),
             ("hub-2", int(t[0] * 1000) + operators.LINK_TTL_S * 1000)]
        assert all(old not in str(l) and new not in str(l) for l in listed)
        t[0] += 3601
        assert operators.owner_hub(store, new, clock) is None
        assert operators.owner_hub(store, other, clock) == "hub-2"
        assert operators.revoke_links(store, "hub-2") == 1
        assert operators.owner_hub(store, other, clock) is None
        assert operators.links(store, clock) == []
    finally:
        store.close()


def test_opening_a_link_is_a_page_and_its_login_a_same_origin_post(db, monitor):
    add_account(db)
    rx, _ = monitor(calls="console")
    token = owner_link(db)
    owner, _ = client_for(rx)
    r = owner.get("/app/link/" + token, follow_redirects=False)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert "set-cookie" not in r.headers
    assert owner.get("/api/app").status_code == 401
    r = post(owner, "/app/link/" + token, {}, origin="https://attacker.example")
    assert r.status_code == 403 and "set-cookie" not in r.headers
    assert owner.get("/api/app").status_code == 401
    assert post(owner, "/app/link/" + "A" * 43, {}).status_code == 404
    r = post(owner, "/app/link/" + token, {})
    assert r.status_code == 200 and r.json() == {"hub": "hub-1", "go": "/app"}
    assert owner.get("/api/app").json()["hub"] == "hub-1"
