"""The owner's app on a phone's screen, in a real headless Chromium, beside the
house page at `make run SPEED=5`: arm Away and disarm with the code, see the
open door, and when the panic button is pressed by mistake, cancel the false
alarm with the verbal password (a wrong one cancels nothing) before anyone is
sent. At 390 px nothing scrolls sideways; a browser notification tells of the
alarm (the owner allowed them); the console stays clean on both pages."""
import os
import re
import shutil
import sys
import time

from browsing import CHROMIUM, FLAGS, HAND_MS, Console, ensure_chromium
from running import Running
from tools import paths

# The door must open within the exit delay (60 s of hub time) or the hub arms
# Home (auto-stay): 12 real seconds here leave room on a loaded machine.
SPEED = 5
PHONE = {"width": 390, "height": 844}
# Records each notification the page shows (the browser's own is not visible headless).
NOTIFICATIONS = """
window.__shown = [];
const Native = window.Notification;
if (Native) {
  window.Notification = class extends Native {
    constructor(title, options) { super(title, options); window.__shown.push(options.body); }
  };
  Object.defineProperty(window.Notification, "permission", {get: () => Native.permission});
  window.Notification.requestPermission = (...a) => Native.requestPermission(...a);
}
"""


def app_url(run, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for line in run.output:
            m = re.search(r"owner's app.*: (http://127\.80\.0\.1:\d+/app/link/\S+)", line)
            if m:
                return m.group(1)
        time.sleep(0.1)
    raise AssertionError("no owner's app link printed:\n" + "".join(run.output))


def no_sideways_scroll(page):
    width, inner = page.evaluate("[document.documentElement.scrollWidth, innerWidth]")
    assert width <= inner, (width, inner)


def test_the_owner_arms_disarms_and_cancels_a_false_alarm_on_a_phone(tmp_path):
    ensure_chromium()
    from playwright.sync_api import expect, sync_playwright
    (tmp_path / "run").mkdir()
    run = Running([sys.executable, "-m", "tools.run", "--speed", str(SPEED), "--port", "0"],
                  tmp_path / "run")
    try:
        url = app_url(run)
        origin = url.split("/app/")[0]
        with sync_playwright() as pw:
            browser = pw.chromium.launch_persistent_context(
                str(tmp_path / "profile"), executable_path=CHROMIUM, headless=True, args=FLAGS,
                viewport=PHONE)
            try:
                browser.grant_permissions(["notifications"], origin=origin)
                app = browser.new_page()
                app.add_init_script(NOTIFICATIONS)
                house = browser.new_page()
                house.set_viewport_size({"width": 1280, "height": 1000})
                consoles = [Console(app), Console(house)]
                house.goto(run.url)
                app.goto(url)
                # The link's page logs in only with its button (a same-origin POST).
                app.click("#btn-open", delay=HAND_MS)
                state = app.locator("#hub-state")
                expect(state).to_have_text("Disarmed", timeout=15000)
                expect(app.locator("#open-zones")).to_have_text("All doors and windows closed.")
                no_sideways_scroll(app)

                # Arm Away from the phone, leave by the front door.
                app.fill("#code", "1234")
                app.click("#arm-away", delay=HAND_MS)
                expect(state).to_have_text(re.compile("^Arming"), timeout=10000)
                expect(app.locator("#code")).to_have_value("")
                front = house.locator('[data-zone="front_door"]')
                front.locator('[data-event="open"]').click(delay=HAND_MS)
                expect(app.locator("#open-zones")).to_have_text("Open: front door",
                                                                timeout=10000)
                front.locator('[data-event="close"]').click(delay=HAND_MS)
                expect(state).to_have_text("Armed Away", timeout=(60 / SPEED + 15) * 1000)

                app.fill("#code", "1234")
                app.click("#disarm", delay=HAND_MS)
                expect(state).to_have_text("Disarmed", timeout=10000)

                # A child presses the panic button: a false alarm.
                house.locator('[data-zone="panic_button"] [data-event="press"]').click(
                    delay=HAND_MS)
                alarm = app.locator("#alarm")
                expect(alarm).to_be_visible(timeout=15000)
                expect(app.locator("#alarm-what")).to_contain_text("Panic")
                no_sideways_scroll(app)
                expect(house.locator("#phone")).to_have_attribute("data-status", "ringing",
                                                                  timeout=10000)
                assert app.evaluate("window.__shown") == ["Panic \u2014 panic button"]
                # Every run leaves its picture in build/; the docs' copy is made once
                # (delete docs/owner-app.png to make a new one).
                os.makedirs(paths.BUILD, exist_ok=True)
                shot = os.path.join(paths.BUILD, "owner-app.png")
                app.screenshot(path=shot, full_page=True)
                if not os.path.exists(os.path.join(paths.ROOT, "docs", "owner-app.png")):
                    shutil.copy(shot, os.path.join(paths.ROOT, "docs", "owner-app.png"))

                app.fill("#verbal", "green kite")
                app.click("#cancel-alarm", delay=HAND_MS)
                expect(app.locator("#alarm-result")).to_contain_text("not your verbal password")
                expect(alarm).to_be_visible()
                app.fill("#verbal", "blue heron")
                app.click("#cancel-alarm", delay=HAND_MS)
                expect(app.locator("#alarm-result")).to_have_text(
                    "Alarm cancelled. Nobody is sent.", timeout=10000)
                expect(alarm).to_be_hidden()
                case = house.locator('.case[data-plan="panic"]')
                expect(case).to_have_attribute("data-status", "cancelled", timeout=5000)
                expect(case.locator(".steps")).to_contain_text(
                    "Owner's app: cancel with a wrong verbal password")
                expect(house.locator("#phone")).to_be_hidden()
                expect(app.locator("#history")).to_contain_text(
                    "Alarm cancelled (in the owner's app)", timeout=5000)

                # The siren still sounds at the house until the code silences it.
                expect(app.locator("#state-help")).to_contain_text("disarm with your code")
                app.fill("#code", "1234")
                app.click("#disarm", delay=HAND_MS)
                expect(state).to_have_text("Disarmed", timeout=10000)
                expect(house.locator("#out-siren")).to_have_attribute("data-level", "0")
                no_sideways_scroll(app)
                for console in consoles:
                    console.assert_clean()
            finally:
                browser.close()
    finally:
        if run.proc.poll() is None:
            run.interrupt()
        run.kill()
    assert run.leftovers() == []
