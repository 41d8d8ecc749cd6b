"""python -m monitor run | account | operator | broker | cases | case | stats"""
import argparse
import getpass
import json
import logging
import os
import socket
import sys

from monitor import accounts, health, operators, terminal
from monitor.pg import is_url, url_password
from monitor.store import ERRORS as store_errors, Store, loads

PASSWORD_ENV = "MONITOR_VERBAL_PASSWORD"

OPERATOR_ENV = "MONITOR_OPERATOR_PASSWORD"

DC09_KEY_ENV = "MONITOR_DC09_KEY"

# How long `run` waits for the broker to take a TCP connection before saying
# there is none (the subscription itself may take longer: TLS, the login).
BROKER_PROBE_S = 5


class NoPassword(accounts.AccountError):
    pass


class Refused(Exception):
    """A person's mistake or a missing piece, said in one line (exit status 2)."""


_Parser = terminal.Parser


def parser():
    p = _Parser(prog="python -m monitor",
                description="The alarm monitoring endpoint (docs/monitoring.md).")
    sub = p.add_subparsers(dest="cmd", required=True, parser_class=_Parser)
    run_options(sub.add_parser("run", help="run the service"))
    acct = sub.add_parser("account", help="add, edit, show or list accounts")
    asub = acct.add_subparsers(dest="action", required=True, parser_class=_Parser)
    for name in ("add", "edit"):
        a = asub.add_parser(name)
        _db(a)
        a.add_argument("hub")
        a.add_argument("--secret", metavar="HEX", help="the hub secret, hex (>= 16 bytes)")
        a.add_argument("--contact", action="append", metavar="NAME:PHONE",
                       help="an emergency contact; repeat in calling order (edit: replaces all)")
        a.add_argument("--password-file", metavar="FILE",
                       help="read the verbal password from FILE (else $%s, else asked for "
                            "on a terminal)" % PASSWORD_ENV)
        a.add_argument("--password", help=argparse.SUPPRESS)
        a.add_argument("--policy", choices=accounts.POLICIES)
        a.add_argument("--address")
        a.add_argument("--call-next-contacts", action=argparse.BooleanOptionalAction,
                       default=None, help="call contact 2, 3... when contact 1 does not answer")
        a.add_argument("--test-interval", type=int, metavar="S",
                       help="periodic test report interval (default 3600)")
        a.add_argument("--dc09-account", metavar="HEX",
                       help="the hub's SIA DC-09 account number (3-16 hex digits), when it "
                            "also reports by DC-09")
        a.add_argument("--dc09-key-file", metavar="FILE",
                       help="read the DC-09 key (16, 24 or 32 hex characters) from FILE (else "
                            "$%s, else asked for on a terminal; none: unencrypted)"
                            % DC09_KEY_ENV)
        a.add_argument("--dc09-key", help=argparse.SUPPRESS)
        if name == "edit":
            a.add_argument("--no-dc09", action="store_true",
                           help="the hub no longer reports by DC-09: forget its DC-09 "
                                "account number and key")
    link = asub.add_parser("link", help="make the owner's app link for an account (prints the URL)")
    _db(link)
    link.add_argument("hub")
    link.add_argument("--url", default="http://127.0.0.1:8080",
                      help="the console's address as the owner reaches it")
    link.add_argument("--days", type=float, default=7,
                      help="how long the link works (default 7); the account's older link stops")
    links = asub.add_parser("links", help="the owners' app links that work now (never the tokens)")
    _db(links)
    unlink = asub.add_parser("unlink", help="end an account's app link (by hub, or a link's id)")
    _db(unlink)
    unlink.add_argument("hub_or_id")
    show = asub.add_parser("show")
    _db(show)
    show.add_argument("hub")
    _db(asub.add_parser("list"))

    op = sub.add_parser("operator", help="add, list, change the password of or remove "
                                         "the console's operators")
    osub = op.add_subparsers(dest="action", required=True, parser_class=_Parser)
    add_op = osub.add_parser("add", help="add an operator (password from a prompt, "
                                         "--password-file or $%s)" % OPERATOR_ENV)
    _db(add_op)
    add_op.add_argument("name")
    add_op.add_argument("--role", choices=operators.ROLES, default="operator",
                        help="operator: works cases; admin: also accounts and operators")
    add_op.add_argument("--password-file", metavar="FILE")
    _db(osub.add_parser("list"))
    pw_op = osub.add_parser("passwd", help="a new password for an operator (from a prompt, "
                                           "--password-file or $%s); ends their sessions"
                                           % OPERATOR_ENV)
    _db(pw_op)
    pw_op.add_argument("name")
    pw_op.add_argument("--password-file", metavar="FILE")
    rm_op = osub.add_parser("remove", help="remove an operator; ends their sessions")
    _db(rm_op)
    rm_op.add_argument("name")

    cases = sub.add_parser("cases", help="list cases")
    _db(cases)
    cases.add_argument("--open", action="store_true")
    case = sub.add_parser("case", help="one case and its timeline")
    _db(case)
    case.add_argument("id", type=int)
    _db(sub.add_parser("stats", help="signal counters (stored, duplicate, rejected_*)"))

    broker = sub.add_parser("broker", help="write the mosquitto configuration: TLS, a login "
                                           "per hub, the ACL (monitor/broker_access.py)")
    bsub = broker.add_subparsers(dest="action", required=True, parser_class=_Parser)
    bw = bsub.add_parser("write")
    _db(bw)
    bw.add_argument("--dir", required=True, help="where to write (the CA is kept there)")
    bw.add_argument("--name", action="append", metavar="HOST",
                    help="the broker's host name or IP as hubs dial it; repeat "
                         "(default: localhost and 127.0.0.1)")
    bw.add_argument("--port", type=int, default=8883,
                    help="the hubs' and Home Assistant's TLS listener (default 8883)")
    bw.add_argument("--service-port", type=int, metavar="PORT",
                    help="the monitor's TLS listener (default: --port + 1)")
    bw.add_argument("--bind", metavar="ADDR", help="listen on this address only")
    bw.add_argument("--hub", action="append", default=[], metavar="ID",
                    help="a hub without an account yet; repeat")
    bw.add_argument("--prefix", default="alarm")
    bw.add_argument("--discovery-prefix", default="homeassistant")
    bw.add_argument("--nodes", type=int, metavar="N",
                    help="also a broker cluster of N nats-server nodes on this machine "
                         "(monitor/broker_cluster.py): nats-1.conf ... nats-N.conf")
    bw.add_argument("--node", action="append", default=[], metavar="HOST",
                    help="a cluster node's host as hubs and peers dial it; repeat, one per "
                         "node (instead of --nodes)")
    bw.add_argument("--route-port", type=int, default=6222, metavar="PORT",
                    help="the nodes' port for each other (default 6222; + 10 per node)")
    bw.add_argument("--accounts", type=int, default=1, metavar="K",
                    help="split the cluster's hubs over K NATS accounts, each with its own "
                         "QoS 1 stream (docs/sizing.md; default 1)")
    return p


