"""The owner's app: per account. The owner opens the link made for their
account (`monitor account link HUB`), which starts an owner session for that
hub alone; everything the app does (SOS, arm, disarm, cancel or confirm an
alarm) goes to the session's hub, never to one the request names. Its routes
are marked @owner_app (access.py): an owner session, not an operator's."""
import asyncio
import os
import re

from starlette.responses import FileResponse, JSONResponse

from monitor import accounts, operators, verbal
from monitor.cases import Refused
from monitor.web import owner_case, views
from monitor.web.access import owner_app, public, session
from monitor.web.auth import Denied
from monitor.web.guard import json_body

# The hub takes these from the app signed, with the owner's code (checked by the
# panel like a keypad entry: wrong ones count toward the keypad's lockout).
ARMING = ("ARM_AWAY", "ARM_HOME", "DISARM")
CODE = re.compile(r"^[0-9]{4,8}$")
LINK_PAGE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "static", "link.html")


def link_url(base, token):
    return "%s/app/link/%s" % (base.rstrip("/"), token)


@public          # the token in the link is the credential
async def open_link(request):
    """GET: a page with a button; its same-origin POST (guard.SameOriginWrites)
    starts the session. A GET that logged in would let another site log a
    victim's browser into the attacker's own app."""
    web = request.app.state.web
    hub = operators.owner_hub(web.store, request.path_params["token"])
    if hub is None:
        raise Denied(404, "this app link is not valid or has expired (ask your monitoring "
                          "company for a new one)")
    if request.method == "GET":
        return FileResponse(LINK_PAGE, media_type="text/html; charset=utf-8")
    token, _ = web.auth.open_session("owner", hub)
    response = JSONResponse({"hub": hub, "go": "/app"})
    web.auth.set_cookie(request, response, "owner", token)
    return response


@owner_app
async def whoami(request):
    web = request.app.state.web
    sess = session(request)
    acct = accounts.get(web.store, sess["subject"]) or {}
    return JSONResponse({"hub": sess["subject"], "address": acct.get("address", ""),
                         "csrf": sess["csrf"]})


@owner_app
async def sos(request):
    web = request.app.state.web
    sess = session(request)
    body = await json_body(request)
    service = body.get("service")
    if service not in ("police", "fire", "medical"):
        raise Refused("service must be police, fire or medical")
    hub = sess["subject"]
    # What it will do is read before it is sent: the hub's alarm reaches the
    # engine only after its round trip, and the answer is for this press.
    outlook = await _engine(web, lambda desk: desk.alarm_outlook(hub, "sos", service))
    cid = await asyncio.to_thread(web.rx.send_sos, hub, service)
    said = owner_case.sos_said(outlook, service, views.wall_of(web.rx.clock))
    return JSONResponse(dict(said, sent=True, service=service, command_id=cid))


def _hub(request):
    web = request.app.state.web
    return web, session(request)["subject"]


def _home(web, hub):
    web.hubview.start()
    now = web.rx.clock.now_ms()
    return dict(web.hubview.of(hub), alarm=owner_case.alarm_view(web.store, hub, now),
                history=owner_case.history(web.store, hub, views.wall_of(web.rx.clock), now))


@owner_app
async def home(request):
    """The hub now: state, online, open zones, the alarm to act on, history in words."""
    web, hub = _hub(request)
    return JSONResponse(_home(web, hub))


@owner_app
async def command(request):
    web, hub = _hub(request)
    body = await json_body(request)
    action, code = body.get("action"), body.get("code")
    if action not in ARMING:
        raise Refused("action must be one of %s" % ", ".join(ARMING))
    if code in (None, "") and action != "DISARM":
        code = None                     # a code-less arm, when the hub allows it
    elif not isinstance(code, str) or not CODE.match(code):
        raise Refused("the code is 4 to 8 digits")
    fields = {"code": code} if code else {}
    cid = await asyncio.to_thread(web.rx.send_command, hub, action, **fields)
    return JSONResponse({"sent": True, "action": action, "command_id": cid})


async def _engine(web, fn):
    fut = web.rx.submit(fn)
    return await asyncio.wait_for(asyncio.wrap_future(fut), 10)


@owner_app
async def cancel(request):
    """Cancel alarm: the verbal password, as on the monitoring center's call."""
    web, hub = _hub(request)
    body = await json_body(request)
    spoken = body.get("password")
    owner_case.check_input(spoken)
    # Counted on the engine, checked off it (monitor/web/hashing.py), then the verdict.
    with web.hashing.slot(session(request)["csrf"],
                          request.client.host if request.client else "?"):
        claim = await _engine(web, owner_case.claim_fn(hub))
        ok = await web.hashing.run(verbal.check, claim["hash"], spoken)
        return JSONResponse(await _engine(web, owner_case.verdict_fn(hub, claim["case"], ok)))


@owner_app
async def confirm(request):
    """Confirm emergency: the monitoring center sends help without waiting for the call."""
    web, hub = _hub(request)
    return JSONResponse(await _engine(web, owner_case.confirm_fn(hub)))
