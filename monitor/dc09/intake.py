"""What a DC-09 message does to the store, on the engine thread, inside the
engine's transaction: the same intake as an MQTT event (Desk.signal), so a
signal that comes by both paths is one signal.

A stock panel's message (no [Isig]) is deduplicated by its sequence number
and event within RESEND_S (Desk.panel_signal) instead.

Counters (the store's, shown by `monitor stats`): dc09_stored, dc09_duplicate,
dc09_supervision, dc09_rejected and dc09_rejected_<reason> (frame.read names
the reasons), dc09_unmapped (a panel's event no plan knows, stored); a stored
or duplicate signal also counts in stored/duplicate, with the MQTT path's."""
import logging

from monitor import accounts, case_store
from monitor.dc09 import frame

log = logging.getLogger("monitor.dc09")

# A panel that heard no ACK resends within seconds to minutes; its sequence
# numbers (1-9999) take far longer than this to come round again.
RESEND_S = 600.0


def handle(desk, raw, peer=None, window=frame.WINDOW, resend_s=RESEND_S):
    """The frame.Verdict on one received frame, its effect written to the store.
    The caller sends verdict.answer once the transaction has committed."""
    verdict = frame.read(raw, lambda number: accounts.by_dc09(desk.store, number), window)
    if verdict.kind == frame.REFUSED:
        refused(desk.store, verdict.reason)
        verdict.outcome = "dc09_rejected"
        # One line, no traceback: what was wrong and from where, never the content.
        log.warning("DC-09 message refused: %s (account %s, from %s, %d bytes)",
                    verdict.reason, verdict.account or "-", peer or "-", len(raw))
        return verdict
    case_store.heard_by_dc09(desk.store, verdict.hub, desk.now())
    if verdict.kind == frame.SUPERVISION:
        desk.store.count("dc09_supervision")
        verdict.outcome = "dc09_supervision"
        return verdict
    if verdict.panel:
        stored = desk.panel_signal(verdict.hub, verdict.body, int(resend_s * 1000))
        if stored and verdict.unmapped:
            desk.store.count("dc09_unmapped")
            log.warning("DC-09 event %s from account %s is not in the table (SIA: "
                        "monitor/dc09/sia_codes.py; Contact ID: the Contact ID table): "
                        "stored, no plan acts on it",
                        verdict.unmapped, verdict.account)
    else:
        stored = desk.signal(verdict.hub, verdict.body, path="dc09")
    desk.store.count("stored" if stored else "duplicate")
    verdict.outcome = "dc09_stored" if stored else "dc09_duplicate"
    desk.store.count(verdict.outcome)
    return verdict


def refused(store, reason):
    store.count("dc09_rejected")
    store.count("dc09_rejected_" + reason)
