"""The cases: each is a function of a Ctx that starts a server with a
websocketd command line (ctx.server), drives it, and returns what a user
observes as a JSON-like value. It runs once with websocketd and once with
portal-gw; compat.py compares the two. Keys starting with '_' are notes
shown on a DIFF but never compared.

In command lines, {port} is the listening port and {port2} a second free
one (for --redirport)."""

import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
import urllib.parse

import servers
import wire

EX = "/usr/share/doc/websocketd/examples"
BASE_ENV = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8"}


class Case:
    def __init__(self, name, fn, group=False, needs=None):
        self.name, self.fn, self.group, self.needs = name, fn, group, needs

    def available(self, fx):
        return self.needs is None or self.needs(fx)


ALL = []


def case(name, group=False, needs=None):
    def add(fn):
        ALL.append(Case(name, fn, group, needs))
        return fn
    return add


class Ctx:
    """One server kind; fork() gives a case its own ports and servers."""

    def __init__(self, kind, binary, fx, logdir):
        self.kind, self.binary, self.fx, self.logdir = kind, binary, fx, logdir
        self.ports, self.servers, self.tmp = [], [], None

    def fork(self, name):
        c = Ctx(self.kind, self.binary, self.fx, self.logdir)
        c.case = name
        return c

    def close(self):
        for s in self.servers:
            s.stop()
        if self.tmp:
            shutil.rmtree(self.tmp, ignore_errors=True)

    def scratch(self):
        if not self.tmp:
            self.tmp = tempfile.mkdtemp(dir=self.fx["root"] + "/..")
        return self.tmp

    def env(self, extra=None):
        e = dict(BASE_ENV)
        e.update(extra or {})
        return e

    def server(self, args, env=None, cwd=None):
        tag = "%s.%s" % (self.kind, "".join(ch if ch.isalnum() else "_" for ch in self.case))
        s = servers.Server(self.binary, args, cwd or self.fx["root"], self.env(env),
                           self.logdir, tag).start()
        self.servers.append(s)
        if s.port:
            self.ports += [("PORT", s.port), ("PORT2", s.port2)]
        return s

    def cli(self, args, env=None):
        return servers.run_cli(self.binary, args, self.fx["root"], self.env(env))


def fail(s):
    return {"start": s.failed}


def group_fail(s):
    """A group whose server did not start: every sub-case gets the failure."""
    return {"*": fail(s)}


def split_end(events):
    """Messages, and how the session ended (from the first close/eof)."""
    for i, e in enumerate(events):
        if not e.startswith(("text ", "binary ", "pong ")):
            return events[:i], events[i:]
    return events, []


def session(s, path="/", headers=(), send=(), count=None, timeout=3.0, host="127.0.0.1",
            sort=False, version="13"):
    """Opens a session, sends SEND, reads COUNT messages (or until it
    ends): {'status', 'messages', 'end'}."""
    w = wire.WS(host, s.port, path, headers=headers, timeout=timeout, version=version)
    status = w.open()
    if status != 101:
        w.close_socket()
        return {"status": status or w.error}
    for kind, payload in send:
        if kind == "text":
            w.send_text(payload)
        elif kind == "binary":
            w.send_binary(payload)
        elif kind == "ping":
            w.frame(9, payload)
        elif kind == "frag":
            for i, p in enumerate(payload):
                w.frame(1 if i == 0 else 0, p, fin=i == len(payload) - 1)
        elif kind == "close":
            w.send_close(payload)
    events = w.events(count=count, timeout=timeout)
    w.close_socket()
    msgs, end = split_end(events)
    return {"status": status, "messages": sorted(msgs) if sort else msgs, "end": end}


def env_of(s, path="/", headers=(), host="127.0.0.1"):
    """The child's environment (an `env` child) as sorted lines."""
    r = session(s, path, headers=headers, host=host, timeout=3.0)
    if r.get("status") != 101:
        return r
    return {"env": sorted(m[5:] for m in r["messages"])}


def handshake_headers(w):
    h = w.headers
    return {
        "status": w.status or w.error,
        "upgrade": (wire.header(h, "upgrade") or "").lower() or None,
        "connection": (wire.header(h, "connection") or "").lower() or None,
        "accept ok": wire.header(h, "sec-websocket-accept") == wire.accept_for(wire.KEY),
        "protocol": wire.header(h, "sec-websocket-protocol"),
        "version": wire.header(h, "sec-websocket-version"),
    }


def reply(r, keep=("content-type", "accept-ranges", "content-range"), body=True):
    """The parts of a plain HTTP answer a client relies on: the status,
    where a redirect leads (resolved, as a browser does), and for a 2xx
    the type, the body and whether it can be cached and resumed. Error
    pages' bodies and types are not compared."""
    if "error" in r:
        return {"error": r["error"]}
    out = {"status": r["status"]}
    loc = wire.header(r["headers"], "location")
    if loc is not None:
        out["location"] = urllib.parse.urljoin("http://h" + r.get("path", "/"), loc)
    if 200 <= r["status"] < 300:
        for k in keep:
            v = wire.header(r["headers"], k)
            if k == "content-type" and v:
                v = v.lower().replace(" ", "")
            out[k] = v
        out["last-modified"] = wire.header(r["headers"], "last-modified") is not None
        if body:
            out["body"] = wire.show(r["body"])
    if r.get("body_error"):
        out["body error"] = r["body_error"]
    return out


