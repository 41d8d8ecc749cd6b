# One set of rules for every code, wherever it is set (config or keypad): a
# duress code at least two steps (changed, missing or extra digit, or two
# neighbouring digits swapped) from every other code, and no code twice.
import os
from panel import codes
from panel import codes_host
from panel.config import Config, ConfigError
from panel.panel import Panel

USERS = [
    {"number": 1, "name": "owner", "code": "1234", "role": "master"},
    {"number": 2, "name": "guest", "code": "5678"},
    {"number": 9, "name": "duress", "code": "9090", "role": "duress"},
]


def panel(users=USERS):
    return Panel(Config({"zones": [], "users": users}, os.urandom), 0)


def set_code(p, number, code):
    for k in "1234*5%02d%s#" % (number, code):
        p.press(1000, k)
    return [o["keypad"] for o in p.take() if "keypad" in o]


def refused(users):
    try:
        Config({"zones": [], "users": users}, os.urandom)
    except ConfigError as e:
        return e.field
    raise AssertionError("accepted: %r" % (users,))


def test_distance_counts_a_swap_of_neighbouring_digits_as_one_step():
    assert codes.distance("1234", "1243") == 1
    assert codes.distance("1234", "2134") == 1
    assert codes.distance("1234", "2143") == 2
    assert codes.distance("1234", "1235") == 1
    assert codes.distance("1234", "12345") == 1
    assert codes.distance("1234", "4321") == 3     # 4234, 4324, 4321


def test_neighbours_are_every_code_one_step_away_each_once():
    near = codes.neighbours("1234")
    assert len(near) == len(set(near))
    for c in ("1243", "2134", "1235", "12345", "01234", "1224"):
        assert c in near, c
    assert "234" not in near and "1234" not in near    # not a code; itself
    assert len(codes.neighbours("12345678")) <= 200


def test_the_keypad_refuses_a_duress_code_one_step_from_a_user_code():
    p = panel()
    for near in ("1235", "1243", "5687", "56789", "567"):
        assert set_code(p, 9, near) == ["error"], near
    assert set_code(p, 9, "4321") == ["user_saved"]
    assert p.codes.find("4321")[2] == "duress"


def test_the_keypad_refuses_a_user_code_one_step_from_the_duress_code():
    p = panel()
    for near in ("9091", "9009", "0990", "909", "90901"):
        assert set_code(p, 3, near) == ["error"], near
    assert set_code(p, 3, "5678") == ["error"]          # the guest's code
    assert set_code(p, 3, "4455") == ["user_saved"]


def test_the_keypad_checks_codes_known_only_by_their_hash():
    stored = codes_host.make_hash("2468", os.urandom(8))
    p = panel(USERS + [{"number": 4, "name": "cleaner", "code_hash": stored}])
    assert set_code(p, 9, "2486") == ["error"]
    assert set_code(p, 9, "8642") == ["user_saved"]


def test_config_refuses_a_duress_code_a_swap_away():
    assert refused([{"number": 1, "name": "a", "code": "1234"},
                    {"number": 9, "name": "d", "code": "1243", "role": "duress"}]) \
        == "users[1].code"


def test_config_checks_a_plain_code_against_a_hashed_one():
    stored = codes_host.make_hash("1234", os.urandom(8))
    assert refused([{"number": 1, "name": "a", "code_hash": stored},
                    {"number": 9, "name": "d", "code": "1235", "role": "duress"}]) \
        == "users[1].code"
    assert refused([{"number": 1, "name": "a", "code_hash": stored},
                    {"number": 2, "name": "b", "code": "1234"}]) == "users[1].code"
    Config({"zones": [], "users": [
        {"number": 1, "name": "a", "code_hash": stored},
        {"number": 9, "name": "d", "code": "4321", "role": "duress"}]}, os.urandom)


def test_a_keypad_check_is_bounded_and_says_so_when_it_would_cost_too_much():
    # 22 users x ~85 neighbours of a 4-digit code is over the budget: the
    # duress code for such a house is set in the config, where it is cheap.
    users = [dict(u) for u in USERS]
    for n in range(10, 30):
        users.append({"number": n, "name": "u%d" % n, "code": "%d" % (70000 + n * 13)})
    p = panel(users)
    for k in "1234*5094321#":
        p.press(1000, k)
    out = p.take()
    assert {"keypad": "error"} in out
    assert {"log": "code_refused", "user": 9, "why": "cost"} in out
    assert p.codes.find("9090")[2] == "duress"          # unchanged
    Config({"zones": [], "users": users[:2] + users[3:] +
            [{"number": 9, "name": "d", "code": "4321", "role": "duress"}]}, os.urandom)


def test_a_new_code_keeps_the_users_name():
    p = panel()
    assert set_code(p, 9, "4321") == ["user_saved"]
    assert p.codes.find("4321")[1] == "duress"
