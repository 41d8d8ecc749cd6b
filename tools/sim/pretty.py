"""Story output lines as a timeline a person can read (`make demo`)."""
from monitor.plans import words
from monitor.web.words import reason

_STEP = {
    "open": "case opened",
    "call": "calling contact {contact} {name} {phone}",
    "answered": "contact {contact} answered",
    "password": "verbal password: {result}",
    "request": "contact {contact} asks: {reason}",
    "no_answer": "contact {contact} did not answer",
    "dispatch": "DISPATCH {service} ({reason})",
    "cancel": "cancelled ({reason})",
    "hold": "no dispatch, case held for the operator ({reason})",
    "keypad_cancel": "keypad cancel ({reason})",
    "signal": "also {words}",
    "update": "for the responders: {words}",
    "overdue": "held past its hold time: top of the operator's queue",
    "close": "closed ({reason})",
    "operator": "operator {operator}: {reason}",
    "app": "owner's app: {reason}",
}


def step_text(line):
    """A monitor timeline step in words."""
    text = _STEP.get(line.get("step"), line.get("step", "?"))
    fields = {k: line.get(k, "") for k in ("contact", "name", "phone", "result", "reason",
                                            "service", "code", "operator")}
    if line.get("code"):
        fields["words"] = words(line["code"], line.get("name"))
    if line.get("step") in ("dispatch", "cancel"):
        fields["reason"] = reason(line.get("reason"))
    if line.get("step") == "open":
        text += " for %s" % (fields.get("words") or line.get("reason"))
    if line.get("step") == "app" and line.get("result"):
        text += " (%s verbal password)" % line["result"]
    return text.format(**fields)


def describe(line):
    if line["source"] == "monitor":
        return "case %s %-8s %s" % (line.get("case"), line.get("plan"), step_text(line))
    if "state" in line:
        return "state   %s" % line["state"]
    if "signal" in line:
        s = line["signal"]
        who = s.get("name") or ""
        return "signal  %s %s (seq %s)" % (s.get("code"), who, s.get("seq"))
    for k in ("siren", "buzzer", "keypad", "log", "trouble", "error"):
        if k in line:
            extra = " ".join("%s=%s" % (a, b) for a, b in line.items()
                             if a not in ("t", "source", k))
            return ("%-7s %s %s" % (k, line[k], extra)).rstrip()
    rest = {k: v for k, v in line.items() if k not in ("t", "source")}
    return str(rest)


def timeline(title, notes, lines):
    out = ["", "== %s" % title]
    out += ["   %s" % n for n in notes]
    for line in lines:
        out.append("%9.1f s  %-7s  %s" % (line["t"] / 1000.0, line["source"], describe(line)))
    return "\n".join(out)