def fetch(s, path, **kw):
    """GET PATH, following redirects on the same server as a browser does:
    the final answer, with the redirects taken as a note."""
    hops = []
    for _ in range(4):
        r = wire.http("127.0.0.1", s.port, path, **kw)
        r["path"] = path
        loc = wire.header(r.get("headers", []), "location")
        if "error" in r or r["status"] not in (301, 302, 303, 307, 308) or loc is None:
            break
        u = urllib.parse.urlsplit(urllib.parse.urljoin("http://h" + path, loc))
        if u.netloc not in ("h", "127.0.0.1:%d" % s.port):
            break
        hops.append("%d %s" % (r["status"], loc))
        path = u.path + ("?" + u.query if u.query else "")
    o = reply(r)
    if hops:
        o["_redirects"] = hops
    return o


def greet(s, host="127.0.0.1", path="/"):
    """Can a client on HOST talk to the greeter?"""
    if not s.port:
        return fail(s)
    w = wire.WS(host, s.port, path, timeout=2.0)
    st = w.open()
    if st != 101:
        w.close_socket()
        return st or w.error
    w.send_text("x")
    got = w.events(count=1)
    w.send_close(1000)          # a clean end, as a browser's close() does
    w.events(timeout=1.0)
    w.close_socket()
    return got


# -- the Debian package's examples -------------------------------------

def have(path):
    return lambda fx: os.access(path, os.X_OK)


for lang, run, suffix in (("bash", [], "sh"), ("perl", ["/usr/bin/perl"], "pl"),
                          ("python", ["/usr/bin/python3"], "py"),
                          ("nodejs", ["/usr/bin/node"], "js")):
    interp = run[0] if run else "/bin/bash"

    def _greeter(c, run=run, lang=lang, suffix=suffix):
        s = c.server(["--port={port}"] + run + ["%s/%s/greeter.%s" % (EX, lang, suffix)])
        if s.failed:
            return fail(s)
        w = wire.WS("127.0.0.1", s.port, "/")
        out = {"status": w.open()}
        w.send_text("Ada")
        out["first"] = w.events(count=1)
        w.send_text("Bob")
        out["second"] = w.events(count=1)
        w.close_socket()
        return out

    def _count(c, run=run, lang=lang, suffix=suffix):
        s = c.server(["--port={port}"] + run + ["%s/%s/count.%s" % (EX, lang, suffix)])
        if s.failed:
            return fail(s)
        return session(s, timeout=9.0)

    def _dump(c, run=run, lang=lang, suffix=suffix):
        s = c.server(["--port={port}"] + run + ["%s/%s/dump-env.%s" % (EX, lang, suffix)])
        if s.failed:
            return fail(s)
        return session(s, "/some/path?x=1&y=%20two", sort=True,
                       headers=[("Origin", "http://example.com"), ("X-Custom", "v")])

    if os.path.exists("%s/%s/greeter.%s" % (EX, lang, suffix)):
        case("example %s/greeter" % lang, needs=have(interp))(_greeter)
    if os.path.exists("%s/%s/count.%s" % (EX, lang, suffix)):
        case("example %s/count" % lang, needs=have(interp))(_count)
    if os.path.exists("%s/%s/dump-env.%s" % (EX, lang, suffix)):
        case("example %s/dump-env" % lang, needs=have(interp))(_dump)


@case("example bash/send-receive")
def _(c):
    s = c.server(["--port={port}", EX + "/bash/send-receive.sh"])
    if s.failed:
        return fail(s)
    return session(s, count=1)


def wait_open(path, n, deadline=3.0):
    """Waits until N processes have PATH open (a bounded wait)."""
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        holders = 0
        for pid in os.listdir("/proc"):
            if not pid.isdigit():
                continue
            try:
                fds = os.listdir("/proc/%s/fd" % pid)
                holders += any(os.readlink("/proc/%s/fd/%s" % (pid, fd)) == path for fd in fds)
            except OSError:
                continue
        if holders >= n:
            return True
        time.sleep(0.02)
    return False


@case("example bash/chat")
def _(c):
    d = c.scratch()
    s = c.server(["--port={port}", EX + "/bash/chat.sh"], cwd=d)
    if s.failed:
        return fail(s)
    a = wire.WS("127.0.0.1", s.port, "/", timeout=3)
    b = wire.WS("127.0.0.1", s.port, "/", timeout=3)
    out = {"status": [a.open(), b.open()]}
    out["a prompt"] = a.events(count=1)
    a.send_text("ann")
    out["a welcome"] = a.events(count=1)
    # chat.sh starts `tail -n 0 -f chat.log` after its welcome: a line
    # written before that tail has the file open is not one it shows.
    wait_open(os.path.join(d, "chat.log"), 1)
    b.events(count=1)
    b.send_text("bob")
    out["b welcome"] = b.events(count=1)
    out["a sees b join"] = a.events(count=1)
    b.send_text("hi all")
    out["a sees b say"] = a.events(count=1)
    out["b sees own line"] = b.events(count=1, timeout=0.5)
    a.close_socket()
    b.close_socket()
    return out


