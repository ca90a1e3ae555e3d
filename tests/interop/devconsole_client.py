#!/usr/bin/python3
"""The --devconsole page in headless Chromium, driven through the DevTools
protocol the way a user would drive it.

    PORTAL_GW=build/portal-gw /usr/bin/python3 devconsole_client.py ws://127.0.0.1:PORT

The gateway at PORT runs with --devconsole and serves /echo=cat and /fail
(prints "bye", exits 3); run.sh starts it. This script loads
http://127.0.0.1:PORT/echo?... in Chromium, types into the page's text box
(Input.insertText), sends with Enter and with a mouse click on Send
(Input.dispatchKeyEvent / dispatchMouseEvent), and checks what the page
shows, read from its DOM: the state, the log entries with their direction
and timestamp, the close code, reason and wasClean. For the binary preview
it starts a second gateway of its own, PORTAL_GW --binary --devconsole
--sameorigin (the page's WebSocket has the gateway's own origin, which
--sameorigin must accept), then stops that gateway under the open page
(Close 1001 shown) and reconnects to nothing (1006 and an error shown).

The browser plumbing (start, DevTools client, tab, teardown) is
chromium_client.py's and browser.py's. Prints one PASS/FAIL line per check and
"devconsole: N passed, N failed"; exits 1 if a check failed. Every wait has
a deadline; Chromium and the second gateway are ended on the way out,
including on SIGTERM (as sent by timeout(1)).
"""

import asyncio
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import websockets

import browser
import chromium_client as cc
from chromium_client import CDP, Failure

TAG = "devconsole"
WAIT = 10.0  # for one thing the page should show
STAMP = re.compile(r"^\d\d:\d\d:\d\d\.\d{3}$")
BINARY = re.compile(r"^\[binary (\d+) bytes\] ([0-9a-f]{2}(?: [0-9a-f]{2})*)( \.\.\.)?$")
HTML_LINE = "<b id='injected'>bold</b><img src=x onerror='window.pwned=1'>"

# What the page shows, as one JSON value (null before the page is there).
SNAPSHOT = """JSON.stringify((() => {
  const $ = (id) => document.getElementById(id);
  if (!$('log') || !$('state')) return null;
  return {
    state: $('state').textContent,
    url: $('url').textContent,
    entries: Array.from($('log').children, (e) => ({
      dir: e.dataset.dir,
      time: (e.querySelector('time') || {}).textContent,
      text: (e.querySelector('.text') || {}).textContent,
    })),
    closeCode: $('close-code').textContent,
    closeReason: $('close-reason').textContent,
    wasClean: $('was-clean').textContent,
    injected: !!$('injected') || !!$('log').querySelector('b, img, script'),
    pwned: window.pwned !== undefined,
    resources: performance.getEntriesByType('resource').map((r) => r.name),
    unlabelled: Array.from(document.querySelectorAll('input, button'),
      (c) => c.labels.length || c.textContent.trim() ? null : c.id).filter((x) => x),
    // The page's own socket (a top-level let of its script).
    wsUrl: typeof ws === 'object' && ws ? ws.url : null,
  };
})())"""


class Page:
    """One tab showing the console."""

    def __init__(self, cdp, sid):
        self.cdp = cdp
        self.sid = sid

    async def js(self, expression):
        r = await self.cdp.call("Runtime.evaluate", {"expression": expression, "returnByValue": True}, session=self.sid)
        if "exceptionDetails" in r:
            raise Failure("page script: %s" % r["exceptionDetails"].get("text"))
        return r.get("result", {}).get("value")

    async def snap(self):
        v = await self.js(SNAPSHOT)
        return json.loads(v) if isinstance(v, str) else None

    async def until(self, what, pred, deadline=WAIT):
        """Polls the page until pred(snapshot) holds; returns the snapshot.
        A navigation in between (context gone) is retried."""
        end = time.monotonic() + deadline
        s = None
        while time.monotonic() < end:
            try:
                s = await self.snap()
            except Failure as e:
                if "DevTools connection closed" in str(e):
                    raise
                s = None
            if s is not None and pred(s):
                return s
            await asyncio.sleep(cc.POLL)
        raise Failure("%s: not shown within %gs; page shows %s" % (what, deadline, brief(s)))

    async def type(self, text):
        await self.js("document.getElementById('input').focus()")
        await self.cdp.call("Input.insertText", {"text": text}, session=self.sid)

    async def enter(self):
        key = {"key": "Enter", "code": "Enter", "windowsVirtualKeyCode": 13, "nativeVirtualKeyCode": 13}
        await self.cdp.call("Input.dispatchKeyEvent", dict(key, type="keyDown", text="\r"), session=self.sid)
        await self.cdp.call("Input.dispatchKeyEvent", dict(key, type="keyUp"), session=self.sid)

    async def click(self, elem_id):
        """A real mouse click in the middle of the element."""
        v = await self.js(
            "JSON.stringify((() => { const e = document.getElementById('%s');"
            " e.scrollIntoView(); const r = e.getBoundingClientRect();"
            " return [r.x + r.width / 2, r.y + r.height / 2]; })())" % elem_id
        )
        x, y = json.loads(v)
        for t in ("mouseMoved", "mousePressed", "mouseReleased"):
            ev = {"type": t, "x": x, "y": y}
            if t != "mouseMoved":
                ev.update(button="left", clickCount=1)
            await self.cdp.call("Input.dispatchMouseEvent", ev, session=self.sid)


