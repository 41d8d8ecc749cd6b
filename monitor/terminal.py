"""What a person at a terminal gets from our command lines (`python -m monitor`,
`tools.run`, `tools.replay`, `tools.story`, `tools.deploy`): a mistake is
answered with one line naming it and exit status 2, never a traceback; a reader
that stops early (`| head`) ends the command quietly."""
import argparse
import os
import sys

MISTAKE = 2


class Parser(argparse.ArgumentParser):
    """argparse answering a mistake with one line (the usage is a --help away)
    and with no abbreviations: `--password` must not quietly mean `--password-file`."""

    def __init__(self, *args, **kw):
        kw["allow_abbrev"] = False
        super().__init__(*args, **kw)

    def error(self, message):
        self.exit(MISTAKE, "%s: %s (--help for usage)\n" % (self.prog, message))


def whole(low=None, high=None, variable=None):
    """An argparse type for a whole number in [low, high]. `variable`: the make
    variable that fills the option, named too (argparse names the option)."""
    where = " (make's %s)" % variable if variable else ""

    def parse(text):
        try:
            n = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError("%r is not a whole number%s" % (text, where))
        if high is None and low is not None and n < low:
            raise argparse.ArgumentTypeError("%d is below %d%s" % (n, low, where))
        if high is not None and not low <= n <= high:
            raise argparse.ArgumentTypeError("%d is not in %d..%d%s" % (n, low, high, where))
        return n
    return parse


def refuse(prog, message):
    """One line naming what was wrong, exit status 2."""
    print("%s: %s" % (prog, message), file=sys.stderr, flush=True)
    sys.exit(MISTAKE)


def run(main):
    """sys.exit(main()), ending quietly when the reader closed our output."""
    try:
        status = main()
        sys.stdout.flush()
    except BrokenPipeError:
        # The reader (`| head`) has what it wanted: nothing went wrong here. Point
        # stdout at /dev/null so the interpreter's own final flush stays quiet too.
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, sys.stdout.fileno())
        status = 0
    sys.exit(status)