@case("example cgi-bin/dump-env (--cgidir only)")
def _(c):
    s = c.server(["--port={port}", "--cgidir=" + EX + "/cgi-bin"])
    if s.failed:
        return fail(s)
    r = wire.http("127.0.0.1", s.port, "/dump-env.sh?x=1", headers=[("X-Custom", "v")])
    out = reply(r, body=False)
    if 200 <= r.get("status", 0) < 300:
        out["body"] = sorted(r["body"].decode("utf-8", "replace").splitlines())
    return out


@case("example cgi-bin/dump-env (--cgidir with a program)")
def _(c):
    s = c.server(["--port={port}", "--cgidir=" + EX + "/cgi-bin", EX + "/bash/greeter.sh"])
    if s.failed:
        return fail(s)
    r = wire.http("127.0.0.1", s.port, "/dump-env.sh/extra?x=1")
    out = reply(r, body=False)
    if 200 <= r.get("status", 0) < 300:
        out["body"] = sorted(r["body"].decode("utf-8", "replace").splitlines())
    out["websocket still served"] = greet(s, path="/dump-env.sh")
    return out


# -- the program form: messages both ways -------------------------------

def prog(c, script, *args, flags=()):
    return c.server(["--port={port}"] + list(flags) + [os.path.join(c.fx["bin"], script)]
                    + list(args))


def greeter(c, flags=()):
    return c.server(["--port={port}"] + list(flags) + [EX + "/bash/greeter.sh"])


def msg_case(name, send, count=1, script=None, flags=(), timeout=3.0):
    @case(name)
    def _(c):
        s = prog(c, script, flags=flags) if script else greeter(c, flags)
        if s.failed:
            return fail(s)
        return session(s, send=send, count=count, timeout=timeout)


msg_case("message: two messages, in order", [("text", "a"), ("text", "b")], 2)
msg_case("message: empty text", [("text", "")])
msg_case("message: UTF-8", [("text", "h\u00e9llo \u2713 \U0001F600")])
msg_case("message: with a newline inside", [("text", "a\nb")], 2)
msg_case("message: fragmented", [("frag", ["ab", "cd", "ef"])])
msg_case("message: ping between messages", [("ping", b"p1"), ("text", "x")], 1)
msg_case("message: binary in line mode", [("binary", b"bin"), ("text", "x")], 2, timeout=1.5)
msg_case("message: 2 MiB text", [("text", "x" * (2 << 20))], 1, script="echo.sh",
         timeout=8.0)
msg_case("message: 64 KiB text", [("text", "y" * 65536)], 1, script="echo.sh")
msg_case("message: 1000 in a burst", [("text", "m%d" % i) for i in range(1000)], 1000,
         script="echo.sh", timeout=8.0)
msg_case("output: 5000 lines at once", [], 5000, script="many.sh", timeout=8.0)
msg_case("output: CRLF line ends", [], 2, script="crlf.sh")
msg_case("output: invalid UTF-8", [], 1, script="badutf8.sh")
msg_case("output: stderr is not sent", [], 1, script="stderr.sh")
msg_case("output: a 200 KB line", [], 1, script="longline.sh", timeout=5.0)
msg_case("--binary: binary echo", [("binary", bytes(range(256)))], 1, script="echo.sh",
         flags=["--binary"])
msg_case("--binary: text from the client", [("text", "hi")], 1, script="echo.sh",
         flags=["--binary"])
msg_case("--binary=true (Go syntax)", [("binary", b"\x00\x01")], 1, script="echo.sh",
         flags=["--binary=true"])
msg_case("-binary (one dash)", [("binary", b"\x00\x01")], 1, script="echo.sh",
         flags=["-binary"])
msg_case("--binary=false", [("text", "z")], 1, flags=["--binary=false"])


@case("program form: a relative ./path")
def _(c):
    s = c.server(["--port={port}", "./bin/args.sh", "rel"])
    if s.failed:
        return fail(s)
    return session(s, count=1)


@case("-dir DIR (one dash, separate value)")
def _(c):
    s = c.server(["-dir", c.fx["dir"], "-port", "{port}"])
    return {"talks": greet(s, path="/greeter.sh")}


@case("--devconsole=true (Go syntax)")
def _(c):
    s = c.server(["--port={port}", "--devconsole=true", EX + "/bash/greeter.sh"])
    if s.failed:
        return fail(s)
    r = wire.http("127.0.0.1", s.port, "/", headers=[("Accept", "text/html")])
    return {"status": r.get("status"), "talks": greet(s)}


@case("SIGTERM to the server with a session open")
def _(c):
    s = greeter(c)
    if s.failed:
        return fail(s)
    w = wire.WS("127.0.0.1", s.port, "/", timeout=3)
    w.open()
    w.send_text("x")
    first = w.events(count=1)
    os.kill(s.proc.pid, signal.SIGTERM)
    rest = w.events(timeout=3)
    w.close_socket()
    try:
        st = s.proc.wait(3)
    except subprocess.TimeoutExpired:
        st = "still running"
    return {"client": first + rest, "server exit status": st}


