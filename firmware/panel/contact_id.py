# Contact ID (SIA DC-05) event codes the panel reports. A signal is the event
# code with its qualifier: E (new event / opening) or R (restore / closing).
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
MEMORY = const(303)         # the hub's own files were damaged: it runs on what it could read

# Alarms the monitoring side acts on; everything else is trouble or status.
ALARMS = (MEDICAL, FIRE, PANIC, DURESS, BURGLARY, ENTRY_EXIT, TAMPER)


def code(qualifier, event):
    return "%s%03d" % (qualifier, event)
