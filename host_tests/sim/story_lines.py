"""Picking lines out of a story run's output."""


def hub(out, key, value=None):
    return [o for o in out if o["source"] == "hub" and key in o
            and (value is None or o[key] == value)]


def steps(out, step=None):
    return [o for o in out if o["source"] == "monitor" and (step is None or o["step"] == step)]


def codes(out):
    return [o["signal"]["code"] for o in hub(out, "signal")]
