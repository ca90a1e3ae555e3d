#!/usr/bin/python3
"""The shared routes' chat rooms in headless Chromium: two tabs of one
browser talk to each other through the gateway (issue 12).

    /usr/bin/python3 chat_chromium.py ws://127.0.0.1:PORT

The gateway at PORT serves (run.sh starts it so; by hand:
    portal-gw --address 127.0.0.1 --port 0 \
        --broadcast /chat=cat --hub /room=examples/chat-hub.sh
and PORT from its "listening on" line)
examples/chat-hub.sh being the issue's hub loop: "+ID ..." -> "* ID joined",
"-ID ..." -> "* ID left", "ID TEXT" -> "* ID: TEXT" (so every client of
/room receives "ID joined", "ID left", "ID: TEXT").

chat.html is served from a small HTTP server of this process (browser.py)
and opened in two tabs, A and B, each with its own WebSocket. The driver
types into a tab's text box (Input.insertText) and presses Enter
(Input.dispatchKeyEvent), as a user would, and reads what each tab shows
from its DOM (Runtime.evaluate):

  /chat  A and B send N lines each, in turns; then A says goodbye. Each tab
         shows every line of both exactly once, each sender's lines in the
         order sent, and both tabs show the same sequence (one program's
         output, delivered in the order printed).
  /room  B joins, then A: B shows "<A> joined". Both send N lines, then B
         says goodbye: each tab shows every line of both exactly once, in
         order, with its sender's id (A's own id is read from the echo of
         its first line). B's tab closes: A shows "<B> left", once, and A's
         room goes on (A's goodbye still comes back).

Every wait has a deadline (WAIT, INTEROP_CHAT_WAIT in the environment; each
DevTools command CALL_DEADLINE) and a failure says what each tab showed.
Prints one PASS/FAIL line per check and "chat: N passed, N failed"; exits
1 if one failed. The Chromium plumbing is chromium_client.py's and
browser.py's; the browser is killed on the way out, also on SIGTERM.
"""

import asyncio
import json
import os
import re
import sys
import time
import urllib.parse

import websockets

import browser
import chromium_client as cc
from browser import POLL, Failure, describe

TAG = "chat"
WAIT = float(os.environ.get("INTEROP_CHAT_WAIT", "10"))  # for one thing a tab should show
N = 5  # lines each tab sends

# What a tab shows, as one JSON value (null before the page is there).
SNAPSHOT = """JSON.stringify((() => {
  const s = document.getElementById('state'), log = document.getElementById('log');
  if (!s || !log) return null;
  return {state: s.textContent, lines: Array.from(log.children, (li) => li.textContent)};
})())"""

HUB_LINE = re.compile(r"^(\S+)(?:: (.*)| (joined|left))$")


def said(who):
    """The lines tab `who` types: 'hello from A', then 'A 2' ... 'A N'."""
    return ["hello from %s" % who] + ["%s %d" % (who, i) for i in range(2, N + 1)]


class Tab:
    """One tab showing chat.html."""

    def __init__(self, cdp, name, target, sid):
        self.cdp = cdp
        self.name = name
        self.target = target
        self.sid = sid
        self.last = None  # the last snapshot, for the failure messages
        self.closed = False

    async def snap(self):
        r = await self.cdp.call("Runtime.evaluate", {"expression": SNAPSHOT, "returnByValue": True}, session=self.sid)
        v = r.get("result", {}).get("value")
        self.last = json.loads(v) if isinstance(v, str) else None
        return self.last

    async def say(self, text):
        """Types text into the box and presses Enter."""
        r = await self.cdp.call(
            "Runtime.evaluate", {"expression": "document.getElementById('input').focus()"}, session=self.sid
        )
        if "exceptionDetails" in r:
            raise Failure("tab %s: no text box to type into" % self.name)
        await self.cdp.call("Input.insertText", {"text": text}, session=self.sid)
        key = {"key": "Enter", "code": "Enter", "windowsVirtualKeyCode": 13, "nativeVirtualKeyCode": 13}
        await self.cdp.call("Input.dispatchKeyEvent", dict(key, type="keyDown", text="\r"), session=self.sid)
        await self.cdp.call("Input.dispatchKeyEvent", dict(key, type="keyUp"), session=self.sid)

    async def close(self):
        """Closes the tab, as a user would (Chromium sends Close 1001)."""
        await self.cdp.call("Target.closeTarget", {"targetId": self.target})
        self.closed = True


def saw(tabs):
    """What each tab showed last, for a failure message."""
    parts = []
    for t in tabs:
        s = t.last
        if s is None:
            parts.append("tab %s showed no page" % t.name)
        else:
            parts.append("tab %s (%s) showed %s" % (t.name, s["state"], json.dumps(s["lines"])))
    return "; ".join(parts)


async def until(tabs, what, pred, deadline=WAIT):
    """Polls the tabs until pred(snapshots) holds; returns the snapshots."""
    end = time.monotonic() + deadline
    while True:
        snaps = [await t.snap() for t in tabs]
        if all(s is not None for s in snaps) and pred(*snaps):
            return snaps
        if time.monotonic() >= end:
            raise Failure("%s: not within %gs; %s" % (what, deadline, saw(tabs)))
        await asyncio.sleep(POLL)


