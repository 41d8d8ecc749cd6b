# Small adapters between hardware and the panel. Pins are injected, so a fake
# with .value() is all a test needs.