def main(argv=None):
    args = parser().parse_args(argv)
    if url_password(getattr(args, "db", None) or ""):
        # Every user of the machine can read a command line (ps, /proc).
        print("error: --db: no password in the URL; give it in $PGPASSWORD or ~/.pgpass",
              file=sys.stderr)
        return 2
    try:
        return COMMANDS[args.cmd](args)
    except BrokenPipeError:
        raise       # the reader went away: terminal.run ends quietly
    except (Refused, accounts.AccountError, operators.OperatorError, ValueError, OSError) as e:
        print("error: %s" % e, file=sys.stderr)
        return 2
    except store_errors as e:   # e.g. --db names a file that is not a case store
        print("error: --db %s: %s" % (args.db, e), file=sys.stderr)
        return 2


def _db(sp):
    sp.add_argument("--db", default="monitor.db",
                    help="case store: a SQLite file (default monitor.db), or a PostgreSQL "
                         "database as postgresql://user@host/dbname (a password from "
                         "$PGPASSWORD or ~/.pgpass, never on the command line)")


def open_store(args, create=False):
    """The case store at --db. Without `create` (the commands that only read,
    or change what must already be there) a missing store is refused rather
    than left behind empty in whatever folder the command ran in. A
    PostgreSQL database is made by its administrator (createdb); the store's
    tables are made in it on first use."""
    if is_url(args.db):
        return Store(args.db)
    folder = os.path.dirname(os.path.abspath(args.db))
    if not os.path.isdir(folder):
        raise Refused("--db %s: the folder %s does not exist" % (args.db, folder))
    if not create and not os.path.exists(args.db):
        raise Refused("--db %s: there is no case store there (give --db the file `python -m "
                      "monitor run` uses; `account add` makes a new one)" % args.db)
    return Store(args.db)


