"""`make demo`'s timelines read as words: the hub's lines as the house page
says them, the monitor's as the console does, the Contact ID code beside."""
import re

from tools.sim import pretty

PROGRAM_WORDS = re.compile(r"\b[a-z]+_[a-z_]+\b|[a-z]+=|\bchirp\d|reason: |(?<!the )\bplan\b")


def test_every_hub_and_monitor_line_of_a_story_reads_as_words():
    hub = {"source": "hub", "t": 0}
    said = [pretty.describe(dict(hub, **fields)) for fields in (
        {"buzzer": "exit_fast"}, {"siren": "chirp1"}, {"state": "armed_away"},
        {"keypad": "wrong_code"}, {"signal": {"code": "R401", "name": "owner", "seq": 2}},
        {"signal": {"code": "E401", "name": "owner", "seq": 3}},
        {"log": "alarm_aborted", "user": 1})]
    assert said[:2] == ["Keypad beeps faster: exit delay ending", "Siren chirp (armed)"]
    # An owner arms and disarms; the trade's "Closing"/"Opening" is the console's word.
    assert said[4] == "Sent to the monitoring center: Armed by owner R401"
    assert said[5] == "Sent to the monitoring center: Disarmed by owner E401"
    monitor = {"source": "monitor", "t": 0, "case": 1, "plan": "burglar"}
    said += [pretty.describe(dict(monitor, **fields)) for fields in (
        {"step": "call", "contact": 1, "name": "Alex", "phone": "+1 555 0100", "reason": "plan"},
        {"step": "no_answer", "contact": 1},
        {"step": "dispatch", "service": "police", "reason": "no_answer"},
        {"step": "hold", "contact": 1, "reason": "wrong_password"},
        {"step": "overdue", "reason": "hold_time"})]
    assert said[-3] == "case 1 burglar  Dispatched the police (nobody answered)"
    for line in said:
        assert not PROGRAM_WORDS.search(line), line
