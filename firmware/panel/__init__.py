# The panel: the alarm's pure state machine. No pins, radios, sockets, files or
# clocks in here; every input carries its time in ms and every effect is an output.