def run_options(run):
    """`run`'s options (the simulation's runner, tools/sim/monitor.py, adds its own)."""
    _db(run)
    run.add_argument("--host", default="127.0.0.1", help="MQTT broker host")
    run.add_argument("--port", type=int, help="MQTT broker port (1883; 8884 with --ca: the "
                                              "service listener of `broker write`)")
    run.add_argument("--ca", metavar="FILE",
                     help="TLS: the broker's CA certificate (PEM), e.g. from 'broker write'")
    run.add_argument("--mqtt-user", metavar="NAME", help="broker login (e.g. monitor)")
    run.add_argument("--mqtt-password-file", metavar="FILE",
                     help="the login's password: a file holding it, or the credentials.json "
                          "that 'broker write' made (never on the command line)")
    run.add_argument("--prefix", default="alarm", help="topic prefix (protocol default: alarm)")
    run.add_argument("--nats", metavar="URL,URL,...", type=_urls,
                     help="a NATS broker cluster's nodes (nats://host:port, each node's "
                          "listener for the monitor) instead of --host/--port: the workers "
                          "share the events as a queue group (docs/monitoring.md, "
                          "\"Broker cluster\")")
    run.add_argument("--share", metavar="GROUP",
                     help="subscribe as $share/GROUP/... so several workers split the events")
    run.add_argument("--ring-timeout", type=float, default=30.0, metavar="S")
    run.add_argument("--hold-time", type=float, default=300.0, metavar="S",
                     help="a case held for a person goes to the top of the queue, overdue, "
                          "after S (default 300)")
    run.add_argument("--ack-time", type=float, default=120.0, metavar="S",
                     help="a case, or an alarm that joined one, not acknowledged by an operator "
                          "goes to the top of the queue, overdue, after S (default 120)")
    run.add_argument("--follow-up-window", type=float, default=1800.0, metavar="S",
                     help="alarms this soon after a dispatch join the dispatched case "
                          "(default 1800)")
    run.add_argument("--test-grace", type=float, default=600.0, metavar="S",
                     help="how late a periodic test report may be before a trouble case")
    run.add_argument("--redeliver-after", type=float, default=10.0, metavar="S",
                     help="steps a stopped worker committed but did not emit go out after S")
    run.add_argument("--jsonl", action="store_true", help="timeline steps as JSON lines on stdout")
    run.add_argument("--console-port", type=int, metavar="PORT",
                     help="serve the web console (0: any free port, printed on stderr)")
    run.add_argument("--console-host", default="127.0.0.1")
    run.add_argument("--allowed-host", action="append", default=[], metavar="NAME",
                     help="a Host name the console answers to besides the bound one and "
                          "loopback (repeat; e.g. its public name behind a proxy)")
    run.add_argument("--allowed-origin", action="append", default=[], metavar="URL",
                     help="an origin accepted on state-changing requests besides the "
                          "request's own, e.g. https://console.example.com behind a TLS proxy")
    run.add_argument("--trusted-proxy", action="append", default=[], metavar="IP",
                     help="a proxy whose X-Forwarded-For/-Proto the console believes (repeat)")
    run.add_argument("--https", action="store_true",
                     help="the console is reached over https (a TLS proxy): cookies get Secure")
    run.add_argument("--max-live-clients", type=int, default=100, metavar="N",
                     help="open live-update streams at most (more are refused with 503)")
    run.add_argument("--dc09-port", type=int, metavar="PORT",
                     help="also receive SIA DC-09 over TCP on PORT (off unless given; "
                          "0: any free port, printed on stderr)")
    run.add_argument("--dc09-host", default="127.0.0.1", metavar="ADDR",
                     help="the address the DC-09 listener binds (default 127.0.0.1; "
                          "0.0.0.0 for hubs on the network)")
    run.add_argument("--dc09-window", type=_window, default=(40, 20), metavar="BEHIND,AHEAD",
                     help="DC-09 time stamps accepted this many seconds behind and ahead of "
                          "the service's clock (default 40,20, as pysiaalarm); others get NAK")
    run.add_argument("-v", "--verbose", action="store_true")


