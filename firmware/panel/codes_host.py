# Hashing a keypad code for config.json (tools/deploy.py, tools/hashcode.py, the
# tests): the hub only checks codes and hashes those set at its keypad itself
# (panel/codes.py). Left off the board image (tools/mpy_build.py HOST_ONLY).
from panel.codes import ITERATIONS, _digest, stored_form


def make_hash(code, salt, iterations=ITERATIONS):
    return stored_form(iterations, salt, _digest(code, salt, iterations))
