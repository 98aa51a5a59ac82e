# A small W3C WebDriver client (python3 stdlib: urllib) driving Debian's headless
# Chromium through chromedriver, for tests of the incident page. chromedriver
# listens on a free loopback port and is stopped by its own PID; Chromium runs
# headless with a temporary profile (--no-sandbox: CI runs as root).
import base64
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

import signpost_test as st



class WebDriverError(AssertionError):
    pass


def find_browser():
    """(chromium, chromedriver) paths; fails (never skips) when either is missing:
    scripts/setup.sh installs the Debian packages chromium and chromium-driver."""
    chromium = None
    for c in ("/usr/lib/chromium/chromium", shutil.which("chromium"), shutil.which("chromium-browser")):
        if c and os.path.isfile(c) and os.access(c, os.X_OK):
            chromium = c
            break
    driver = shutil.which("chromedriver") or ("/usr/bin/chromedriver" if os.path.exists("/usr/bin/chromedriver") else None)
    if not chromium or not driver:
        raise AssertionError("chromium and chromedriver are needed for the incident page test: "
                             "apt-get install chromium chromium-driver (scripts/setup.sh installs them); "
                             f"found chromium={chromium} chromedriver={driver}")
    return chromium, driver


class Browser:
    """One chromedriver process and one headless Chromium session."""

    def __init__(self, width=1000, height=900):
        self.chromium, self.driver = find_browser()
        self.profile = tempfile.mkdtemp(prefix="signpost-chromium-")
        fd, self.log = tempfile.mkstemp(prefix="signpost-chromedriver-", suffix=".log")
        os.close(fd)
        st.register_log("chromedriver", self.log)
        self.proc = None
        self.session = None
        last = None
        for _ in range(3):  # a free port can be taken by a parallel test before chromedriver binds it
            self.port = st.free_port()
            with open(self.log, "a") as log:
                self.proc = subprocess.Popen([self.driver, f"--port={self.port}", "--log-level=WARNING"],
                                             stdout=log, stderr=subprocess.STDOUT)
            st._LIVE.append(self.proc)
            try:
                st.wait_until(self._ready, timeout=20, interval=0.1, what="chromedriver ready")
                break
            except AssertionError as e:
                last = e
                self._stop_driver()
        else:
            raise WebDriverError(f"chromedriver did not start: {last}")
        caps = {"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": self.chromium,
                "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                         "--no-first-run", "--no-default-browser-check", "--disable-extensions",
                         "--disable-background-networking", "--disable-component-update",
                         f"--user-data-dir={self.profile}", f"--window-size={width},{height}"],
            },
        }}}
        try:
            value = self._call("POST", "/session", caps, timeout=60)
        except Exception:
            self.close()
            raise
        self.session = value["sessionId"]

    def _ready(self):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/status", timeout=2) as r:
                return json.loads(r.read()).get("value", {}).get("ready", False)
        except (OSError, ValueError):
            if self.proc.poll() is not None:
                raise AssertionError(f"chromedriver exited with {self.proc.returncode}")
            return False

    def _call(self, method, path, body=None, timeout=30):
        data = json.dumps(body if body is not None else {}).encode() if method == "POST" else None
        req = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                return json.loads(r.read())["value"]
        except urllib.error.HTTPError as e:
            try:
                v = json.loads(e.read())["value"]
                raise WebDriverError(f"{method} {path}: {v.get('error')}: {v.get('message', '')[:300]}")
            except ValueError:
                raise WebDriverError(f"{method} {path}: HTTP {e.code}")

    def _s(self, path):
        return f"/session/{self.session}{path}"

    # ---- commands ----
    def get(self, url):
        self._call("POST", self._s("/url"), {"url": url}, timeout=60)

    def run(self, script, *args):
        """Runs `script` (a function body) in the page; returns its value."""
        return self._call("POST", self._s("/execute/sync"), {"script": script, "args": list(args)})

    def find(self, css):
        """The first element matching `css`, or None."""
        found = self._call("POST", self._s("/elements"), {"using": "css selector", "value": css})
        return next(iter(found[0].values())) if found else None  # {"element-6066-…": id}

    def click(self, element):
        self._call("POST", self._s(f"/element/{element}/click"))

    def type(self, element, text):
        self._call("POST", self._s(f"/element/{element}/value"), {"text": text})

    def text(self, css):
        """textContent of the first match (None when absent)."""
        return self.run("const e = document.querySelector(arguments[0]); return e ? e.textContent : null;", css)

    def screenshot(self, path):
        png = base64.b64decode(self._call("GET", self._s("/screenshot")))
        with open(path, "wb") as f:
            f.write(png)
        return path

    def click_when_ready(self, css, timeout=10.0):
        """Clicks the first match of `css`, retrying while the page redraws it."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                el = self.find(css)
                if el:
                    self.click(el)
                    return
            except WebDriverError as e:
                if "stale" not in str(e) and "not interactable" not in str(e) and "intercepted" not in str(e):
                    raise
            if time.monotonic() > deadline:
                raise AssertionError(f"no clickable {css} within {timeout} s")
            time.sleep(0.05)

    # ---- teardown ----
    def _stop_driver(self):
        if self.proc and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)
        if self.proc in st._LIVE:
            st._LIVE.remove(self.proc)
        self.proc = None

    def close(self):
        try:
            if self.session and self.proc and self.proc.poll() is None:
                try:
                    self._call("DELETE", self._s(""), timeout=30)  # chromedriver quits Chromium
                except (WebDriverError, OSError):
                    pass
        finally:
            self.session = None
            self._stop_driver()
            shutil.rmtree(self.profile, ignore_errors=True)
