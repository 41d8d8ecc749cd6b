# Contact ID (SIA DC-05) event codes the panel reports. A signal is the event
# code with its qualifier: E (new event / opening) or R (restore / closing).
#
# One table for the hub and the monitoring service (monitor/plans.py reads it):
# what each event is called, how the hub's outbox ranks it when full, and which
# response plan an E signal starts. Kept as one text and searched, not as
# tuples (as radio/bthome.py does): on the board the hub only ever asks rank().
try:
    from micropython import const
except ImportError:
    def const(x):
        return x

MEDICAL = const(100)
FIRE = const(110)
PANIC = const(120)
DURESS = const(121)
BURGLARY = const(130)
ENTRY_EXIT = const(134)
TAMPER = const(137)
EXIT_ERROR = const(374)
SUPERVISION = const(381)
SENSOR_TAMPER = const(383)
LOW_BATTERY = const(384)
OPEN_CLOSE = const(401)     # E401 opening (disarm), R401 closing (arm)
CANCEL = const(406)
ACCESS_DENIED = const(421)  # keypad locked out after repeated wrong codes
RECENT_CLOSING = const(459)
WRONG_CODE = const(461)
BYPASS = const(570)
TEST = const(602)
RESTART = const(305)        # system reset: reported by the hub shell after boot
OVERFLOW = const(624)       # event log overflow: the hub's outbox dropped signals
MEMORY = const(303)         # the hub's own files were damaged: it runs on what it could read

# Ranks: what a full outbox keeps longest. ALARM is never dropped.
ALARM = const(0)
TROUBLE = const(1)
LOW = const(2)

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
303 t - - Hub storage damaged
305 t - - Hub restarted
374 a joins - Exit error
381 t - - Sensor not reporting
383 t - - Sensor tamper
384 t - - Sensor low battery
401 l - - Opening (disarm)|Closing (arm)
406 a cancel - Keypad cancel
421 t - - Keypad locked out
459 a joins - Recent closing
461 t - - Wrong code
570 t - - Zone bypassed
602 t test - Periodic test report
624 t - - Event log overflow
"""
_RANKS = "atl"

# Alarms the monitoring side acts on; everything else is trouble or status.
ALARMS = (MEDICAL, FIRE, PANIC, DURESS, BURGLARY, ENTRY_EXIT, TAMPER)


def code(qualifier, event):
    return "%s%03d" % (qualifier, event)


def _row(event):
    i = _TABLE.find("\n%03d " % event) if 0 <= event <= 999 else -1
    if i < 0:
        return None
    return _TABLE[i + 1:_TABLE.index("\n", i + 1)]


def rank(qualifier, event):
    """ALARM, TROUBLE or LOW: restores and open/close rank low, unknown events as trouble."""
    row = _row(event) if isinstance(event, int) else None
    if qualifier == "R" or row is None:
        return LOW if qualifier == "R" else TROUBLE
    return _RANKS.index(row[4])


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
