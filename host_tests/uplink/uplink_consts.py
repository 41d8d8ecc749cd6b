"""The test hub's identity, shared by the uplink tests and their fixtures."""
SECRET = bytes(range(32))
HUB = "hub-test"
