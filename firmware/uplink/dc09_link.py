# The hub's SIA DC-09 path: sends queued signals to a central station's
# receiver over TCP, one message at a time in seq order, and supervises the
# path with NULL (link test) messages. Never stalls the alarm loop:
#   - connect and send are bounded by `timeout_ms`, set again before each call;
#   - the answer is read without blocking, a little on each poll(now);
#   - no answer within `answer_ms`: the connection is dropped and made again
#     after a backoff (exponential, jittered, capped), the message sent again
#     with its same sequence number (DC-09 receivers dedupe by it, ours by the
#     signal's identity in it).
# Answers: ACK (*ACK encrypted, checked under the key) with this message's
# sequence and account acks the signal on this path (the outbox keeps it for
# the MQTT path if that has not acked yet). NAK: the receiver found the time
# outside its window; its time (in the NAK) sets the offset DC-09 stamps are
# made with, and the message goes again after the backoff. DUH: the receiver
# cannot use it (unknown account or code); the signal is held for `duh_ms` and
# the ones behind it go on, so one refused signal never blocks the path and
# none is thrown away. A NULL left unanswered marks the path down (stats "up"
# false, on the hub's status topic), like any failure.
import errno

from panel.compat import const

from panel import ticks
from uplink import dc09, dc09_answer
from uplink.outbox import retry_in

_MAX_ANSWER = const(512)     # bytes: a longer "answer" is not one
# An outbox entry (uplink/outbox.py): [seq, time queued (s), signal, read
# through outbox.signal(): it may wait on flash].
_SEQ = const(0)
# self.waiting, the message sent and not yet answered: [seq (None for a
# NULL), its DC-09 sequence number, the ticks it was sent at].
_W_SEQ = const(0)
_W_NO = const(1)
_W_SENT = const(2)


