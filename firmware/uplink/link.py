# The hub's MQTT link: publishes queued signals to the monitoring side and takes
# its acks and commands, without ever stalling the alarm loop for long.
#
# The hub loop calls poll(now_ms) often (every few tens of ms). poll never blocks
# longer than `timeout_ms` per socket operation and does a bounded amount of work:
#   - when down: reconnect once the backoff delay is over (exponential, jittered)
#   - when up: publish up to `per_poll` unacked outbox entries in seq order
#     (QoS 1), publish the retained state if it changed, read up to `per_poll`
#     incoming messages (acks, commands), send a keepalive ping when idle, and
#     drop the connection when the broker went silent.
# Any error drops the connection; queued signals stay in the outbox until the
# monitoring side acks them, and are sent again after a reconnect (or after
# `resend_ms` without an ack): the consumer dedupes by hub id + seq.
#
# umqtt.simple blocks: QoS 1 publish waits for PUBACK and wait_msg() puts the
# socket back to blocking. So the client's socket is wrapped (_Sock) so that
# "blocking" always means "with our timeout", and the timeout is applied again
# before every client call. Once connected, what umqtt reads goes through
# uplink.inbound.Inbound: a bound on incoming messages, and the fixed header
# of the packet read last (retain flag, PINGRESP) that umqtt does not pass on.
# The acks and commands are subscribed with QoS 0. The session is clean, so a
# message in flight when the connection drops is lost at QoS 1 as well (the
# hub resends until acked; a command's sender sees no answer); and on a NATS
# node a QoS 1 subscription is a JetStream consumer replicated on three nodes:
# measured, 17-19 ms of the nodes' CPU to set up, 0.66-0.70 MB and 1.5 ms of
# CPU a second while idle, for each hub (QoS 0: 1.5-2.6 ms, 0.05 MB, 0.006
# ms/s; docs/sizing.md, "Connections"). A SUBSCRIBE is still not waited for inside
# umqtt: a node that has just lost a peer may answer it late, and so did a
# QoS 1 one always (0.4-0.8 s for its consumer, seconds under load), far past
# `timeout_ms`. Both SUBSCRIBEs go out right after the CONNACK; Inbound reads
# their SUBACKs on later passes, and the link counts as subscribed once both
# came, or drops after `suback_ms` without them.
# Uses only the umqtt.simple API shared by 1.3.4 (PyPI), 1.7.0 (frozen in stock
# v1.28) and 1.8.x (docs/protocol.md lists it; host_tests/uplink checks it).
import errno
import select

from panel.compat import const

from panel import ticks
from uplink import wire
from uplink.inbound import Inbound
from uplink.outbox import retry_in

_IPPROTO_TCP = const(6)
_TCP_NODELAY = const(1)
# An outbox entry (uplink/outbox.py): [seq, time queued (s), signal, read
# through outbox.signal(): it may wait on flash].
_SEQ = const(0)
_TIME_S = const(1)


class _Sock:
    # A socket whose blocking mode is always bounded by a timeout.
    def __init__(self, sock, timeout_s, wrap=None):
        self.s = sock
        self.t = timeout_s
        self.wrap = wrap     # TLS: turns the connected TCP socket into a TLS one (uplink/tls.py)

    def settimeout(self, t):
        self.s.settimeout(self.t if t is None else t)

    def setblocking(self, flag):
        self.s.settimeout(self.t if flag else 0)

    def read(self, n):
        return self.s.read(n)

    def write(self, buf, n=None):
        if n is None:
            return self.s.write(buf)
        return self.s.write(buf, n)

    def connect(self, addr):
        self.s.connect(addr)
        if self.wrap is not None:
            self.s = self.wrap(self.s)

    def setsockopt(self, *args):
        return self.s.setsockopt(*args)

    def close(self):
        return self.s.close()