async def open_tab(cdp, name, url):
    """Opens url in a new tab named name and waits for its WebSocket to open."""
    target, sid = await cc.open_page(cdp, url)
    # Two tabs in one headless window: each keeps the focus it is given.
    await cdp.call("Emulation.setFocusEmulationEnabled", {"enabled": True}, session=sid)
    tab = Tab(cdp, name, target, sid)
    await until([tab], "tab %s connects to %s" % (name, url), lambda s: s["state"] != "connecting")
    if tab.last["state"] != "open":
        raise Failure("tab %s did not connect: %s" % (name, saw([tab])))
    return tab


def exactly(lines, want, what):
    """lines, as far as they are in want, are want: each once, in order."""
    got = [x for x in lines if x in set(want)]
    if got != want:
        raise Failure("%s: want %s, got %s" % (what, json.dumps(want), json.dumps(got)))


class Checks:
    """Runs a scenario's steps in order, each one a check; a failed step
    ends its scenario (the later ones would only repeat it)."""

    def __init__(self):
        self.results = []

    async def step(self, name, coro, tabs):
        try:
            detail = await coro
            self.results.append({"name": name, "ok": True, "detail": detail})
            return True
        except Exception as e:
            detail = describe(e)
            if not isinstance(e, Failure):
                detail += "; " + saw(tabs)
            self.results.append({"name": name, "ok": False, "detail": detail})
            return False


async def converse(a, b, send_a, send_b, seen):
    """A and B type their lines in turns; waits until each tab shows every
    one of them, as seen(line of who) gives it."""
    for x, y in zip(send_a, send_b):
        await a.say(x)
        await b.say(y)
    want = [seen("A", x) for x in send_a] + [seen("B", y) for y in send_b]
    await until([a, b], "both tabs show all %d lines" % len(want), lambda sa, sb: all(
        w in sa["lines"] and w in sb["lines"] for w in want))


async def broadcast_scenario(cdp, chat_url, ck):
    tabs = []

    async def connect():
        tabs.append(await open_tab(cdp, "A", chat_url))
        tabs.append(await open_tab(cdp, "B", chat_url))
        return "both tabs open"

    async def talk():
        a, b = tabs
        send_a, send_b = said("A"), said("B")
        await converse(a, b, send_a, send_b, lambda who, x: x)
        # One program's output, in order: once its later line is shown,
        # all earlier ones (and any duplicate of them) are in too.
        await a.say("bye from A")
        sa, sb = await until([a, b], "both tabs show A's goodbye", lambda sa, sb: (
            "bye from A" in sa["lines"] and "bye from A" in sb["lines"]))
        for t, s in ((a, sa), (b, sb)):
            what = "tab %s" % t.name
            exactly(s["lines"], send_a + ["bye from A"], what + ", A's lines")
            exactly(s["lines"], send_b, what + ", B's lines")
            if len(s["lines"]) != 2 * N + 1:
                raise Failure("%s shows %d lines, want %d: %s" % (what, len(s["lines"]), 2 * N + 1, saw(tabs)))
        if sa["lines"] != sb["lines"]:
            raise Failure("the tabs show different orders: %s" % saw(tabs))
        return "%d lines each, the same order in both tabs" % (2 * N + 1)

    try:
        if await ck.step("/chat: two tabs connect", connect(), tabs):
            await ck.step(
                "/chat: each tab shows both tabs' lines, each once, in each sender's order", talk(), tabs)
    finally:
        for t in tabs:
            if not t.closed:
                await t.close()


