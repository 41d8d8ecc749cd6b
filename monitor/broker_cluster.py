"""A broker cluster for many homes: nats-server nodes with JetStream and their
MQTT listener (docs/monitoring.md, "Broker cluster" says why NATS). The hubs
speak MQTT 3.1.1 to any node, unchanged; the monitor's workers read the events
as one NATS queue group and answer on the hubs' MQTT topics through NATS.

    python -m monitor broker write --dir DIR --nodes 3 [--node HOST ...]

writes, beside broker_access's CA, server certificate and credentials.json,
one nats-<n>.conf per node: TLS on the MQTT and NATS listeners, a login per
hub with only its own topics (the same rights as the mosquitto ACL), Home
Assistant's and the monitor's logins, and the routes between the nodes.

Node i (from 0) listens for MQTT on port + 10*i, for NATS (the monitor) on
service_port + 10*i and for its peers on route_port + 10*i, so that several
nodes fit on one machine as well as on one each.

    python -m monitor broker write ... --accounts K

splits the hubs over K NATS accounts, HUBS1..HUBSK. Every QoS 1 message of an
account goes through that account's one replicated stream ($MQTT_msgs), so one
account puts every signal on the same three nodes and one stream leader
(docs/sizing.md); K accounts spread that over K streams. The monitor's login
is in a STATION account that imports what it reads from every hub account and
exports the acks and commands to them. A hub keeps its account from one run to
the next (kept in credentials.json): its retained messages live in that
account's streams. Retained messages (a hub's state, zones, discovery) stay in
their account too: the owner's app view (monitor/web/hubview.py) reads them
with one read-only login per hub account, monitor@HUBSk, on the monitor's
password. Home Assistant's login is not written with K > 1: it could see only
one account's retained discovery and state, and a station that needs several
accounts has no one dashboard over all its homes."""
import collections
import json
import os

from monitor import broker_access
from monitor.broker_access import HA_USER, MONITOR_USER

CLUSTER_NAME = "alarm"
ROUTE_USER = "route"
STEP = 10
STATION = "STATION"
MAX_ACCOUNTS = 64
# credentials.json's key for {hub: its account's number}
ACCOUNTS_KEY = "hub_accounts"


def account_name(k):
    return "HUBS%d" % k


def app_login(k):
    """The owner's app view's login in hub account k ("@": no hub id has one)."""
    return "%s@%s" % (MONITOR_USER, account_name(k))


def app_logins(hub_accounts):
    """The app view's logins, one per account that has hubs; None: one account."""
    if not hub_accounts:
        return None
    return tuple(app_login(k) for k in sorted(set(hub_accounts.values())))


def assign(hubs, before, n):
    """{hub: account 1..n}. A hub keeps the account it had: its retained
    messages and its session live in that account's streams. A new hub, or one
    whose account is no longer there, goes to the account with the fewest."""
    placed = {h: before[h] for h in hubs
              if type(before.get(h)) is int and 1 <= before[h] <= n}
    count = collections.Counter(placed.values())
    for h in sorted(hubs):
        if h not in placed:
            k = min(range(1, n + 1), key=lambda a: (count[a], a))
            placed[h] = k
            count[k] += 1
    return placed


def subject(topic):
    """An MQTT topic as NATS names it (hub ids and the prefix have no dots)."""
    return topic.replace("/", ".").replace("+", "*").replace("#", ">")


def topic(subj):
    return subj.replace(".", "/")


class Node:
    def __init__(self, index, host, mqtt_port, nats_port, route_port):
        self.index, self.host = index, host
        self.name = "node-%d" % (index + 1)
        self.mqtt_port, self.nats_port, self.route_port = mqtt_port, nats_port, route_port

    @property
    def nats_url(self):
        return "nats://%s:%d" % (self.host, self.nats_port)


def nodes(hosts, port, service_port, route_port):
    return [Node(i, h, port + STEP * i, service_port + STEP * i, route_port + STEP * i)
            for i, h in enumerate(hosts)]


