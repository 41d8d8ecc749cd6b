"""Who may call a route. Every route is locked to a logged-in operator unless
its handler says otherwise, with one of these marks:

    @public       anyone: the pages' shells and static files (no data in them;
                  the API behind them is locked), logging in and out, the
                  owner's link (its token is the credential), /health (its
                  details only for insiders, routes.health)
    @owner_app    the owner's app: an owner session (its own cookie), never an
                  operator's
    @admin        an operator with the admin role
    (no mark)     a logged-in operator

The route table applies the check (lock(), in app.build) in front of every
route and mount, so a route added without a mark is locked, not open; the test
(test_web_door) walks the app's routes and tries each method of each one
without a session. The check is Auth.require: the session of the route's kind,
the role, and on writes the session's CSRF token (guard.SameOriginWrites has
already checked Origin and Content-Type). The handler finds the session in
request.state.session (session(request))."""
import dataclasses

from starlette.requests import Request
from starlette.routing import Mount, Route


@dataclasses.dataclass(frozen=True)
class Access:
    kind: str = "operator"      # whose session: "operator" or "owner"; None: public
    role: str = None            # "admin": an admin operator only


OPERATOR = Access()
ADMIN = Access(role="admin")
OWNER = Access(kind="owner")
PUBLIC = Access(kind=None)


def _mark(access):
    def mark(handler):
        handler.access = access
        return handler
    return mark


public = _mark(PUBLIC)
owner_app = _mark(OWNER)
admin = _mark(ADMIN)


def access_of(route):
    """The Access a route (a Route's handler, a Mount's app) asks for; OPERATOR unmarked."""
    target = route.endpoint if isinstance(route, Route) else getattr(route, "app", None)
    return getattr(target, "access", OPERATOR)


def session(request):
    """The session the check found for this request (None on a public route)."""
    return getattr(request.state, "session", None)


class Locked:
    """An ASGI app in front of a route's own: the session first, or Denied
    (answered by the app's exception handler, like any Denied)."""

    def __init__(self, app, auth, access):
        self.app = app
        self.auth = auth
        self.access = access

    async def __call__(self, scope, receive, send):
        request = Request(scope, receive)   # http only: the app has no other kind of route
        request.state.session = self.auth.require(request, self.access.kind, self.access.role)
        await self.app(scope, receive, send)


def lock(routes, auth):
    """The routes, each behind the check its mark asks for (none for @public)."""
    for route in routes:
        if not isinstance(route, (Route, Mount)):
            raise TypeError("lock() knows Route and Mount, not %r" % (route,))
        access = access_of(route)
        if access.kind is not None:
            route.app = Locked(route.app, auth, access)
    return routes
