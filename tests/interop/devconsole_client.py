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
      empty: e.hasAttribute('data-empty'),
      // What the reader sees of an empty one (CSS generated content).
      shown: getComputedStyle(e.querySelector('.text'), '::after').content,
      // The label starts after the time ends, on the same row.
      overlap: (() => {
        const t = e.querySelector('time').getBoundingClientRect();
        const d = e.querySelector('.dir').getBoundingClientRect();
        return d.left < t.right - 0.5;
      })(),
    })),
    ended: $('ended') ? $('ended').textContent : null,
    duration: $('duration') ? $('duration').textContent : null,
    refused: $('refused') ? $('refused').textContent : null,
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
        # --binary writes a text message with a "\n", as websocketd.
        want = sum(len(m) + 1 for m in sent)
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
        if first != "[binary 3 bytes] 68 69 0a":
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


NOISY = """#!/bin/sh
echo starting >&2
while read -r x; do
  if [ "$x" = quit ]; then echo bye >&2; exit 4; fi
  echo "$x"
  echo "err: $x" >&2
done
"""


async def stderr_checks(ck, page):
    """/noisy of the explain gateway: a child that echoes each line to
    stdout and to stderr, and exits 4 on "quit"."""

    async def shown():
        s = await page.until("the stderr line", lambda s: "starting" in texts(s, "stderr"))
        await page.type("one")
        await page.enter()
        s = await page.until("one's echo and stderr", lambda s: "one" in texts(s, "in") and "err: one" in texts(s, "stderr"))
        if "err: one" in texts(s, "in") or "one" in texts(s, "stderr"):
            raise Failure("stdout and stderr mixed up: in %s, stderr %s" % (texts(s, "in"), texts(s, "stderr")))
        if any(e["overlap"] for e in s["entries"]):
            raise Failure("a direction label overlaps its timestamp")
        return "stderr entries %s, in %s; no label overlaps its time" % (texts(s, "stderr"), texts(s, "in"))

    async def empty():
        await page.js("document.getElementById('send').click()")  # the box is empty
        s = await page.until("an empty echo", lambda s: [e for e in entries(s, "in") if e["text"] == ""])
        e = [e for e in entries(s, "in") if e["text"] == ""][0]
        if not e["empty"] or "empty message" not in (e["shown"] or ""):
            raise Failure("the empty message shows %r (data-empty %s)" % (e["shown"], e["empty"]))
        return "in entry with text '' shows %s" % e["shown"]

    async def recall():
        key = lambda k, code: {"key": k, "code": k, "windowsVirtualKeyCode": code, "nativeVirtualKeyCode": code}
        got = []
        await page.js("document.getElementById('input').focus()")
        for k, code in (("ArrowUp", 38), ("ArrowUp", 38), ("ArrowDown", 40), ("ArrowDown", 40)):
            for t in ("rawKeyDown", "keyUp"):
                await page.cdp.call("Input.dispatchKeyEvent", dict(key(k, code), type=t), session=page.sid)
            got.append(await page.js("document.getElementById('input').value"))
        if got != ["", "one", "", ""]:
            raise Failure("Up, Up, Down, Down gave %s, not ['', 'one', '', '']" % got)
        return "Up, Up, Down, Down: %s" % got

    async def ends():
        await page.type("quit")
        await page.enter()
        s = await page.until("the close", lambda s: s["state"] == "closed" and s["closeCode"] != "-")
        if "bye" not in texts(s, "stderr"):
            raise Failure("the last stderr line is not shown: %s" % texts(s, "stderr"))
        if (s["closeCode"], s["ended"]) != ("1011", "exit status 4"):
            raise Failure("close code %s, ended %r" % (s["closeCode"], s["ended"]))
        if not re.match(r"^\d+\.\d{3} s$", s["duration"] or ""):
            raise Failure("duration %r" % s["duration"])
        info = [t for t in texts(s, "info") if t.startswith("session ended after ")]
        if not info or not info[-1].endswith(": exit status 4"):
            raise Failure("no 'session ended after' entry: %s" % texts(s, "info"))
        return "ended %r after %s; %r" % (s["ended"], s["duration"], info[-1])

    await ck.run("stderr lines shown live, marked stderr, apart from stdout", shown())
    await ck.run("an empty message is shown as one", empty())
    await ck.run("Up and Down recall earlier inputs", recall())
    await ck.run("the child's exit status and the session's duration shown", ends())