def _urls(text):
    urls = [u.strip() for u in text.split(",") if u.strip()]
    if not urls or not all(u.startswith(("nats://", "tls://")) for u in urls):
        raise argparse.ArgumentTypeError("give nats://host:port[,nats://host:port...]")
    return tuple(urls)


def _window(text):
    behind, sep, ahead = text.partition(",")
    try:
        window = (int(behind), int(ahead))
    except ValueError:
        window = None
    if not sep or window is None or min(window) < 0:
        raise argparse.ArgumentTypeError("give seconds behind,ahead, e.g. 40,20")
    return window


def settings(args):
    from monitor.receiver import Settings
    # With --ca, the broker's service listener (broker_access): the device
    # listener's client ids are logins, and the monitor runs several clients.
    port = args.port or (8884 if args.ca else 1883)
    password, app_logins = _broker_login(args.mqtt_password_file, args.mqtt_user)
    return Settings(db=args.db, host=args.host, port=port, prefix=args.prefix,
                    tls_ca=args.ca, username=args.mqtt_user,
                    password=password,
                    share=args.share, ring_s=args.ring_timeout, hold_s=args.hold_time,
                    follow_up_s=args.follow_up_window, ack_s=args.ack_time,
                    test_grace_s=args.test_grace,
                    redeliver_s=args.redeliver_after, jsonl=args.jsonl,
                    dc09_port=args.dc09_port, dc09_host=args.dc09_host,
                    dc09_window=args.dc09_window, nats=args.nats,
                    app_logins=app_logins if args.nats else None)


def cmd_run(args, provider=None, clock=None, hooks=None):
    from monitor.receiver import Receiver
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        stream=sys.stderr, format="%(asctime)s %(name)s %(message)s")
    s = settings(args)
    try:
        open_store(args, create=True).close()       # a bad --db is named before the broker
    except store_errors as e:
        if not (is_url(args.db) and health.unreachable(e)):
            raise
        # Down, not wrong (a supervisor restarting us in an outage, a boot
        # before the database): start, and wait for it as a running worker does.
        print("monitor: case store unreachable (%s): starting anyway; /health says 503 "
              "and no signal is acked until it answers" % health.in_words(e),
              file=sys.stderr, flush=True)
    broker_up = True
    try:
        if not s.nats:      # a cluster: any node will do, and the client tries each
            _reach_broker(s.host, s.port)
    except Refused as e:
        if s.dc09_port is None:
            raise
        # With DC-09 on, the service is not blind without the broker: it starts,
        # and MQTT connects when the broker is back.
        broker_up = False
        print("monitor: %s; receiving by DC-09 meanwhile" % e, file=sys.stderr, flush=True)
    rx = Receiver(s, provider=provider, clock=clock, hooks=hooks)
    try:
        rx.start(timeout=30 if broker_up else 1, need_broker=broker_up)
    except RuntimeError:
        raise Refused("the MQTT broker at %s:%d took the connection but not our subscription "
                      "in 30 s: check --ca, --mqtt-user and --mqtt-password-file (the broker's "
                      "log says why)" % (s.host, s.port)) from None
    web = None
    if args.console_port is not None:
        from monitor.web import WebConfig, WebServer
        web = WebServer(rx, WebConfig(
            host=args.console_host, port=args.console_port,
            allowed_hosts=tuple(args.allowed_host), allowed_origins=tuple(args.allowed_origin),
            trusted_proxies=tuple(args.trusted_proxy), https=args.https,
            max_live_clients=args.max_live_clients)).start()
        print("console: %s" % web.url, file=sys.stderr, flush=True)
        if rx.engine.health.ok and operators.count(web.web.store) == 0:
            print("console: no operator can log in yet; create one with\n"
                  "  python -m monitor operator add NAME --role admin --db %s" % args.db,
                  file=sys.stderr, flush=True)
    elif provider is None:
        print("monitor: no console (--console-port): calls ring out with nobody to take them",
              file=sys.stderr, flush=True)
    if rx.dc09 is not None:
        print("monitor: DC-09 on %s:%d" % (rx.dc09.host, rx.dc09.port), file=sys.stderr,
              flush=True)
    if rx.subscribed.is_set():
        print("monitor: subscribed on %s:%d%s" % (args.host, rx.s.port,
                                                  " (TLS)" if args.ca else ""),
              file=sys.stderr, flush=True)
    try:
        rx.serve_forever()
    finally:
        if web is not None:
            web.stop()
    return 0


