"""The web console in real headless Chromium (Debian's chromium, driven by
Playwright), clicked at a person's speed: every click is a press held 120 ms,
as a hand on a mouse does, so a button replaced by a live update between press
and release loses the click here as it did for operators."""
import shutil
import threading

import pytest

from desk_helpers import PASSWORD, SECRET, add_account, query
from tools import debian
from web_helpers import OP_PASSWORD, add_operator

CHROMIUM = "/usr/bin/chromium"
HAND_MS = 120          # press-to-release of a normal click
SECRET2 = bytes(range(1, 33))


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    from playwright import sync_api as playwright   # pinned in requirements.txt
    exe = debian.ensure("chromium")
    profile = str(tmp_path_factory.mktemp("chromium-profile"))
    with playwright.sync_playwright() as p:
        # A persistent context is how Playwright takes a fresh --user-data-dir.
        ctx = p.chromium.launch_persistent_context(
            profile, executable_path=exe, headless=True,
            args=["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"])
        yield ctx
        ctx.close()
    shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture
def page(browser):
    browser.clear_cookies()
    pg = browser.new_page()
    pg.set_default_timeout(10_000)
    yield pg
    pg.close()


def click(page, selector):
    page.locator(selector).click(delay=HAND_MS)


def log_in(page, url, name="ann", password=OP_PASSWORD):
    page.goto(url + "/")
    page.wait_for_url("**/login?next=*")        # the queue sends a stranger to log in
    page.fill("#name", name)
    page.fill("#password", password)
    click(page, "#btn-login")
    page.wait_for_selector("#who:text('%s')" % name)


def test_a_wrong_password_does_not_get_in(db, monitor, console, page):
    add_account(db)
    add_operator(db)
    rx, _ = monitor(calls="console")
    web = console(rx)
    page.goto(web.url + "/login")
    page.fill("#name", "ann")
    page.fill("#password", "not the password")
    click(page, "#btn-login")
    page.wait_for_selector("#error:text('wrong user name or password')")
    assert page.input_value("#password") == ""
    assert page.url.endswith("/login")


def test_operator_handles_a_burglar_case_by_clicking(db, monitor, hubs, console, page, tmp_path):
    add_account(db, address="12 Elm Street")
    add_operator(db)
    rx, lines = monitor(calls="console", ring_s=120)
    web = console(rx)
    log_in(page, web.url)
    page.wait_for_selector("#live:text('live')")
    assert page.locator("#empty").is_visible()
    h = hubs()
    h.signal("hub-1", "E134", zone=1, name="front_door")
    # Pushed to the open page, no reload; words first, the Contact ID code beside them.
    row = page.locator("tr.case-row")
    row.wait_for()
    assert row.locator(".words").inner_text() == "Burglary \u2014 front door (entry/exit)"
    assert row.locator(".code").inner_text() == "E134"
    assert "12 Elm Street" in row.inner_text()
    page.wait_for_selector("tr.case-row .col-wait:text('rings out in')")
    click(page, "a.case-link")
    page.wait_for_url("**/case/*")
    page.wait_for_selector("#contact-name:text('Contact 1')")
    assert "+1 555 0101" in page.inner_text("#contact-phone")
    assert "Calling contact 1" in page.inner_text("#next")
    assert "rings out in" in page.inner_text("#wait")
    h.signal("hub-1", "E459", zone=1, name="front_door")     # joins the case, in words
    page.wait_for_selector("#timeline li:text('Recent closing')")
    click(page, "#btn-answered")
    page.wait_for_selector("#password:enabled")
    page.fill("#password", "red fox")
    click(page, "#btn-check")
    page.wait_for_selector("#verdict.wrong")
    assert page.input_value("#password") == ""
    page.fill("#password", PASSWORD.lower())
    click(page, "#btn-check")
    page.wait_for_selector("#verdict.right")
    page.screenshot(path=str(tmp_path / "case.png"))
    click(page, "#btn-req-none")
    page.wait_for_selector("#status[data-status='cancelled']")
    steps = page.locator("#timeline li").evaluate_all("els => els.map(e => e.dataset.step)")
    assert steps == ["open", "call", "signal", "operator", "answered", "operator", "password",
                     "operator", "password", "operator", "request", "cancel"]
    assert page.locator("#timeline li[data-step='operator']").first.inner_text().endswith(
        "answered by ann")
    assert PASSWORD.lower() not in page.content() and "red fox" not in page.content()
    assert lines.wait(step="cancel")["reason"] == "verified"
    assert query(db, "SELECT status FROM cases") == [{"status": "cancelled"}]
    assert [l["result"] for l in lines.where(step="password")] == ["wrong", "right"]
    assert {l["operator"] for l in lines.where(step="operator")} == {"ann"}
    # Back on the queue the case stays, saying what was done, until an operator closes it.
    click(page, "header a[href='/']")
    page.wait_for_selector("tr.case-row .done:text('cancelled')")
    click(page, "a.case-link")
    page.wait_for_selector("#btn-close:enabled")
    click(page, "#btn-close")
    page.wait_for_selector("#timeline li[data-step='close']")
    click(page, "header a[href='/']")
    page.wait_for_selector("#empty:visible")


