"""The owner's app: per account. The owner opens the link made for their
account (`monitor account link HUB`), which starts an owner session for that
hub alone; the app's SOS goes to the session's hub, never to one the request
names."""
import asyncio

from starlette.responses import JSONResponse, RedirectResponse

from monitor import accounts, operators
from monitor.cases import Refused
from monitor.web.auth import Denied
from monitor.web.guard import json_body


def link_url(base, token):
    return "%s/app/link/%s" % (base.rstrip("/"), token)


async def open_link(request):
    web = request.app.state.web
    hub = operators.owner_hub(web.store, request.path_params["token"])
    if hub is None:
        raise Denied(404, "this app link is not valid (ask your monitoring company for a new one)")
    token, _ = web.auth.open_session("owner", hub)
    response = RedirectResponse("/app", 303)
    web.auth.set_cookie(request, response, "owner", token)
    return response


async def whoami(request):
    web = request.app.state.web
    sess = web.auth.require(request, "owner")
    acct = accounts.get(web.store, sess["subject"]) or {}
    return JSONResponse({"hub": sess["subject"], "address": acct.get("address", ""),
                         "csrf": sess["csrf"]})


async def sos(request):
    web = request.app.state.web
    sess = web.auth.require(request, "owner")
    body = await json_body(request)
    service = body.get("service")
    if service not in ("police", "fire", "medical"):
        raise Refused("service must be police, fire or medical")
    cid = await asyncio.to_thread(web.rx.send_sos, sess["subject"], service)
    return JSONResponse({"sent": True, "service": service, "command_id": cid})
