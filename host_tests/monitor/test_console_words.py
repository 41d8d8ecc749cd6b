"""The console and the owner's app as a person reads them, in real headless
Chromium at a person's timing: words, not program words; a disabled button
that looks disabled; one 24-hour time format; and not one message in the
browser's console on any page (a person debugging the page must not wade
through warnings, and a warning there is a bug here)."""
import re
import time

from desk_helpers import add_account, query
from test_monitor_console import browser, click, log_in, page  # noqa: F401  (fixtures)
from web_helpers import add_operator, client_for, owner_link

# snake_case or a bare plan reason: what a program says, not a person.
PROGRAM_WORDS = re.compile(r"\b[a-z]+_[a-z_]+\b|reason: |(?<!the )\bplan\b")
CLOCK = re.compile(r"^\d\d:\d\d:\d\d ")


class EveryMessage:
    """Every console message (any level: Chromium's DOM advice comes as
    "verbose") and every uncaught exception of a page."""

    def __init__(self, page):
        self.seen = []
        page.on("console", lambda m: self.seen.append("%s %s: %s" % (page.url, m.type, m.text)))
        page.on("pageerror", lambda e: self.seen.append("%s exception: %s" % (page.url, e)))


def test_a_stranger_is_told_not_logged_in_without_an_http_error(db, monitor):
    add_account(db)
    rx, _ = monitor(calls="console")
    client, _ = client_for(rx)
    r = client.get("/api/me")
    assert r.status_code == 200
    assert r.json() == {"logged_in": False, "error": "not logged in", "login_hint": None}


def test_the_login_page_says_where_a_newcomers_password_is(db, monitor, console, page):
    add_account(db)
    rx, _ = monitor(calls="console")
    seen = EveryMessage(page)
    plain = console(rx)
    page.goto(plain.url + "/")
    page.wait_for_url("**/login?next=*")
    page.wait_for_selector("#login-hint")
    assert "operator add" in page.inner_text("#login-hint"), page.content()
    run = console(rx, login_hint="Log in as demo with the password `make run` printed.")
    page.goto(run.url + "/login")
    page.wait_for_selector("#login-hint:text('the password `make run` printed')")
    assert "operator add" not in page.inner_text("#login-hint")
    assert seen.seen == []


def test_every_page_says_nothing_in_the_browser_console(db, monitor, hubs, console, page):
    add_account(db, policy="only_if_i_say")
    add_operator(db, "ann", role="admin")
    rx, lines = monitor(calls="console", ring_s=0.3)
    web = console(rx)
    seen = EveryMessage(page)
    h = hubs()
    h.signal("hub-1", "E130", zone=2, name="hall_motion")
    held = lines.wait(step="hold")["case"]
    h.signal("hub-1", "E110", zone=3, name="kitchen_smoke")
    fire = lines.wait(step="open", plan="sos")["case"]
    log_in(page, web.url)               # "/" sends a stranger to the login page first
    page.wait_for_selector("#live:text('live')")
    page.wait_for_selector("tr.case-row")
    for case in (held, fire):
        page.goto("%s/case/%d" % (web.url, case))
        page.wait_for_selector("#timeline li[data-step='open']")
        page.wait_for_timeout(1200)     # a countdown tick or two
    page.goto(web.url + "/account/hub-1")
    page.wait_for_selector("#hub:text('hub-1')")
    page.goto(web.url + "/operators")
    page.wait_for_selector("#operators tr[data-name='ann']")
    click(page, "#btn-logout")
    page.wait_for_url("**/login")
    page.goto("%s/app/link/%s" % (web.url, owner_link(db)))
    click(page, "#btn-open")
    page.wait_for_url("**/app")
    page.wait_for_selector("#hub:text('hub-1')")
    page.wait_for_selector("#history time")
    page.wait_for_timeout(1200)         # a poll or two
    assert seen.seen == []


def test_the_case_page_reads_in_words(db, monitor, hubs, console, page):
    """A burglary nobody answers for: dispatched by the plan, then closed."""
    add_account(db, contacts=1)
    add_operator(db)
    rx, lines = monitor(calls="console", ring_s=1)
    web = console(rx)
    h = hubs()
    h.signal("hub-1", "E134", zone=1, name="front_door")
    h.signal("hub-1", "E459", zone=1, name="front_door")
    case = lines.wait(step="dispatch")["case"]
    log_in(page, web.url)
    page.goto("%s/case/%d" % (web.url, case))
    page.wait_for_selector("#timeline li[data-step='dispatch']")
    timeline = page.locator("#timeline li").all_inner_texts()
    for li in timeline:
        assert CLOCK.match(li), li                       # one 24-hour format, to the second
        assert not PROGRAM_WORDS.search(li), li
    said = "\n".join(timeline)
    assert "nobody answered" in said and "by the plan" in said
    # The words, with the Contact ID code beside them for those who want it.
    assert "Recent closing: armed less than 2 minutes before E459" in said
    assert "Burglary \u2014 front door (entry/exit) E134" in said
    assert not PROGRAM_WORDS.search(page.inner_text("#next"))
    # Dispatched: "Dispatch now" is disabled and looks it (not the pressable red).
    assert page.locator("#btn-dispatch").is_disabled()
    looks = "(el) => { const s = getComputedStyle(el); return [s.opacity, s.cursor]; }"
    assert page.locator("#btn-dispatch").evaluate(looks) == ["0.45", "not-allowed"]
    assert page.locator("#btn-close").evaluate(looks) == ["1", "pointer"]
    click(page, "#btn-close")
    page.wait_for_selector("#status:text('Closed')")
    assert page.locator("#btn-close").evaluate(looks) == ["0.45", "not-allowed"]
    assert "Closed" in page.inner_text("h1")


def test_the_owners_app_tells_time_as_the_console_does(db, monitor, hubs, console, page):
    add_account(db)
    rx, lines = monitor(calls="console")
    web = console(rx)
    h = hubs()
    h.signal("hub-1", "R401", zone=1, name="owner")      # armed by the owner
    deadline = time.monotonic() + 10
    while not query(db, "SELECT id FROM signals WHERE code = 'R401'"):
        assert time.monotonic() < deadline, "the hub's R401 never arrived"
        time.sleep(0.05)
    page.goto("%s/app/link/%s" % (web.url, owner_link(db)))
    click(page, "#btn-open")
    page.wait_for_url("**/app")
    page.wait_for_selector("#history time")
    first = page.locator("#history li").first
    assert re.fullmatch(r"\d\d:\d\d:\d\d", first.locator("time").inner_text())
    # An owner reads "Armed", not the trade's "Closing".
    assert "Armed by owner" in first.inner_text()
    assert "Closing" not in first.inner_text()