def _quote(text):
    if any(c in text for c in '"\\\n'):
        raise broker_access.AccessError("a value with a quote or a newline: %r" % text)
    return '"%s"' % text


def _list(items):
    return "[%s]" % ", ".join(_quote(i) for i in items)


def permissions(hubs, prefix="alarm", discovery_prefix="homeassistant"):
    """{user: (publish allowed, subscribe allowed)}: broker_access.acl_text's rights."""
    p, d = subject(prefix), subject(discovery_prefix)

    def leaves(base, names):
        return [base + subject(leaf) for leaf in names]
    rights = {
        MONITOR_USER: (["%s.*.acks" % p, "%s.*.commands" % p],
                       leaves(p + ".*.", broker_access.MONITOR_READS)
                       + ["%s.binary_sensor.>" % d]),
        HA_USER: (["%s.status" % d, "%s.*.commands" % p],
                  leaves(p + ".*.", broker_access.HA_READS) + ["%s.>" % d]),
    }
    for hub in hubs:
        broker_access.check_user(hub)
        base = "%s.%s." % (p, hub)
        rights[hub] = (leaves(base, broker_access.HUB_WRITES) + ["%s.*.%s.>" % (d, hub)],
                       [base + "acks", base + "commands"])
    return rights


def node_conf(node, all_nodes, directory=None, users=None, route_password=None,
              bind=None, prefix="alarm", discovery_prefix="homeassistant", hubs=(),
              store=None, hub_accounts=None, accounts=None):
    """One node's nats-server configuration. directory=None: plain and open (the
    tests' fast cluster); else TLS from directory and the logins in `users`
    ({user: bcrypt hash}). store: where the JetStream files go (default directory).
    hub_accounts: {hub: account number} to split the hubs over `accounts`
    accounts (default: as many as hub_accounts names)."""
    host = bind or node.host
    lines = ["# written by python -m monitor broker write (monitor/broker_cluster.py)",
             "server_name: %s" % _quote(node.name),
             "listen: %s" % _quote("%s:%d" % (host, node.nats_port)),
             # A hub's largest message, a discovery config, is under 1 KB; as
             # with mosquitto, nobody may park megabytes on a retained topic.
             "max_payload: %d" % broker_access.MAX_PACKET]
    js_dir = os.path.join(os.path.abspath(store or directory or "."), node.name, "jetstream")
    lines.append("jetstream { store_dir: %s }" % _quote(js_dir))
    routes = []
    for peer in all_nodes:
        if peer is node:
            continue
        cred = "%s:%s@" % (ROUTE_USER, route_password) if route_password else ""
        routes.append("nats-route://%s%s:%d" % (cred, peer.host, peer.route_port))
    lines += ["cluster {", "  name: %s" % CLUSTER_NAME,
              "  listen: %s" % _quote("%s:%d" % (host, node.route_port)),
              "  routes: %s" % _list(routes)]
    if route_password:
        lines.append("  authorization { user: %s, password: %s }"
                     % (_quote(ROUTE_USER), _quote(route_password)))
    lines.append("}")
    tls = ""
    if directory:
        p = lambda name: _quote(os.path.join(os.path.abspath(directory), name))  # noqa: E731
        tls = "  tls { cert_file: %s, key_file: %s }" % (p("server.crt"), p("server.key"))
        lines.append("tls { cert_file: %s, key_file: %s }" % (p("server.crt"),
                                                              p("server.key")))
    # Retained messages (Home Assistant's discovery), sessions and QoS 1
    # messages live in JetStream streams replicated on up to three nodes.
    # A session's consumers (one per QoS 1 subscription: a hub's acks and
    # commands) are replicated as the streams are, in memory (its session
    # is clean): one on a single node would die with that node while the
    # client, connected to another, heard nothing more and never knew. The
    # price is a raft group to make on every SUBSCRIBE (0.4-0.8 s idle,
    # seconds under load): the hub's link waits for it (Link.suback_ms).
    lines += ["mqtt {", "  listen: %s" % _quote("%s:%d" % (host, node.mqtt_port)),
              "  stream_replicas: %d" % min(3, len(all_nodes)),
              "  consumer_memory_storage: true"]
    if tls:
        lines.append(tls)
    lines.append("}")
    if users:
        rights = permissions(hubs, prefix, discovery_prefix)
        if hub_accounts is None:
            lines += ["authorization {"] + _user_lines(users, rights, "  ") + ["}"]
        else:
            lines += _accounts_lines(users, rights, hub_accounts,
                                     accounts or max(hub_accounts.values(), default=1))
    return "\n".join(lines) + "\n"