async def hub_scenario(cdp, room_url, ck):
    tabs = []
    ids = {}

    async def join():
        tabs.append(await open_tab(cdp, "B", room_url))
        tabs.append(await open_tab(cdp, "A", room_url))
        b, a = tabs
        # A's own id: the one its first line comes back with.
        await a.say("hello from A")
        sa, sb = await until([a, b], "both tabs show A's first line", lambda sa, sb: (
            any(x.endswith(": hello from A") for x in sa["lines"])
            and any(x.endswith(": hello from A") for x in sb["lines"])))
        ids["A"] = next(x for x in sa["lines"] if x.endswith(": hello from A"))[: -len(": hello from A")]
        joined = "%s joined" % ids["A"]
        if joined not in sb["lines"]:
            raise Failure("tab B does not show %r: %s" % (joined, saw(tabs)))
        if sb["lines"].index(joined) > sb["lines"].index("%s: hello from A" % ids["A"]):
            raise Failure("tab B shows A's first line before %r: %s" % (joined, saw(tabs)))
        return "A is %s; B showed %r" % (ids["A"], joined)

    async def talk():
        b, a = tabs
        send_a, send_b = said("A")[1:], said("B")
        await b.say(send_b[0])
        sa, sb = await until([a, b], "both tabs show B's first line", lambda sa, sb: (
            any(x.endswith(": " + send_b[0]) for x in sa["lines"])
            and any(x.endswith(": " + send_b[0]) for x in sb["lines"])))
        ids["B"] = next(x for x in sb["lines"] if x.endswith(": " + send_b[0]))[: -len(": " + send_b[0])]
        if ids["B"] == ids["A"]:
            raise Failure("A and B have the same id %s: %s" % (ids["A"], saw(tabs)))

        def tagged(who, x):
            return "%s: %s" % (ids[who], x)

        await converse(a, b, send_a, send_b[1:], tagged)
        # The hub's output, in order: B's goodbye shown means all before it is.
        await b.say("bye from B")
        bye = tagged("B", "bye from B")
        sa, sb = await until([a, b], "both tabs show B's goodbye", lambda sa, sb: (
            bye in sa["lines"] and bye in sb["lines"]))
        for t, s in ((a, sa), (b, sb)):
            what = "tab %s" % t.name
            exactly(s["lines"], [tagged("A", x) for x in said("A")], what + ", A's lines")
            exactly(s["lines"], [tagged("B", x) for x in send_b + ["bye from B"]], what + ", B's lines")
            strays = [x for x in s["lines"] if not HUB_LINE.match(x)]
            if strays:
                raise Failure("%s shows lines the hub did not send: %s" % (what, json.dumps(strays)))
        if sb["lines"].count("%s joined" % ids["A"]) != 1:
            raise Failure("tab B shows A's join more than once: %s" % saw(tabs))
        return "A %s, B %s: %d lines each, each once, in order" % (ids["A"], ids["B"], 2 * N + 1)

    async def leave():
        b, a = tabs
        await b.close()
        left = "%s left" % ids["B"]
        await until([a], "tab A shows %r" % left, lambda sa: left in sa["lines"])
        # The room goes on for A; its goodbye shown means all before it is.
        await a.say("bye from A")
        bye = "%s: bye from A" % ids["A"]
        (sa,) = await until([a], "tab A shows its goodbye", lambda sa: bye in sa["lines"])
        if sa["state"] != "open":
            raise Failure("tab A's socket is no longer open: %s" % saw([a]))
        if sa["lines"].count(left) != 1:
            raise Failure("tab A shows %r %d times: %s" % (left, sa["lines"].count(left), saw([a])))
        gone = [x for x in sa["lines"] if x.endswith(" left") and x != left]
        if gone:
            raise Failure("tab A shows others leaving: %s" % json.dumps(gone))
        if sa["lines"].index(left) < sa["lines"].index("%s: bye from B" % ids["B"]):
            raise Failure("tab A shows %r before B's last line: %s" % (left, saw([a])))
        return "A showed %r, then its own goodbye" % left

    try:
        if await ck.step("/room: B, then A join; B shows A's join; A learns its id", join(), tabs):
            if await ck.step(
                "/room: each tab shows both tabs' lines with the sender's id, each once, in order", talk(), tabs
            ):
                await ck.step("/room: B's tab closes; A shows B left, once, and goes on", leave(), tabs)
    finally:
        for t in tabs:
            if not t.closed:
                await t.close()


def page_url(page_base, ws_url):
    """chat.html on the page server of page_base, connecting to ws_url."""
    origin = page_base.split("/page.html", 1)[0]
    return "%s/chat.html?ws=%s" % (origin, urllib.parse.quote(ws_url, safe=""))


async def drive(devtools_url, page_base, base, report):
    async with websockets.connect(devtools_url, max_size=None, open_timeout=cc.CALL_DEADLINE) as ws:
        cdp = cc.CDP(ws)
        ck = Checks()
        try:
            version = await cdp.call("Browser.getVersion")
            report["version"] = version.get("product", "?")
            await broadcast_scenario(cdp, page_url(page_base, base + "/chat"), ck)
            await hub_scenario(cdp, page_url(page_base, base + "/room"), ck)
            return ck.results, None
        finally:
            report["partial"] = ck.results
            report["console"] = cdp.console
            try:
                await cdp.call("Browser.close", deadline=5)
            except Exception:
                pass
            cdp.reader.cancel()


def run(tmp, errlog, base, page_base, report):
    """Starts Chromium and drives it (see browser.main)."""
    chromium = cc.find_chromium()
    if chromium is None:
        raise Failure("no chromium on PATH (.ci/interop.sh installs Debian's)")
    profile = os.path.join(tmp, "profile")
    os.mkdir(profile)
    env = browser.private_env(tmp)
    proc = browser.spawn([chromium, *cc.FLAGS, "--user-data-dir=" + profile, "about:blank"], env, errlog)
    port, path = cc.wait_devtools_port(proc, profile)
    return asyncio.run(drive("ws://127.0.0.1:%d%s" % (port, path), page_base, base, report))


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print("usage: chat_chromium.py ws://HOST:PORT", file=sys.stderr)
        sys.exit(2)
    # Chromium's complaints about the absent D-Bus are noise.
    sys.exit(browser.main(TAG, run, sys.argv[1], ("dbus",)))