@case("program arguments")
def _(c):
    s = prog(c, "args.sh", "one", "two words", "$HOME", "*")
    if s.failed:
        return fail(s)
    return session(s, count=4)


def end_case(name, script, send=()):
    @case(name)
    def _(c):
        s = prog(c, script)
        if s.failed:
            return fail(s)
        return session(s, send=send, timeout=3.0)


end_case("end: child exits 0", "exit0.sh")
end_case("end: child exits 3", "exit3.sh")
end_case("end: child killed by SIGKILL", "killed.sh")
end_case("end: child exits 0 without output", "silent-exit.sh")
end_case("end: last line without a newline", "noeol.sh")


@case("end: client sends Close 1000")
def _(c):
    s = greeter(c)
    if s.failed:
        return fail(s)
    return session(s, send=[("text", "a"), ("close", 1000)])


@case("end: client sends Close 4000")
def _(c):
    s = greeter(c)
    if s.failed:
        return fail(s)
    return session(s, send=[("close", 4000)])


def signals_after_close(c, flags, closems):
    d = c.scratch()
    log = os.path.join(d, "signals")
    s = c.server(["--port={port}"] + flags + [os.path.join(c.fx["bin"], "signals.sh"), log])
    if s.failed:
        return fail(s)
    w = wire.WS("127.0.0.1", s.port, "/", timeout=3)
    w.open()
    w.events(count=1)
    t0 = time.monotonic()
    w.send_close(1000)
    w.events(timeout=1.0)
    w.close_socket()
    got, first = [], None
    while time.monotonic() - t0 < 5.0:
        try:
            with open(log) as f:
                got = f.read().split()
        except OSError:
            got = []
        if got and first is None:
            first = time.monotonic() - t0
        if "TERM" in got or "none" in got:
            break
        time.sleep(0.01)
    return {"signals the child got, in order": got,
            "first signal after the --closems grace": first is not None and first >= closems / 1000,
            "_first signal after (ms)": None if first is None else int(first * 1000)}


@case("--closems default: signals to a child that ignores EOF")
def _(c):
    return signals_after_close(c, [], 0)


@case("--closems=300: signals to a child that ignores EOF")
def _(c):
    return signals_after_close(c, ["--closems=300"], 300)


# -- handshake and HTTP answers -------------------------------------------

def raw_answer(s, data, timeout=2.0):
    sock = wire.connect("127.0.0.1", s.port, timeout)
    try:
        sock.sendall(data)
        status, headers, _ = wire.read_head(sock, time.monotonic() + timeout)
        return status if status else headers
    except OSError as e:
        return "error %s" % e.__class__.__name__
    finally:
        sock.close()


@case("handshake: 101 headers", group=True)
def _(c):
    s = greeter(c)
    if s.failed:
        return group_fail(s)
    out = {}
    w = wire.WS("127.0.0.1", s.port, "/")
    w.open()
    out["handshake: 101 headers"] = handshake_headers(w)
    w.close_socket()
    w = wire.WS("127.0.0.1", s.port, "/", headers=[("Sec-WebSocket-Protocol", "chat, superchat")])
    w.open()
    out["handshake: subprotocol offered"] = handshake_headers(w)
    w.close_socket()
    w = wire.WS("127.0.0.1", s.port, "/", version="8")
    w.open()
    out["handshake: Sec-WebSocket-Version 8"] = handshake_headers(w)
    w.close_socket()
    w = wire.WS("127.0.0.1", s.port, "/", key=None)
    w.open()
    out["handshake: no Sec-WebSocket-Key"] = {"status": w.status or w.error}
    w.close_socket()
    w = wire.WS("127.0.0.1", s.port, "/", method="POST")
    w.open()
    out["handshake: POST with Upgrade"] = {"status": w.status or w.error}
    w.close_socket()
    for label, old, new in (
            ("Connection: keep-alive, Upgrade (Firefox)", b"Connection: Upgrade",
             b"Connection: keep-alive, Upgrade"),
            ("Upgrade: WebSocket (mixed case)", b"Upgrade: websocket", b"Upgrade: WebSocket"),
            ("no Host header", b"Host: 127.0.0.1:%d\r\n" % s.port, b""),
            ("HTTP/1.0", b"HTTP/1.1", b"HTTP/1.0")):
        w = wire.WS("127.0.0.1", s.port, "/")
        w.request = w.request.replace(old, new, 1)
        w.open()
        out["handshake: " + label] = {"status": w.status or w.error}
        w.close_socket()
    r = wire.http("127.0.0.1", s.port, "/")
    out["plain GET to the program (no --devconsole)"] = reply(r, body=False)
    out["garbage request line"] = {"status": raw_answer(s, b"GARBAGE\r\n\r\n")}
    w = wire.WS("127.0.0.1", s.port, "/", headers=[("Cookie", "c=" + "k" * 20000)])
    w.open()
    out["handshake: 20 KB Cookie header"] = {"status": w.status or w.error}
    w.close_socket()
    w = wire.WS("127.0.0.1", s.port, "/", headers=[("X-H%d" % i, "v") for i in range(150)])
    w.open()
    out["handshake: 150 headers"] = {"status": w.status or w.error}
    w.close_socket()
    return out