def _both(filters):
    # MQTT's "a/#" also matches "a" itself: NATS subscribes to both.
    return filters + [f[:-2] for f in filters if f.endswith(".>")]


def _user_lines(users, rights, indent):
    lines = [indent + "users: ["]
    for user in sorted(users):
        pub, sub = rights[user]
        kinds = ["STANDARD", "MQTT"] if user == MONITOR_USER else ["MQTT"]
        lines.append("%s  {user: %s, password: %s, allowed_connection_types: %s,"
                     % (indent, _quote(user), _quote(users[user]), _list(kinds)))
        publish = "allow: %s" % _list(pub) if pub else 'deny: [">"]'
        lines.append("%s   permissions: {publish: {%s}, subscribe: {allow: %s}}}"
                     % (indent, publish, _list(_both(sub) + ["$MQTT.sub.>"])))
    return lines + [indent + "]"]


def _accounts_lines(users, rights, hub_accounts, n):
    """STATION (the monitor) and HUBS1..K. What crosses between them is what
    the monitor may read and write, as streams: the ACL of each login still
    decides what it may touch inside its own account."""
    rights = dict(rights)
    reads, writes = _both(rights[MONITOR_USER][1]), rights[MONITOR_USER][0]
    names = [account_name(k) for k in range(1, n + 1)]
    lines = ["accounts {"]
    station = {MONITOR_USER: users[MONITOR_USER]} if MONITOR_USER in users else {}
    lines += ["  %s {" % STATION, "    jetstream: enabled"]
    lines += _user_lines(station, rights, "    ")
    lines += ["    exports: ["] + ["      {stream: %s, accounts: %s}" % (_quote(w), _list(names))
                                   for w in writes] + ["    ]"]
    lines += ["    imports: ["] + ["      {stream: {account: %s, subject: %s}}"
                                   % (_quote(a), _quote(r)) for a in names for r in reads]
    lines += ["    ]", "  }"]
    for k, name in enumerate(names, 1):
        mine = {h: users[h] for h in sorted(hub_accounts) if hub_accounts[h] == k and h in users}
        if MONITOR_USER in users:
            # The app view's: what the monitor reads, retained messages included.
            mine[app_login(k)] = users[MONITOR_USER]
            rights[app_login(k)] = ([], rights[MONITOR_USER][1])
        lines += ["  %s {" % name, "    jetstream: enabled"]
        lines += _user_lines(mine, rights, "    ")
        lines += ["    exports: ["] + ["      {stream: %s, accounts: %s}"
                                       % (_quote(r), _list([STATION])) for r in reads]
        lines += ["    ]", "    imports: ["] + ["      {stream: {account: %s, subject: %s}}"
                                                % (_quote(STATION), _quote(w)) for w in writes]
        lines += ["    ]", "  }"]
    return lines + ["}"]


# A node checks a login's bcrypt hash on every CONNECT. At cost 11 that was
# 135 of the 140 ms of CPU a hub's session took to set up (TLS and JetStream
# the rest; tools/bench_broker_connections.py): 39 hours of one core for a
# million hubs coming back after a regional outage. At cost 4, 5.3 ms. The
# work factor slows the guessing of a password someone chose; every login
# here is 144 random bits (broker_access.new_password), out of any guessing's
# reach at any cost.
BCRYPT_COST = 4


def _bcrypt(password):
    import bcrypt
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt(BCRYPT_COST)).decode()