class Dc09:
    alarm_retry_ms = 1000    # as uplink/link.py: an alarm never waits out a long backoff
    window_s = 300           # an encrypted ACK's time may differ this much from the stamps

    # outbox: the Outbox, or with MQTT reporting too its DC-09 View
    # (uplink/outbox_paths.py): the signals this path still owes, in seq order.
    def __init__(self, outbox, host, port, account, key=None, receiver=None, line="0",
                 clock=None, supervision_s=240, timeout_ms=250, answer_ms=10000,
                 backoff_min_ms=500, backoff_max_ms=60000, duh_ms=600000,
                 sock=None, rand=None, noise=None):
        self.outbox = outbox
        self.host = host
        self.port = port
        self.account = account
        self.key = key                # bytes of the key's characters, or None: plain
        self.receiver = receiver
        self.line = line
        self.clock = clock            # () -> unix seconds (uplink.clock.Clock.now)
        self.offset = 0               # seconds added to the clock for DC-09 stamps (NAK)
        self.supervision_ms = supervision_s * 1000
        self.timeout_s = timeout_ms / 1000
        self.answer_ms = answer_ms
        self.backoff_min_ms = backoff_min_ms
        self.backoff_max_ms = backoff_max_ms
        self.duh_ms = duh_ms
        if sock is None:
            import socket as sock
        self.socket = sock
        self.rand = rand
        self.noise = noise
        self.addr = None              # the receiver's address, resolved once
        self.sock = None
        self.buf = b""
        self.waiting = None           # [seq or None (NULL), seq_no, ticks sent]
        self.null_no = 0
        self.failures = 0
        self.next_try = None          # ticks of the next connect or send (None: now)
        self.last_ok = None           # ticks of the last answer, or of the connect
        self.held = {}                # seq -> ticks: refused (DUH), sent again then
        self.stats = {"up": False, "connects": 0, "failures": 0, "sent": 0, "acked": 0,
                      "naks": 0, "duh": 0, "timeouts": 0, "bad_answers": 0, "nulls": 0}

    # ---- the hub loop's entry point ----

    def poll(self, now):
        """A bounded slice of work. now: ms ticks. Never raises for network errors."""
        if self.next_try is not None and ticks.diff(now, self.next_try) < 0:
            return
        try:
            if self.sock is None:
                self._connect(now)
            if self.waiting is None:
                self._send(now)
            else:
                self._read(now)
        except Exception as e:          # OSError, or an answer we could not act on
            self._fail(now, e)

    def close(self):
        self._close()

    # ---- sending ----

    def _connect(self, now):
        if self.addr is None:
            # DNS blocks on the board when the resolver is away: once, then cached.
            self.addr = self.socket.getaddrinfo(self.host, self.port, 0, 1)[0][-1]
        s = self.socket.socket()
        self.sock = s
        s.settimeout(self.timeout_s)
        s.connect(self.addr)
        self.buf = b""
        self.last_ok = now
        self.stats["connects"] += 1

    def _send(self, now):
        seq = None
        for e in self.outbox.entries():
            s = e[_SEQ]
            h = self.held.get(s)
            if h is not None:
                if ticks.diff(now, h) < 0:
                    continue
                del self.held[s]
            seq = s
            sig = self.outbox.signal(e)
            break
        if seq is None:
            if not self.supervision_ms or ticks.diff(now, self.last_ok) < self.supervision_ms:
                return
            self.null_no = self.null_no % 9999 + 1
            no, kind, data = self.null_no, "NULL", ""
            self.stats["nulls"] += 1
        else:
            no, kind = dc09.number(seq), "ADM-CID"
            data = dc09.content(sig, self.outbox.epoch)
        msg = dc09.message(kind, no, self.account, self.key, self.receiver, self.line, data,
                           self.clock() + self.offset, self.noise)
        self.sock.settimeout(self.timeout_s)
        sent = 0
        while sent < len(msg):
            n = self.sock.send(msg[sent:])
            if not n:
                raise OSError(errno.ETIMEDOUT)
            sent += n
        self.waiting = [seq, no, now]
        if seq is not None:
            self.stats["sent"] += 1

    # ---- answers ----

    def _read(self, now):
        s = self.sock
        s.settimeout(0)
        try:
            chunk = s.recv(_MAX_ANSWER)
        except OSError as e:
            if e.args[0] not in (errno.EAGAIN, errno.ETIMEDOUT):
                raise
            chunk = None
        if chunk is not None:
            if not chunk:
                raise OSError("closed")     # the receiver hung up before answering
            self.buf += chunk
        while b"\r" in self.buf:
            i = self.buf.index(b"\r")
            line = self.buf[:i]
            self.buf = self.buf[i + 1:]
            if line.strip():
                self._answer(now, line)
            if self.waiting is None:
                return
        if len(self.buf) > _MAX_ANSWER:
            raise OSError("answer too long")
        if ticks.diff(now, self.waiting[_W_SENT]) >= self.answer_ms:
            self.stats["timeouts"] += 1
            raise OSError(errno.ETIMEDOUT)

    def _answer(self, now, line):
        a = dc09_answer.parse(line, self.key)
        w = self.waiting
        if a is None:
            self.stats["bad_answers"] += 1
            return
        kind, no, account, t = a
        if kind == "NAK":
            # Sequence 0000, no account: the receiver's time is all it says.
            self.stats["naks"] += 1
            if t is not None:
                self.offset = t - self.clock()
            self.waiting = None
            raise OSError("NAK")    # again after the backoff, with the new stamp
        if no != w[_W_NO] or account != self.account:
            self.stats["bad_answers"] += 1   # not this message's: a late or forged one
            return
        if kind == "ACK":
            if self.key is not None and (t is None or
                                         abs(t - self.clock() - self.offset) > self.window_s):
                self.stats["bad_answers"] += 1   # an old ACK played back
                return
            if w[_W_SEQ] is not None:
                self.outbox.ack([w[_W_SEQ]])
                self.stats["acked"] += 1
        elif kind == "DUH":
            self.stats["duh"] += 1
            if w[_W_SEQ] is not None:
                # Held ones the other path has since taken off the queue go.
                queued = [e[_SEQ] for e in self.outbox.entries()]
                self.held = {s: t for s, t in self.held.items() if s in queued}
                self.held[w[_W_SEQ]] = ticks.add(now, self.duh_ms)
        else:
            self.stats["bad_answers"] += 1
            return
        self.waiting = None
        self.last_ok = now
        self.failures = 0
        self.stats["up"] = True

    # ---- failures ----

    def _fail(self, now, err):
        self.stats["failures"] += 1
        self.stats["error"] = str(err)
        self._close()
        self.stats["up"] = False
        self.waiting = None
        self.failures += 1
        self.next_try = ticks.add(now, retry_in(self))

    def _close(self):
        if self.sock is not None:
            try:
                self.sock.close()
            except Exception:
                pass
        self.sock = None