# -- the child's environment ----------------------------------------------

HDRS = [("Origin", "http://example.com"), ("X-Custom", "v1"), ("Cookie", "a=b"),
        ("User-Agent", "compat/1"), ("X-Dup", "one"), ("X-Dup", "two")]


def env_case(name, flags, path="/", env=None, headers=HDRS, script=None, form="program"):
    @case(name)
    def _(c):
        if form == "dir":
            args = ["--port={port}"] + flags + ["--dir=" + c.fx["dir"]]
        else:
            args = ["--port={port}"] + flags + [script or "env"]
        s = c.server(args, env=env)
        if s.failed:
            return fail(s)
        return env_of(s, path, headers=headers)


env_case("env: program form, /", [], "/")
env_case("env: program form, path and query", [], "/some/path?x=1&y=%20two")
env_case("env: program form, URL-encoded path", [], "/a%20b/c%2Fd?q=%41")
env_case("env: --dir form", [], "/env.sh?q=1", form="dir")
env_case("env: --dir form, path info", [], "/env.sh/extra/more?q=1", form="dir")
env_case("env: --dir sub-directory", [], "/sub/env.sh?q=1", form="dir")
env_case("env: --dir sub-sub-directory", [], "/sub/deeper/env.sh", form="dir")
env_case("env: Proxy request header (httpoxy)", [], "/", headers=[("Proxy", "http://evil:1")])
env_case("env: default --passenv", [], "/",
         env={"FOO": "bar", "LD_LIBRARY_PATH": "/opt/lib", "HOME": "/root-x"})
env_case("env: --passenv=FOO", ["--passenv=FOO"], "/",
         env={"FOO": "bar", "LD_LIBRARY_PATH": "/opt/lib", "OTHER": "x"})
env_case("env: --passenv FOO,HTTPS with HTTPS=on", ["--passenv", "FOO,HTTPS"], "/",
         env={"FOO": "bar", "HTTPS": "on"})
env_case("env: --reverselookup", ["--reverselookup"], "/")
env_case("env: --reverselookup=false", ["--reverselookup=false"], "/")


# -- --dir ---------------------------------------------------------------

@case("--dir: paths", group=True)
def _(c):
    s = c.server(["--port={port}", "--dir=" + c.fx["dir"]])
    if s.failed:
        return group_fail(s)
    out = {"--dir: /greeter.sh": greet(s, path="/greeter.sh")}
    for p in ("/nope.sh", "/notexec.sh", "/.hidden.sh", "/sub", "/sub/", "/", "/greeter",
              "/greeter.sh/", "/sub/env.sh/x/y"):
        r = session(s, p, timeout=2, sort=True)
        out["--dir: " + p] = {k: r[k] for k in ("status", "messages", "end") if k in r}
    for p in ("/../bin/echo.sh", "/%2e%2e/bin/echo.sh", "/sub/../../bin/echo.sh"):
        w = wire.WS("127.0.0.1", s.port, p, timeout=2)
        w.open()
        out["--dir: " + p] = {"runs a program outside DIR": w.status == 101,
                              "_status": w.status or w.error}
        w.close_socket()
    r = wire.http("127.0.0.1", s.port, "/greeter.sh")
    out["--dir: plain GET /greeter.sh"] = reply(r, body=False)
    return out


@case("--dir with a program too (refused)")
def _(c):
    st, out, err = c.cli(["--port={port}", "--dir=" + c.fx["dir"], "cat"])
    return cli_obs(st, out, err)


# -- listening flags -------------------------------------------------------

def reach(c, flags):
    s = c.server(["--port={port}"] + flags + [EX + "/bash/greeter.sh"])
    if s.failed:
        return fail(s)
    return {"on 127.0.0.1": greet(s, "127.0.0.1"), "on ::1": greet(s, "::1")}


def has_ipv6(fx):
    try:
        s = socket.socket(socket.AF_INET6)
        s.bind(("::1", 0))
        s.close()
        return True
    except OSError:
        return False


@case("--address=127.0.0.1", needs=has_ipv6)
def _(c):
    return reach(c, ["--address=127.0.0.1"])


@case("--address=[::1]", needs=has_ipv6)
def _(c):
    return reach(c, ["--address=[::1]"])


@case("--address=localhost", needs=has_ipv6)
def _(c):
    return reach(c, ["--address=localhost"])


@case("--address twice", needs=has_ipv6)
def _(c):
    return reach(c, ["--address", "127.0.0.1", "--address", "[::1]"])


@case("no --address", needs=has_ipv6)
def _(c):
    return reach(c, [])


@case("-port P (one dash, separate value)")
def _(c):
    s = c.server(["-port", "{port}", EX + "/bash/greeter.sh"])
    return {"talks": greet(s)}


@case("-port=P (one dash, =)")
def _(c):
    s = c.server(["-port={port}", EX + "/bash/greeter.sh"])
    return {"talks": greet(s)}


@case("--port P (separate value)")
def _(c):
    s = c.server(["--port", "{port}", EX + "/bash/greeter.sh"])
    return {"talks": greet(s)}