def write(directory, hubs, hosts=("127.0.0.1",) * 3, prefix="alarm",
          discovery_prefix="homeassistant", names=("localhost", "127.0.0.1"), port=8883,
          service_port=None, route_port=6222, bind=None, passwords=None, accounts=1):
    """The CA, certificate and credentials (broker_access.write, which also writes
    the single mosquitto's files), then one nats-<n>.conf per node. accounts:
    how many NATS accounts the hubs are split over."""
    if not 1 <= accounts <= MAX_ACCOUNTS:
        raise broker_access.AccessError("accounts: 1..%d" % MAX_ACCOUNTS)
    service_port = service_port or 4222
    all_nodes = nodes(hosts, port, service_port, route_port)
    names = list(names) + [h for h in hosts if h not in names]
    cred_path = os.path.join(directory, "credentials.json")
    old = {}
    if os.path.exists(cred_path):
        with open(cred_path) as f:
            old = json.load(f)
    access = broker_access.write(directory, hubs, prefix, discovery_prefix, names, port,
                                 bind, passwords, service_port=service_port)
    creds = access.credentials
    # Kept like the others: re-running after adding a hub must not split the
    # cluster, nor move a hub away from its retained messages.
    creds[ROUTE_USER] = route = old.get(ROUTE_USER) or broker_access.new_password()
    hub_accounts = None
    if accounts > 1:
        hub_accounts = creds[ACCOUNTS_KEY] = assign(hubs, old.get(ACCOUNTS_KEY) or {}, accounts)
    broker_access._write_private(cred_path, (json.dumps(creds, indent=2, sort_keys=True)
                                             + "\n").encode())
    users = {MONITOR_USER: _bcrypt(creds["monitor"])}
    if hub_accounts is None:
        users[HA_USER] = _bcrypt(creds["homeassistant"])
    for hub, pw in creds["hubs"].items():
        if hub in hubs:
            users[hub] = _bcrypt(pw)
    for node in all_nodes:
        broker_access._write_private(
            access.path("nats-%d.conf" % (node.index + 1)),
            node_conf(node, all_nodes, access.dir, users, route, bind, prefix,
                      discovery_prefix, hubs, hub_accounts=hub_accounts,
                      accounts=accounts).encode())
        os.makedirs(access.path(node.name), exist_ok=True)
    access.nodes = all_nodes
    access.hub_accounts, access.accounts = hub_accounts, accounts
    return access


def load(directory, hosts, port=8883, service_port=4222, route_port=6222):
    """What write() wrote into `directory`, for the nodes it was given."""
    with open(os.path.join(directory, "credentials.json")) as f:
        creds = json.load(f)
    access = broker_access.Access(directory, creds, broker_access.cert_pin(
        os.path.join(directory, "ca.crt")), port, service_port)
    access.nodes = nodes(hosts, port, service_port, route_port)
    access.hub_accounts = creds.get(ACCOUNTS_KEY)
    access.accounts = max((access.hub_accounts or {}).values(), default=1)
    return access


def summary(access):
    hosts = ", ".join('"%s:%d"' % (n.host, n.mqtt_port) for n in access.nodes)
    urls = ",".join(n.nats_url for n in access.nodes)
    return ("broker cluster configuration in %s\n"
            "  on each node: nats-server -c %s/nats-<n>.conf (n = 1..%d)\n"
            "  hubs (config.json): \"mqtt\": {\"host\": [%s], \"tls\": true, ...}\n"
            "  the monitor: monitor run --nats %s --ca %s --mqtt-user monitor "
            "--mqtt-password-file %s --host %s --port %d (the owner's app view's MQTT)\n"
            "  CA certificate SHA-256 %s"
            % (access.dir, access.dir, len(access.nodes), hosts, urls, access.ca,
               access.path("credentials.json"), access.nodes[0].host, access.nodes[0].mqtt_port,
               access.ca_sha256)
            + _accounts_summary(access))


def _accounts_summary(access):
    if not access.hub_accounts:
        return ""
    count = collections.Counter(access.hub_accounts.values())
    return ("\n  %d NATS accounts (hubs: %s); no Home Assistant login"
            % (access.accounts, ", ".join("%s %d" % (account_name(k), count[k])
                                          for k in range(1, access.accounts + 1))))
