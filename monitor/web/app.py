"""The web application: pages, the API, the live stream, the owner's app, and
the checks in front of them (guard.py, TrustedHostMiddleware, and access.lock:
every route locked to a logged-in operator unless its handler is marked)."""
import asyncio
import os

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.responses import FileResponse, JSONResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from monitor import accounts, health, operators
from monitor.cases import Refused
from monitor.store import ERRORS, Store
from monitor.web import owner, routes
from monitor.web.access import lock, public
from monitor.web.auth import Auth, Denied
from monitor.web.hashing import HashGate
from monitor.web.hubview import HubView
from monitor.web.guard import (BadRequest, OneBodyLength, SameOriginWrites,
                               SecurityHeaders)
from monitor.web.live import LiveFeed

STATIC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "static")
LOOPBACK = ("127.0.0.1", "localhost", "::1", "[::1]")


class Web:
    """What the routes share: the service (a Receiver), the web side's own store
    connection (used on the event loop only), the config, sessions, the live feed."""

    def __init__(self, rx, config):
        self.rx = rx
        self.config = config
        self.db = rx.s.db
        self._store = None
        try:
            self.store
        except ERRORS as e:
            # Started while the store is down: /health says so, and the
            # first request after it is back opens the connection.
            if not health.store_fault(e):
                raise
        self.auth = Auth(self)
        self.live = LiveFeed(self.db, config)
        self.hubview = HubView(rx.s)      # the owner's app's view of the hubs (started on use)
        self.hashing = HashGate()         # verbal password checks, off the engine thread
        self.bound_url = None

    @property
    def store(self):
        """The web side's connection, opened on first use."""
        if self._store is None:
            store = Store(self.db)
            try:
                operators.ensure_schema(store)
            except BaseException:
                store.close()
                raise
            self._store = store
        return self._store

    def base_url(self, request=None):
        if self.config.public_url:
            return self.config.public_url.rstrip("/")
        if request is not None:
            return "%s://%s" % (request.url.scheme, request.headers.get("host"))
        return self.bound_url

    def close(self):
        self.live.stop()
        self.hubview.stop()
        self.hashing.close()
        self.close_store()

    def close_store(self):
        if self._store is not None:
            self._store.close()
            self._store = None


def _page(name):
    path = os.path.join(STATIC, name)

    @public     # a shell: the data comes from the (locked) API
    async def serve(request):
        return FileResponse(path, media_type="text/html; charset=utf-8")
    return serve


@public
async def _favicon(request):
    return FileResponse(os.path.join(STATIC, "favicon.svg"), media_type="image/svg+xml")


def _error(status):
    async def handler(request, exc):
        headers = getattr(exc, "headers", None)
        return JSONResponse({"error": str(exc) or exc.__class__.__name__},
                            getattr(exc, "status", status), headers=headers)
    return handler


def allowed_hosts(config):
    hosts = set(LOOPBACK) | set(config.allowed_hosts)
    if config.host not in ("0.0.0.0", "::"):
        hosts.add(config.host)
    return sorted(hosts)


def build(web):
    config = web.config
    pages = [Route("/", _page("queue.html")), Route("/login", _page("login.html")),
             Route("/case/{case}", _page("case.html")),
             Route("/account/{hub}", _page("account.html")),
             Route("/operators", _page("operators.html")),
             Route("/app", _page("app.html"))]
    api = [
        Route("/api/login", web.auth.login, methods=["POST"]),
        Route("/api/logout", web.auth.logout, methods=["POST"]),
        Route("/api/me", web.auth.me),
        Route("/api/cases", routes.queue),
        Route("/api/cases/{case}", routes.case),
        Route("/api/cases/{case}/{action}", routes.case_action, methods=["POST"]),
        Route("/api/accounts/{hub}", routes.account),
        Route("/api/accounts/{hub}", routes.edit_account, methods=["POST"]),
        Route("/api/accounts/{hub}/link", routes.link_account, methods=["POST"]),
        Route("/api/operators", routes.list_operators),
        Route("/api/operators", routes.add_operator, methods=["POST"]),
        Route("/api/stream", routes.stream),
        Route("/api/stats", routes.stats),
        Route("/app/link/{token}", owner.open_link, methods=["GET", "POST"]),
        Route("/api/app", owner.whoami),
        Route("/api/app/sos", owner.sos, methods=["POST"]),
        Route("/api/app/home", owner.home),
        Route("/api/app/command", owner.command, methods=["POST"]),
        Route("/api/app/cancel", owner.cancel, methods=["POST"]),
        Route("/api/app/confirm", owner.confirm, methods=["POST"]),
        # Asked for by every browser: an answer, not a 404 in the console.
        Route("/favicon.ico", _favicon),
        Route("/health", routes.health),
        Mount("/static", public(StaticFiles(directory=STATIC))),
    ]
    app = Starlette(
        # Each route behind the check its handler's mark asks for (access.py).
        routes=lock(pages + api, web.auth),
        middleware=[Middleware(OneBodyLength),
                    Middleware(TrustedHostMiddleware, allowed_hosts=allowed_hosts(config),
                               www_redirect=False),
                    Middleware(SecurityHeaders),
                    Middleware(SameOriginWrites, allowed_origins=config.allowed_origins)],
        exception_handlers={Denied: _error(401), Refused: _error(409),
                            BadRequest: _error(400), accounts.AccountError: _error(400),
                            operators.OperatorError: _error(400),
                            asyncio.TimeoutError: _error(504)})
    app.state.web = web
    return app
