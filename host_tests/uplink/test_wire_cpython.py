"""The hand-built canonical form is exactly CPython's sorted, compact json.dumps."""
import hmac
import json

from hypothesis import given, strategies as st

import pytest

from uplink import wire

pytestmark = pytest.mark.fast

values = st.recursive(
    st.none() | st.booleans() | st.integers(-2**63, 2**63) | st.text(),
    lambda kids: st.lists(kids, max_size=4) | st.dictionaries(st.text(max_size=6), kids, max_size=4),
    max_leaves=12)


@given(values)
def test_canonical_is_sorted_compact_json(v):
    want = json.dumps(v, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    assert wire.canonical(v) == want


@given(st.binary(max_size=100), st.binary(max_size=200))
def test_hmac_matches_stdlib(key, msg):
    from crypto.hmac_sha256 import hmac_sha256
    assert hmac_sha256(key, msg) == hmac.new(key, msg, "sha256").digest()