@case("--redirport")
def _(c):
    s = c.server(["--port={port}", "--redirport={port2}", EX + "/bash/greeter.sh"])
    if s.failed:
        return fail(s)
    r = wire.http("127.0.0.1", s.port2, "/x?y=1")
    return {"talks": greet(s), "redirect port": reply(r, body=False)}


@case("--ssl with --sslcert and --sslkey", needs=lambda fx: fx["cert"] is not None)
def _(c):
    s = c.server(["--port={port}", "--ssl", "--sslcert=" + c.fx["cert"],
                  "--sslkey=" + c.fx["key"], "env"])
    if s.failed:
        return fail(s)
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    try:
        raw = socket.create_connection(("127.0.0.1", s.port), timeout=3)
        tls = ctx.wrap_socket(raw, server_hostname="localhost")
        w = wire.WS("127.0.0.1", s.port, "/")
        w.sock = tls
        tls.sendall(w.request)
        st, headers, rest = wire.read_head(tls, time.monotonic() + 3)
        w.status, w.headers, w.buf = st, headers, rest
        ev = w.events(timeout=3)
        tls.close()
        env = [e[5:] for e in ev if e.startswith("text HTTPS=")]
        return {"status": st, "HTTPS in env": env}
    except (OSError, ssl.SSLError) as e:
        return {"error": e.__class__.__name__}


@case("--maxforks=1")
def _(c):
    s = greeter(c, ["--maxforks=1"])
    if s.failed:
        return fail(s)
    a = wire.WS("127.0.0.1", s.port, "/", timeout=2)
    first = a.open()
    a.send_text("held")
    a.events(count=1)
    b = wire.WS("127.0.0.1", s.port, "/", timeout=2)
    second = b.open()
    b.close_socket()
    a.send_close(1000)
    a.events(timeout=1)
    a.close_socket()
    third = None
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline:
        w = wire.WS("127.0.0.1", s.port, "/", timeout=2)
        third = w.open()
        w.close_socket()
        if third == 101:
            break
        time.sleep(0.05)
    return {"first": first, "second while first open": second, "after first ends": third}


@case("--maxforks=-1 (no limit)")
def _(c):
    s = greeter(c, ["--maxforks=-1"])
    return {"talks": greet(s)}


def origin_case(name, flags, origin, host=None):
    @case(name)
    def _(c):
        s = greeter(c, flags)
        if s.failed:
            return fail(s)
        hdrs = [("Origin", origin)] if origin else []
        w = wire.WS("127.0.0.1", s.port, "/", headers=hdrs, timeout=2)
        if host:
            w.request = w.request.replace(b"Host: 127.0.0.1:%d" % s.port,
                                          ("Host: " + host).encode())
        st = w.open()
        w.close_socket()
        return {"status": st or w.error}


origin_case("--origin: allowed host", ["--origin=example.com"], "http://example.com")
origin_case("--origin: allowed host, any port", ["--origin=example.com"],
            "http://example.com:8080")
origin_case("--origin: host:port given, other port", ["--origin=example.com:80"],
            "http://example.com:81")
origin_case("--origin: host:port given, same port", ["--origin=example.com:8080"],
            "http://example.com:8080")
origin_case("--origin: list", ["--origin=a.com,example.com"], "http://example.com")
origin_case("--origin: other host", ["--origin=example.com"], "http://evil.com")
origin_case("--origin: no Origin header", ["--origin=example.com"], None)
origin_case("--origin: https origin", ["--origin=example.com"], "https://example.com")
origin_case("--sameorigin: same", ["--sameorigin"], "http://h.example:80", "h.example:80")
origin_case("--sameorigin: other", ["--sameorigin"], "http://evil.com", None)
origin_case("--sameorigin: no Origin", ["--sameorigin"], None)
origin_case("--sameorigin=true (Go syntax)", ["--sameorigin=true"], "http://evil.com")
origin_case("--sameorigin=false", ["--sameorigin=false"], "http://evil.com")


@case("--header, --header-ws, --header-http", group=True)
def _(c):
    s = c.server(["--port={port}", "--header=X-All: 1", "--header-ws=X-Ws: 2",
                  "--header-http=X-Http: 3", "--origin=example.com",
                  "--staticdir=" + c.fx["static"], EX + "/bash/greeter.sh"])
    if s.failed:
        return group_fail(s)

    def mine(headers):
        return sorted("%s: %s" % (n, v) for n, v in headers if n in ("x-all", "x-ws", "x-http"))
    out = {}
    w = wire.WS("127.0.0.1", s.port, "/", headers=[("Origin", "http://example.com")])
    w.open()
    out["--header*: on the 101"] = {"status": w.status, "headers": mine(w.headers)}
    w.close_socket()
    w = wire.WS("127.0.0.1", s.port, "/", headers=[("Origin", "http://evil.com")])
    w.open()
    out["--header*: on a refused upgrade (403)"] = {"status": w.status, "headers": mine(w.headers)}
    w.close_socket()
    for p in ("/a.txt", "/missing.txt"):
        r = wire.http("127.0.0.1", s.port, p)
        out["--header*: on a static " + p] = {"status": r.get("status"),
                                              "headers": mine(r.get("headers", []))}
    return out


@case("--header without a colon (refused)")
def _(c):
    return cli_obs(*c.cli(["--port={port}", "--header=NoColon", "cat"]))


