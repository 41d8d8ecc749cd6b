"""The console's session cookie in a real browser (headless Chromium): cookies
are per host, not per port, so a console on 127.0.0.1 hands its session to
every other server there. Under `make run` the console has a loopback address
of its own (tools/run.py), and another server on 127.0.0.1 gets nothing."""
import http.server
import threading

from desk_helpers import add_account
from web_helpers import OP_PASSWORD, add_operator

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run"]


class Neighbour:
    """Another service on 127.0.0.1: records the Cookie header of every request."""

    def __init__(self):
        seen = self.cookies = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                seen.append(self.headers.get("Cookie") or "")
                self.send_response(200)
                self.send_header("Content-Type", "text/plain")
                self.end_headers()
                self.wfile.write(b"hello")

            def log_message(self, *a):
                pass
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = "http://127.0.0.1:%d/" % self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def _log_in_and_visit(pw, web, neighbour):
    """Log into the console in a fresh browser, then open the neighbour: its cookies."""
    browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
    try:
        page = browser.new_page()
        page.goto(web.url + "/login")
        status = page.evaluate(
            """async (pw) => (await fetch("/api/login", {method: "POST",
                 headers: {"Content-Type": "application/json"},
                 body: JSON.stringify({name: "ann", password: pw})})).status""", OP_PASSWORD)
        assert status == 200
        assert any(c["name"] == "op_session" for c in page.context.cookies())
        del neighbour.cookies[:]
        page.goto(neighbour.url)
        assert neighbour.cookies, "the neighbour was not visited"
        return neighbour.cookies
    finally:
        browser.close()


def test_another_server_on_127_0_0_1_does_not_get_the_consoles_cookie(db, monitor, console):
    from playwright.sync_api import sync_playwright
    from tools import debian
    from tools.run import CONSOLE_HOST, _own_host
    debian.ensure("chromium")
    add_account(db)
    add_operator(db)
    rx, _ = monitor(calls="console")
    neighbour = Neighbour()
    try:
        with sync_playwright() as pw:
            # The leak as it was: a console on 127.0.0.1 (the test can fail).
            shared = console(rx, host="127.0.0.1")
            assert any("op_session=" in c for c in _log_in_and_visit(pw, shared,
                                                                     neighbour))
            # As `make run` serves it.
            own = _own_host(lambda host: console(rx, host=host))
            assert own.url.startswith("http://%s:" % CONSOLE_HOST)
            got = _log_in_and_visit(pw, own, neighbour)
            assert not any("op_session" in c for c in got), got
    finally:
        neighbour.stop()
