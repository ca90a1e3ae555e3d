#!/usr/bin/python3
"""Interop client in headless Firefox, driven through the Marionette protocol.

    /usr/bin/python3 firefox_client.py ws://127.0.0.1:PORT

Serves page.html and checks.js from a small HTTP server on 127.0.0.1 (a
thread of this process), starts Firefox (FIREFOX, else `firefox-esr`, else
`firefox` on PATH) with a fresh profile whose user.js sets marionette.port
to 0, reads the port Firefox chose from MarionetteActivePort, opens the page
with the gateway's address in its URL, and polls window.interop with
WebDriver:ExecuteScript until the page's checks are done. Marionette is
spoken over TCP with the standard library alone (no geckodriver): each
message is LEN:JSON, a command [0, id, name, params], its answer
[1, id, error, result].

Prints one PASS/FAIL line per check and "N passed, N failed"; exits 1 if a
check failed or the browser could not be driven. Every wait has a deadline,
and Firefox's whole process group is killed on the way out, including on
SIGTERM (as sent by timeout(1)).
"""

import asyncio
import json
import os
import socket
import subprocess
import sys
import time

import browser
from browser import Failure, describe, echo_probe

TAG = "firefox"
START_DEADLINE = 30.0  # for Firefox to open its Marionette port, and for its first window
CALL_DEADLINE = 15.0  # for one Marionette command
PAGE_LOAD_MS = 15000  # for one navigation, within Firefox
CHECKS_DEADLINE = float(os.environ.get("INTEROP_CHECKS_DEADLINE", "150"))  # for the page to finish all its checks
QUIT_DEADLINE = 15.0  # for Firefox to exit after Marionette:Quit

# user.js of the fresh profile: Marionette on a port of Firefox's choosing,
# and nothing that makes a headless run slow or noisy.
PREFS = {
    "marionette.port": 0,
    # No first-run, welcome or what's-new page, no default-browser question,
    # no session restore, no prompt on closing a tab or quitting.
    "browser.shell.checkDefaultBrowser": False,
    "browser.startup.homepage_override.mstone": "ignore",
    "browser.startup.page": 0,
    "browser.aboutwelcome.enabled": False,
    "startup.homepage_welcome_url": "",
    "startup.homepage_welcome_url.additional": "",
    "browser.newtabpage.enabled": False,
    "browser.sessionstore.resume_from_crash": False,
    "toolkit.startup.max_resumed_crashes": -1,
    "browser.tabs.warnOnClose": False,
    "browser.warnOnQuit": False,
    # No updates of the browser, its add-ons, search engines or plugins.
    "app.update.disabledForTesting": True,
    "app.update.auto": False,
    "extensions.update.enabled": False,
    "extensions.getAddons.cache.enabled": False,
    "extensions.blocklist.enabled": False,
    "browser.search.update": False,
    "media.gmp-manager.updateEnabled": False,
    # No telemetry, studies, experiments or crash reports.
    "datareporting.policy.dataSubmissionEnabled": False,
    "datareporting.healthreport.uploadEnabled": False,
    "toolkit.telemetry.enabled": False,
    "toolkit.telemetry.unified": False,
    "toolkit.telemetry.server": "data:,",
    "app.normandy.enabled": False,
    "app.shield.optoutstudies.enabled": False,
    "nimbus.rollouts.enabled": False,
    "browser.crashReports.unsubmittedCheck.enabled": False,
    "breakpad.reportURL": "",
    # No background network: remote settings, safe browsing lists, captive
    # portal and connectivity probes, region lookup, prefetching; no proxy
    # between Firefox and 127.0.0.1.
    "services.settings.server": "data:,#remote-settings-dummy/v1",
    "browser.safebrowsing.malware.enabled": False,
    "browser.safebrowsing.phishing.enabled": False,
    "browser.safebrowsing.downloads.enabled": False,
    "browser.safebrowsing.blockedURIs.enabled": False,
    "network.captive-portal-service.enabled": False,
    "network.connectivity-service.enabled": False,
    "browser.region.network.url": "",
    "browser.region.update.enabled": False,
    "network.dns.disablePrefetch": True,
    "network.prefetch-next": False,
    "network.http.speculative-parallel-limit": 0,
    "network.proxy.type": 0,
    # The page's console output goes to Firefox's stdout, which is kept for
    # the report.
    "devtools.console.stdout.content": True,
}

# Lines of Firefox's output that say nothing about the run.
NOISE = ("*** You are running in headless mode", "GraphicsCriticalError", "Marionette\tINFO")


