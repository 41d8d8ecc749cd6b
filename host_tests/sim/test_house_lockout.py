"""The keypad's lockout on the house page, typed as a person types: five wrong
codes at 3 keys a second, then the keypad shows how long it stays locked and
counts it down, until it is ready again. Hub time at real speed, as in a house;
the demo house with the shortest lockout its config allows (3 wrong codes, 30 s),
so the test waits half a minute and not one and a half."""
import json
import os
import re
import sys
import time

from tools import paths

from browsing import CHROMIUM, FLAGS, HAND_MS, Console, ensure_chromium
from running import Running

KEY_GAP_S = 1 / 3          # a person types 3 keys a second
LOCKOUT_S = 30             # lockout_time: the lowest firmware/panel/config.py allows
ATTEMPTS = 3               # lockout_attempts: likewise


def test_the_keypad_shows_the_lockouts_time_left_and_counts_it_down(tmp_path):
    ensure_chromium()
    from playwright.sync_api import expect, sync_playwright
    (tmp_path / "run").mkdir()
    with open(os.path.join(paths.ROOT, "tools", "demo", "hub-config.json")) as f:
        config = json.load(f)
    config.update(lockout_time=LOCKOUT_S, lockout_attempts=ATTEMPTS)
    with open(tmp_path / "hub-config.json", "w") as f:
        json.dump(config, f)
    run = Running([sys.executable, "-m", "tools.run", "--speed", "1", "--port", "0",
                   "--config", str(tmp_path / "hub-config.json")], tmp_path / "run")
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch_persistent_context(
                str(tmp_path / "profile"), executable_path=CHROMIUM, headless=True, args=FLAGS)
            try:
                page = browser.new_page()
                console = Console(page)
                page.goto(run.url)
                expect(page.locator("#state")).to_have_attribute("data-state", "disarmed",
                                                                 timeout=10000)
                prompt = page.locator("#kp-prompt")
                for _ in range(ATTEMPTS):
                    for key in "0000C":
                        page.click('#keypad [data-key="%s"]' % key, delay=HAND_MS)
                        time.sleep(KEY_GAP_S)
                expect(prompt).to_have_text(re.compile(r"^Locked out — 0:[12]\d$"), timeout=5000)
                first = left_s(prompt.text_content())
                assert LOCKOUT_S - 15 <= first <= LOCKOUT_S, first
                time.sleep(3)
                later = left_s(prompt.text_content())
                assert first - 5 <= later <= first - 2, (first, later)
                # A key pressed while locked says "locked" again: the time left stays true.
                page.click('#keypad [data-key="C"]', delay=HAND_MS)
                time.sleep(1)
                again = left_s(prompt.text_content())
                assert later - 3 <= again <= later, (later, again)
                expect(prompt).to_have_text("Code + A (Away) or B (Home) to arm",
                                            timeout=(again + 10) * 1000)
                console.assert_clean()
            finally:
                browser.close()
    finally:
        if run.proc.poll() is None:
            run.interrupt()
        run.kill()
    assert run.leftovers() == []


def left_s(text):
    m = re.match(r"^Locked out — (\d+):(\d\d)$", text)
    assert m, text
    return int(m.group(1)) * 60 + int(m.group(2))
