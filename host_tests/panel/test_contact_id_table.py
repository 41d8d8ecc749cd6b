# The hub ranks signals by panel/contact_id.py's tuples; the table the monitoring
# service reads (panel/contact_id_table.py, off the board image) says the same.
import pytest

from panel import contact_id as CID
from panel import contact_id_table as CID_TABLE

pytestmark = pytest.mark.fast


def test_rank_follows_the_tables_rank_column():
    known = CID_TABLE.events()
    assert len(known) > 20
    for ev, rank, _, _, _ in known:
        assert CID.rank("E", ev) == rank, ev
        assert CID.rank("R", ev) == CID.LOW, ev
    for ev in (0, 999, 131, -5):
        assert CID_TABLE.spec(ev) is None and CID.rank("E", ev) == CID.TROUBLE
    assert CID.rank("E", "130") == CID.TROUBLE and CID.rank("E", 130.0) == CID.TROUBLE
