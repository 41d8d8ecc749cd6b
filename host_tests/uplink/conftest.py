"""Uplink test plumbing: a real mosquitto broker, umqtt.simple for the host
micropython, the micropython uplink driver and a paho-mqtt monitoring side."""
import pytest

from mqtt_monitor import Monitor
from uplink_consts import HUB, SECRET
from uplink_driver import Driver


@pytest.fixture(scope="session")
def umqtt_lib():
    from tools import fetch_umqtt
    fetch_umqtt.fetch()
    return fetch_umqtt.HOST_LIB


@pytest.fixture
def start_driver(broker, umqtt_lib, request):
    drivers = []
    prefix = "test/%s" % request.node.name.replace("[", "_").replace("]", "_")

    def start(**cfg):
        full = {"port": broker.port, "hub": HUB, "secret": SECRET.hex(), "prefix": prefix}
        full.update(cfg)
        d = Driver(umqtt_lib, full)
        drivers.append(d)
        return d

    start.prefix = prefix
    yield start
    for d in drivers:
        d.kill()


@pytest.fixture
def monitor(broker, start_driver):
    made = []

    def make(**kw):
        m = Monitor(broker.port, start_driver.prefix, HUB, SECRET, **kw)
        made.append(m)
        return m

    yield make
    for m in made:
        m.close()