def _reach_broker(host, port):
    """Say at once that no broker listens, instead of retrying in the background."""
    try:
        socket.create_connection((host, port), timeout=BROKER_PROBE_S).close()
    except OSError as e:
        raise Refused("no MQTT broker at %s:%d (%s): start mosquitto, or give --host and --port"
                      % (host, port, e.strerror or e or "no answer")) from None


def _broker_login(path, user):
    """(the login's password, the owner's app view's logins or None) from
    --mqtt-password-file: a file holding the password, or the credentials.json
    broker write made (which also says when the hubs are split over NATS
    accounts: the app view then logs in to each)."""
    from monitor import broker_cluster
    if path is None:
        return None, None
    with open(path) as f:
        text = f.read()
    if not text.lstrip().startswith("{"):
        return text.strip(), None
    creds = json.loads(text)
    if user not in creds:
        raise ValueError("--mqtt-password-file: no password for %r in %s" % (user, path))
    return creds[user], broker_cluster.app_logins(creds.get(broker_cluster.ACCOUNTS_KEY))


def cmd_account(args):
    if args.action in ("add", "edit"):
        return _account_change(args)
    store = open_store(args)
    if args.action == "list":
        hubs = accounts.all_hubs(store)
        for hub in hubs:
            a = accounts.get(store, hub)
            print("%s\t%s\t%d contacts\t%s" % (hub, a["policy"], len(a["contacts"]), a["address"]))
        if not hubs:
            print("no accounts in %s" % args.db, file=sys.stderr)
        return 0
    if args.action == "show":
        a = accounts.get(store, args.hub)
        if a is None:
            raise accounts.AccountError("no account %s" % args.hub)
        print(json.dumps(a, indent=2))
        return 0
    if args.action == "link":
        token = operators.link_owner(store, args.hub, ttl_s=args.days * 86400)
        from monitor.web.owner import link_url
        print(link_url(args.url, token))
        return 0
    if args.action == "links":
        print(json.dumps(operators.links(store), indent=2))
        return 0
    if args.action == "unlink":
        if not operators.revoke_links(store, args.hub_or_id):
            raise accounts.AccountError("no live link %s" % args.hub_or_id)
        print("revoked")
        return 0
    raise ValueError("account %s: unknown action" % args.action)


