"""Nothing joins unseen, in a real headless Chromium at a person's pace (clicks
held 120 ms, typing 3 keys a second): the owner presses SOS in the app after
a burglary was dispatched (an earlier answer cleared by that alarm), and
after a duress disarm. Each time the app says
what really happens, the SOS reaches the console's open list as an update
marked new and announced, and an operator acknowledges and closes the case.
No page says anything in the browser's console."""
import re

import pytest

from desk_helpers import add_account
from test_monitor_console import HAND_MS, browser, click  # noqa: F401 (fixtures)
from web_helpers import OP_PASSWORD, add_operator, owner_link

KEY_MS = 333           # 3 keys a second


class Messages:
    """Every browser-console message and uncaught exception of a page."""

    def __init__(self, page, name):
        self.seen = []
        page.on("console", lambda m: self.seen.append("%s %s: %s" % (name, m.type, m.text)))
        page.on("pageerror", lambda e: self.seen.append("%s exception: %s" % (name, e)))


@pytest.fixture
def pages(browser):  # noqa: F811
    browser.clear_cookies()
    made = []

    def new(name):
        pg = browser.new_page()
        pg.set_default_timeout(15_000)
        made.append((pg, Messages(pg, name)))
        return pg
    yield new
    for pg, _ in made:
        pg.close()
    seen = [m for _, msgs in made for m in msgs.seen]
    assert seen == [], "\n".join(seen)


def log_in(page, url):
    page.goto(url + "/login?next=/")
    page.type("#name", "ann", delay=KEY_MS)
    page.type("#password", OP_PASSWORD, delay=KEY_MS)
    click(page, "#btn-login")
    page.wait_for_selector("#who:text('ann')")
    page.wait_for_selector("#live:text('live')")


def open_app(page, web, db):
    page.goto("%s/app/link/%s" % (web.url, owner_link(db)))
    click(page, "#btn-open")
    page.wait_for_url("**/app")
    page.wait_for_selector("#hub:text('hub-1')")


def press_sos(page, hubs, service="police"):
    """The owner asks for help; the hub (played here) raises its SOS alarm as
    the panel does when the command reaches it."""
    n = len(hubs.commands)
    click(page, "#sos-" + service)
    click(page, "#sos-yes")
    with hubs.lock:
        assert hubs.lock.wait_for(lambda: len(hubs.commands) > n, 10)
    code = {"police": "E120", "fire": "E110", "medical": "E100"}[service]
    hubs.signal("hub-1", code, user=0, name="app", sos=service)


def acknowledge_and_close(console, url, case):
    console.goto("%s/case/%d" % (url, case))
    console.wait_for_selector("#btn-ack:enabled")
    click(console, "#btn-ack")
    console.wait_for_selector("#timeline li[data-step='acknowledge']:text('acknowledged by ann')")
    console.wait_for_selector("#btn-ack:disabled")
    click(console, "#btn-close")
    console.wait_for_selector("#timeline li[data-step='close']")
    click(console, "header a[href='/']")
    console.wait_for_selector("#empty:visible")


