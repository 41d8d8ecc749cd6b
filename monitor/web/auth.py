"""Logging in and out, and who is asking.

Operators log in with a name and password (Argon2, monitor/operators.py);
owners come in through their account's app link (owner.py). Either way the
browser holds only a random session token in an HttpOnly, SameSite=Strict
cookie (Secure over https). Every state-changing request also sends the
session's CSRF token in X-CSRF-Token; guard.py has already checked its Origin."""
import asyncio
import hashlib

from starlette.responses import JSONResponse

from monitor import operators
from monitor.store import ERRORS
from monitor.web.access import public
from monitor.web.guard import SAFE, json_body
from monitor.web.ratelimit import LoginThrottle

COOKIE = {"operator": "op_session", "owner": "app_session"}
# Over https the browser only takes a __Host- cookie that is Secure, for this
# exact host, path / : a sibling subdomain cannot plant or overwrite it.
HOST_PREFIX = "__Host-"
CSRF_HEADER = "x-csrf-token"


def _key(token):
    return hashlib.sha256(token.encode()).digest()


class Denied(Exception):
    def __init__(self, status, message, headers=None):
        super().__init__(message)
        self.status = status
        self.headers = headers


class Auth:
    def __init__(self, web):
        self.web = web
        self.throttle = LoginThrottle(web.config)
        # Operator sessions this process has seen valid (token digest -> until when,
        # in seconds), for /health's details while the store that holds them fails.
        self.seen = {}

    def secure(self, request):
        return self.web.config.https or request.url.scheme == "https"

    def open_session(self, kind, subject):
        """(token for the cookie, the session)."""
        token = operators.open_session(self.web.store, kind, subject,
                                       self.web.config.session_ttl_s, self.web.config.clock)
        return token, operators.session(self.web.store, token, self.web.config.clock)

    def cookie(self, request, kind):
        return (HOST_PREFIX if self.secure(request) else "") + COOKIE[kind]

    def set_cookie(self, request, response, kind, token):
        response.set_cookie(self.cookie(request, kind), token, max_age=int(self.web.config.session_ttl_s),
                            path="/", httponly=True, samesite="strict",
                            secure=self.secure(request))

    def current(self, request, kind):
        return operators.session(self.web.store, request.cookies.get(self.cookie(request, kind)),
                                 self.web.config.clock)

    def _remember(self, token):
        now = self.web.config.clock()
        self.seen = {k: until for k, until in self.seen.items() if until > now}
        self.seen[_key(token)] = now + self.web.config.session_ttl_s

    def operator_asks(self, request):
        """True when a logged-in operator makes this request (/health's details).
        The store asked first; while it fails, the sessions this process saw valid."""
        token = request.cookies.get(self.cookie(request, "operator"))
        if not token:
            return False
        try:
            sess = self.current(request, "operator")
        except ERRORS:
            return self.seen.get(_key(token), 0) > self.web.config.clock()
        if sess is None or sess["kind"] != "operator":
            self.seen.pop(_key(token), None)
            return False
        self._remember(token)
        return True

    def require(self, request, kind="operator", role=None):
        """The session behind this request, or Denied. Checks the CSRF token on writes.
        access.lock applies it in front of every route not marked @public."""
        sess = self.current(request, kind)
        if sess is None or sess["kind"] != kind:
            raise Denied(401, "log in first" if kind == "operator"
                         else "open this app from your account's link")
        if role == "admin" and sess["role"] != "admin":
            raise Denied(403, "only an admin may do that")
        if request.method not in SAFE and \
                not operators.csrf_ok(sess, request.headers.get(CSRF_HEADER)):
            raise Denied(403, "missing or wrong CSRF token (reload the page)")
        return sess

    # ---- routes ----

    @public
    async def login(self, request):
        body = await json_body(request)
        name, password = body.get("name"), body.get("password")
        if not isinstance(name, str) or not isinstance(password, str) or not name:
            raise Denied(400, "send name and password")
        address = request.client.host if request.client else "?"
        # Counted here, before the first await: guesses sent at once each meet
        # the count the ones before them left (ratelimit.py).
        wait = self.throttle.begin(name, address)
        if wait:
            raise Denied(429, "too many failed logins: try again in %d s" % wait,
                         {"Retry-After": str(wait)})
        pw_hash, role = operators.password_hash(self.web.store, name)
        # Argon2 is slow on purpose: off the event loop, on the web side's own pool.
        ok = await asyncio.to_thread(operators.verify, pw_hash, password)
        if not ok or role is None:
            raise Denied(401, "wrong user name or password")
        self.throttle.succeeded(name, address)
        token, sess = self.open_session("operator", name)
        self._remember(token)
        response = JSONResponse({"name": name, "role": role, "csrf": sess["csrf"]})
        self.set_cookie(request, response, "operator", token)
        return response

    @public         # ends whichever sessions the browser holds (CSRF-checked), or none
    async def logout(self, request):
        response = JSONResponse({"logged_out": True})
        for kind in COOKIE:
            cookie = self.cookie(request, kind)
            token = request.cookies.get(cookie)
            if token and self.current(request, kind):
                if request.method not in SAFE:
                    self.require(request, kind)
                operators.close_session(self.web.store, token)
            response.delete_cookie(cookie, path="/", secure=self.secure(request),
                                   httponly=True, samesite="strict")
        return response

    @public     # asked by every console page before it knows: a stranger is no error
    async def me(self, request):
        sess = self.current(request, "operator")
        if sess is None or sess["kind"] != "operator":
            return JSONResponse({"logged_in": False, "error": "not logged in",
                                 "login_hint": self.web.config.login_hint})
        return JSONResponse({"logged_in": True, "name": sess["subject"], "role": sess["role"],
                             "csrf": sess["csrf"]})
