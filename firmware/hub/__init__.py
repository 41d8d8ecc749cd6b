# The hub: the thin shell that wires the panel to drivers, radio, flash and uplink.