def brief(s):
    if s is None:
        return "nothing (no console on the page)"
    keep = {k: s[k] for k in ("state", "closeCode", "closeReason", "wasClean") if k in s}
    keep["last entries"] = [(e["dir"], e["text"][:60]) for e in s.get("entries", [])[-4:]]
    return json.dumps(keep)


def entries(s, d):
    return [e for e in s["entries"] if e["dir"] == d]


def texts(s, d):
    return [e["text"] for e in entries(s, d)]


def stamped(s, d, text):
    """The timestamps of the entries of direction d showing text."""
    return [e["time"] for e in entries(s, d) if e["text"] == text]


class Checks:
    def __init__(self):
        self.results = []

    async def run(self, name, coro):
        try:
            detail = await coro
            self.results.append({"name": name, "ok": True, "detail": detail})
        except Exception as e:
            what = str(e) if isinstance(e, Failure) else "%s: %s" % (type(e).__name__, e)
            self.results.append({"name": name, "ok": False, "detail": what})


async def echo_checks(ck, page, ws_url):
    async def loads():
        s = await page.until("state open", lambda s: s["state"] == "open")
        if s["url"] != ws_url or s["wsUrl"] != ws_url:
            raise Failure("shows %r and connects to %r, not %r" % (s["url"], s["wsUrl"], ws_url))
        if s["resources"]:
            raise Failure("loads other resources: %s" % s["resources"])
        if s["unlabelled"]:
            raise Failure("controls without a label: %s" % s["unlabelled"])
        return "state open, WebSocket %s, no other resource, every control labelled" % s["url"]

    async def enter_sends():
        msg = "hello from chromium"
        await page.type(msg)
        await page.enter()
        s = await page.until("the echo", lambda s: msg in texts(s, "in"))
        out, back = stamped(s, "out", msg), stamped(s, "in", msg)
        if len(out) != 1 or len(back) != 1:
            raise Failure("sent %d and received %d entries of it, not 1 and 1" % (len(out), len(back)))
        dirs = [e["dir"] for e in s["entries"] if e["text"] == msg]
        if dirs != ["out", "in"]:
            raise Failure("entries in the order %s" % dirs)
        for t in out + back:
            if not STAMP.match(t or ""):
                raise Failure("timestamp %r is not HH:MM:SS.mmm" % t)
        v = await page.js("document.getElementById('input').value")
        if v != "":
            raise Failure("the text box still holds %r after sending" % v)
        return "out %s, in %s, text box emptied" % (out[0], back[0])

    async def click_sends():
        msg = "clicked"
        await page.type(msg)
        await page.click("send")
        s = await page.until("the echo", lambda s: msg in texts(s, "in"))
        if texts(s, "out").count(msg) != 1:
            raise Failure("out entries: %s" % texts(s, "out"))
        return "out and in entries for %r" % msg

    async def html_is_text():
        await page.type(HTML_LINE)
        await page.enter()
        s = await page.until("the echoed HTML", lambda s: HTML_LINE in texts(s, "in"))
        # Markup would have made its elements when the entry was added.
        if s["injected"] or s["pwned"]:
            raise Failure("the child's line became markup (injected %s, onerror ran %s)" % (s["injected"], s["pwned"]))
        return "shown verbatim, no element made, no handler ran"

    async def clear():
        await page.click("clear")
        await page.until("an empty log", lambda s: not s["entries"])
        v = await page.js("document.getElementById('state').textContent")
        if v != "open":
            raise Failure("state %r after Clear" % v)
        return "log empty, still open"

    await ck.run("page served at /echo connects to the same URL", loads())
    await ck.run("Enter in the text box sends; both directions logged with ms timestamps", enter_sends())
    await ck.run("a mouse click on Send sends", click_sends())
    await ck.run("HTML in a child's line is shown as text", html_is_text())
    await ck.run("Clear empties the log", clear())


