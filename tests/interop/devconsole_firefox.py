#!/usr/bin/python3
"""The --devconsole page in headless Firefox ESR, driven through Marionette.

    PORTAL_GW=build/portal-gw /usr/bin/python3 devconsole_firefox.py ws://127.0.0.1:PORT

The Firefox half of devconsole_client.py (which drives Chromium with real
key and mouse events): the same page, read from its DOM with
WebDriver:ExecuteScript, text put in the box and sent from script. The
gateway at PORT (run.sh's, with --devconsole) serves /echo=cat; this script
also starts its own, PORTAL_GW --devconsole --origin localhost --dir DIR
/echo=cat, DIR holding "noisy" (each line read goes back on stdout and, as
"err: LINE", on stderr; exits 4 on "quit") and "crlf" (a script with CRLF
line endings). Checks: the echo; stderr lines shown as stderr entries; the
exit status and duration; an empty message shown as one; the 403 of the
page loaded from 127.0.0.1 (not localhost) and the CRLF script's 500
explained; the index at / lists the resources.

Firefox's start, profile and Marionette client are firefox_client.py's.
Prints one PASS/FAIL line per check and "devconsole-firefox: N passed, N
failed"; exits 1 if a check failed. Every wait has a deadline; Firefox and
the gateway are ended on the way out, including on SIGTERM.
"""

import asyncio
import json
import os
import re
import sys
import time

import browser
import firefox_client as ff
from browser import Failure, describe
from devconsole_client import NOISY, SNAPSHOT, WAIT, Gateway, texts

TAG = "devconsole-firefox"


class Page:
    """The current tab of a Marionette session."""

    def __init__(self, m):
        self.m = m

    def js(self, body):
        r = self.m.call("WebDriver:ExecuteScript", {"script": body, "args": []})
        return r.get("value") if isinstance(r, dict) else None

    def snap(self):
        v = self.js("return " + SNAPSHOT)
        return json.loads(v) if isinstance(v, str) else None

    def until(self, what, pred, deadline=WAIT):
        end = time.monotonic() + deadline
        s = None
        while time.monotonic() < end:
            s = self.snap()
            if s is not None and pred(s):
                return s
            time.sleep(browser.POLL)
        keep = s and {k: s[k] for k in ("state", "closeCode", "closeReason", "refused")}
        last = s and [(e["dir"], e["text"][:60]) for e in s["entries"][-4:]]
        raise Failure("%s: not shown within %gs; page shows %s %s" % (what, deadline, keep, last))

    def send(self, text):
        self.js(
            "const i = document.getElementById('input'); i.value = %s;"
            " document.getElementById('send').click();" % json.dumps(text)
        )


