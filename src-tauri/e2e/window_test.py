#!/usr/bin/env python3
"""The real desktop app window under Xvfb, driven through Debian's WebKitWebDriver.

WebKitWebDriver launches target/debug/passdesk-app (TAURI_WEBVIEW_AUTOMATION=true lets it
drive the Tauri webview: all that tauri-driver does on Linux) and Selenium talks WebDriver to
it. Each test gets a fresh data directory with the demo counter and keys made by the real
`passdesk` CLI; scans are injected through the app's own HTTP API, as a reader would.

Run it with a D-Bus session bus (the single-instance guard needs one):
    dbus-run-session -- python3 src-tauri/e2e/window_test.py
Screenshots go to src-tauri/e2e/screenshots/.
"""

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.request

from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.common.options import ArgOptions
from selenium.webdriver.support.ui import WebDriverWait

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
APP = os.environ.get("PASSDESK_APP_BIN", os.path.join(ROOT, "target", "debug", "passdesk-app"))
CLI = os.environ.get("PASSDESK_BIN", os.path.join(ROOT, "target", "debug", "passdesk"))
SHOTS = os.path.join(ROOT, "src-tauri", "e2e", "screenshots")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(what, fn, timeout=20.0, every=0.05):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            got = fn()
            if got:
                return got
        except Exception as e:  # noqa: BLE001 - report the last failure if it never comes
            last = e
        time.sleep(every)
    raise AssertionError(f"timed out waiting for {what}" + (f" (last error: {last})" if last else ""))


