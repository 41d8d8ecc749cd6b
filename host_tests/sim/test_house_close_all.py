"""The house page's "Close all cases" in a real headless Chromium, clicked as
a person plays one story after another under `make run`: a duress play leaves
a standing duress case that would take in every later alarm of the hub; the
demo's operator closes it, by name, and the next play's break-in is a case of
its own that rings the phone again."""
import json
import os
import sys

from browsing import CHROMIUM, FLAGS, HAND_MS, Console, ensure_chromium, real_s
from running import Running
from tools import paths

SPEED = 20
RING_S = 30                # real seconds: the phone rings long enough to be seen ringing
TYPING_MS = 6000           # hub time at real speed after a key (tools/sim/world.py PERSON_MS)
CLOSER = "house page's demo operator"


def hub_s(s):
    return (s / SPEED + 10) * 1000


def test_close_all_cases_between_plays(tmp_path):
    ensure_chromium()
    from playwright.sync_api import expect, sync_playwright
    # No abort window: it lasts real seconds, and this test is about what follows.
    config = json.load(open(os.path.join(paths.ROOT, "tools", "demo", "hub-config.json")))
    config["abort_window"] = 0
    (tmp_path / "hub-config.json").write_text(json.dumps(config))
    (tmp_path / "run").mkdir()
    run = Running([sys.executable, "-m", "tools.run", "--speed", str(SPEED), "--port", "0",
                   "--ring", str(RING_S), "--config", str(tmp_path / "hub-config.json")],
                  tmp_path / "run")
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch_persistent_context(
                str(tmp_path / "profile"), executable_path=CHROMIUM, headless=True, args=FLAGS)
            try:
                page = browser.new_page()
                console = Console(page)
                page.goto(run.url)
                state = page.locator("#state")
                window = page.locator('[data-zone="living_window"]')
                expect(state).to_have_attribute("data-state", "disarmed", timeout=10000)
                expect(page.locator("#close-all-box")).to_be_hidden()

                def keys(text):
                    for key in text:
                        page.click('#keypad [data-key="%s"]' % key, delay=HAND_MS)
                        page.wait_for_timeout(333 - HAND_MS)        # 3 keys a second

                # Play 1: armed Home, a window opens, then a forced disarm (duress).
                keys("1234B")
                expect(state).to_have_attribute("data-state", "armed_home",
                                                timeout=hub_s(60) + TYPING_MS)
                window.locator('[data-event="open"]').click(delay=HAND_MS)
                first = page.locator('.case[data-plan="burglar"]')
                expect(first).to_be_visible(timeout=real_s(5))
                expect(page.locator("#phone")).to_have_attribute("data-status", "ringing",
                                                                 timeout=5000)
                keys("9999C")
                duress = page.locator('.case[data-plan="duress"]')
                expect(duress).to_have_attribute("data-status", "dispatched", timeout=10000)
                duress_id = duress.get_attribute("data-case")
                expect(page.locator("#open-cases")).to_contain_text(duress_id)

                # Between plays: close what is left, as the demo's operator.
                page.locator("#close-all").click(delay=HAND_MS)
                expect(page.locator("#close-all-said")).to_contain_text(
                    "Closed case %s as the %s." % (duress_id, CLOSER), timeout=10000)
                expect(duress).to_have_attribute("data-status", "closed", timeout=10000)
                expect(duress.locator(".steps")).to_contain_text(
                    "all cases of the hub closed by %s" % CLOSER)
                expect(page.locator("#open-cases")).to_have_text("No case of this hub is open.")
                expect(page.locator("#close-all")).to_be_disabled()

                # Play 2: the same break-in is a case of its own, and the phone rings.
                window.locator('[data-event="close"]').click(delay=HAND_MS)
                expect(window).to_have_attribute("data-state", "closed")
                keys("1234B")
                expect(state).to_have_attribute("data-state", "armed_home",
                                                timeout=hub_s(60) + TYPING_MS)
                window.locator('[data-event="open"]').click(delay=HAND_MS)
                expect(first).to_have_count(2, timeout=real_s(5))
                second = first.first             # newest first
                second_id = second.get_attribute("data-case")
                assert int(second_id) > int(duress_id)
                expect(second).to_have_attribute("data-status", "open")
                expect(page.locator("#phone")).to_have_attribute("data-status", "ringing",
                                                                 timeout=5000)
                expect(page.locator("#phone")).to_contain_text("case %s" % second_id)

                # An open alarm is cancelled by the demo's operator, by name, and
                # closed: a cancelled case stays on the console's list until then.
                page.locator("#close-all").click(delay=HAND_MS)
                expect(page.locator("#close-all-said")).to_contain_text(
                    "Closed case %s as the %s." % (second_id, CLOSER), timeout=10000)
                expect(second).to_have_attribute("data-status", "closed", timeout=10000)
                expect(second.locator(".steps")).to_contain_text(
                    "all cases of the hub closed by %s" % CLOSER)
                expect(second.locator(".steps")).to_contain_text("Cancelled (closed from the house page)")
                expect(page.locator("#phone")).to_be_hidden()
                console.assert_clean()
            finally:
                browser.close()
    finally:
        if run.proc.poll() is None:
            run.interrupt()
        run.kill()
    assert run.leftovers() == []