async def fail_checks(ck, page):
    closed = lambda s: s["state"] == "closed" and s["closeCode"] != "-"

    def expect_fail_end(s, n):
        byes = texts(s, "in").count("bye")
        if byes != n:
            raise Failure("%d 'bye' entries, not %d" % (byes, n))
        got = (s["closeCode"], s["closeReason"], s["wasClean"])
        if got != ("1011", "exit status 3", "true"):
            raise Failure("close code, reason, wasClean %s" % (got,))
        return "bye, then close 1011 %r wasClean true" % s["closeReason"]

    async def ends():
        s = await page.until("the close", closed)
        return expect_fail_end(s, 1)

    async def not_open():
        await page.type("anyone?")
        await page.enter()
        s = await page.until("an error entry", lambda s: entries(s, "error"))
        if "anyone?" in texts(s, "out"):
            raise Failure("logged as sent")
        return entries(s, "error")[-1]["text"]

    async def reconnect():
        await page.click("reconnect")
        s = await page.until("a second session's close", lambda s: closed(s) and texts(s, "in").count("bye") == 2)
        return expect_fail_end(s, 2)

    await ck.run("/fail: child's line, close code, reason and wasClean shown", ends())
    await ck.run("Send on a closed connection says so", not_open())
    await ck.run("Reconnect opens a new session", reconnect())


async def binary_checks(ck, page):
    async def shown():
        await page.until("state open", lambda s: s["state"] == "open")
        sent = ["hi", "x" * 40]
        for m in sent:
            await page.type(m)
            await page.enter()
        want = sum(len(m) for m in sent)
        got = lambda s: sum(int(BINARY.match(t).group(1)) for t in texts(s, "in") if BINARY.match(t))
        s = await page.until("%d bytes back" % want, lambda s: got(s) >= want)
        for t in texts(s, "in"):
            m = BINARY.match(t)
            if not m:
                raise Failure("in entry %r is not [binary N bytes] HEX" % t)
            n, hexes, more = int(m.group(1)), m.group(2).split(), m.group(3)
            if len(hexes) != min(n, 32) or bool(more) != (n > 32):
                raise Failure("preview of %d bytes: %r" % (n, t))
        first = texts(s, "in")[0]
        if first != "[binary 2 bytes] 68 69":
            raise Failure("first message shown as %r" % first)
        return "%s; %d bytes in all" % (first, got(s))

    await ck.run("--binary --sameorigin: binary messages as [binary N bytes] and hex", shown())


async def gone_checks(ck, page, gw):
    """The gateway of the open page stops (SIGTERM), then cannot be reached."""

    async def stops():
        rc = gw.stop()
        if rc != 0:
            raise Failure("the gateway exited with status %s on SIGTERM" % rc)
        with open(gw.log, errors="replace") as f:
            if re.search(r"Sanitizer|runtime error:", f.read()):
                raise Failure("sanitizer report in the gateway's log")
        s = await page.until("the close", lambda s: s["state"] == "closed")
        got = (s["closeCode"], s["closeReason"], s["wasClean"])
        if got != ("1001", "server shutting down", "true"):
            raise Failure("close code, reason, wasClean %s" % (got,))
        return "close 1001 %r wasClean true" % s["closeReason"]

    async def unreachable():
        await page.click("reconnect")
        s = await page.until(
            "a failed connection", lambda s: s["state"] == "closed" and s["closeCode"] != "-" and entries(s, "error")
        )
        if (s["closeCode"], s["wasClean"]) != ("1006", "false"):
            raise Failure("close code, wasClean %s" % ((s["closeCode"], s["wasClean"]),))
        return "close 1006 wasClean false, error entry %r" % entries(s, "error")[-1]["text"]

    await ck.run("gateway stops (SIGTERM, exit 0): Close 1001 shown", stops())
    await ck.run("Reconnect with the gateway gone: 1006 and an error shown", unreachable())


class Gateway:
    """A second portal-gw (--binary --devconsole --sameorigin /echo=cat) on a
    free port."""

    def __init__(self, gw, tmp):
        self.log = os.path.join(tmp, "binary.gw.log")
        with open(self.log, "wb") as f:
            self.proc = subprocess.Popen(
                [gw, "--address", "127.0.0.1", "--port", "0", "--binary", "--devconsole", "--sameorigin", "/echo=cat"],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=f,
            )
        end = time.monotonic() + 5
        while time.monotonic() < end:
            with open(self.log, errors="replace") as f:
                m = re.search(r"listening on 127\.0\.0\.1:(\d+)", f.read())
            if m:
                self.port = int(m.group(1))
                return
            if self.proc.poll() is not None:
                raise Failure("the --binary gateway exited with status %d" % self.proc.returncode)
            time.sleep(cc.POLL)
        raise Failure("the --binary gateway did not log its port within 5s")

    def stop(self):
        """SIGTERM; returns its exit status (SIGKILL after 5 s: "killed")."""
        if self.proc.poll() is not None:
            return self.proc.returncode
        self.proc.terminate()
        try:
            return self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            return "killed"


