"""`make run`: the whole alarm system on this machine, with a virtual house in
the browser.

    python -m tools.run [--speed N] [--port P] [--config FILE] [--account FILE]

Starts a private mosquitto (TLS with a private CA, a login per client, the
ACL: what `python -m monitor broker write` makes for an install), the real hub
firmware under the host micropython (the demo config, tools/demo/hub-config.json),
virtual BTHome sensors, the monitoring endpoint with the demo account
(tools/demo/account.json), and the page on 127.0.0.1. Ctrl-C stops all of it."""
import argparse
import json
import os
import shutil
import signal
import sys
import tempfile
import threading

from tools.sim import demo
from tools.sim.house import House
from tools.sim.web import Page
from tools.sim.world import World


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m tools.run", description=__doc__.split("\n")[0])
    ap.add_argument("--speed", type=int, default=int(os.environ.get("SPEED") or 1),
                    help="hub clock / wall clock (default 1: real time; env SPEED)")
    ap.add_argument("--port", type=int, default=int(os.environ.get("PORT") or 8080),
                    help="page port on 127.0.0.1 (default 8080; 0: any free port)")
    ap.add_argument("--config", help="hub config.json (default: the demo's)")
    ap.add_argument("--account", help="monitoring account JSON (default: the demo's)")
    args = ap.parse_args(argv)
    if args.speed < 1:
        ap.error("--speed must be 1 or more")
    config = demo.hub_config(path=os.path.abspath(args.config) if args.config else None)
    account = demo.account(config, _read(args.account) if args.account else None)

    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, lambda *a: stop.set())
    workdir = tempfile.mkdtemp(prefix="alarm-run-")
    world = page = None
    try:
        world = World(workdir, config, account, speed=args.speed, calls="console")
        house = House(world)
        world.listener = house.on_event
        print("starting mosquitto, the hub (micropython) and the monitoring endpoint...",
              flush=True)
        world.start()
        world.begin()
        try:
            page = Page(world, house, port=args.port).start()
        except OSError as e:
            print("port %d is taken (%s); trying any free port" % (args.port, e), flush=True)
            page = Page(world, house, port=0).start()
        access = world.broker.access
        if access is not None:
            print("broker: mosquitto over TLS on 127.0.0.1:%d, a login per client, the ACL "
                  "(%s)\n  CA certificate: %s\n  passwords: %s\n  broker log: %s"
                  % (world.broker.port, access.path("mosquitto.conf"), access.ca,
                     access.path("credentials.json"), world.broker.log), flush=True)
        if world.trouble:
            print("the hub refused its config: %s" % json.dumps(world.trouble), flush=True)
        print("\nThe house is ready: open %s\n(hub time runs at %dx; Ctrl-C stops everything)"
              % (page.url, args.speed), flush=True)
        while not stop.wait(0.5):
            if world.hub.proc.poll() is not None:
                print("the hub process ended (exit %s); stopping" % world.hub.proc.returncode)
                break
    except RuntimeError as e:       # mosquitto could not be installed or started, ...
        print("error: %s" % e, file=sys.stderr)
        return 1
    finally:
        if page is not None:
            page.stop()
        if world is not None:
            world.stop()
        shutil.rmtree(workdir, ignore_errors=True)
        print("stopped.", flush=True)
    return 0


def _read(path):
    with open(path) as f:
        return json.load(f)


if __name__ == "__main__":
    sys.exit(main())