def checks(m, base, gw, tmp):
    results = []

    def run(name, fn):
        try:
            results.append({"name": name, "ok": True, "detail": fn()})
        except Exception as e:
            results.append({"name": name, "ok": False, "detail": describe(e)})

    page = Page(m)
    http = "http" + base[2:]

    def echo():
        ff.navigate(m, http + "/echo")
        page.until("state open", lambda s: s["state"] == "open")
        page.send("hello from firefox")
        s = page.until("the echo", lambda s: "hello from firefox" in texts(s, "in"))
        # (The page's own let ws is out of Marionette's reach: its #url.)
        if s["url"] != base + "/echo":
            raise Failure("shows %r" % s["url"])
        return "echoed over %s" % s["url"]

    run("page served at /echo echoes", echo)

    d = os.path.join(tmp, "dir")
    os.mkdir(d)
    for name, text in (("crlf", "#!/bin/sh\r\necho hi\r\n"), ("noisy", NOISY)):
        with open(os.path.join(d, name), "w", newline="") as f:
            f.write(text)
        os.chmod(os.path.join(d, name), 0o755)
    g = Gateway(gw, tmp, "explain", ("--devconsole", "--origin", "localhost", "--dir", d, "/echo=cat"))
    try:
        local = "http://localhost:%d" % g.port
        ip = "http://127.0.0.1:%d" % g.port

        def stderr():
            ff.navigate(m, local + "/noisy")
            page.until("the stderr line", lambda s: "starting" in texts(s, "stderr"))
            page.send("one")
            s = page.until("one's echo and stderr", lambda s: "one" in texts(s, "in") and "err: one" in texts(s, "stderr"))
            if "err: one" in texts(s, "in") or "one" in texts(s, "stderr"):
                raise Failure("stdout and stderr mixed up: in %s, stderr %s" % (texts(s, "in"), texts(s, "stderr")))
            if any(e["overlap"] for e in s["entries"]):
                raise Failure("a direction label overlaps its timestamp")
            return "stderr %s, in %s" % (texts(s, "stderr"), texts(s, "in"))

        def empty():
            page.send("")
            s = page.until("an empty echo", lambda s: [e for e in s["entries"] if e["dir"] == "in" and e["text"] == ""])
            e = [e for e in s["entries"] if e["dir"] == "in" and e["text"] == ""][0]
            if not e["empty"] or "empty message" not in (e["shown"] or ""):
                raise Failure("the empty message shows %r" % e["shown"])
            return "shows %s" % e["shown"]

        def ends():
            page.send("quit")
            s = page.until("the close", lambda s: s["state"] == "closed" and s["closeCode"] != "-")
            if "bye" not in texts(s, "stderr") or s["ended"] != "exit status 4":
                raise Failure("stderr %s, ended %r" % (texts(s, "stderr"), s["ended"]))
            if not re.match(r"^\d+\.\d{3} s$", s["duration"] or ""):
                raise Failure("duration %r" % s["duration"])
            return "ended %r after %s" % (s["ended"], s["duration"])

        def explained(url, want):
            ff.navigate(m, url)
            s = page.until("the explanation", lambda s: s["refused"] not in (None, "-"))
            if not re.search(want, s["refused"]):
                raise Failure("explained as %r, not /%s/" % (s["refused"], want))
            return s["refused"]

        def index():
            ff.navigate(m, local + "/")
            v = page.js(
                "return JSON.stringify(Array.from(document.querySelectorAll('#resources a'),"
                " (a) => [a.textContent, new URL(a.href).pathname]))"
            )
            got = json.loads(v or "[]")
            want = [["/echo", "/echo"], ["/crlf", "/crlf"], ["/noisy", "/noisy"]]
            if got != want:
                raise Failure("links %s, not %s" % (got, want))
            return "links %s" % [x[0] for x in got]

        run("stderr lines shown live, marked stderr, apart from stdout", stderr)
        run("an empty message is shown as one", empty)
        run("the child's exit status and the session's duration shown", ends)
        run("a 403 (--origin) is explained", lambda: explained(ip + "/echo", r"^HTTP 403: origin not allowed$"))
        run(
            "a CRLF script's 500 is explained with the exec's cause",
            lambda: explained(local + "/crlf", r"^HTTP 500: cannot start program: .*CRLF line endings\?\)$"),
        )
        run("GET / lists the resources and --dir's executables with links", index)
    finally:
        g.stop()
    run("the explain gateway exits 0, no sanitizer report", lambda: asyncio.run(g.clean_exit()))
    return results


def run(tmp, errlog, base, page_base, report):
    """Starts Firefox and drives it (see browser.main)."""
    gw = os.environ.get("PORTAL_GW")
    if not gw:
        raise Failure("no PORTAL_GW to start the explain gateway")
    firefox = ff.find_firefox()
    if firefox is None:
        raise Failure("no firefox-esr or firefox on PATH (.ci/interop.sh installs Debian's firefox-esr)")
    profile = os.path.join(tmp, "profile")
    os.mkdir(profile)
    ff.write_prefs(profile)
    env = browser.private_env(tmp)
    env.update(TMPDIR=tmp, XDG_DATA_HOME=tmp + "/data", MOZ_CRASHREPORTER_DISABLE="1")
    argv = [firefox, "--headless", "--marionette", "--no-remote", "-profile", profile, "about:blank"]
    proc = browser.spawn(argv, env, errlog)
    port = ff.wait_marionette_port(proc, profile)
    m = ff.Marionette(port)
    try:
        session = m.call(
            "WebDriver:NewSession",
            {"pageLoadStrategy": "normal", "timeouts": {"pageLoad": ff.PAGE_LOAD_MS, "script": ff.PAGE_LOAD_MS}},
            deadline=ff.START_DEADLINE,
        )
        report["version"] = "Firefox/%s" % session.get("capabilities", {}).get("browserVersion", "?")
        return checks(m, base, gw, tmp), None
    finally:
        try:
            m.call("Marionette:Quit", {"flags": ["eForceQuit"]}, deadline=5)
        except Exception:
            pass
        m.close()


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print("usage: devconsole_firefox.py ws://HOST:PORT", file=sys.stderr)
        sys.exit(2)
    sys.exit(browser.main(TAG, run, sys.argv[1], ff.NOISE))
