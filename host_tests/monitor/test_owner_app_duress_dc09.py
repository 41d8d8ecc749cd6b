"""A duress disarm inside the abort window over SIA DC-09, where a signal
keeps only its code, its user or zone number, its seq (in the [Isig] field)
and the frame's time to the second: the owner's app still shows the owner's
abort, while the duress case is dispatched and holds the burglary. Real TCP,
frames built with pysiaalarm's pieces (dc09_panel.py), the real service."""
import datetime
import time

from dc09_panel import Link, answer_of, contact_id
from desk_helpers import add_account, query
from web_helpers import client_for, owner_link, post

EPOCH = 731460213
ACCOUNTS = {"hub-1": "12AB", "hub-2": "34CD"}


def _app(rx, db, hub):
    client, _ = client_for(rx)
    assert post(client, "/app/link/" + owner_link(db, hub), {}).status_code == 200
    return client


def _phone(app):
    home = app.get("/api/app/home").json()
    for x in home["history"]:
        x.pop("t")
    return home


def test_a_duress_disarm_in_the_abort_window_over_dc09_shows_as_the_owners_abort(
        db, monitor):
    for hub, account in ACCOUNTS.items():
        add_account(db, hub, dc09=account)
    rx, lines = monitor(dc09_port=0, calls="console", ring_s=600)
    link = Link(rx.dc09.port)
    owners, coerced = _app(rx, db, "hub-1"), _app(rx, db, "hub-2")

    def send(hub, seq, qualifier, event, number, when):
        raw = contact_id(ACCOUNTS[hub], EPOCH, seq, qualifier, event, number, when=when)
        assert answer_of(link.ask(raw), ACCOUNTS[hub])[0] == "ACK"

    armed = datetime.datetime.now(datetime.timezone.utc)
    send("hub-1", 1, "R", 401, 1, armed)          # the owner's abort sends nothing more
    send("hub-2", 1, "R", 401, 1, armed)
    # host_tests/scenarios/duress_in_abort_window: one burst at the disarm's moment.
    disarm = armed + datetime.timedelta(seconds=2)
    for seq, (q, event, number) in enumerate(
            [("E", 121, 9), ("E", 130, 3), ("E", 459, 3), ("E", 401, 9)], start=2):
        send("hub-2", seq, q, event, number, disarm)
        assert _phone(coerced) == _phone(owners), event     # also mid-burst
    plain = _phone(owners)
    assert plain["alarm"] is None
    assert [x["code"] for x in plain["history"]] == ["R401"]
    duress = lines.wait(step="dispatch", plan="duress")["case"]
    steps = query(db, "SELECT step, detail FROM timeline WHERE case_id = ?", duress)
    assert any(s["step"] == "update" and '"E130"' in (s["detail"] or "") for s in steps)
    assert query(db, "SELECT id FROM calls") == []
    time.sleep(0.3)
    assert _phone(coerced) == _phone(owners)
    link.close()