@case("--devconsole", group=True)
def _(c):
    s = c.server(["--port={port}", "--devconsole", EX + "/bash/greeter.sh"])
    if s.failed:
        return group_fail(s)
    out = {}
    for p in ("/", "/any/path"):
        r = wire.http("127.0.0.1", s.port, p, headers=[("Accept", "text/html")])
        o = {"status": r.get("status"),
             "content-type": (wire.header(r.get("headers", []), "content-type") or "")
             .lower().replace(" ", ""),
             "has a body": len(r.get("body", b"")) > 1000}
        out["--devconsole: GET " + p] = o
    out["--devconsole: websocket still served"] = greet(s)
    return out


@case("--devconsole=false")
def _(c):
    s = c.server(["--port={port}", "--devconsole=false", EX + "/bash/greeter.sh"])
    if s.failed:
        return fail(s)
    return reply(wire.http("127.0.0.1", s.port, "/"), keep=("content-type",), body=False)


LEVELS = ["debug", "trace", "access", "info", "error", "fatal"]


def levels_logged(text):
    """The levels of the log lines in TEXT, in either server's format
    ("... | INFO   | ..." or "<time> info ...")."""
    found = set()
    for line in text.splitlines():
        m = re.search(r"\| (DEBUG|TRACE|ACCESS|INFO|ERROR|FATAL) +\|", line) or \
            re.match(r"\S+ (debug|trace|access|info|error|fatal) ", line)
        if m:
            found.add(m.group(1).lower())
    return found


def log_case(name, level):
    """What --loglevel=LEVEL logs of a start and one normal session: never
    a line below LEVEL; at access and below, the session. (websocketd
    sometimes logs a spurious ERROR "file already closed" as a session
    ends, so error lines themselves are not compared.)"""
    @case(name)
    def _(c):
        s = greeter(c, ["--loglevel=" + level])
        if s.failed:
            return fail(s)
        talks = greet(s)
        time.sleep(0.3)
        s.stop()
        found = levels_logged(s.output())
        rank = LEVELS.index(level) if level in LEVELS else len(LEVELS)
        return {"talks": talks,
                "logged a line below the level": any(LEVELS.index(x) < rank for x in found),
                "logged the session at access level": "access" in found,
                "_levels": sorted(found)}


log_case("--loglevel=error: a normal session logs nothing", "error")
log_case("--loglevel=fatal: a normal session logs nothing", "fatal")
log_case("--loglevel=none", "none")
log_case("--loglevel=access", "access")
log_case("--loglevel=debug", "debug")
log_case("--loglevel=info", "info")
log_case("--loglevel=trace", "trace")


# -- --staticdir ----------------------------------------------------------

STATIC_PATHS = ["/", "/index.html", "/a.txt", "/style.css", "/app.js", "/app.mjs",
                "/data.json", "/pic.svg", "/img.png", "/photo.jpg", "/anim.gif",
                "/icon.ico", "/font.woff2", "/mod.wasm", "/doc.pdf", "/feed.xml",
                "/page.htm", "/notes.md", "/noext", "/binary.dat", "/with%20space.txt",
                "/big.bin", "/sub", "/sub/", "/sub/b.txt", "/empty/", "/empty",
                "/.hidden", "/.git/config", "/.well-known/security.txt", "/link-out.txt",
                "/link-in.txt", "/missing", "/a.txt?x=1", "/../outside.txt",
                "/%2e%2e/outside.txt", "/sub/../a.txt", "//a.txt"]


def static_group(c, args, label):
    s = c.server(args)
    if s.failed:
        return group_fail(s)
    out = {}
    for p in STATIC_PATHS:
        out["%s GET %s" % (label, p)] = fetch(s, p)
    h = "127.0.0.1"
    out[label + " HEAD /a.txt"] = reply(wire.http(h, s.port, "/a.txt", method="HEAD"))
    r = wire.http(h, s.port, "/a.txt")
    lm = wire.header(r.get("headers", []), "last-modified")
    out[label + " If-Modified-Since"] = reply(
        wire.http(h, s.port, "/a.txt", headers=[("If-Modified-Since", lm or "x")]))
    out[label + " Range bytes=0-3"] = reply(
        wire.http(h, s.port, "/a.txt", headers=[("Range", "bytes=0-3")]))
    out[label + " Range bytes=-4"] = reply(
        wire.http(h, s.port, "/big.bin", headers=[("Range", "bytes=-4")]))
    out[label + " Range unsatisfiable"] = reply(
        wire.http(h, s.port, "/a.txt", headers=[("Range", "bytes=999-")]))
    out[label + " POST /a.txt"] = reply(wire.http(h, s.port, "/a.txt", method="POST",
                                                  body=b"x"), body=False)
    ka = wire.http(h, s.port, "/a.txt", keepalive=True)
    out[label + " two requests on one connection"] = [reply(x) for x in ka] \
        if isinstance(ka, list) else reply(ka)
    out[label + " websocket upgrade"] = greet(s)
    return out


@case("--staticdir", group=True)
def _(c):
    return static_group(c, ["--port={port}", "--staticdir=" + c.fx["static"],
                            EX + "/bash/greeter.sh"], "--staticdir")


