# BTHome helpers only the host uses (the bthome CLI, the tests): the hub never
# lists the object table nor flattens a decode. Left off the board image
# (tools/mpy_build.py HOST_ONLY).
from radio.bthome import _TABLE, _spec_at


def all_objects():
    """Every known object, as spec() gives them, in id order."""
    out = []
    i = 1
    while i < len(_TABLE):
        out.append(_spec_at(i))
        i = _TABLE.index("\n", i) + 1
    return out


def values(result):
    """A flat {name: value} view of decode()'s objects; repeats get _2, _3..."""
    flat = {}
    for obj in result["objects"]:
        name = obj["name"]
        k = name
        i = 1
        while k in flat:
            i += 1
            k = "%s_%d" % (name, i)
        flat[k] = obj["value"]
    return flat
