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
import http.server
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

import websockets

TAG = "chromium"
HERE = os.path.dirname(os.path.abspath(__file__))
SERVED = {"/page.html": "text/html; charset=utf-8", "/checks.js": "text/javascript; charset=utf-8"}
START_DEADLINE = 30.0  # for Chromium to open its DevTools port
CALL_DEADLINE = 15.0  # for one DevTools command
CHECKS_DEADLINE = 150.0  # for the page to finish all its checks
POLL = 0.1

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


class Failure(Exception):
    pass


class Handler(http.server.BaseHTTPRequestHandler):
    """Serves the two files of the page and nothing else."""

    def do_GET(self):
        path = self.path.split("?", 1)[0]
        ctype = SERVED.get(path)
        if ctype is None:
            self.send_error(404)
            return
        with open(os.path.join(HERE, path[1:]), "rb") as f:
            body = f.read()
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, fmt, *args):
        pass


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
    env = os.environ.get("CHROMIUM")
    if env:
        return env
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


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


async def drive(devtools_url, page_url, report):
    """Opens the page and waits for its results; returns (results, error)."""
    async with websockets.connect(devtools_url, max_size=None, open_timeout=CALL_DEADLINE) as ws:
        cdp = CDP(ws)
        try:
            version = await cdp.call("Browser.getVersion")
            report["version"] = version.get("product", "?")
            target = await cdp.call("Target.createTarget", {"url": "about:blank"})
            att = await cdp.call("Target.attachToTarget", {"targetId": target["targetId"], "flatten": True})
            sid = att["sessionId"]
            await cdp.call("Runtime.enable", session=sid)
            await cdp.call("Page.enable", session=sid)
            nav = await cdp.call("Page.navigate", {"url": page_url}, session=sid)
            if nav.get("errorText"):
                raise Failure("cannot load %s: %s" % (page_url, nav["errorText"]))
            end = time.monotonic() + CHECKS_DEADLINE
            state = None
            while time.monotonic() < end:
                r = await cdp.call(
                    "Runtime.evaluate",
                    {"expression": "JSON.stringify(window.interop || null)", "returnByValue": True},
                    session=sid,
                )
                value = r.get("result", {}).get("value")
                state = json.loads(value) if isinstance(value, str) else None
                if state and state.get("done"):
                    return state.get("results", []), state.get("error")
                await asyncio.sleep(POLL)
            got = len(state.get("results", [])) if state else 0
            raise Failure("the page's checks did not finish within %gs (%d done)" % (CHECKS_DEADLINE, got))
        finally:
            report["console"] = cdp.console
            try:
                await cdp.call("Browser.close", deadline=5)
            except Exception:
                pass
            cdp.reader.cancel()


def stop_chromium(proc):
    if proc is None:
        return
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        pass
    # The whole group: the browser, its zygotes and renderers.
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        print("# %s: chromium (pid %d) did not die" % (TAG, proc.pid), file=sys.stderr)


def on_signal(signum, frame):
    raise SystemExit(128 + signum)


def main(base):
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)
    passed = failed = 0
    report = {}
    proc = None
    server = None
    tmp = tempfile.mkdtemp(prefix="portal-gw-chromium.")
    errlog = os.path.join(tmp, "chromium.log")
    try:
        try:
            chromium = find_chromium()
            if chromium is None:
                raise Failure("no chromium on PATH (.ci/interop.sh installs Debian's)")
            server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
            threading.Thread(target=server.serve_forever, daemon=True).start()
            page_url = "http://127.0.0.1:%d/page.html?ws=%s" % (server.server_address[1], base)
            profile = os.path.join(tmp, "profile")
            os.mkdir(profile)
            with open(errlog, "wb") as log:
                proc = subprocess.Popen(
                    [chromium, *FLAGS, "--user-data-dir=" + profile, "about:blank"],
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            port, path = wait_devtools_port(proc, profile)
            results, error = asyncio.run(drive("ws://127.0.0.1:%d%s" % (port, path), page_url, report))
            print("# %s: %s" % (TAG, report.get("version", "?")))
            for r in results:
                ok = bool(r.get("ok"))
                print("%s %s: %s (%s)" % ("PASS" if ok else "FAIL", TAG, r.get("name"), r.get("detail")))
                passed += ok
                failed += not ok
            if error:
                raise Failure("page script: " + error)
            if not results:
                raise Failure("the page ran no check")
        except Failure as e:
            print("FAIL %s: drive the browser (%s)" % (TAG, e))
            failed += 1
        except Exception as e:
            print("FAIL %s: drive the browser (%s: %s)" % (TAG, type(e).__name__, e))
            failed += 1
        if failed:
            for line in report.get("console", []):
                print("# %s page %s" % (TAG, line))
            try:
                with open(errlog, errors="replace") as fh:
                    # Chromium's complaints about the absent D-Bus are noise.
                    tail = [x for x in fh.read().splitlines() if "dbus" not in x][-20:]
                for line in tail:
                    print("# %s stderr: %s" % (TAG, line))
            except OSError:
                pass
    finally:
        stop_chromium(proc)
        if server is not None:
            server.shutdown()
            server.server_close()
        shutil.rmtree(tmp, ignore_errors=True)
    print("%s: %d passed, %d failed" % (TAG, passed, failed), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print("usage: chromium_client.py ws://HOST:PORT", file=sys.stderr)
        sys.exit(2)
    sys.exit(main(sys.argv[1]))