def test_clicks_on_a_held_case_land_while_the_queue_updates(db, monitor, hubs, console, page):
    """The queue gets a live update every ~100 ms from another hub's alarms; the
    operator still opens the held case with a normal click, five times over, and
    dispatches it."""
    add_account(db, policy="only_if_i_say")
    add_account(db, "hub-2", secret=SECRET2)
    add_operator(db)
    rx, lines = monitor(calls="console", ring_s=0.3)
    web = console(rx)
    h = hubs({"hub-1": SECRET, "hub-2": SECRET2})
    h.signal("hub-1", "E130", zone=2, name="hall_motion")
    held = lines.wait(step="hold")["case"]
    log_in(page, web.url)
    page.wait_for_selector("#live:text('live')")
    busy = threading.Event()

    def other_hub():
        while not busy.wait(0.1):
            h.signal("hub-2", "E130", zone=3, name="garage")
    t = threading.Thread(target=other_hub, daemon=True)
    t.start()
    try:
        link = page.locator("tr.case-row[data-case='%d'] a.case-link" % held)
        page.wait_for_selector("tr.case-row[data-case='%d'] .col-wait:text('held for')" % held)
        n = len(lines.where(hub="hub-2"))
        for _ in range(5):
            link.click(delay=HAND_MS)
            page.wait_for_url("**/case/%d" % held, timeout=3000)
            page.go_back()
            page.wait_for_selector("#live:text('live')")
        assert len(lines.where(hub="hub-2")) > n + 10, "the queue was not kept busy"
        page.goto("%s/case/%d" % (web.url, held))
        page.wait_for_selector("#wait:text('held for')")
        # Contact 1 rang out: Call contact would ring contact 2, and says so.
        assert page.inner_text("#contact-name") == "#2 Contact 2"
        click(page, "#btn-dispatch")
        page.wait_for_selector("#status[data-status='dispatched']")
    finally:
        busy.set()
        t.join(5)
    assert lines.wait(step="dispatch", case=held)["reason"] == "operator"
    assert lines.wait(step="operator", case=held)["operator"] == "ann"


