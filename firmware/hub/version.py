# The firmware's version: Home Assistant shows it on the hub's device page
# (discovery's sw_version). pyproject.toml's version is this one
# (host_tests/hub/test_home_assistant.py checks).
VERSION = "0.1.0"
