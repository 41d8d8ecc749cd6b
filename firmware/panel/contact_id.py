# Contact ID (SIA DC-05) event codes the panel reports. A signal is the event
# code with its qualifier: E (new event / opening) or R (restore / closing).
#
# The table of what each event is called, how the hub's outbox ranks it when
# full, and which response plan an E signal starts is the monitoring service's
# (panel/contact_id_table.py, off the board image): on the board the hub only
# ever asks rank(), which ranks by the tuples here.
from panel.compat import const

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
SYSTEM = const(300)         # the hub's own trouble: its heap is running out (hub/heap.py)
RESTART = const(305)        # system reset: reported by the hub shell after boot
OVERFLOW = const(624)       # event log overflow: the hub's outbox dropped signals
MEMORY = const(303)         # the hub's own files were damaged: it runs on what it could read
AC_LOSS = const(301)        # E301 mains lost (the hub on its battery), R301 restored
COMM = const(350)           # a report path the config names has no code on the board

# Ranks: what a full outbox keeps longest. ALARM is never dropped.
ALARM = const(0)
TROUBLE = const(1)
LOW = const(2)


# Alarms the monitoring side acts on; everything else is trouble or status.
ALARMS = (MEDICAL, FIRE, PANIC, DURESS, BURGLARY, ENTRY_EXIT, TAMPER)
# Ranked as alarms too (the "a" of the table in panel/contact_id_table.py, which
# host_tests/panel/test_contact_id_table.py holds rank() to): context for a case,
# and the keypad cancel.
_ALARM_TOO = (EXIT_ERROR, CANCEL, RECENT_CLOSING)


def code(qualifier, event):
    return "%s%03d" % (qualifier, event)


def rank(qualifier, event):
    """ALARM, TROUBLE or LOW: restores and open/close rank low, unknown events as trouble."""
    if qualifier == "R":
        return LOW
    if not isinstance(event, int):
        return TROUBLE
    if event in ALARMS or event in _ALARM_TOO:
        return ALARM
    return LOW if event == OPEN_CLOSE else TROUBLE
