"""The house page's server (Starlette under uvicorn, on loopback): static files
from tools/web, the page's state as JSON (polled), the virtual world's inputs
(keys, sensors, the app's commands), and the service's operator actions.

The house is the simulation's own; what the monitoring center does is not: the
phone and operator buttons run the service's one set of actions
(monitor.web.actions, the same the console's API runs) in this process, as
the demo operator. The same checks guard every click as on the console:
loopback Host names only, same-origin JSON writes, no framing."""
import asyncio
import os
import time

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.responses import FileResponse, JSONResponse
from starlette.routing import Route

from monitor import plugin_store
from monitor.cases import Refused
from monitor.store import Store
from monitor.web import actions, views
from monitor.web.app import LOOPBACK
from monitor.web.guard import (BadRequest, OneBodyLength, SameOriginWrites,
                               SecurityHeaders, json_body)
from monitor.web.server import Uvicorn
from tools import paths
from tools.sim import close_all, happened

WEB = os.path.join(paths.ROOT, "tools", "web")
STATIC = {"/": ("house.html", "text/html; charset=utf-8"),
          "/house.css": ("house.css", "text/css; charset=utf-8"),
          "/house.js": ("house.js", "text/javascript; charset=utf-8"),
          # Asked for by every browser: an answer, not a 404 in the console.
          "/favicon.ico": ("favicon.svg", "image/svg+xml"),
          "/favicon.svg": ("favicon.svg", "image/svg+xml")}

# Which exit delay the page counts down: the arming it asked for last.
ARM_KEYS = {"A": "away", "B": "home"}
ARM_ACTIONS = {"ARM_AWAY": "away", "ARM_HOME": "home"}


class Page:
    def __init__(self, world, house, host="127.0.0.1", port=0, operator="demo", console=None):
        self.world = world
        self.house = house
        self.operator = operator        # whose name the page's operator actions carry
        self.console = console          # {"url", "user", "password"} shown on the page
        self.store = None               # the page's reads of the case store (its loop only)
        self.inputs = None              # asyncio.Lock, made on the page's loop
        self.serving = Uvicorn(self.app(), host, port, name="house-page")
        self.url = self.serving.url + "/"

    def start(self):
        self.serving.start()
        return self

    def stop(self):
        self.serving.stop()
        if self.store is not None:
            self.store.close()

    def app(self):
        routes = [Route(path, _static(name, ctype)) for path, (name, ctype) in STATIC.items()]
        routes += [Route("/api/state", self.state),
                   Route("/api/service/close-all", self.close_all, methods=["POST"]),
                   Route("/api/service/cases/{case}/{action}", self.service, methods=["POST"])]
        routes += [Route("/api/" + verb, self._world(verb), methods=["POST"])
                   for verb in ("keys", "hold", "down", "up", "zone", "command")]
        return Starlette(
            routes=routes,
            middleware=[Middleware(OneBodyLength),
                    Middleware(TrustedHostMiddleware, allowed_hosts=list(LOOPBACK),
                                   www_redirect=False),
                        Middleware(SecurityHeaders), Middleware(SameOriginWrites)],
            exception_handlers={BadRequest: _error(400), Refused: _error(409),
                                KeyError: _error(400), ValueError: _error(400)})

    # ---- the page ----

    async def state(self, request):
        since = request.query_params.get("since", "0")
        snap = self.house.snapshot(int(since) if since.isdigit() else 0)
        snap["console"] = self.console
        now = int(time.time() * 1000)
        # The waits the service counts (the ring timeout, a held case), as the console shows them.
        if self.store is None:
            self.store = Store(self.world.monitor.s.db, create=False)
        for case in snap["cases"]:
            row = plugin_store.case(self.store, case["id"])
            if row is not None and row["status"] == "open":
                case.update(views.waits(self.store, row,
                                        views.wall_of(self.world.monitor_clock)))
                if case.get("ring_due_ms"):
                    # Real seconds: the person on the page's phone counts them.
                    case["ring_left_s"] = max(0, round((case["ring_due_ms"] - now) / 1000))
        snap["to_close"] = [c["id"] for c in close_all.to_close(self.store, snap["hub"])]
        snap["now_ms"] = now
        return JSONResponse(snap)

    # ---- the house: the simulation's own inputs ----

    def _world(self, verb):
        async def handle(request):
            body = await json_body(request)
            if self.inputs is None:
                self.inputs = asyncio.Lock()
            # One at a time, in the order they came (the lock is first come, first
            # served): keys typed 1 2 3 4 A reach the keypad in that order. Typing
            # takes real time, so it runs off the page's event loop.
            async with self.inputs:
                await asyncio.to_thread(self.act, verb, body)
            return JSONResponse({"ok": True})
        return handle

    def act(self, verb, body):
        w, h = self.world, self.house
        if verb == "keys":
            keys = _text(body, "keys")
            if keys[-1] in ARM_KEYS:
                h.arm_mode = ARM_KEYS[keys[-1]]
            w.keys(keys, person=True)
        elif verb == "hold":
            w.hold(_keys(body), _int(body, "ms"))
        elif verb == "down":
            w.down(_keys(body), person=True)
        elif verb == "up":
            w.up()
        elif verb == "zone":
            zone, event = _text(body, "zone"), _text(body, "event")
            w.zone(zone, event)
            name = w.sensors.find(zone).name
            h.zone_set(name, event)
            h.note(happened.zone_text(name, event))
        elif verb == "command":
            cmd = body.get("command")
            if not isinstance(cmd, dict) or not isinstance(cmd.get("action"), str):
                raise BadRequest("command needs an action")
            if cmd["action"] in ARM_ACTIONS:
                h.arm_mode = ARM_ACTIONS[cmd["action"]]
            w.command(cmd)
            h.note(happened.command_text(cmd))

    # ---- the monitoring center: the service's actions ----

    async def service(self, request):
        body = await json_body(request)
        case = request.path_params["case"]
        if not case.isdigit():
            raise BadRequest("case must be a whole number")
        result = await actions.act(self.world.monitor, self.operator, int(case),
                                   request.path_params["action"], body)
        return JSONResponse({"ok": True, "result": result})

    async def close_all(self, request):
        """Close all cases of the hub, as the demo's operator (tools/sim/close_all.py)."""
        await json_body(request)
        fn = close_all.close_all_fn(self.world.config["hub_id"])
        closed = await asyncio.wait_for(asyncio.wrap_future(self.world.monitor.submit(fn)),
                                        actions.TIMEOUT_S)
        return JSONResponse({"ok": True, "closed": closed, "by": close_all.OPERATOR})


def _static(name, ctype):
    path = os.path.join(WEB, name)

    async def serve(request):
        return FileResponse(path, media_type=ctype)
    return serve


def _error(status):
    async def handler(request, exc):
        return JSONResponse({"error": str(exc)}, status)
    return handler


def _text(body, key):
    v = body.get(key)
    if not isinstance(v, str) or not v:
        raise BadRequest("%s must be a text" % key)
    return v


def _int(body, key):
    v = body.get(key)
    if not isinstance(v, int) or isinstance(v, bool):
        raise BadRequest("%s must be a whole number" % key)
    return v


def _keys(body):
    v = body.get("keys")
    if not isinstance(v, list) or not v or not all(isinstance(k, str) for k in v):
        raise BadRequest("keys must be a list of keys")
    return v
