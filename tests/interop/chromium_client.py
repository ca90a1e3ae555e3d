#!/usr/bin/python3
"""Interop client in headless Chromium, driven through the DevTools protocol.

    /usr/bin/python3 chromium_client.py ws://127.0.0.1:PORT

Serves page.html and checks.js from a small HTTP server on 127.0.0.1 (a
thread of this process), starts Chromium (CHROMIUM, else `chromium` on PATH)
with a fresh profile and --remote-debugging-port=0, opens the page with the
gateway's address in its URL, and polls window.interop with Runtime.evaluate
until the page's checks are done (--dump-dom would return before WebSocket
events arrive). The CDP connection is made with python3-websockets.

Prints one PASS/FAIL line per check and "N passed, N failed"; exits 1 if a
check failed or the browser could not be driven. Every wait has a deadline,
and Chromium's whole process group is killed on the way out, including on
SIGTERM (as sent by timeout(1)).
"""

import asyncio
import json
import os
import sys
import time

import websockets

import browser
from browser import POLL, Failure, describe, echo_probe

TAG = "chromium"
START_DEADLINE = 30.0  # for Chromium to open its DevTools port
CALL_DEADLINE = 15.0  # for one DevTools command
CHECKS_DEADLINE = float(os.environ.get("INTEROP_CHECKS_DEADLINE", "150"))  # for the page to finish all its checks

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--disable-default-apps",
    "--disable-dev-shm-usage",
    "--mute-audio",
    "--remote-debugging-address=127.0.0.1",
    "--remote-debugging-port=0",
]


class CDP:
    """A minimal DevTools protocol client: commands with deadlines, and the
    page's console output and exceptions kept for the report."""

    def __init__(self, ws):
        self.ws = ws
        self.next_id = 0
        self.pending = {}
        self.console = []
        self.reader = asyncio.ensure_future(self.read())

    async def read(self):
        try:
            async for raw in self.ws:
                m = json.loads(raw)
                if "id" in m:
                    fut = self.pending.pop(m["id"], None)
                    if fut is not None and not fut.done():
                        fut.set_result(m)
                elif m.get("method") == "Runtime.consoleAPICalled":
                    p = m["params"]
                    text = " ".join(str(a.get("value", a.get("description", ""))) for a in p.get("args", []))
                    self.console.append("console.%s: %s" % (p.get("type"), text))
                elif m.get("method") == "Runtime.exceptionThrown":
                    d = m["params"]["exceptionDetails"]
                    self.console.append(
                        "exception: %s %s" % (d.get("text", ""), d.get("exception", {}).get("description", ""))
                    )
        except websockets.ConnectionClosed:
            pass
        finally:
            for fut in self.pending.values():
                if not fut.done():
                    fut.set_exception(Failure("DevTools connection closed"))

    async def call(self, method, params=None, session=None, deadline=CALL_DEADLINE):
        self.next_id += 1
        msg = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        fut = asyncio.get_running_loop().create_future()
        self.pending[self.next_id] = fut
        await self.ws.send(json.dumps(msg))
        try:
            m = await asyncio.wait_for(fut, deadline)
        except asyncio.TimeoutError:
            raise Failure("no answer to %s within %gs" % (method, deadline))
        if "error" in m:
            raise Failure("%s: %s" % (method, m["error"]))
        return m.get("result", {})


def find_chromium():
    return browser.find_program("CHROMIUM", ("chromium", "chromium-browser", "google-chrome"))


def wait_devtools_port(proc, profile):
    """Reads the port Chromium writes to DevToolsActivePort; returns
    (port, browser path)."""
    f = os.path.join(profile, "DevToolsActivePort")
    end = time.monotonic() + START_DEADLINE
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise Failure("chromium exited with status %d before opening DevTools" % proc.returncode)
        try:
            with open(f) as fh:
                lines = fh.read().split("\n")
            if len(lines) >= 2 and lines[0].strip().isdigit() and lines[1].startswith("/"):
                return int(lines[0]), lines[1].strip()
        except FileNotFoundError:
            pass
        time.sleep(POLL)
    raise Failure("chromium did not open its DevTools port within %gs" % START_DEADLINE)


async def open_page(cdp, url):
    """Opens url in a new tab; returns (targetId, sessionId)."""
    target = await cdp.call("Target.createTarget", {"url": "about:blank"})
    att = await cdp.call("Target.attachToTarget", {"targetId": target["targetId"], "flatten": True})
    sid = att["sessionId"]
    await cdp.call("Runtime.enable", session=sid)
    await cdp.call("Page.enable", session=sid)
    nav = await cdp.call("Page.navigate", {"url": url}, session=sid)
    if nav.get("errorText"):
        raise Failure("cannot load %s: %s" % (url, nav["errorText"]))
    return target["targetId"], sid