async def refused_checks(ck, cdp, http_local, http_ip):
    """Handshakes the explain gateway refuses, each explained on the page."""

    async def explained(url, want):
        tab, sid = await cc.open_page(cdp, url)
        try:
            page = Page(cdp, sid)
            s = await page.until("the explanation", lambda s: s["refused"] not in (None, "-"))
            if (s["closeCode"], s["state"]) != ("1006", "closed"):
                raise Failure("close code %s, state %s" % (s["closeCode"], s["state"]))
            if not re.search(want, s["refused"]):
                raise Failure("explained as %r, not /%s/" % (s["refused"], want))
            errs = texts(s, "error")
            if not any(t.startswith("handshake refused: HTTP ") for t in errs):
                raise Failure("no 'handshake refused' error entry: %s" % errs)
            return s["refused"]
        finally:
            await cdp.call("Target.closeTarget", {"targetId": tab})

    await ck.run(
        "a 403 (--origin) is explained with its status and reason",
        explained(http_ip + "/echo", r"^HTTP 403: origin not allowed$"),
    )
    await ck.run(
        "a CRLF script's 500 is explained with the exec's cause",
        explained(http_local + "/crlf", r"^HTTP 500: cannot start program: .*CRLF line endings\?\)$"),
    )


async def index_checks(ck, cdp, http_local):
    async def lists():
        tab, sid = await cc.open_page(cdp, http_local + "/")
        try:
            page = Page(cdp, sid)
            end = time.monotonic() + WAIT
            links = None
            while time.monotonic() < end:
                links = await page.js(
                    "JSON.stringify(Array.from(document.querySelectorAll('#resources a'),"
                    " (a) => [a.textContent, new URL(a.href).pathname]))"
                )
                if links and json.loads(links):
                    break
                await asyncio.sleep(cc.POLL)
            got = json.loads(links or "[]")
            want = [["/echo", "/echo"], ["/crlf", "/crlf"], ["/noisy", "/noisy"]]
            if got != want:
                raise Failure("links %s, not %s" % (got, want))
            return "links %s" % [g[0] for g in got]
        finally:
            await cdp.call("Target.closeTarget", {"targetId": tab})

    await ck.run("GET / lists the resources and --dir's executables with links", lists())


class Gateway:
    """Another portal-gw on a free port: by default --binary --devconsole
    --sameorigin /echo=cat."""

    def __init__(self, gw, tmp, name="binary", args=("--binary", "--devconsole", "--sameorigin", "/echo=cat")):
        self.log = os.path.join(tmp, name + ".gw.log")
        with open(self.log, "wb") as f:
            self.proc = subprocess.Popen(
                [gw, "--address", "127.0.0.1", "--port", "0", *args],
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
                raise Failure("the %s gateway exited with status %d" % (name, self.proc.returncode))
            time.sleep(cc.POLL)
        raise Failure("the %s gateway did not log its port within 5s" % name)

    async def clean_exit(self):
        """A check: it exited 0 (stop() was called) and logged no
        sanitizer report."""
        if self.proc.returncode != 0:
            raise Failure("exit status %s" % self.proc.returncode)
        with open(self.log, errors="replace") as f:
            if re.search(r"Sanitizer|runtime error:", f.read()):
                raise Failure("sanitizer report in its log")
        return "exit 0, log clean"

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


async def explain_checks(ck, cdp, gw, tmp, report):
    """A gateway with --origin localhost (so the page loaded from 127.0.0.1
    is refused 403) and a --dir of a CRLF script and a noisy one."""
    d = os.path.join(tmp, "dir")
    os.mkdir(d)
    for name, text in (("crlf", "#!/bin/sh\r\necho hi\r\n"), ("noisy", NOISY)):
        with open(os.path.join(d, name), "w", newline="") as f:
            f.write(text)
        os.chmod(os.path.join(d, name), 0o755)
    g = Gateway(gw, tmp, "explain", ("--devconsole", "--origin", "localhost", "--dir", d, "/echo=cat"))
    report["gateway"] = g
    try:
        local = "http://localhost:%d" % g.port
        tab, sid = await cc.open_page(cdp, local + "/noisy")
        await stderr_checks(ck, Page(cdp, sid))
        await cdp.call("Target.closeTarget", {"targetId": tab})
        await refused_checks(ck, cdp, local, "http://127.0.0.1:%d" % g.port)
        await index_checks(ck, cdp, local)
    finally:
        g.stop()
    await ck.run("the explain gateway exits 0, no sanitizer report", g.clean_exit())


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
                await explain_checks(ck, cdp, gw, tmp, report)
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