class Marionette:
    """A minimal Marionette client (protocol 3) over one TCP connection:
    each message is its length in bytes, a colon and JSON; a command
    [0, id, name, params] is answered by [1, id, error, result]."""

    def __init__(self, port, deadline=CALL_DEADLINE):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=deadline)
        self.buf = b""
        self.next_id = 0
        hello = self.read(time.monotonic() + deadline, "the greeting")
        if not isinstance(hello, dict) or hello.get("marionetteProtocol") != 3:
            raise Failure("unexpected Marionette greeting %r" % (hello,))

    def read(self, end, what):
        """Reads one message; raises Failure if it is not whole by end (of
        time.monotonic()) or the connection ends first."""
        while True:
            head, colon, rest = self.buf.partition(b":")
            if (colon and not head.isdigit()) or (not colon and len(self.buf) > 20):
                raise Failure("Marionette sent %r, not LEN:JSON" % self.buf[:40])
            if colon and len(rest) >= int(head):
                n = int(head)
                self.buf = rest[n:]
                return json.loads(rest[:n])
            left = end - time.monotonic()
            if left <= 0:
                raise Failure("no answer to %s within the deadline" % what)
            self.sock.settimeout(left)
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                continue
            if not data:
                raise Failure("Marionette connection closed (waiting for %s)" % what)
            self.buf += data

    def call(self, name, params=None, deadline=CALL_DEADLINE):
        """Sends one command and returns its result; raises Failure on an
        error answer or none within deadline seconds."""
        self.next_id += 1
        data = json.dumps([0, self.next_id, name, params or {}]).encode()
        end = time.monotonic() + deadline
        self.sock.settimeout(deadline)
        self.sock.sendall(b"%d:%s" % (len(data), data))
        while True:
            m = self.read(end, name)
            # An answer to an earlier command that ran out of time is skipped.
            if isinstance(m, list) and len(m) == 4 and m[0] == 1 and m[1] == self.next_id:
                break
        if m[2]:
            e = m[2]
            raise Failure("%s: %s: %s" % (name, e.get("error"), e.get("message")))
        return m[3]

    def close(self):
        self.sock.close()


def find_firefox():
    return browser.find_program("FIREFOX", ("firefox-esr", "firefox"))


def write_prefs(profile):
    with open(os.path.join(profile, "user.js"), "w") as fh:
        for k, v in PREFS.items():
            fh.write("user_pref(%s, %s);\n" % (json.dumps(k), json.dumps(v)))


def wait_marionette_port(proc, profile):
    """Reads the port Firefox writes to MarionetteActivePort once it
    listens; returns it."""
    f = os.path.join(profile, "MarionetteActivePort")
    end = time.monotonic() + START_DEADLINE
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise Failure("firefox exited with status %d before opening Marionette" % proc.returncode)
        try:
            with open(f) as fh:
                text = fh.read().strip()
            if text.isdigit():
                return int(text)
        except FileNotFoundError:
            pass
        time.sleep(browser.POLL)
    raise Failure("firefox did not open its Marionette port within %gs" % START_DEADLINE)


def navigate(m, url):
    # Marionette answers once the page has loaded (within PAGE_LOAD_MS).
    m.call("WebDriver:Navigate", {"url": url}, deadline=PAGE_LOAD_MS / 1000 + CALL_DEADLINE)


def wait_page(m, deadline, report=None):
    """Polls window.interop in the current tab until its done is true;
    returns it."""
    end = time.monotonic() + deadline
    state = None
    while time.monotonic() < end:
        r = m.call("WebDriver:ExecuteScript", {"script": "return JSON.stringify(window.interop || null)", "args": []})
        value = r.get("value") if isinstance(r, dict) else None
        state = json.loads(value) if isinstance(value, str) else None
        if state and report is not None:
            report["partial"] = state.get("results", [])
        if state and state.get("done"):
            return state
        time.sleep(browser.POLL)
    got = len(state.get("results", [])) if state else 0
    raise Failure("the page did not finish within %gs (%d checks done)" % (deadline, got))


def start_linger(m, page_base):
    """Opens the page in linger mode in the current tab and waits for its
    session on /linger to echo."""
    navigate(m, page_base + "&mode=linger")
    state = wait_page(m, 10)
    if state.get("error") or state.get("echo") != "are you there":
        raise Failure("the tab's session did not start: %s" % state)


