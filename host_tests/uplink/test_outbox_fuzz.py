"""The outbox file with damage anywhere (fuzzed): loading never raises, every
whole entry line that no later ack removed is kept, each damaged line is
counted, and no seq that appears in the file is ever used again."""
import json

from hypothesis import given, settings, strategies as st


import pytest

from uplink.outbox import MemStore, Outbox  # noqa: E402

pytestmark = pytest.mark.fast

ENTRY = st.integers(1, 500).map(lambda s: ("entry", s))
ACK = st.lists(st.integers(1, 500), max_size=3).map(lambda s: ("ack", s))
JUNK = st.one_of(st.binary(min_size=1, max_size=30).filter(lambda b: b"\n" not in b),
                 st.sampled_from([b"[7]", b"{}", b'[1,"x"]', b'["ack", 5]', b"[true,0,{}]",
                                  b'[3,0,"sig"]', b"null"])).map(lambda b: ("junk", b))


def render(kind, v):
    if kind == "entry":
        return json.dumps([v, 1700000000, {"code": "E130", "event": 130, "seq": v}]).encode()
    if kind == "ack":
        return json.dumps(["ack", v]).encode()
    return v


@settings(max_examples=400, deadline=None)
@given(st.lists(st.one_of(ENTRY, ACK, JUNK), max_size=30), st.booleans())
def test_damage_anywhere_keeps_every_readable_entry(lines, header):
    raw = [render(k, v) for k, v in lines]
    if header:
        raw.insert(0, json.dumps({"v": 1, "last_seq": 3, "dropped": 0, "epoch": 4}).encode())
    box = Outbox(MemStore(raw))
    want = {}
    for k, v in lines:
        if k == "entry":
            want[v] = True
        elif k == "ack":
            for s in v:
                want.pop(s, None)
    assert set(want) <= set(box.seqs())
    seen = [v for k, v in lines if k == "entry"]
    assert box.last_seq >= max(seen + [3 if header else 0])
    assert box.seqs() == sorted(set(box.seqs()))
