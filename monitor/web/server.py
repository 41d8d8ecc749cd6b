"""uvicorn on a thread and event loop of its own.

The intake (paho's network thread and the engine thread) never waits on the
web side: the web side's blocking work (Argon2, SOS publishing, account
writes) runs on this loop's own executor, and engine work is handed over
through Receiver.submit and awaited without holding a thread."""
import asyncio
import socket
import threading

import uvicorn

from monitor.web import app as webapp
from monitor.web.connections import HEADER_TIMEOUT_S, PER_ADDRESS, Limits


class Uvicorn:
    """Any ASGI app served from a thread: start() returns once it listens."""

    def __init__(self, app, host="127.0.0.1", port=0, on_loop=None, name="web",
                 trusted_proxies=(), per_address=PER_ADDRESS,
                 header_timeout_s=HEADER_TIMEOUT_S):
        self.on_loop = on_loop          # fn(loop), run on the server's loop before serving
        self.name = name
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.sock = socket.socket(family, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((host, port))
        self.sock.listen(1024)
        shown = host if ":" not in host else "[%s]" % host
        self.url = "http://%s:%d" % (shown, self.sock.getsockname()[1])
        # Every client of a trusted proxy comes from its address: no per-address limit there.
        self.limits = Limits(per_address=per_address, header_timeout_s=header_timeout_s,
                             exempt=trusted_proxies)
        self.server = uvicorn.Server(uvicorn.Config(
            app, loop="asyncio", http=self.limits.protocol(), lifespan="off",
            log_level="warning", access_log=False, timeout_keep_alive=5,
            timeout_graceful_shutdown=2,
            # Connections are capped by self.limits; this bounds requests in flight too.
            limit_concurrency=self.limits.cap + 1, proxy_headers=bool(trusted_proxies),
            forwarded_allow_ips=list(trusted_proxies) or None))
        self.thread = None
        self._up = threading.Event()

    def start(self, timeout=10):
        self.thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self.thread.start()
        if not self._up.wait(timeout) or not self.server.started:
            raise RuntimeError("the web server did not start on %s" % self.url)
        return self

    def _run(self):
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        try:
            if self.on_loop:
                self.on_loop(loop)
            loop.run_until_complete(self._serve())
        finally:
            self._up.set()
            loop.close()

    async def _serve(self):
        task = asyncio.ensure_future(self.server.serve(sockets=[self.sock]))
        while not self.server.started and not task.done():
            await asyncio.sleep(0.01)
        self._up.set()
        await task

    def stop(self):
        self.server.should_exit = True
        if self.thread:
            self.thread.join(10)
        self.sock.close()


class WebServer:
    """The console and the owner's app for a started Receiver."""

    def __init__(self, rx, config):
        self.config = config
        self.web = webapp.Web(rx, config)
        self.serving = Uvicorn(webapp.build(self.web), config.host, config.port,
                               on_loop=self.web.live.start, name="web-console",
                               trusted_proxies=config.trusted_proxies,
                               per_address=config.connections_per_address,
                               header_timeout_s=config.header_timeout_s)
        self.url = self.serving.url
        self.web.bound_url = self.url

    def start(self, timeout=10):
        self.serving.start(timeout)
        return self

    def stop(self):
        self.web.live.stop()
        self.web.hubview.stop()
        self.serving.stop()
        self.web.close_store()