def _account_change(args):
    # Everything the person typed is checked before the store is opened, so a
    # mistake leaves no store behind.
    contacts = [accounts.parse_contact(c) for c in args.contact] if args.contact else None
    secret = _hex_secret(args.secret) if args.secret else None
    if args.action == "add" and secret is None:
        raise accounts.AccountError("--secret is required")
    password = verbal_password(args)
    dc09 = accounts.dc09_account(args.dc09_account) if args.dc09_account is not None else None
    dc09_secret = dc09_key(args)
    store = open_store(args, create=args.action == "add")
    if args.action == "add":
        accounts.add(store, args.hub, secret, contacts or [], password, args.policy
                     or "if_no_one_cancels", args.address or "", bool(args.call_next_contacts),
                     args.test_interval or accounts.DEFAULT_TEST_INTERVAL_S,
                     dc09=dc09, dc09_secret=dc09_secret)
    else:
        accounts.edit(store, args.hub, secret, contacts, password, args.policy, args.address,
                      args.call_next_contacts, args.test_interval, dc09=dc09,
                      dc09_secret=dc09_secret, dc09_off=args.no_dc09)
    print(json.dumps(accounts.get(store, args.hub)))
    return 0


def _hex_secret(text):
    try:
        return bytes.fromhex(text)
    except ValueError as e:
        # Not the text itself: a secret, even a mistyped one, is not echoed.
        raise accounts.AccountError("--secret is not hex (%s): give the hub's secret as hex "
                                    "digits, as in its config.json" % e) from None


def secret_input(what, path, env, confirm=False, prompt=True, flag="--password-file"):
    """A password from a file (its first line), the environment or a prompt:
    never from argv, which any user on the machine can read in `ps`. None when
    there is none."""
    if path:
        try:
            with open(path) as f:
                text = f.readline().rstrip("\r\n")
        except OSError as e:
            raise NoPassword("%s: %s" % (flag, e)) from None
        if not text.strip():
            raise NoPassword("%s %s: the first line is empty" % (flag, path))
        return text
    if os.environ.get(env, "").strip():
        return os.environ[env]
    if not prompt or not sys.stdin.isatty():
        return None
    first = getpass.getpass("%s: " % what)
    if confirm and first and getpass.getpass("again: ") != first:
        raise ValueError("the two entries differ")
    return first or None


def verbal_password(args):
    """From --password-file, else $MONITOR_VERBAL_PASSWORD, else asked for on a
    terminal; never from the command line, where `ps` shows it to everyone."""
    if args.password is not None:
        raise NoPassword("--password would show the verbal password to anyone running ps: "
                         "use --password-file FILE or $%s, or leave both out to be asked"
                         % PASSWORD_ENV)
    password = secret_input("verbal password for %s%s" % (
        args.hub, "" if args.action == "add" else " (empty: keep)"),
        args.password_file, PASSWORD_ENV)
    if password is None and args.action == "add":
        raise NoPassword("account add %s: no verbal password: give --password-file FILE or "
                         "$%s, or run it on a terminal to be asked" % (args.hub, PASSWORD_ENV))
    return password


def dc09_key(args):
    """The DC-09 key from --dc09-key-file, else $MONITOR_DC09_KEY, else asked
    for on a terminal when --dc09-account is given; checked, never echoed.
    None: no key given (add: the hub reports unencrypted; edit: keep)."""
    if args.dc09_key is not None:
        raise NoPassword("--dc09-key would show the key to anyone running ps: use "
                         "--dc09-key-file FILE or $%s, or leave both out to be asked"
                         % DC09_KEY_ENV)
    prompt = args.dc09_account is not None
    key = secret_input("DC-09 key for %s (empty: %s)" % (
        args.hub, "unencrypted" if args.action == "add" else "keep"),
        args.dc09_key_file, DC09_KEY_ENV, prompt=prompt, flag="--dc09-key-file")
    if key is None:
        return None
    try:
        return accounts.dc09_key(key)
    except accounts.AccountError as e:
        where = "--dc09-key-file %s" % args.dc09_key_file if args.dc09_key_file \
            else "$%s" % DC09_KEY_ENV if os.environ.get(DC09_KEY_ENV, "").strip() \
            else "the key typed"
        raise accounts.AccountError("%s: %s" % (where, e)) from None