async def drive(devtools_url, base, tmp, report):
    http = "http" + base[2:]
    ck = Checks()
    async with websockets.connect(devtools_url, max_size=None, open_timeout=cc.CALL_DEADLINE) as ws:
        cdp = CDP(ws)
        try:
            version = await cdp.call("Browser.getVersion")
            report["version"] = version.get("product", "?")
            path = "/echo?from=devconsole"
            tab, sid = await cc.open_page(cdp, http + path)
            await echo_checks(ck, Page(cdp, sid), base + path)
            await cdp.call("Target.closeTarget", {"targetId": tab})
            tab, sid = await cc.open_page(cdp, http + "/fail")
            await fail_checks(ck, Page(cdp, sid))
            await cdp.call("Target.closeTarget", {"targetId": tab})

            gw = os.environ.get("PORTAL_GW")
            if not gw:
                ck.results.append({"name": "--binary preview", "ok": False, "detail": "no PORTAL_GW to start it"})
            else:
                g = None
                try:
                    g = Gateway(gw, tmp)
                    report["gateway"] = g
                    _, sid = await cc.open_page(cdp, "http://127.0.0.1:%d/echo" % g.port)
                    page = Page(cdp, sid)
                    await binary_checks(ck, page)
                    await gone_checks(ck, page, g)
                finally:
                    if g is not None and g.proc.poll() is None:
                        g.stop()
            return ck.results
        finally:
            report["results"] = ck.results
            report["console"] = cdp.console
            try:
                await cdp.call("Browser.close", deadline=5)
            except Exception:
                pass
            cdp.reader.cancel()


def on_signal(signum, frame):
    for s in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
        signal.signal(s, signal.SIG_IGN)
    if browser.CHILD["proc"] is not None:
        browser.stop_browser(cc.TAG, browser.CHILD["proc"], browser.CHILD["tmp"], grace=0)
    g = REPORT.get("gateway")
    if g is not None:
        g.proc.kill()
    print("FAIL %s: interrupted by signal %d" % (TAG, signum), flush=True)
    raise SystemExit(128 + signum)


REPORT = {}


def main(base):
    for s in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
        signal.signal(s, on_signal)
    passed = failed = 0
    report = REPORT
    proc = None
    tmp = tempfile.mkdtemp(prefix="portal-gw-devconsole.")
    browser.CHILD["tmp"] = tmp
    errlog = os.path.join(tmp, "chromium.log")
    try:
        try:
            chromium = cc.find_chromium()
            if chromium is None:
                raise Failure("no chromium on PATH (.ci/interop.sh installs Debian's)")
            profile = os.path.join(tmp, "profile")
            os.mkdir(profile)
            env = dict(os.environ)
            env.update(HOME=tmp, XDG_CONFIG_HOME=tmp + "/config", XDG_CACHE_HOME=tmp + "/cache")
            with open(errlog, "wb") as log:
                proc = subprocess.Popen(
                    [chromium, *cc.FLAGS, "--user-data-dir=" + profile, "about:blank"],
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    env=env,
                    start_new_session=True,
                )
                browser.CHILD["proc"] = proc
            port, path = cc.wait_devtools_port(proc, profile)
            asyncio.run(drive("ws://127.0.0.1:%d%s" % (port, path), base, tmp, report))
        except Exception as e:
            what = str(e) if isinstance(e, Failure) else "%s: %s" % (type(e).__name__, e)
            report.setdefault("results", []).append({"name": "drive the browser", "ok": False, "detail": what})
        print("# %s: %s" % (TAG, report.get("version", "?")))
        for r in report.get("results", []):
            ok = bool(r.get("ok"))
            print("%s %s: %s (%s)" % ("PASS" if ok else "FAIL", TAG, r.get("name"), r.get("detail")))
            passed += ok
            failed += not ok
        if not passed + failed:
            print("FAIL %s: no check ran" % TAG)
            failed += 1
        if failed:
            for line in report.get("console", []):
                print("# %s page %s" % (TAG, line))
            g = report.get("gateway")
            for name in (errlog, g and g.log):
                if not name:
                    continue
                try:
                    with open(name, errors="replace") as fh:
                        tail = [x for x in fh.read().splitlines() if "dbus" not in x][-20:]
                    for line in tail:
                        print("# %s %s: %s" % (TAG, os.path.basename(name), line))
                except OSError:
                    pass
    finally:
        browser.stop_browser(cc.TAG, proc, tmp)
        g = report.get("gateway")
        if g is not None and g.proc.poll() is None:
            g.proc.kill()
            g.proc.wait()
        shutil.rmtree(tmp, ignore_errors=True)
    print("%s: %d passed, %d failed" % (TAG, passed, failed), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print("usage: devconsole_client.py ws://HOST:PORT", file=sys.stderr)
        sys.exit(2)
    sys.exit(main(sys.argv[1]))
