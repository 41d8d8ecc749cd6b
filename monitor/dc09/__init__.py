"""SIA DC-09, the second path: hubs (and their Contact ID events) reporting
over TCP as alarm panels report to a central station (docs/monitoring.md).

frame.py reads one message and writes its answer (pysiaalarm parses, decrypts
and answers); intake.py stores what a message says on the engine thread;
listener.py is the TCP transport, which answers only once the store has
committed."""
