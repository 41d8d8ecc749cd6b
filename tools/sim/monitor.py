"""The monitoring service as the simulation runs it: `python -m monitor run`
with the simulation's parts plugged in through the service's interfaces.

    python -m tools.sim.monitor run [monitor run options] [--callee]
        [--answer-delay S] [--fault POINT:WHAT]
    python -m tools.sim.monitor callee --db PATH '{"contact": 1, "answer": true, ...}'
    python -m tools.sim.monitor callee --db PATH --clear

--callee: the automatic callee (tools/sim/callee.py) takes the calls instead
of the operator console; script it with the `callee` command.
--fault: kill the process at that point (tools/sim/faults.py), for the
restart tests."""
import argparse
import sys

from monitor import accounts, cli
from monitor.store import Store
from tools.sim import callee
from tools.sim.faults import Fault


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m tools.sim.monitor",
                                description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    run = sub.add_parser("run", help="run the service with the simulation's parts")
    cli.run_options(run)
    run.add_argument("--callee", action="store_true",
                     help="the automatic callee takes the calls (scripted with `callee`)")
    run.add_argument("--answer-delay", type=float, default=2.0, metavar="S",
                     help="how long a scripted contact takes to pick up")
    run.add_argument("--fault", metavar="POINT:WHAT",
                     help="SIGKILL itself at before_commit|after_commit|after_emit of a code "
                          "or step")
    script = sub.add_parser("callee", help="script the automatic callee's next call to a contact")
    script.add_argument("--db", default="monitor.db",
                        help="case store: a SQLite file or a postgresql:// URL")
    script.add_argument("script", nargs="?",
                        help='JSON: {"contact": 1, "answer": true, "password": "...", '
                             '"request": "dispatch"|"cancel"|null, "delay_s": 2}')
    script.add_argument("--clear", action="store_true", help="drop every pending script")
    args = p.parse_args(argv)
    try:
        if args.cmd == "callee":
            store = Store(args.db)
            if args.clear:
                callee.clear_scripts(store)
            if args.script:
                callee.set_script_json(store, args.script)
            return 0
        provider = None
        if args.callee:
            callee.prepare(Store(args.db))
            provider = callee.AutomaticCallee(int(args.answer_delay * 1000))
        hooks = Fault(args.fault) if args.fault else None
        return cli.cmd_run(args, provider=provider, hooks=hooks)
    except (cli.Refused, accounts.AccountError, ValueError) as e:
        print("error: %s" % e, file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
