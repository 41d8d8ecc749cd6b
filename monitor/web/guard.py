"""The door's frame: checks every request passes before any route sees it.

- OneBodyLength: a request that gives its body's length two ways (both
  Content-Length and Transfer-Encoding, or two Content-Lengths) is how a
  second request is smuggled past a proxy that reads the other one: refused,
  and the connection closed so nothing after it on the wire is read as a
  request (RFC 9112, 6.3). h11 itself refuses a malformed Content-Length.
- SecurityHeaders: the pages cannot be framed (clickjacking), nothing sniffs
  types, API answers are not cached.
- SameOriginWrites: a state-changing request must come from a page of this
  site (its Origin header names this host) and carry JSON. A form or a
  `text/plain` fetch from another site is refused before any route runs; the
  routes then check the session's CSRF token too (auth.py).
"""
import json

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import JSONResponse

SAFE = ("GET", "HEAD", "OPTIONS")
MAX_BODY = 16 * 1024
HEADERS = [
    (b"content-security-policy",
     b"default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; "
     b"object-src 'none'"),
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"cache-control", b"no-store"),
]


class BadRequest(ValueError):
    """The request is wrong as sent; the message names what."""


class OneBodyLength:
    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http":
            names = [k.lower() for k, _ in scope["headers"]]
            lengths = names.count(b"content-length")
            if lengths > 1 or (lengths and b"transfer-encoding" in names):
                return await JSONResponse(
                    {"error": "refused: the body's length is given twice (Content-Length "
                              "with Transfer-Encoding, or two Content-Lengths)"}, 400,
                    headers={"Connection": "close"})(scope, receive, send)
        await self.app(scope, receive, send)


class SecurityHeaders:
    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def with_headers(message):
            if message["type"] == "http.response.start":
                have = {k.lower() for k, _ in message.get("headers", [])}
                message["headers"] = list(message.get("headers", [])) + \
                    [(k, v) for k, v in HEADERS if k not in have]
            await send(message)
        await self.app(scope, receive, with_headers)


def own_origin(scope):
    headers = Headers(scope=scope)
    return "%s://%s" % (scope.get("scheme", "http"), headers.get("host", ""))


class SameOriginWrites:
    def __init__(self, app, allowed_origins=()):
        self.app = app
        self.allowed = set(allowed_origins)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] in SAFE:
            return await self.app(scope, receive, send)
        headers = Headers(scope=scope)
        origin = headers.get("origin")
        if origin is None or (origin != own_origin(scope) and origin not in self.allowed):
            return await JSONResponse(
                {"error": "refused: a state-changing request must come from this site's own "
                          "pages (Origin %s)" % (origin or "missing")}, 403)(scope, receive, send)
        ctype = headers.get("content-type", "").split(";")[0].strip().lower()
        if ctype != "application/json":
            return await JSONResponse(
                {"error": "send JSON with Content-Type: application/json (got %s)"
                          % (ctype or "none")}, 415)(scope, receive, send)
        await self.app(scope, receive, send)


async def json_body(request: Request):
    """The request's JSON object (at most MAX_BODY bytes)."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_BODY:
        raise BadRequest("request body over %d bytes" % MAX_BODY)
    raw = b""
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > MAX_BODY:
            raise BadRequest("request body over %d bytes" % MAX_BODY)
    try:
        obj = json.loads(raw or b"{}")
    except ValueError as e:
        raise BadRequest("the body is not JSON: %s" % e) from None
    if not isinstance(obj, dict):
        raise BadRequest("send a JSON object")
    return obj
