"""The whole system on one machine: private mosquitto, the real hub firmware
under the host micropython, virtual sensors, the monitoring endpoint.
Used by story runs (tools/story.py) and `make run` (tools/run.py)."""