class _SocketModule:
    # Stands in for the `socket` module inside umqtt.simple so that the socket
    # connect() creates is bounded before it connects.
    def __init__(self, real, timeout_s, addresses, wrap=None):
        self.real = real
        self.timeout_s = timeout_s
        self.wrap = wrap
        self.last = None
        self.addresses = addresses   # the link's DNS cache, kept across reconnects

    def socket(self, *args):
        s = _Sock(self.real.socket(*args), self.timeout_s, self.wrap)
        s.settimeout(self.timeout_s)
        self.last = s
        return s

    def getaddrinfo(self, *args):
        # DNS on the board blocks for seconds when the resolver is unreachable;
        # resolve the broker once and reconnect to that address after that.
        found = self.addresses.get(args)
        if found is None:
            found = self.real.getaddrinfo(*args)
            self.addresses[args] = found
        return found


class Link:
    max_message = 4096      # bytes: a larger incoming message is dropped unread (counted)

    # While an alarm waits in the outbox the backoff stops growing past this
    # (jittered down to half): it goes out within about a second of the
    # broker's return, not after the tens of seconds the backoff had reached.
    alarm_retry_ms = 1000

    # How long a new connection may wait for its SUBACKs before it is given up
    # (the next node is dialled): a NATS node under load takes seconds.
    suback_ms = 10000

    def __init__(self, outbox, hub_id, secret, server, port=1883, prefix="alarm",
                 user=None, password=None, keepalive_s=30, timeout_ms=250,
                 backoff_min_ms=500, backoff_max_ms=60000, per_poll=4, resend_ms=30000,
                 on_command=None, clock=None, rand=None,
                 mqtt=None, plain_actions=("ARM_AWAY", "ARM_HOME", "DISARM"), tls=None,
                 brokers=None):
        self.outbox = outbox
        self.hub_id = hub_id
        self.secret = secret
        self.server = server
        self.port = port
        # A broker cluster's nodes, (host, port) each: any node serves any hub,
        # so a failed connect or a dropped connection moves on to the next.
        self.brokers = brokers
        self._node = 0
        self._round = 0                 # nodes failed since the list's last full round
        self.user = user
        self.password = password
        self.keepalive_s = keepalive_s
        self.timeout_s = timeout_ms / 1000
        self.backoff_min_ms = backoff_min_ms
        self.backoff_max_ms = backoff_max_ms
        self.per_poll = per_poll
        self.resend_ms = resend_ms
        # Home Assistant sends these unsigned; the panel checks their code like
        # a keypad entry (wrong ones count toward the lockout). PANIC and SOS
        # carry no code, so only their signed form is accepted.
        self.plain_actions = plain_actions
        self.retained = {}              # key -> payload kept on the broker (discovery, zones)
        self._retained_sent = set()
        # Some key in `retained` is not sent yet: the ~100 keys are looked
        # through only then, not on every pass of the loop.
        self._retained_due = False
        # A key is a topic, or a small int the owner turns into one when it is
        # sent: ~100 zone and discovery topics need not all sit in RAM.
        self.retained_topic = None
        self._addresses = {}             # (host, port) -> getaddrinfo result
        self.on_command = on_command
        self.tls = tls                  # uplink.tls.Tls, or None for plain MQTT
        self.clock = clock              # uplink.clock.Clock: command ts, time from acks
        self.rand = rand                # rand(n) in [0, n): the backoff's jitter (tests)
        if mqtt is None:
            from umqtt import simple as mqtt
        self.mqtt = mqtt
        base = "%s/%s/" % (prefix, hub_id)
        self.t_state = base + "state"
        self.t_avail = base + "availability"
        self.t_events = base + "events"
        self.t_acks = base + "acks"
        self.t_commands = base + "commands"
        self.client = None
        self.sock = None
        self.inbound = None             # what umqtt reads through, while connected
        self._poller = None             # whether the broker sent anything, without reading
        self.reads = 0                  # check_msg calls: what an idle pass should not make
        self.connected = False
        self.failures = 0               # consecutive failed connects
        self.next_try = None            # ticks of the next connect attempt (None: now)
        self.last_tx = 0
        self.last_rx = 0
        self.ping_sent = None
        self._subscribe_by = 0          # ticks by which the SUBACKs are due
        self.state = None               # Home Assistant state word to publish, retained
        self._state_sent = None
        self._sent = {}                 # seq -> ticks sent on this connection
        # The highest signed command id accepted (kept across reboots by the
        # owner through on_watermark): only a verified command moves it.
        self.watermark = 0
        self.on_watermark = None
        self.stats = {"connects": 0, "failures": 0, "published": 0, "acked": 0,
                      "bad_acks": 0, "bad_commands": 0, "retained_ignored": 0,
                      "commands": 0, "pings": 0, "command_errors": 0, "oversize": 0}
        self.last_error = None

    # ---- the hub loop's entry points ----

    def publish_retained(self, key, payload):
        """Keep `payload` retained on topic `key` (or retained_topic(key)); sent
        when connected, again after reconnects. A callable payload is built then,
        as payload(key)."""
        if self.retained.get(key) != payload:
            self.retained[key] = payload
            self._retained_sent.discard(key)
            self._retained_due = True

    def poll(self, now):
        """Do a bounded slice of link work. now: ms ticks. Never raises for network errors."""
        if not self.connected:
            if self.next_try is None or ticks.diff(now, self.next_try) >= 0:
                self._connect(now)
            return
        try:
            self._work(now)
        except Exception as e:      # OSError, MQTTException, IndexError/AssertionError on short reads
            self._drop(now, e)

    def close(self):
        """Disconnect cleanly (the broker then keeps the will unsent: publish offline first)."""
        if self.connected:
            try:
                self._timeout()
                self.client.publish(self.t_avail, b"offline", True, 1)
                self._timeout()
                self.client.disconnect()
            except Exception:
                pass
        self._close_sock()
        self.connected = False

    # ---- connection ----

    def _count(self, name, n=1):
        self.stats[name] = self.stats.get(name, 0) + n

    def _timeout(self):
        if self.sock is not None:
            self.sock.settimeout(self.timeout_s)

    def _connect(self, now):
        shim = _SocketModule(self._real_socket(), self.timeout_s, self._addresses,
                             self.tls.wrap if self.tls is not None else None)
        try:
            c = self.mqtt.MQTTClient(self.hub_id, self.server, self.port, self.user,
                                     self.password, self.keepalive_s)
            c.set_callback(self._on_message)
            c.set_last_will(self.t_avail, b"offline", True, 1)
            self.client = c
            self.mqtt.socket = shim
            try:
                c.connect(clean_session=True)
            finally:
                self.mqtt.socket = shim.real
            self.sock = c.sock if isinstance(c.sock, _Sock) else shim.last
            try:
                c.sock.setsockopt(_IPPROTO_TCP, _TCP_NODELAY, 1)
            except (OSError, AttributeError):
                pass
            self.inbound = c.sock = Inbound(c.sock, self.max_message, self.stats)
            self._poller = _poller(self.sock)
            self.connected = True
            self._timeout()
            c.publish(self.t_avail, b"online", True, 1)
            for topic in (self.t_acks, self.t_commands):
                self._timeout()
                self.inbound.defer = True
                try:
                    c.subscribe(topic, 0)
                except OSError as e:
                    if e.args[0] != errno.EAGAIN or self.inbound.defer:
                        raise
                self.inbound.defer = False
                self.inbound.subacks += 1
            self._subscribe_by = ticks.add(now, self.suback_ms)
        except Exception as e:
            if self.sock is None:
                self.sock = shim.last       # close the half-made socket too
            self._drop(now, e)
            return
        self.failures = 0
        self._round = 0
        self.next_try = None
        self._sent = {}
        self._state_sent = None
        self._retained_sent = set()
        self._retained_due = True
        self.last_tx = self.last_rx = now
        self.ping_sent = None
        self._count("connects")

    def _real_socket(self):
        s = self.mqtt.socket
        return s.real if isinstance(s, _SocketModule) else s

    def _drop(self, now, err):
        self.last_error = err
        self._count("failures")
        reason = getattr(err, "reason", None)      # uplink.tls.TlsError
        if reason is not None:
            self._count("tls_failures")
            self.stats["tls_error"] = reason
        elif isinstance(err, getattr(self.mqtt, "MQTTException", ())) and err.args:
            # The broker's CONNACK refusal: 4 bad user name or password, 5 not authorised.
            self._count("refused")
            self.stats["refused_rc"] = err.args[0]
        self._close_sock()
        self.connected = False
        if self.brokers and len(self.brokers) > 1:
            self._node = (self._node + 1) % len(self.brokers)
            self.server, self.port = self.brokers[self._node]
            if self.tls is not None:
                self.tls.hostname = self.server
            # A dead node is no reason to wait before trying a live one: the
            # next node after the shortest (jittered) wait, and the backoff
            # grows once the whole list has failed. Per node, one dead node
            # among others still electing leaders doubled it past a minute.
            self._round += 1
            if self._round < len(self.brokers):
                self.next_try = ticks.add(now, retry_in(self, 1))
                return
            self._round = 0
        self.failures += 1
        self.next_try = ticks.add(now, retry_in(self))

    def _close_sock(self):
        if self.sock is not None:
            try:
                self.sock.close()
            except Exception:
                pass
        self.sock = None
        self.client = None
        self.inbound = None
        self._poller = None

    # ---- work while connected ----

    def _work(self, now):
        c = self.client
        if self.inbound.subacks:
            # Nothing goes out before the acks topic is subscribed: the
            # monitor's ack to a signal sent now would reach no subscriber
            # (acks are not retained) and the signal would wait `resend_ms`.
            self._read(now)
            if not self.connected or self.inbound.subacks:
                if self.connected and ticks.diff(now, self._subscribe_by) >= 0:
                    raise OSError(errno.ETIMEDOUT)     # no SUBACK: try the next node
                return
            self.last_tx = self.last_rx = now
        if self.state is not None and self.state != self._state_sent:
            self._timeout()
            c.publish(self.t_state, self.state.encode(), True, 1)
            self._state_sent = self.state
            self.last_tx = self.last_rx = now
        budget = self.per_poll
        due = self._retained_due
        self._retained_due = False
        for key in self.retained if due else ():
            if key not in self._retained_sent:
                if budget <= 1:
                    self._retained_due = True
                    break
                payload = self.retained[key]
                if callable(payload):
                    payload = payload(key)    # built on demand: discovery configs
                topic = key if isinstance(key, str) else self.retained_topic(key)
                self._timeout()
                c.publish(topic, payload, True, 1)
                self._retained_sent.add(key)
                self.last_tx = self.last_rx = now
                budget -= 1
        for e in self.outbox.entries():
            if budget <= 0:
                break
            seq = e[_SEQ]
            sent = self._sent.get(seq)
            if sent is not None and ticks.diff(now, sent) < self.resend_ms:
                continue
            try:
                payload = wire.event(self.secret, self.hub_id, e[_TIME_S], self.outbox.signal(e),
                                     getattr(self.outbox, "epoch", None))
            except ValueError:
                # It can never be signed (a float slipped in): holding it would
                # block every signal behind it, so count it and let it go.
                self.outbox.ack([seq])
                self._count("unsendable")
                continue
            self._timeout()
            c.publish(self.t_events, payload, False, 1)   # returns on PUBACK
            self._sent[seq] = now
            self.last_tx = self.last_rx = now
            self._count("published")
            budget -= 1
        self._read(now)
        if not self.connected:
            return
        ka = self.keepalive_s * 1000
        if ka:
            if self.ping_sent is not None and ticks.diff(now, self.ping_sent) > ka // 2:
                raise OSError(errno.ETIMEDOUT)      # no PINGRESP: the broker is gone
            if self.ping_sent is None and ticks.diff(now, self.last_tx) >= ka // 2:
                self._timeout()
                c.ping()
                self.ping_sent = self.last_tx = now
                self._count("pings")

    def _read(self, now):
        c = self.client
        for _ in range(self.per_poll):
            if not self.connected:
                return
            if not self._readable():
                break
            self.reads += 1
            self._timeout()
            self.inbound.op = 0
            c.check_msg()
            if self.inbound is None or not self.inbound.op:
                break
            self.last_rx = now
            if self.inbound.op == 0xD0:
                self.ping_sent = None

    def _readable(self):
        # Whether check_msg can find anything: one poll of the socket instead
        # of umqtt's three timeout changes and a read on every loop pass. A
        # closed connection reads as readable, so check_msg still notices it.
        p = self._poller
        i = self.inbound
        if p is None or i.head or i.left or i.skip:
            return True
        for _ in p.ipoll(0) if _IPOLL else p.poll(0):
            return True
        return False

    # ---- incoming ----

    def _on_message(self, topic, msg):
        # Called from inside umqtt while it reads: never raise from here.
        try:
            if isinstance(topic, (bytes, bytearray)):
                topic = bytes(topic).decode()
            if topic == self.t_acks:
                self._on_ack(msg)
            elif topic == self.t_commands:
                self._on_command(msg)
        except Exception as e:
            self.last_error = e
            self._count("command_errors")

    def _on_ack(self, msg):
        obj = wire.parse(msg)
        seqs = wire.check_ack(obj, self.hub_id, self.secret)
        if seqs is None:
            self._count("bad_acks")
            return
        answers = False
        for s in seqs:
            if self._sent.pop(s, None) is not None:
                answers = True
        # The monitor's time, covered by the ack's MAC. Only from an ack that
        # answers a signal sent on this connection: a replayed old ack must
        # not set the clock to its old time.
        t = obj.get("time")
        if answers and t is not None and self.clock is not None:
            self.clock.adopt(t, "monitor")
        self._count("acked", self.outbox.ack(seqs))

    def _on_command(self, msg):
        if self.inbound is not None and self.inbound.op & 1:
            self._count("retained_ignored")   # a stale command kept by the broker
            return
        obj = wire.parse(msg)
        if obj is None or not isinstance(obj.get("action"), str):
            self._count("bad_commands")
            return
        if "mac" in obj or obj.get("action") not in self.plain_actions:
            obj = self._check_signed(obj)
            if obj is None:
                self._count("bad_commands")
                return
        else:
            # Unsigned: only what the panel needs, so nothing else in it (an
            # "id" that would move the signed-command watermark) goes further.
            plain = {"action": obj["action"], "code": obj.get("code")}
            if "force" in obj:
                plain["force"] = obj["force"]
            obj = plain
        self._count("commands")
        if self.on_command is not None:
            try:
                self.on_command(obj)
            except Exception as e:
                self.last_error = e
                self._count("command_errors")

    def _check_signed(self, obj):
        body = wire.verify(self.secret, obj)
        if body is None or body.get("type") != "command" or body.get("hub") != self.hub_id:
            return None
        cid = body.get("id")
        ts = body.get("ts")
        if not isinstance(cid, int) or cid <= self.watermark or not isinstance(ts, int):
            return None                     # replayed or reordered
        wall = self.clock
        if wall is None or not wall.trusted():
            # No trusted time yet (no ack with the monitor's time, no NTP):
            # the ts window cannot be applied, so the command is refused.
            self._count("untimed_commands")
            return None
        t = wall.now()
        if ts - t > wall.window_s or t - ts > wall.window_s:
            return None                     # outside the window
        self.watermark = cid
        if self.on_watermark is not None:
            self.on_watermark(cid)
        return body


_IPOLL = hasattr(select.poll(), "ipoll")     # MicroPython's: polls without allocating


def _poller(sock):
    # A poller on the connected (TLS: the TLS) socket, or None when it cannot
    # be polled (then check_msg runs every pass, as it always did).
    try:
        p = select.poll()
        p.register(sock.s, select.POLLIN)
        return p
    except Exception:
        return None
