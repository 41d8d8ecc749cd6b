"""The console's HTTP side (stdlib ThreadingHTTPServer): pages, a JSON API that
runs operator actions through the service's engine, and a Server-Sent Events
stream of timeline steps tailed from the store, so steps taken by any worker
process appear without a refresh."""
import json
import os
import queue
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from tools import httpjson
from monitor import accounts, calls
from monitor.cases import Refused
from monitor.console import views
from monitor.store import Store

STATIC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "static")
PAGES = {"": "queue.html", "case": "case.html", "account": "account.html", "app": "app.html"}
TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
         ".css": "text/css; charset=utf-8"}
MAX_BODY = 16 * 1024


class Console:
    def __init__(self, rx, host="127.0.0.1", port=0):
        self.rx = rx
        self.httpd = ThreadingHTTPServer((host, port), _handler(self))
        self.httpd.daemon_threads = True
        self.url = "http://%s:%d" % (host, self.httpd.server_address[1])
        self.subscribers = set()
        self.sub_lock = threading.Lock()
        self.stopping = threading.Event()

    def start(self):
        threading.Thread(target=self.httpd.serve_forever, name="console-http",
                         daemon=True).start()
        threading.Thread(target=self._tail, name="console-tail", daemon=True).start()
        return self

    def stop(self):
        self.stopping.set()
        self.httpd.shutdown()
        self.httpd.server_close()

    def read(self, fn):
        with self.rx._api_lock:
            return fn(self.rx.api_store())

    def _tail(self):
        store = Store(self.rx.s.db, create=False)
        last = store.one("SELECT COALESCE(MAX(id), 0) AS m FROM timeline")["m"]
        while not self.stopping.wait(0.2):
            rows = store.q(views.TIMELINE_SQL + "WHERE timeline.id > ? ORDER BY timeline.id",
                           last)
            for row in rows:
                last = row["id"]
                data = json.dumps(views.line(row))
                with self.sub_lock:
                    for q in self.subscribers:
                        q.put(data)
        store.close()


def _handler(console):
    rx = console.rx

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *args):
            pass

        # ---- plumbing ----

        def _send(self, code, body, ctype="application/json"):
            httpjson.send(self, code, body, ctype)

        def _body(self):
            n = int(self.headers.get("Content-Length") or 0)
            if n > MAX_BODY:
                raise Refused("request too large")
            raw = self.rfile.read(n) if n else b"{}"
            obj = json.loads(raw or b"{}")
            if not isinstance(obj, dict):
                raise Refused("expected a JSON object")
            return obj

        def _parts(self):
            return [p for p in self.path.split("?")[0].split("/") if p]

        # ---- GET ----

        def do_GET(self):
            parts = self._parts()
            try:
                if not parts or (parts[0] in PAGES and len(parts) == 2):
                    return self._file(PAGES[parts[0] if parts else ""])
                if parts[0] == "static" and len(parts) == 2:
                    return self._file(parts[1])
                if parts == ["api", "stream"]:
                    return self._stream()
                if parts == ["api", "cases"]:
                    return self._send(200, console.read(views.queue))
                if parts[:2] == ["api", "cases"] and len(parts) == 3:
                    found = console.read(lambda s: views.case(s, int(parts[2])))
                    return self._send(200 if found else 404, found or {"error": "no such case"})
                if parts[:2] == ["api", "accounts"] and len(parts) == 3:
                    found = console.read(lambda s: accounts.get(s, parts[2]))
                    return self._send(200 if found else 404, found or {"error": "no account"})
                if parts == ["api", "stats"]:
                    return self._send(200, rx.counters())
            except ValueError as e:
                return self._send(400, {"error": str(e)})
            self._send(404, {"error": "not found"})

        def _file(self, name):
            path = os.path.join(STATIC, os.path.basename(name))
            ext = os.path.splitext(path)[1]
            if ext not in TYPES or not os.path.exists(path):
                return self._send(404, {"error": "not found"})
            with open(path, "rb") as f:
                self._send(200, f.read(), TYPES[ext])

        def _stream(self):
            q = queue.Queue()
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            with console.sub_lock:
                console.subscribers.add(q)
            try:
                self.wfile.write(b": connected\n\n")
                self.wfile.flush()
                while not console.stopping.is_set():
                    try:
                        data = q.get(timeout=10)
                        self.wfile.write(b"event: step\ndata: " + data.encode() + b"\n\n")
                    except queue.Empty:
                        self.wfile.write(b": keepalive\n\n")
                    self.wfile.flush()
            except OSError:
                pass
            finally:
                with console.sub_lock:
                    console.subscribers.discard(q)
                self.close_connection = True

        # ---- POST: operator and customer actions ----

        def do_POST(self):
            parts = self._parts()
            try:
                body = self._body()
                if parts[:2] == ["api", "cases"] and len(parts) == 4:
                    return self._send(200, self._case_action(int(parts[2]), parts[3], body))
                if parts[:2] == ["api", "accounts"] and len(parts) == 3:
                    return self._send(200, self._edit_account(parts[2], body))
                if parts[:2] == ["api", "accounts"] and len(parts) == 4 and parts[3] == "sos":
                    cid = rx.send_sos(parts[2], body.get("service"))
                    return self._send(200, {"sent": True, "command_id": cid})
                if parts == ["api", "callee"]:
                    n = console.read(lambda s: calls.set_script_json(s, body, rx.s.time_scale))
                    return self._send(200, {"scripts": n})
                self._send(404, {"error": "not found"})
            except (Refused, accounts.AccountError, ValueError, KeyError) as e:
                self._send(409 if isinstance(e, Refused) else 400, {"error": str(e)})

        def _case_action(self, case_id, action, body):
            def live_call(desk, status):
                row = desk.store.one("SELECT id FROM calls WHERE case_id = ? AND status = ? "
                                     "ORDER BY id DESC LIMIT 1", case_id, status)
                if row is None:
                    raise Refused("no %s call on case %s" % (status, case_id))
                return row["id"]

            if action == "call":
                fn = lambda d: d.operator_call(case_id, body.get("contact"))  # noqa: E731
            elif action == "answered":
                fn = lambda d: bool(d.answered(live_call(d, "ringing")))  # noqa: E731
            elif action == "no_answer":
                fn = lambda d: d.no_answer(live_call(d, "ringing"))  # noqa: E731
            elif action == "password":
                spoken = body.get("password")
                if not isinstance(spoken, str) or not spoken.strip():
                    raise Refused("type the password the caller gave")
                fn = lambda d: "right" if d.operator_password(case_id, spoken) else "wrong"  # noqa
            elif action == "request":
                req = body.get("request")
                fn = lambda d: d.request(live_call(d, "answered"), req)  # noqa: E731
            elif action == "dispatch":
                fn = lambda d: d.operator_dispatch(case_id)  # noqa: E731
            elif action == "cancel":
                fn = lambda d: d.operator_cancel(case_id)  # noqa: E731
            else:
                raise Refused("unknown action %s" % action)
            return {"result": rx.submit(fn).result(10)}

        def _edit_account(self, hub, body):
            contacts = body.get("contacts")
            if contacts is not None:
                contacts = [{"name": str(c.get("name", "")).strip(),
                             "phone": str(c.get("phone", "")).strip()} for c in contacts
                            if str(c.get("name", "")).strip() or str(c.get("phone", "")).strip()]
            console.read(lambda s: accounts.edit(
                s, hub, contacts=contacts, password=body.get("password") or None,
                policy=body.get("policy"), address=body.get("address"),
                call_next_contacts=body.get("call_next_contacts")))
            return console.read(lambda s: accounts.get(s, hub))

    return Handler
