"""Story output lines as a timeline a person can read (`make demo`)."""
from monitor.web.words import step as step_words


def step_text(line):
    """A monitor timeline step in words (the console's words, monitor/web/words.py)."""
    return step_words(line)


def describe(line):
    """A story line in words: the console's for the monitor's steps, the house
    page's (tools/sim/happened.py) for the hub's."""
    if line["source"] == "monitor":
        return "case %s %-8s %s" % (line.get("case"), line.get("plan"), step_text(line))
    from tools.sim import happened      # imported here: happened words steps with step_text
    said = happened.line_text(line)
    if said:
        return said
    return str({k: v for k, v in line.items() if k not in ("t", "source")})


def timeline(title, notes, lines):
    out = ["", "== %s" % title]
    out += ["   %s" % n for n in notes]
    for line in lines:
        out.append("%9.1f s  %-7s  %s" % (line["t"] / 1000.0, line["source"], describe(line)))
    return "\n".join(out)