def test_an_sos_after_a_dispatched_burglary_is_an_update_on_the_open_list(
        db, monitor, hubs, console, pages):
    add_account(db, address="12 Elm Street")
    add_operator(db)
    rx, lines = monitor(calls="console", ring_s=4.0)     # nobody answers: police sent
    web = console(rx)
    h = hubs()
    desk = pages("console")
    log_in(desk, web.url)
    app = pages("app")
    open_app(app, web, db)
    app.type("#code", "1234", delay=KEY_MS)
    click(app, "#disarm")
    app.wait_for_selector("#sent:text('Disarm. Sent to the hub.')")

    h.signal("hub-1", "E134", zone=1, name="front_door")
    case = lines.wait(step="open")["case"]
    # The owner sees the alarm, and no longer the answer to an earlier button.
    app.wait_for_selector("#alarm-what:text('Burglary')")
    assert app.inner_text("#sent") == ""
    row = desk.locator("tr.case-row[data-case='%d']" % case)
    row.locator(".mark:text('NEW')").wait_for()
    desk.wait_for_selector("#announce:text('New case #%d')" % case)
    assert lines.wait(step="dispatch", case=case)["service"] == "police"
    # Police were sent, and the case stays listed, saying so, until closed.
    row.locator(".done:text('police sent')").wait_for()
    assert row.locator(".done").inner_text().endswith(", not closed")
    click(desk, "tr.case-row[data-case='%d'] a.case-link" % case)
    desk.wait_for_url("**/case/%d" % case)
    desk.wait_for_selector("#btn-ack:enabled")
    click(desk, "#btn-ack")
    desk.wait_for_selector("#btn-ack:disabled")
    click(desk, "header a[href='/']")
    row.locator(".mark:empty").wait_for(state="attached")

    press_sos(app, h)
    said = app.locator("#sos-result")
    said.wait_for(state="visible")
    assert re.fullmatch(r"Added to the open police case \u2014 the police were already sent "
                        r"at \S+( [AP]M)?\.", said.inner_text()), said.inner_text()
    assert "call you" not in said.inner_text()
    assert app.inner_text("#sent") == ""                # each answer beside its own button

    update = lines.wait(step="update", case=case)
    assert update["reason"] == "after_dispatch" and update["code"] == "E120"
    row.locator(".mark:text('UPDATE')").wait_for()
    assert row.locator(".news").inner_text().startswith(
        "SOS police from the owner's app [E120], joined this case at ")
    desk.wait_for_selector("#announce:text('Update on case #%d')" % case)
    assert desk.locator("tr.case-row").first.get_attribute("data-case") == str(case)
    assert not lines.where(step="call", case=case)[1:], "a second round of calls"
    acknowledge_and_close(desk, web.url, case)
    ack = [l for l in lines.where(case=case, step="acknowledge")]
    assert {l["operator"] for l in ack} == {"ann"} and len(ack) == 2


def test_an_sos_after_a_duress_disarm_gets_only_a_true_neutral_answer(
        db, monitor, hubs, console, pages):
    add_account(db, address="12 Elm Street")
    add_operator(db)
    rx, lines = monitor(calls="console", ring_s=600)
    web = console(rx)
    h = hubs()
    desk = pages("console")
    log_in(desk, web.url)
    app = pages("app")
    open_app(app, web, db)

    h.signal("hub-1", "E121", user=9, name="duress")
    duress = lines.wait(step="dispatch")["case"]
    row = desk.locator("tr.case-row[data-case='%d']" % duress)
    row.locator(".done:text('police sent')").wait_for()
    click(desk, "tr.case-row[data-case='%d'] a.case-link" % duress)
    desk.wait_for_url("**/case/%d" % duress)
    desk.wait_for_selector("#next:text('Do not call')")
    assert not desk.locator("#contact-box").is_visible()     # nothing offers a call
    desk.wait_for_selector("#btn-ack:enabled")
    click(desk, "#btn-ack")
    desk.wait_for_selector("#btn-ack:disabled")
    click(desk, "header a[href='/']")
    row.locator(".mark:empty").wait_for(state="attached")

    press_sos(app, h)
    app.wait_for_selector("#sos-result:text('Help requested: the police are on their way.')")
    assert app.inner_text("#sos-result") == "Help requested: the police are on their way."
    update = lines.wait(step="update", case=duress)
    assert update["reason"] == "duress" and update["code"] == "E120"
    row.locator(".mark:text('UPDATE')").wait_for()
    desk.wait_for_selector("#announce:text('Update on case #%d')" % duress)
    app.wait_for_timeout(1500)                          # a poll or two of the app
    assert not app.locator("#alarm").is_visible()       # nothing of the duress case shows
    assert "on their way" in app.inner_text("#sos-result")
    assert not lines.where(step="call")
    acknowledge_and_close(desk, web.url, duress)
