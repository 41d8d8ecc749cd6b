"""The house page's server: static files from tools/web, the page's state as
JSON (polled), and the clicks as small POSTs that drive the running World.
Standard library only; listens on loopback."""
import json
import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

from tools import httpjson
from tools import paths

WEB = os.path.join(paths.ROOT, "tools", "web")
STATIC = {"/": ("house.html", "text/html; charset=utf-8"),
          "/house.css": ("house.css", "text/css; charset=utf-8"),
          "/house.js": ("house.js", "text/javascript; charset=utf-8")}


class BadRequest(ValueError):
    pass


class Page:
    def __init__(self, world, house, host="127.0.0.1", port=0):
        self.world = world
        self.house = house
        page = self

        class Handler(_Handler):
            pass
        Handler.page = page
        self.httpd = ThreadingHTTPServer((host, port), Handler)
        self.httpd.daemon_threads = True
        self.url = "http://%s:%d/" % self.httpd.server_address[:2]

    def start(self):
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        return self

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()

    # ---- actions ----

    def act(self, path, body):
        w = self.world
        if path == "/api/keys":
            keys = _text(body, "keys")
            w.keys(keys)
        elif path == "/api/hold":
            w.hold(_keys(body), _int(body, "ms"))
        elif path == "/api/down":
            w.down(_keys(body))
        elif path == "/api/up":
            w.up()
        elif path == "/api/zone":
            zone, event = _text(body, "zone"), _text(body, "event")
            w.zone(zone, event)
            self.house.zone_set(w.sensors.find(zone).name, event)
        elif path == "/api/command":
            cmd = body.get("command")
            if not isinstance(cmd, dict) or not isinstance(cmd.get("action"), str):
                raise BadRequest("command needs an action")
            w.command(cmd)
        elif path == "/api/call":
            return self.call(body)
        elif path == "/api/operator":
            return self.operator(body)
        else:
            raise KeyError(path)
        return {"ok": True}

    def call(self, body):
        """The person on the phone: answer, decline, say the password, ask."""
        call_id, case_id, do = _int(body, "call"), _int(body, "case"), _text(body, "do")
        if do == "answer":
            fn = lambda desk: desk.answered(call_id) and None   # noqa: E731
        elif do == "decline":
            fn = lambda desk: desk.no_answer(call_id) and None   # noqa: E731
        elif do == "password":
            spoken = _text(body, "password")
            fn = lambda desk: desk.operator_password(case_id, spoken)   # noqa: E731
        elif do in ("dispatch", "cancel", "nothing"):
            req = None if do == "nothing" else do
            fn = lambda desk: desk.request(call_id, req)   # noqa: E731
        else:
            raise BadRequest("do must be answer, decline, password, dispatch, cancel or nothing")
        result = self.world.monitor.submit(fn).result(10)
        return {"ok": True, "result": result}


    def operator(self, body):
        """The monitoring center's operator on a case: call the next contact,
        dispatch, or cancel (the plan refuses what it does not allow, e.g. a
        cancel without a verified password, or anything on a duress case)."""
        case_id, do = _int(body, "case"), _text(body, "do")
        actions = {"call": lambda desk: desk.operator_call(case_id) and None,
                   "dispatch": lambda desk: desk.operator_dispatch(case_id),
                   "cancel": lambda desk: desk.operator_cancel(case_id)}
        if do not in actions:
            raise BadRequest("do must be call, dispatch or cancel")
        self.world.monitor.submit(actions[do]).result(10)
        return {"ok": True}


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


class _Handler(BaseHTTPRequestHandler):
    page = None

    def log_message(self, fmt, *args):
        pass    # the terminal is for the URL and errors, not every poll

    def _send(self, code, body, ctype="application/json"):
        httpjson.send(self, code, body, ctype)

    def do_GET(self):
        url = urlparse(self.path)
        if url.path == "/api/state":
            since = parse_qs(url.query).get("since", ["0"])[0]
            return self._send(200, self.page.house.snapshot(int(since) if since.isdigit() else 0))
        if url.path in STATIC:
            name, ctype = STATIC[url.path]
            with open(os.path.join(WEB, name), "rb") as f:
                return self._send(200, f.read(), ctype)
        self._send(404, {"error": "not found"})

    def do_POST(self):
        from monitor.cases import Refused
        try:
            n = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(n) or b"{}")
            if not isinstance(body, dict):
                raise BadRequest("send a JSON object")
            self._send(200, self.page.act(urlparse(self.path).path, body))
        except KeyError:
            self._send(404, {"error": "no such action"})
        except Refused as e:
            self._send(409, {"error": str(e)})
        except (BadRequest, ValueError) as e:
            self._send(400, {"error": str(e)})