def tab_closed_check(m, base, page_base):
    """A second tab whose WebSocket is open on /linger (cat, then sleeps
    after its stdin ends) is closed (WebDriver:CloseWindow): Firefox sends
    Close 1001 (going away) and drops the connection. The gateway must end
    that session and keep serving."""
    name = "tab closed mid-session (Close 1001 going away): gateway keeps serving"
    try:
        tab = m.call("WebDriver:NewWindow", {"type": "tab"})["handle"]
        m.call("WebDriver:SwitchToWindow", {"handle": tab})
        start_linger(m, page_base)
        m.call("WebDriver:CloseWindow")
        time.sleep(1.0)
        asyncio.run(echo_probe(base))
        return {"name": name, "ok": True, "detail": "gateway answered after the tab closed"}
    except Exception as e:
        return {"name": name, "ok": False, "detail": describe(e)}


def browser_quit_check(m, base, page_base, first_tab, proc, report):
    """Like tab_closed_check, in the first tab, but the whole browser quits
    (Marionette:Quit): Firefox sends Close 1001 as it unloads the page and
    drops the connection as it exits. The gateway must keep serving. A
    Firefox that hangs on its way out is killed (and the detail says so)."""
    name = "browser quits mid-session (Close 1001, then TCP closed): gateway keeps serving"
    try:
        m.call("WebDriver:SwitchToWindow", {"handle": first_tab})
        start_linger(m, page_base)
        report["quit"] = True
        try:
            m.call("Marionette:Quit", {"flags": ["eForceQuit"]}, deadline=5)
        except Failure:
            pass  # the connection may end before the answer
        how = "quit"
        try:
            proc.wait(timeout=QUIT_DEADLINE)
        except subprocess.TimeoutExpired:
            browser.stop_browser(TAG, proc, browser.CHILD["tmp"], grace=0)
            how = "was killed (it had not quit %gs after Marionette:Quit)" % QUIT_DEADLINE
        time.sleep(1.0)
        asyncio.run(echo_probe(base))
        return {"name": name, "ok": True, "detail": "gateway answered after the browser " + how}
    except Exception as e:
        return {"name": name, "ok": False, "detail": describe(e)}


def drive(port, proc, page_base, base, report):
    """Runs the page's checks, then the tab-close and browser-quit checks;
    returns (results, error)."""
    m = Marionette(port)
    try:
        session = m.call(
            "WebDriver:NewSession",
            {"pageLoadStrategy": "normal", "timeouts": {"pageLoad": PAGE_LOAD_MS, "script": PAGE_LOAD_MS}},
            deadline=START_DEADLINE,
        )
        report["version"] = "Firefox/%s" % session.get("capabilities", {}).get("browserVersion", "?")
        first_tab = m.call("WebDriver:GetWindowHandle")["value"]
        navigate(m, page_base)
        state = wait_page(m, CHECKS_DEADLINE, report)
        results = state.get("results", [])
        results.append(tab_closed_check(m, base, page_base))
        results.append(browser_quit_check(m, base, page_base, first_tab, proc, report))
        return results, state.get("error")
    finally:
        if not report.get("quit"):
            try:
                m.call("Marionette:Quit", {"flags": ["eForceQuit"]}, deadline=5)
            except Exception:
                pass
        m.close()


def run(tmp, errlog, base, page_base, report):
    """Starts Firefox and drives it (see browser.main)."""
    firefox = find_firefox()
    if firefox is None:
        raise Failure("no firefox-esr or firefox on PATH (.ci/interop.sh installs Debian's firefox-esr)")
    profile = os.path.join(tmp, "profile")
    os.mkdir(profile)
    write_prefs(profile)
    # Everything Firefox writes stays in tmp, the home included. TMPDIR too:
    # Firefox's crash helper leaves the process group, and names that
    # directory on its command line (for kill_strays).
    env = browser.private_env(tmp)
    env.update(TMPDIR=tmp, XDG_DATA_HOME=tmp + "/data", MOZ_CRASHREPORTER_DISABLE="1")
    argv = [firefox, "--headless", "--marionette", "--no-remote", "-profile", profile, "about:blank"]
    proc = browser.spawn(argv, env, errlog)
    port = wait_marionette_port(proc, profile)
    return drive(port, proc, page_base, base, report)


def main(base):
    # The page's console output is in Firefox's (devtools.console.stdout.content).
    return browser.main(TAG, run, base, NOISE)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print("usage: firefox_client.py ws://HOST:PORT", file=sys.stderr)
        sys.exit(2)
    sys.exit(main(sys.argv[1]))