class Display:
    """Xvfb on a free display number, for the whole run."""

    def __init__(self):
        r, w = os.pipe()
        self.proc = subprocess.Popen(
            ["Xvfb", "-displayfd", str(w), "-screen", "0", "1280x800x24", "-nolisten", "tcp"],
            pass_fds=(w,),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        os.close(w)
        with os.fdopen(r) as f:
            number = f.readline().strip()
        if not number:
            raise RuntimeError("Xvfb did not start")
        self.name = f":{number}"

    def close(self):
        self.proc.terminate()
        self.proc.wait(10)


class Driver:
    """WebKitWebDriver on a free port; `session()` launches the app through it."""

    def __init__(self, display, log):
        self.port = free_port()
        env = dict(os.environ, DISPLAY=display, TAURI_WEBVIEW_AUTOMATION="true", RUST_LOG="info")
        env.pop("WAYLAND_DISPLAY", None)
        self.proc = subprocess.Popen(
            ["WebKitWebDriver", f"--port={self.port}"], env=env, stdout=log, stderr=subprocess.STDOUT
        )
        wait_for("WebKitWebDriver", lambda: socket.create_connection(("127.0.0.1", self.port), 0.2).close() or True)

    def session(self, args):
        options = ArgOptions()
        options.set_capability("webkitgtk:browserOptions", {"binary": APP, "args": args})
        return webdriver.Remote(command_executor=f"http://127.0.0.1:{self.port}", options=options)

    def close(self):
        self.proc.terminate()
        self.proc.wait(10)


def cli(data, *args):
    out = subprocess.run([CLI, "--data-dir", data, *args], check=True, capture_output=True, text=True)
    return json.loads(out.stdout) if out.stdout.strip() else None


def app_pids(data):
    """Processes of the app running on this data directory."""
    pids = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                argv = f.read().split(b"\0")
        except OSError:
            continue
        if argv and argv[0].endswith(b"passdesk-app") and data.encode() in argv:
            pids.append(int(pid))
    return pids


class AppWindow(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        for path in (APP, CLI):
            if not os.access(path, os.X_OK):
                raise unittest.SkipTest(f"{path} is not built (cargo build --workspace)")
        os.makedirs(SHOTS, exist_ok=True)
        cls.tmp = tempfile.mkdtemp(prefix="passdesk-window-")
        cls.log = open(os.path.join(cls.tmp, "webdriver.log"), "w")
        cls.display = Display()
        cls.driver_service = Driver(cls.display.name, cls.log)

    @classmethod
    def tearDownClass(cls):
        cls.driver_service.close()
        cls.display.close()
        cls.log.close()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def setUp(self):
        self.data = tempfile.mkdtemp(prefix="data-", dir=self.tmp)
        cli(self.data, "demo")
        self.cashier_key = cli(self.data, "keys", "create", "--role", "cashier", "--name", "window test")["key"]
        self.manager_key = cli(self.data, "keys", "create", "--role", "manager", "--name", "window test")["key"]
        self.driver = None

    def tearDown(self):
        if self.driver is not None:
            try:
                self.driver.quit()
            except WebDriverException:
                pass
        # The next test's app must not find this one still holding the single-instance name.
        wait_for("the app to exit", lambda: not app_pids(self.data), timeout=15)

    def launch(self, *extra):
        self.driver = self.driver_service.session(
            ["--data-dir", self.data, "--no-readers", "--reader", "gate-a", *extra]
        )
        return self.driver

    def origin(self):
        url = self.driver.current_url
        return url.split("/#", 1)[0].rstrip("/")

    def api(self, method, path, body=None, key=None):
        req = urllib.request.Request(
            self.origin() + path,
            method=method,
            data=None if body is None else json.dumps(body).encode(),
            headers={"Authorization": f"Bearer {key or self.cashier_key}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(req, timeout=5) as res:
            return json.loads(res.read())

    def js(self, script, *args):
        return self.driver.execute_script(script, *args)

    def launch_key(self):
        """The live key this launch made for its window."""
        keys = [
            k for k in cli(self.data, "keys", "list")
            if k["name"].startswith("desktop app launch key (pid") and k.get("revokedAt") is None
        ]
        self.assertEqual(len(keys), 1, keys)
        return keys[0]

    def nav(self):
        return self.js("return [...document.querySelectorAll('nav.nav a')].map((a) => a.dataset.screen)")

    def test_window_shows_status_then_a_scan_from_the_api(self):
        d = self.launch("--screen", "status")
        facts = wait_for(
            "the status screen's facts",
            lambda: (lambda t: t if "Passes in cache" in t and "460" in t else None)(
                d.find_element(By.CSS_SELECTOR, '[data-testid="status-facts"]').text
            ),
        )
        self.assertIn("reader gate-a", facts)
        # A station on the status screen is a till: a cashier key, bound to its reader; a
        # manager signs in on the manager screen, which its navigation offers.
        key = self.launch_key()
        self.assertEqual((key["role"], key["readers"]), ("cashier", ["gate-a"]))
        self.assertEqual(self.nav(), ["gate", "cashier", "manager", "status"])
        self.assertTrue(self.origin().startswith("http://127.0.0.1:"), self.origin())
        self.assertNotIn("key=", d.current_url, "the launch key is wiped from the address")
        # The shell reported a first paint, and is not in kiosk mode.
        shell = wait_for("the shell's first paint", lambda: self.js("return window.__passdeskShell.firstPaint !== null && window.__passdeskShell"))
        self.assertFalse(shell["kiosk"])
        d.save_screenshot(os.path.join(SHOTS, "window-status.png"))

        # The gate screen, and a scan that arrives through the HTTP API as a reader's would.
        self.js("location.hash = '#/gate?reader=gate-a'")
        wait_for("the gate screen", lambda: d.find_element(By.CSS_SELECTOR, '[data-testid="gate-panel"]'))
        wait_for("the live badge", lambda: d.find_element(By.CSS_SELECTOR, '[data-testid="online-badge"]').text == "Live")
        scan = self.api("POST", "/api/v1/scans", {"value": "HLF-0001", "readerId": "gate-a", "medium": "qr"})
        scan_id = scan["data"]["id"]
        panel = wait_for(
            "the scan on the gate",
            lambda: d.find_element(By.CSS_SELECTOR, f'[data-testid="gate-panel"][data-scan-id="{scan_id}"]'),
            timeout=5,
        )
        self.assertEqual(panel.get_attribute("data-outcome"), "accept")
        self.assertTrue(d.find_elements(By.CSS_SELECTOR, '[data-testid="last-scans"] li'))
        d.save_screenshot(os.path.join(SHOTS, "window-gate-scan.png"))

        # A second launch on the same session bus only brings this window forward, and
        # starts no second service (it never prints a listening line).
        env = dict(os.environ, DISPLAY=self.display.name)
        second = subprocess.run(
            [APP, "--data-dir", self.data, "--no-readers"], env=env, capture_output=True, text=True, timeout=30
        )
        self.assertEqual(second.returncode, 0, second.stderr)
        self.assertNotIn("listening", second.stdout)
        self.assertEqual(len(app_pids(self.data)), 1)
        again = self.api("POST", "/api/v1/scans", {"value": "HLF-0001", "readerId": "gate-a", "medium": "qr"})
        wait_for(
            "the repeat on the gate",
            lambda: d.find_element(By.CSS_SELECTOR, f'[data-testid="gate-panel"][data-scan-id="{again["data"]["id"]}"]'),
            timeout=5,
        )

    def test_kiosk_guards_and_leaving_with_a_manager_key(self):
        d = self.launch("--kiosk", "--screen", "gate")
        wait_for("the gate screen", lambda: d.find_element(By.CSS_SELECTOR, '[data-testid="gate-panel"]'))
        # A gate's window holds a reader key that scans only as its gate, and offers no more.
        key = self.launch_key()
        self.assertEqual((key["role"], key["readers"]), ("reader", ["gate-a"]))
        wait_for("the gate's navigation", lambda: self.nav() == ["gate", "status"])
        self.assertTrue(self.js("return window.__passdeskShell.kiosk"))
        prevented = self.js(
            "const e = new MouseEvent('contextmenu', {bubbles: true, cancelable: true});"
            "document.body.dispatchEvent(e); return e.defaultPrevented;"
        )
        self.assertTrue(prevented, "no context menu in kiosk mode")
        zoom = self.js(
            "const e = new KeyboardEvent('keydown', {key: '+', ctrlKey: true, bubbles: true, cancelable: true});"
            "document.body.dispatchEvent(e); return e.defaultPrevented;"
        )
        self.assertTrue(zoom, "no zoom keys in kiosk mode")

        # Ctrl+Alt+K, typed on the keyboard, asks for a manager key.
        ActionChains(d).key_down(Keys.CONTROL).key_down(Keys.ALT).send_keys("k").key_up(Keys.ALT).key_up(Keys.CONTROL).perform()
        dialog = wait_for("the leave-kiosk dialog", lambda: d.find_element(By.CSS_SELECTOR, 'dialog[data-testid="leave-kiosk"]'))
        field = dialog.find_element(By.CSS_SELECTOR, "input")
        field.send_keys(self.cashier_key + Keys.ENTER)
        alert = dialog.find_element(By.CSS_SELECTOR, '[role="alert"]')
        wait_for("the refusal", lambda: "cannot leave kiosk" in alert.text, timeout=5)
        self.assertTrue(self.js("return window.__passdeskShell.kiosk"), "a cashier key does not leave kiosk mode")
        field.send_keys("pdk_000000000000000000_nope" + Keys.ENTER)
        wait_for("the second refusal", lambda: "not a valid key" in alert.text, timeout=5)
        d.save_screenshot(os.path.join(SHOTS, "kiosk-leave-refused.png"))

        field.send_keys(self.manager_key + Keys.ENTER)
        wait_for("kiosk mode to end", lambda: self.js("return window.__passdeskShell.kiosk === false"), timeout=5)
        self.assertFalse(d.find_elements(By.CSS_SELECTOR, 'dialog[data-testid="leave-kiosk"]'))
        allowed = self.js(
            "const e = new MouseEvent('contextmenu', {bubbles: true, cancelable: true});"
            "document.body.dispatchEvent(e); return !e.defaultPrevented;"
        )
        self.assertTrue(allowed, "the guards are off after leaving kiosk mode")
        # The screens work on: a scan still shows.
        scan = self.api("POST", "/api/v1/scans", {"value": "HLF-0002", "readerId": "gate-a", "medium": "qr"})
        wait_for(
            "the scan on the gate",
            lambda: d.find_element(By.CSS_SELECTOR, f'[data-testid="gate-panel"][data-scan-id="{scan["data"]["id"]}"]'),
            timeout=5,
        )
        d.save_screenshot(os.path.join(SHOTS, "kiosk-left.png"))


class StartUp(unittest.TestCase):
    """What the app refuses before it opens anything (no display needed)."""

    def setUp(self):
        if not os.access(APP, os.X_OK):
            raise unittest.SkipTest(f"{APP} is not built (cargo build --workspace)")
        self.data = tempfile.mkdtemp(prefix="passdesk-startup-")

    def tearDown(self):
        shutil.rmtree(self.data, ignore_errors=True)

    def start(self, *args):
        env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
        return subprocess.run([APP, "--data-dir", self.data, *args], env=env, capture_output=True, text=True, timeout=30)

    def test_a_manager_or_admin_station_key_is_refused_with_the_reason(self):
        out = self.start("--role", "manager")
        self.assertNotEqual(out.returncode, 0)
        self.assertIn("a manager signs in on the manager screen with their own key", out.stderr)
        with open(os.path.join(self.data, "passdesk.toml"), "w") as f:
            f.write('[app]\nrole = "admin"\n')
        out = self.start()
        self.assertNotEqual(out.returncode, 0)
        self.assertIn("never admin", out.stderr)
        self.assertIn("a manager signs in", out.stderr)
        self.assertNotIn("listening", out.stdout)


if __name__ == "__main__":
    result = unittest.main(exit=False, verbosity=2).result
    failed = len(result.failures) + len(result.errors)
    print(f"app window: {result.testsRun - failed - len(result.skipped)} passed, {failed} failed, {len(result.skipped)} skipped")
    sys.exit(1 if failed or result.skipped else 0)
