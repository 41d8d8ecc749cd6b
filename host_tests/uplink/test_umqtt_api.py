"""The link stays within the umqtt.simple API every supported version shares
(docs/protocol.md: 1.3.4 on PyPI, 1.7.0 frozen in stock v1.28, 1.8.x).

fake_umqtt.py is that common API and nothing more; the link's tests run on it.
Here the fake is checked against the real 1.3.4 the host runs (every method
and parameter it offers exists there, in the same places), and the link's
source is checked to call no client method the fake lacks."""
import ast
import inspect
import os

import pytest

from tools import paths

import fake_umqtt  # noqa: E402

pytestmark = pytest.mark.fast

LINK = os.path.join(paths.FIRMWARE, "uplink", "link.py")


def _real_methods(umqtt_lib):
    with open(os.path.join(umqtt_lib, "umqtt", "simple.py")) as f:
        tree = ast.parse(f.read())
    cls = [n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "MQTTClient"][0]
    return {f.name: [a.arg for a in f.args.args] for f in cls.body
            if isinstance(f, ast.FunctionDef)}


def _fake_methods():
    client = fake_umqtt.Module(fake_umqtt.Broker()).MQTTClient
    return {name: list(inspect.signature(getattr(client, name)).parameters)
            for name, _ in inspect.getmembers(client, inspect.isfunction)}


def test_the_fake_offers_nothing_1_3_4_lacks(umqtt_lib):
    real = _real_methods(umqtt_lib)
    for name, params in _fake_methods().items():
        assert name in real, name
        assert real[name][:len(params)] == params, (name, params, real[name])


def test_the_link_calls_only_the_common_api():
    with open(LINK) as f:
        tree = ast.parse(f.read())
    common = set(_fake_methods())
    called = set()
    for node in ast.walk(tree):
        # c.publish(...), self.client.publish(...)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            owner = node.func.value
            if (isinstance(owner, ast.Name) and owner.id == "c") or \
                    (isinstance(owner, ast.Attribute) and owner.attr == "client"):
                called.add(node.func.attr)
                # no keyword arguments but clean_session (positions are shared, names not all)
                assert all(k.arg == "clean_session" for k in node.keywords), ast.dump(node)
    assert called, "found no client calls in link.py"
    assert called <= common, called - common