def cmd_operator(args):
    if args.action == "list":
        store = open_store(args)
        operators.ensure_schema(store)
        ops = operators.listing(store)
        for op in ops:
            print("%s\t%s" % (op["name"], op["role"]))
        if not ops:
            print("no operators in %s" % args.db, file=sys.stderr)
        return 0
    if args.action == "remove":
        operators.remove(open_store(args), args.name)
        print("operator %s removed; their sessions are ended" % args.name)
        return 0
    password = secret_input("%spassword for %s" % ("new " if args.action == "passwd" else "",
                                                   args.name),
                            args.password_file, OPERATOR_ENV, confirm=True)
    if password is None:
        raise operators.OperatorError("no password: give --password-file FILE, set $%s, "
                                      "or run on a terminal to be asked" % OPERATOR_ENV)
    if args.action == "passwd":
        operators.passwd(open_store(args), args.name, password)
        print("operator %s: password changed; their sessions are ended" % args.name)
        return 0
    operators.add(open_store(args, create=True), args.name, password, args.role)
    print("operator %s added (%s)" % (args.name, args.role))
    return 0


def cmd_cases(args):
    store = open_store(args)
    sql = "SELECT * FROM cases" + (" WHERE status = 'open'" if args.open else "") + " ORDER BY id"
    rows = store.q(sql)
    for r in rows:
        print("%d\t%s\t%s\t%s\t%s\t%s" % (r["id"], r["hub"], r["plan"], r["service"] or "-",
                                          r["status"], r["end_reason"] or r["waiting"] or ""))
    if not rows:
        # On stderr: a person sees it, a script counting lines still counts none.
        print("no %scases in %s" % ("open " if args.open else "", args.db), file=sys.stderr)
    return 0


def cmd_case(args):
    store = open_store(args)
    case = store.one("SELECT * FROM cases WHERE id = ?", args.id)
    if case is None:
        raise ValueError("no case %d" % args.id)
    print(json.dumps(dict(case)))
    for r in store.q("SELECT * FROM timeline WHERE case_id = ? ORDER BY id", args.id):
        line = {k: r[k] for k in ("t", "step", "contact", "service", "reason") if r[k] is not None}
        line.update(loads(r["detail"]))
        print(json.dumps(line))
    return 0


def cmd_stats(args):
    print(json.dumps(open_store(args).counters(), sort_keys=True))
    return 0


def cmd_broker(args):
    from monitor import broker_access
    # With hubs named on the command line, a store is not needed: one is not made.
    known = [] if args.hub and not os.path.exists(args.db) else accounts.all_hubs(open_store(args))
    hubs = sorted(set(known) | set(args.hub))
    if args.nodes is not None or args.node:
        return _write_cluster(args, hubs)
    if args.accounts != 1:
        raise Refused("--accounts: only for a broker cluster (--nodes or --node)")
    access = broker_access.write(args.dir, hubs, args.prefix, args.discovery_prefix,
                                 names=args.name or ("localhost", "127.0.0.1"),
                                 port=args.port, bind=args.bind,
                                 service_port=args.service_port)
    print("%d hubs: %s" % (len(hubs), " ".join(hubs)))
    print(broker_access.summary(access))
    return 0


def _write_cluster(args, hubs):
    from monitor import broker_access, broker_cluster
    hosts = args.node or ["127.0.0.1"] * (args.nodes or 0)
    if args.nodes is not None and args.node and args.nodes != len(args.node):
        raise Refused("--nodes %d but %d --node hosts: give one or the other"
                      % (args.nodes, len(args.node)))
    if not 1 <= len(hosts) <= 16:
        raise Refused("--nodes: 1..16 (3 survive the loss of one)")
    try:
        access = broker_cluster.write(args.dir, hubs, hosts, args.prefix, args.discovery_prefix,
                                      names=args.name or ("localhost", "127.0.0.1"),
                                      port=args.port, service_port=args.service_port,
                                      route_port=args.route_port, bind=args.bind,
                                      accounts=args.accounts)
    except broker_access.AccessError as e:
        raise Refused(str(e))
    print("%d hubs: %s" % (len(hubs), " ".join(hubs)))
    print(broker_cluster.summary(access))
    return 0


COMMANDS = {"run": cmd_run, "account": cmd_account, "operator": cmd_operator,
            "broker": cmd_broker, "cases": cmd_cases, "case": cmd_case, "stats": cmd_stats}