def test_admin_edits_policy_contacts_and_password(db, monitor, console, page):
    add_account(db)
    add_operator(db, "root", "admin")
    rx, _ = monitor(calls="console")
    web = console(rx)
    log_in(page, web.url, "root")
    page.goto(web.url + "/account/hub-1")
    page.wait_for_selector("#pw-state:text('set')")
    assert page.locator(".contact").count() == 2
    page.select_option("#policy", "only_if_i_say")
    page.check("#call-next")
    click(page, "#add-contact")
    page.locator(".contact-name").nth(2).fill("Neighbour")
    page.locator(".contact-phone").nth(2).fill("+1 555 0199")
    page.fill("#password", "green kite")
    click(page, "#btn-save")
    page.wait_for_selector("#saved:text('saved')")
    acct = query(db, "SELECT policy, call_next_contacts, password_hash FROM accounts")[0]
    assert acct["policy"] == "only_if_i_say" and acct["call_next_contacts"] == 1
    assert "green kite" not in acct["password_hash"]
    from monitor import verbal
    assert verbal.check(acct["password_hash"], "Green  Kite")
    assert [c["name"] for c in query(db, "SELECT name FROM contacts ORDER BY position")] == \
        ["Contact 1", "Contact 2", "Neighbour"]
    click(page, "#btn-link")
    page.wait_for_selector("#link-url:text('/app/link/')")
    page.goto(web.url + "/")
    click(page, "#operators-link")
    page.wait_for_selector("#operators tr[data-name='root']")
    page.fill("#op-name", "bob")
    page.fill("#op-password", "a long password")
    click(page, "#btn-add-operator")
    page.wait_for_selector("#operators tr[data-name='bob']")
    assert query(db, "SELECT name, role FROM operators WHERE name = 'bob'") == \
        [{"name": "bob", "role": "operator"}]


def test_the_owners_app_link_sends_sos_for_that_hub(db, monitor, hubs, console, page):
    add_account(db)
    rx, _ = monitor(calls="console")
    web = console(rx)
    h = hubs()
    from monitor import operators
    from monitor.store import Store
    from monitor.web.owner import link_url
    store = Store(db)
    url = link_url(web.url, operators.link_owner(store, "hub-1"))
    store.close()
    page.goto(url)
    page.click("#btn-open")          # the link's page logs in by POST, not the GET
    page.wait_for_url("**/app")
    page.wait_for_selector("#hub:text('hub-1')")
    click(page, "#sos-fire")                    # a tap in a pocket: "No" sends nothing
    click(page, "#sos-no")
    page.wait_for_selector("#sos-confirm", state="hidden")
    for service, words in (("police", "the police"), ("fire", "the fire brigade"),
                           ("medical", "an ambulance")):
        click(page, "#sos-" + service)          # asks first: nothing is sent yet
        page.wait_for_selector("#sos-question:text('%s')" % words)
        click(page, "#sos-yes")
        said = "Help requested: %s. The monitoring center will call you." % words
        page.wait_for_selector("#sos-result:text('%s')" % said)
    with h.lock:
        assert h.lock.wait_for(lambda: len(h.commands) >= 3, 5)
    assert [c and (c["action"], c["service"], c["hub"], c["type"]) for c in h.commands] == \
        [("SOS", s, "hub-1", "command") for s in ("police", "fire", "medical")]
    ids = [c["id"] for c in h.commands]
    assert ids == sorted(set(ids))            # strictly rising, as the hub requires


def test_a_case_that_came_by_dc09_says_so_on_its_timeline(db, monitor, console, page):
    from dc09_panel import KEYS, Link, answer_of, contact_id
    add_account(db, dc09="12AB", dc09_secret=KEYS[16])
    add_operator(db)
    rx, lines = monitor(calls="console", ring_s=120, dc09_port=0)
    web = console(rx)
    link = Link(rx.dc09.port)
    got = link.ask(contact_id("12AB", 5, 1, "E", 130, 2, key=KEYS[16]))
    assert answer_of(got, "12AB", KEYS[16])[0] == "ACK"
    case = lines.wait(step="open")["case"]
    log_in(page, web.url)
    page.goto("%s/case/%d" % (web.url, case))
    opened = page.locator("#timeline li[data-step='open']")
    opened.wait_for()
    assert "received by DC-09" in opened.inner_text()
    assert "received by DC-09" not in page.locator("#timeline li[data-step='call']").inner_text()
    link.close()
