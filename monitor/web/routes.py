"""The console's API: the queue, a case and the actions on it, accounts and
operators (admins), counters, the live stream. Who may call each is its mark
(access.py): none is a logged-in operator; app.build applies the check."""
import asyncio

from starlette.responses import JSONResponse

from monitor import accounts, operators
from monitor.store import Store
from monitor.web import actions, owner, views
from monitor.web.access import admin, public, session
from monitor.web.auth import Denied
from monitor.web.guard import BadRequest, json_body


def _web(request):
    return request.app.state.web


def _now_ms(web):
    return int(web.config.clock() * 1000)


def _int(text, what):
    if not text.isdigit():
        raise BadRequest("%s must be a whole number, got %r" % (what, text))
    return int(text)


async def queue(request):
    web = _web(request)
    return JSONResponse(views.queue(web.store, _now_ms(web), views.wall_of(web.rx.clock)))


async def case(request):
    web = _web(request)
    found = views.case(web.store, _int(request.path_params["case"], "case"), _now_ms(web),
                       views.wall_of(web.rx.clock))
    if found is None:
        raise Denied(404, "no case %s" % request.path_params["case"])
    return JSONResponse(found)


async def case_action(request):
    web = _web(request)
    sess = session(request)
    body = await json_body(request)
    case_id, action = _int(request.path_params["case"], "case"), request.path_params["action"]
    if action != "password":
        result = await actions.act(web.rx, sess["subject"], case_id, action, body)
    else:
        with web.hashing.slot(sess["csrf"], request.client.host if request.client else "?"):
            result = await actions.act(web.rx, sess["subject"], case_id, action, body,
                                       check=web.hashing.run)
    return JSONResponse({"result": result})


async def account(request):
    web = _web(request)
    found = accounts.get(web.store, request.path_params["hub"])
    if found is None:
        raise Denied(404, "no account %s" % request.path_params["hub"])
    return JSONResponse(found)


def _own_store(db, fn, *args):
    # A connection of its own for a write off the event loop (it may wait for the lock).
    store = Store(db, create=False)
    try:
        return fn(store, *args)
    finally:
        store.close()


def _edit(store, hub, body):
    contacts = body.get("contacts")
    if contacts is not None:
        if not isinstance(contacts, list) or not all(isinstance(c, dict) for c in contacts):
            raise BadRequest("contacts must be a list of {name, phone}")
        contacts = [{"name": str(c.get("name", "")).strip(),
                     "phone": str(c.get("phone", "")).strip()} for c in contacts
                    if str(c.get("name", "")).strip() or str(c.get("phone", "")).strip()]
    accounts.edit(store, hub, contacts=contacts, password=body.get("password") or None,
                  policy=body.get("policy"), address=body.get("address"),
                  call_next_contacts=body.get("call_next_contacts"))
    return accounts.get(store, hub)


@admin
async def edit_account(request):
    web = _web(request)
    body = await json_body(request)
    return JSONResponse(await asyncio.to_thread(_own_store, web.db, _edit,
                                                request.path_params["hub"], body))


@admin
async def link_account(request):
    web = _web(request)
    token = operators.link_owner(web.store, request.path_params["hub"])
    return JSONResponse({"url": owner.link_url(web.base_url(request), token)})


@admin
async def list_operators(request):
    web = _web(request)
    return JSONResponse(operators.listing(web.store))


@admin
async def add_operator(request):
    web = _web(request)
    body = await json_body(request)
    name, password, role = body.get("name"), body.get("password"), body.get("role", "operator")
    await asyncio.to_thread(_own_store, web.db, operators.add, name, password, role)
    return JSONResponse({"name": name, "role": role})


async def stats(request):
    web = _web(request)
    return JSONResponse(web.store.counters())


async def stream(request):
    """Server-Sent Events: which cases changed (live.py)."""
    return await _web(request).live.stream(request)


@public
async def health(request):
    """Public: up or not (HTTP 503 when not), for a load balancer or an uptime
    check. Details (store, broker, engine, signals waiting) for logged-in
    operators only: they say nothing secret, but nothing about the service's
    troubles needs telling the world either. Not for loopback either: a proxy
    on this machine that adds no forwarding header looks just like curl on it."""
    web = _web(request)
    report = web.rx.health_report()
    troubles = [what for what, bad in (("store failing", not report["store"]["ok"]),
                                       ("broker disconnected",
                                        not report["broker"]["connected"]),
                                       ("engine stopped", not report["engine"]["alive"]))
                if bad]
    body = {"ok": report["ok"], "status": ", ".join(troubles) or "ok"}
    if web.auth.operator_asks(request):
        body.update(report)
        body["live"] = {"clients": len(web.live.clients), "messages": web.live.published,
                        "dropped": web.live.dropped, "errors": web.live.errors}
    return JSONResponse(body, 200 if report["ok"] else 503)
