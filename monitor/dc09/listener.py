"""The DC-09 TCP listener: the transport is ours, not pysiaalarm's, because
its servers answer ACK before their callback runs; a panel that hears ACK
forgets the signal, so ours answers only once the store has committed it.

An asyncio server on a thread of its own. Each frame goes to the engine
thread (Receiver.submit), which reads it (frame.py), stores it (intake.py)
and commits; then its answer is sent. No commit, no answer: the connection is
closed and the panel sends again. Connections, frame length and idle time are
bounded, so a peer cannot hold the listener or the engine:

- a new connection must send its first frame within FIRST_FRAME_S (a panel
  sends as soon as it dials); after that IDLE_S between frames;
- an address holds at most PER_ADDRESS connections;
- when all MAX_CLIENTS are taken, a new connection evicts the one idle
  longest (one that never sent a frame first): a panel then never waits out
  someone's idle connections, and an evicted panel just dials again."""
import asyncio
import logging
import threading
import time

from monitor.dc09 import frame, intake

log = logging.getLogger("monitor.dc09")

MAX_CLIENTS = 64        # a hub keeps one connection; more means someone else
IDLE_S = 300.0          # a hub's link test comes well within this
FIRST_FRAME_S = 10.0    # a panel sends its message as soon as it has dialled
PER_ADDRESS = 8         # panels behind one NAT; a hub itself keeps one
ANSWER_S = 30.0         # the engine's commit; beyond it the panel resends anyway


class Listener:
    def __init__(self, rx, host="127.0.0.1", port=0, max_clients=MAX_CLIENTS, idle_s=IDLE_S,
                 answer_s=ANSWER_S, window=frame.WINDOW, first_frame_s=FIRST_FRAME_S,
                 per_address=PER_ADDRESS, resend_s=intake.RESEND_S):
        self.rx = rx
        self.window = tuple(window)
        self.resend_s = resend_s
        self.host = host
        self.port = port
        self.max_clients = max_clients
        self.idle_s = idle_s
        self.answer_s = answer_s
        self.first_frame_s = first_frame_s
        self.per_address = per_address
        self.open = {}              # writer -> _Conn, on the listener's loop only
        self.refused_log = _RefusedLog()
        self._loop = None
        self._server = None
        self._thread = None
        self._ready = threading.Event()
        self._error = None

    def start(self, timeout=10):
        self._thread = threading.Thread(target=self._run, name="monitor-dc09", daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout):
            raise RuntimeError("the DC-09 listener did not start")
        if self._error is not None:
            raise self._error
        return self

    def stop(self):
        if self._loop is not None and self._loop.is_running():
            self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(10)

    def _run(self):
        self._loop = loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        try:
            self._server = loop.run_until_complete(asyncio.start_server(
                self._client, self.host, self.port, limit=frame.MAX_LINE))
        except OSError as e:
            self._error = OSError("DC-09 listener on %s:%s: %s" % (self.host, self.port,
                                                                   e.strerror or e))
            self._ready.set()
            loop.close()
            return
        self.port = self._server.sockets[0].getsockname()[1]
        self._ready.set()
        try:
            loop.run_forever()
        finally:
            self._server.close()
            tasks = asyncio.all_tasks(loop)
            for task in tasks:
                task.cancel()
            # Let every connection's task end (and close its socket) before the loop goes.
            if tasks:
                loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
            loop.close()

    @property
    def clients(self):
        return len(self.open)

    async def _client(self, reader, writer):
        host, port = writer.get_extra_info("peername")[:2]
        peer = "%s:%s" % (host, port)
        if sum(1 for c in self.open.values() if c.host == host) >= self.per_address:
            self._refuse(writer, "too_many_from_address", peer)
            return
        if len(self.open) >= self.max_clients and not self._evict():
            self._refuse(writer, "too_many_connections", peer)
            return
        conn = self.open[writer] = _Conn(host)
        try:
            await self._serve(reader, writer, peer, conn)
        except (ConnectionError, asyncio.CancelledError, asyncio.TimeoutError):
            pass
        except Exception:
            log.exception("DC-09 connection from %s", peer)
        finally:
            self.open.pop(writer, None)
            writer.close()

    def _evict(self):
        """Close the connection idle longest, one that never sent a frame first;
        False when every one is waiting on the engine."""
        idle = [(c.framed, c.last, w) for w, c in self.open.items() if not c.busy]
        if not idle:
            return False
        _, _, writer = min(idle, key=lambda t: t[:2])
        del self.open[writer]       # its slot is the new one's now; its task ends on the close
        writer.transport.abort()
        self._count("evicted_idle")
        return True

    def _refuse(self, writer, reason, peer):
        self._count(reason)
        self.refused_log.note(peer, reason, len(self.open))
        writer.transport.abort()

    async def _serve(self, reader, writer, peer, conn):
        while True:
            wait = self.idle_s if conn.framed else self.first_frame_s
            try:
                raw = await asyncio.wait_for(reader.readuntil(b"\r"), wait)
            except asyncio.TimeoutError:
                if not conn.framed:
                    self._count("no_first_frame")
                return                      # idle: the panel dials again when it has news
            except asyncio.IncompleteReadError:
                return                      # closed by the panel
            except asyncio.LimitOverrunError:
                # No end within the bound: answered DUH, and the line dropped,
                # as the rest of it cannot be told from the next message.
                self._count("oversize")
                log.warning("DC-09 message refused: oversize (from %s)", peer)
                await self._say(writer, frame.duh())
                return
            if not raw.strip():
                continue
            conn.framed, conn.busy = True, True
            fut = self.rx.submit(lambda desk, raw=raw: intake.handle(desk, raw, peer,
                                                                      self.window,
                                                                      self.resend_s))
            try:
                # Shielded: a timeout here must not cancel the engine's future,
                # which the engine still resolves when it gets to it.
                verdict = await asyncio.wait_for(asyncio.shield(asyncio.wrap_future(fut)),
                                                 self.answer_s)
            except Exception as e:
                # Not committed: no answer. Closing says so at once; the panel resends.
                log.warning("DC-09 message from %s not stored (%s): no answer, connection "
                            "closed", peer, e.__class__.__name__)
                return
            self.rx.handled[verdict.outcome] += 1
            await self._say(writer, verdict.answer)
            conn.busy, conn.last = False, time.monotonic()

    async def _say(self, writer, answer):
        # A peer that sends and never reads must not hold its slot for ever.
        writer.write(answer)
        await asyncio.wait_for(writer.drain(), self.answer_s)

    def _count(self, reason):
        self.rx.handled["dc09_rejected"] += 1
        self.rx.submit(lambda desk: intake.refused(desk.store, reason))


class _Conn:
    def __init__(self, host):
        self.host = host
        self.last = time.monotonic()    # connected, or last answered
        self.framed = False             # has sent a frame: a panel, not just a socket
        self.busy = False               # its frame is with the engine: not idle


class _RefusedLog:
    """One warning a minute for refused connections, with how many: a flood of
    them must not flood the log."""

    def __init__(self, every_s=60.0):
        self.every_s = every_s
        self.next = 0.0
        self.held = 0

    def note(self, peer, reason, open_now):
        self.held += 1
        now = time.monotonic()
        if now >= self.next:
            log.warning("DC-09 connection from %s refused (%s, %d open); %d refused since "
                        "the last warning", peer, reason, open_now, self.held)
            self.next, self.held = now + self.every_s, 0
