"""Cases over WebSocket sessions: the examples Debian's websocketd ships,
messages both ways, how sessions end, the handshake, the child's
environment, --dir. See ctx.py for how a case is written."""

import os
import signal
import subprocess
import time

import wire
from ctx import (EX, case, cli_obs, env_of, fail, greet, greeter, group_fail,
                 handshake_headers, plain_get, prog, reply, session)


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
    late = first is not None and first >= closems / 1000
    return {"signals the child got, in order": got,
            "first signal after the --closems grace": late,
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
    w = wire.WS("127.0.0.1", s.port, "/", headers=[
        ("Sec-WebSocket-Extensions", "permessage-deflate; client_max_window_bits")])
    w.open()
    out["handshake: permessage-deflate offered"] = handshake_headers(w)
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
    out["plain GET to the program (no --devconsole)"] = plain_get(s, "/")
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
    out["--dir: plain GET /greeter.sh"] = plain_get(s, "/greeter.sh")
    return out


@case("--dir with a program too (refused)")
def _(c):
    st, out, err = c.cli(["--port={port}", "--dir=" + c.fx["dir"], "cat"])
    return cli_obs(st, out, err)