async def wait_page(cdp, sid, deadline, report=None):
    """Polls window.interop until its done is true; returns it."""
    end = time.monotonic() + deadline
    state = None
    while time.monotonic() < end:
        r = await cdp.call(
            "Runtime.evaluate",
            {"expression": "JSON.stringify(window.interop || null)", "returnByValue": True},
            session=sid,
        )
        value = r.get("result", {}).get("value")
        state = json.loads(value) if isinstance(value, str) else None
        if state and report is not None:
            report["partial"] = state.get("results", [])
        if state and state.get("done"):
            return state
        await asyncio.sleep(POLL)
    got = len(state.get("results", [])) if state else 0
    raise Failure("the page did not finish within %gs (%d checks done)" % (deadline, got))


async def tab_closed_check(cdp, base, page_base):
    """A tab whose WebSocket is open on /linger (cat, then sleeps after its
    stdin ends) is closed: Chromium sends Close 1001 (going away) and drops
    the connection. The gateway must end that session and keep serving."""
    name = "tab closed mid-session (Close 1001 going away): gateway keeps serving"
    try:
        target, sid = await open_page(cdp, page_base + "&mode=linger")
        state = await wait_page(cdp, sid, 10)
        if state.get("error") or state.get("echo") != "are you there":
            raise Failure("the tab's session did not start: %s" % state)
        await cdp.call("Target.closeTarget", {"targetId": target})
        await asyncio.sleep(1.0)
        await echo_probe(base)
        return {"name": name, "ok": True, "detail": "gateway answered after the tab closed"}
    except Exception as e:
        return {"name": name, "ok": False, "detail": describe(e)}


async def browser_quit_check(cdp, base, page_base, report):
    """Like tab_closed_check, but the whole browser quits (Browser.close):
    Chromium then sends Close 1001 and drops the connection at once, without
    waiting for the gateway's Close. The gateway must keep serving."""
    name = "browser quits mid-session (Close 1001, then TCP closed): gateway keeps serving"
    try:
        _, sid = await open_page(cdp, page_base + "&mode=linger")
        state = await wait_page(cdp, sid, 10)
        if state.get("error") or state.get("echo") != "are you there":
            raise Failure("the tab's session did not start: %s" % state)
        report["console"] = list(cdp.console)
        report["quit"] = True
        try:
            await cdp.call("Browser.close", deadline=5)
        except Failure:
            pass  # the connection may end before the answer
        await asyncio.sleep(1.0)
        await echo_probe(base)
        return {"name": name, "ok": True, "detail": "gateway answered after the browser quit"}
    except Exception as e:
        return {"name": name, "ok": False, "detail": describe(e)}


async def drive(devtools_url, page_base, base, report):
    """Runs the page's checks, then the tab-close and browser-quit checks;
    returns (results, error)."""
    async with websockets.connect(devtools_url, max_size=None, open_timeout=CALL_DEADLINE) as ws:
        cdp = CDP(ws)
        try:
            version = await cdp.call("Browser.getVersion")
            report["version"] = version.get("product", "?")
            _, sid = await open_page(cdp, page_base)
            state = await wait_page(cdp, sid, CHECKS_DEADLINE, report)
            results = state.get("results", [])
            results.append(await tab_closed_check(cdp, base, page_base))
            results.append(await browser_quit_check(cdp, base, page_base, report))
            return results, state.get("error")
        finally:
            if not report.get("quit"):
                report["console"] = cdp.console
                try:
                    await cdp.call("Browser.close", deadline=5)
                except Exception:
                    pass
            cdp.reader.cancel()


def run(tmp, errlog, base, page_base, report):
    """Starts Chromium and drives it (see browser.main)."""
    chromium = find_chromium()
    if chromium is None:
        raise Failure("no chromium on PATH (.ci/interop.sh installs Debian's)")
    profile = os.path.join(tmp, "profile")
    os.mkdir(profile)
    # Everything Chromium writes stays in tmp, the home included.
    env = browser.private_env(tmp)
    proc = browser.spawn([chromium, *FLAGS, "--user-data-dir=" + profile, "about:blank"], env, errlog)
    port, path = wait_devtools_port(proc, profile)
    return asyncio.run(drive("ws://127.0.0.1:%d%s" % (port, path), page_base, base, report))


def main(base):
    # Chromium's complaints about the absent D-Bus are noise.
    return browser.main(TAG, run, base, ("dbus",))


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print("usage: chromium_client.py ws://HOST:PORT", file=sys.stderr)
        sys.exit(2)
    sys.exit(main(sys.argv[1]))
