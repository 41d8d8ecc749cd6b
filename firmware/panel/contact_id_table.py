# The Contact ID table (see panel/contact_id.py): the monitoring service reads it
# (monitor/plans.py); the hub only ranks signals, with contact_id.rank(), which
# host_tests/panel/test_contact_id_table.py holds to the table's rank column.
# Left off the board image (tools/mpy_build.py HOST_ONLY).
# One event per line: code, rank (a/t/l), plan, service, words.
# plan (for an E signal): burglar, panic, duress, sos: open that plan's case;
# joins: context for the hub's burglar case; cancel: a keypad cancel;
# test: the periodic test report; -: stored and acked only.
# service: who is sent (-: none). Words: what an operator reads; "E|R" words
# name the two qualifiers, otherwise a restore is the words + " restored".
_TABLE = """
100 a sos medical Medical
110 a sos fire Fire
120 a panic police Panic
121 a duress police Duress
130 a burglar police Burglary
134 a burglar police Burglary, entry/exit
137 a burglar police Tamper
300 t - - Hub low on memory
301 t - - Mains power lost|Mains power restored
303 t - - Hub storage damaged
305 t - - Hub restarted
350 t - - Communication trouble
374 a joins - Exit error
381 t - - Sensor not reporting
383 t - - Sensor tamper
384 t - - Sensor low battery
401 l - - Opening (disarm)|Closing (arm)
406 a cancel - Keypad cancel
421 t - - Keypad locked out
459 a joins - Recent closing: armed less than 2 minutes before
461 t - - Wrong code
570 t - - Zone bypassed
602 t test - Periodic test report
624 t - - Event log overflow
"""
_RANKS = "atl"   # ALARM, TROUBLE, LOW


def _row(event):
    i = _TABLE.find("\n%03d " % event) if 0 <= event <= 999 else -1
    if i < 0:
        return None
    return _TABLE[i + 1:_TABLE.index("\n", i + 1)]


def spec(event):
    """(event, rank, plan, service, words) for a known event, else None.
    plan and service are None where the table says '-'."""
    row = _row(event)
    if row is None:
        return None
    ev, r, plan, service, words = row.split(" ", 4)
    return (int(ev), _RANKS.index(r), None if plan == "-" else plan,
            None if service == "-" else service, words)


def events():
    """Every known event as spec() gives it, in code order."""
    return [spec(int(line[:3])) for line in _TABLE.split("\n") if line]


def by_user(event):
    """True when the event's Contact ID zone/user field is a user number, as
    the standard (SIA DC-05) has it: the 400 group (openings, closings,
    cancels, keypad access) and 121 duress; any other event names a zone.
    The monitoring service reads DC-09 messages with it (monitor/dc09/frame.py)."""
    return event == 121 or 400 <= event <= 499