@case("--staticdir only (no program)", group=True)
def _(c):
    s = c.server(["--port={port}", "--staticdir=" + c.fx["static"]])
    if s.failed:
        return group_fail(s)
    return {"--staticdir only GET /a.txt": reply(wire.http("127.0.0.1", s.port, "/a.txt")),
            "--staticdir only upgrade": {"status": wire.WS("127.0.0.1", s.port, "/").open()}}


@case("--staticdir with --dir", group=True)
def _(c):
    s = c.server(["--port={port}", "--staticdir=" + c.fx["static"], "--dir=" + c.fx["dir"]])
    if s.failed:
        return group_fail(s)
    return {"--staticdir with --dir: GET /a.txt": reply(wire.http("127.0.0.1", s.port, "/a.txt")),
            "--staticdir with --dir: GET /greeter.sh":
                reply(wire.http("127.0.0.1", s.port, "/greeter.sh"), body=False),
            "--staticdir with --dir: ws /greeter.sh": greet(s, path="/greeter.sh")}


# -- --cgidir -------------------------------------------------------------

@case("--cgidir", group=True)
def _(c):
    s = c.server(["--port={port}", "--cgidir=" + c.fx["cgi"], EX + "/bash/greeter.sh"])
    if s.failed:
        return group_fail(s)
    h, out = "127.0.0.1", {}
    for p in ("/status.sh", "/redirect.sh", "/noheader.sh", "/fail.sh", "/missing.sh",
              "/plain.txt", "/sub/"):
        out["--cgidir GET " + p] = reply(wire.http(h, s.port, p))
    r = wire.http(h, s.port, "/post.sh", method="POST", body=b"a=1&b=2",
                  headers=[("Content-Type", "application/x-www-form-urlencoded")])
    out["--cgidir POST /post.sh"] = reply(r)
    for p in ("/sub/env.sh?q=1", "/sub/env.sh/more?q=1"):
        r = wire.http(h, s.port, p)
        o = reply(r, body=False)
        if 200 <= r.get("status", 0) < 300:
            o["env"] = sorted(x for x in r["body"].decode("utf-8", "replace").splitlines()
                              if not x.startswith(("PWD=", "SHLVL=", "_=")))
        out["--cgidir env of " + p] = o
    out["--cgidir websocket still served"] = greet(s, path="/status.sh")
    return out


@case("--cgidir=DIR --devconsole (refused)")
def _(c):
    return cli_obs(*c.cli(["--port={port}", "--cgidir=" + c.fx["cgi"], "--devconsole", "cat"]))


# -- command lines that end at once ------------------------------------------

def cli_obs(st, out, err, stream=False):
    """How a command line ends: 0, refused (any other status: the codes
    differ by design, websocketd 1-4, portal-gw 2 for usage and 1 for a
    failure to start, so they are shown, not compared) or still running;
    whether it said anything; with STREAM, whether that went to stdout."""
    o = {"exit": st if st in (0, "still running") else "refused",
         "said something": bool((out + err).strip()),
         "_exit": st, "_said": servers.first_line(err or out)}
    if stream:
        o["stdout"] = bool(out.strip())
    return o


def cli_case(name, args, stream=False):
    @case(name)
    def _(c):
        return cli_obs(*c.cli(args), stream=stream)


cli_case("--version", ["--version"], stream=True)
cli_case("-version", ["-version"], stream=True)
cli_case("--license", ["--license"], stream=True)
cli_case("--help", ["--help"])
cli_case("-h", ["-h"])
cli_case("no arguments", [])
cli_case("only --port", ["--port={port}"])
cli_case("unknown flag", ["--bogus", "cat"])
cli_case("--port=abc", ["--port=abc", "cat"])
cli_case("--port=70000", ["--port=70000", "cat"])
cli_case("--maxforks=abc", ["--port={port}", "--maxforks=abc", "cat"])
cli_case("--closems=-5", ["--port={port}", "--closems=-5", "cat"])
cli_case("--closems=abc", ["--port={port}", "--closems=abc", "cat"])
cli_case("--loglevel=bogus", ["--port={port}", "--loglevel=bogus", "cat"])
cli_case("--binary=maybe", ["--port={port}", "--binary=maybe", "cat"])
cli_case("--port without a value", ["cat", "--port"])
cli_case("--dir=/nonexistent", ["--port={port}", "--dir=/nonexistent/dir"])
cli_case("--staticdir with --devconsole", ["--port={port}", "--devconsole",
                                          "--staticdir=/tmp", "cat"])
cli_case("--ssl without a certificate", ["--port={port}", "--ssl", "cat"])
cli_case("--sslcert without --ssl", ["--port={port}", "--sslcert=/nonexistent", "cat"])
cli_case("--sslkey without --ssl", ["--port={port}", "--sslkey=/nonexistent", "cat"])
cli_case("--ssl with a missing certificate file",
         ["--port={port}", "--ssl", "--sslcert=/nonexistent.pem", "--sslkey=/nonexistent.key",
          "cat"])
cli_case("program not found", ["--port={port}", "/nonexistent/program"])
cli_case("flag after the program is the program's", ["--port={port}", "sh", "-c",
                                                    "exit 0", "--bogus"])
