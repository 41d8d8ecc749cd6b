"""`make run`: the whole alarm system on this machine, with a virtual house in
the browser.

    python -m tools.run [--speed N] [--port P] [--console-port P] [--config FILE] [--account FILE]

Starts a private mosquitto (TLS with a private CA, a login per client, the
ACL: what `python -m monitor broker write` makes for an install), the real hub
firmware under the host micropython (the demo config, tools/demo/hub-config.json),
virtual BTHome sensors, the monitoring endpoint with the demo account
(tools/demo/account.json) and its operator console (a demo operator with a
fresh password, printed) on a loopback address of its own (CONSOLE_HOST), and
the page on 127.0.0.1. Ctrl-C stops all of it."""
import errno
import json
import os
import secrets
import shutil
import signal
import sys
import tempfile
import threading

from monitor import operators, terminal
from monitor.store import Store
from monitor.web import WebConfig, WebServer, owner
from tools.sim import demo
from tools.sim.house import House
from tools.sim.web import Page
from tools.sim.world import World

MAX_PORT = 65535
# The phone rings this many real seconds at any speed: a person at the page
# answers it (the service's clock runs N times fast, so its timeout is N times this).
RING_REAL_S = 30
# Cookies are per host, not per port: on 127.0.0.1 the console's session
# cookies would go to every other server there (the house page, anything else
# on this machine). Linux answers on all of 127/8; where only 127.0.0.1 is up
# (macOS), the console falls back to it, and says so.
CONSOLE_HOST = "127.80.0.1"


def main(argv=None):
    ap = terminal.Parser(prog="python -m tools.run", description=__doc__.split("\n")[0])
    # String defaults from the environment go through `type` like typed ones, so
    # `make run PORT=abc` is refused in one line, naming the variable.
    ap.add_argument("--speed", type=terminal.whole(1, variable="SPEED"),
                    default=os.environ.get("SPEED") or "1",
                    help="hub clock / wall clock (default 1: real time; env SPEED)")
    ap.add_argument("--port", type=terminal.whole(0, MAX_PORT, "PORT"),
                    default=os.environ.get("PORT") or "8080",
                    help="page port on 127.0.0.1 (default 8080; 0: any free port)")
    ap.add_argument("--console-port", type=terminal.whole(0, MAX_PORT, "CONSOLE_PORT"),
                    default=os.environ.get("CONSOLE_PORT") or None,
                    help="operator console port on %s (default: the page's port + 1, "
                         "any free port when that is 0; env CONSOLE_PORT)" % CONSOLE_HOST)
    ap.add_argument("--ring", type=terminal.whole(1, 600, "RING"),
                    default=os.environ.get("RING") or str(RING_REAL_S),
                    help="real seconds the phone rings before it rings out "
                         "(default %d; env RING)" % RING_REAL_S)
    ap.add_argument("--config", help="hub config.json (default: the demo's)")
    ap.add_argument("--account", help="monitoring account JSON (default: the demo's)")
    args = ap.parse_args(argv)
    if args.console_port is None:
        args.console_port = args.port + 1 if 0 < args.port < MAX_PORT else 0
    try:
        config = demo.hub_config(path=os.path.abspath(args.config) if args.config else None)
    except (OSError, ValueError) as e:
        terminal.refuse(ap.prog, "--config %s: %s" % (args.config, _why(e)))
    try:
        account = demo.account(config, _read(args.account) if args.account else None)
    except (OSError, ValueError) as e:
        terminal.refuse(ap.prog, "--account %s: %s" % (args.account, _why(e)))

    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, lambda *a: stop.set())
    workdir = tempfile.mkdtemp(prefix="alarm-run-")
    world = page = console = None
    try:
        world = World(workdir, config, account, speed=args.speed, calls="console",
                      ring_s=args.ring * args.speed)
        house = House(world)
        world.listener = house.on_event
        print("starting mosquitto, the hub (micropython) and the monitoring endpoint...",
              flush=True)
        world.start()
        world.begin()
        login = demo_operator(world.monitor.s.db)
        console = _own_host(lambda host: _on_a_port(
            lambda port: WebServer(world.monitor, WebConfig(host=host, port=port,
                                                            login_hint=LOGIN_HINT)),
            args.console_port)).start()
        login["url"] = console.url + "/"
        login["app"] = owner_link(world.monitor.s.db, config["hub_id"], console.url)
        page = _on_a_port(lambda port: Page(world, house, port=port, operator=login["user"],
                                            console=login), args.port).start()
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
        print("The operator console: %s  user %s  password %s"
              % (login["url"], login["user"], login["password"]), flush=True)
        print("The owner's app (a phone-sized page): %s" % login["app"], flush=True)
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
        if console is not None:
            console.stop()
        if world is not None:
            world.stop()
        shutil.rmtree(workdir, ignore_errors=True)
        print("stopped.", flush=True)
    return 0


LOGIN_HINT = ("Log in as demo with the password `make run` printed in its terminal "
              "(\"The operator console: ... password ...\").")
# A password read off a terminal and typed by hand: no 0/O/o, 1/l/I to mix up.
PASSWORD_LETTERS = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
PASSWORD_LENGTH = 14        # 56 letters: 81 bits


def demo_password():
    return "".join(secrets.choice(PASSWORD_LETTERS) for _ in range(PASSWORD_LENGTH))


def demo_operator(db):
    """An admin for the console, with a password made for this run only."""
    login = {"user": "demo", "password": demo_password()}
    store = Store(db)
    try:
        operators.add(store, login["user"], login["password"], "admin")
    finally:
        store.close()
    return login


def owner_link(db, hub, base):
    """The owner's app link for the demo hub (as `monitor account link` makes one)."""
    store = Store(db)
    try:
        return owner.link_url(base, operators.link_owner(store, hub))
    finally:
        store.close()


def _own_host(make):
    try:
        return make(CONSOLE_HOST)
    except OSError as e:
        if e.errno != errno.EADDRNOTAVAIL:
            raise
        print("%s is not a loopback address here (%s): the console is on 127.0.0.1, where "
              "its cookies also go to other servers on this machine" % (CONSOLE_HOST, e.strerror),
              flush=True)
        return make("127.0.0.1")


def _on_a_port(make, port):
    try:
        return make(port)
    except OSError as e:
        if e.errno == errno.EADDRNOTAVAIL:
            raise                       # the host, not the port
        print("port %d is taken (%s); trying any free port" % (port, e), flush=True)
        return make(0)


def _why(e):
    return e.strerror if isinstance(e, OSError) and e.strerror else str(e)


def _read(path):
    with open(path) as f:
        return json.load(f)


if __name__ == "__main__":
    terminal.run(main)
