"""AC loss (Contact ID 301) at the monitor: a hub on its battery is a trouble
the station keeps and acks, in words, but no response plan opens a case for it
(the plans are for alarms), on either store."""
from uplink import wire

from desk_helpers import SECRET, add_account, query
from monitor.web.words import describe
from waiting import until


def event(seq, code, t):
    sig = {"code": code, "event": int(code[1:]), "qualifier": code[0], "seq": seq, "zone": 0}
    return wire.event(SECRET, "hub-1", t, sig, 11)


def test_mains_lost_and_restored_are_stored_acked_in_words_and_open_no_case(db, monitor, hubs):
    add_account(db)
    rx, lines = monitor()
    h = hubs()
    h.publish("hub-1", "events", event(1, "E301", 1700000000))
    h.publish("hub-1", "events", event(2, "R301", 1700000900))
    assert until(lambda: ("hub-1", 2) in h.acked and ("hub-1", 1) in h.acked)
    assert rx.counters().get("stored") == 2
    codes = [r["code"] for r in query(db, "SELECT code FROM signals ORDER BY seq")]
    assert codes == ["E301", "R301"]
    assert query(db, "SELECT * FROM cases") == []
    assert not lines.where(step="open")
    assert describe("E301") == "Mains power lost"
    assert describe("R301") == "Mains power restored"
