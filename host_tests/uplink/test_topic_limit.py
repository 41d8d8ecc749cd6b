"""The longest topic umqtt.simple can subscribe to, against the real client
(1.3.4, which like 1.7.0 writes SUBSCRIBE's length in one byte) and mosquitto:
what config validation allows works; one byte more is refused by the config,
and the link given it anyway keeps its loop running on every umqtt version
(1.3.4 and 1.7.0 never connect with it, 1.8 encodes the length properly)."""
import time

from hub.settings import HubSettings, SUBSCRIBE_TOPIC_MAX
from panel.config import ConfigError

from uplink_consts import SECRET

HUB = "h" * 50     # hub_id and prefix are each at most 64 characters


def _prefix(total):
    # A prefix making <prefix>/<hub>/commands `total` bytes long.
    return "p" * (total - len("/%s/commands" % HUB))


def _settings(prefix):
    return HubSettings({"hub_id": HUB, "secret": SECRET.hex(),
                        "mqtt": {"host": "127.0.0.1", "prefix": prefix}})


def test_the_longest_allowed_topic_subscribes(start_driver, broker):
    import paho.mqtt.client as mqtt
    prefix = _prefix(SUBSCRIBE_TOPIC_MAX)
    _settings(prefix)                                    # allowed
    d = start_driver(hub=HUB, prefix=prefix, run_ms=15000)
    d.ev("up", timeout=10)
    c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="topic-limit")
    c.connect("127.0.0.1", broker.port)
    c.loop_start()
    try:
        # Subscribed for real: a command on the longest topic reaches the link.
        deadline = time.monotonic() + 10
        seen = None
        while seen is None and time.monotonic() < deadline:
            c.publish("%s/%s/commands" % (prefix, HUB), b'{"action": "DISARM", "code": "1"}', qos=1)
            try:
                seen = d.ev("command", timeout=0.5)
            except AssertionError:
                pass
        assert seen is not None and seen["cmd"]["action"] == "DISARM"
    finally:
        c.loop_stop()
        c.disconnect()


def test_one_byte_more_is_refused_by_config_and_never_stalls_the_link(start_driver):
    prefix = _prefix(SUBSCRIBE_TOPIC_MAX + 1)
    try:
        _settings(prefix)
        raise AssertionError("a 123-byte topic was accepted")
    except ConfigError as e:
        assert e.field == "mqtt.prefix"
    # What holds on every umqtt.simple the hub supports: the loop runs to its
    # end without a long pass, and a link that did not connect kept retrying.
    d = start_driver(hub=HUB, prefix=prefix, run_ms=3000)
    done = d.ev("done", timeout=15)
    stats = done["stats"]
    assert done["elapsed_ms"] >= 3000 and done["max_gap_ms"] < 1000, done
    assert stats["connects"] > 0 or stats["failures"] >= 2, done
