"""Cases about flags, plain HTTP and command lines: listening, origins,
headers, --devconsole, --loglevel, --staticdir, --cgidir, and command
lines that end at once. See ctx.py for how a case is written."""

import re
import socket
import ssl
import time

import wire
from ctx import (EX, case, cli_obs, fail, fetch, greet, greeter, group_fail, plain_get, reply)


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
origin_case("--origin: Origin null (a file:// page)", ["--origin=example.com"], "null")
origin_case("--origin with a scheme", ["--origin=https://example.com"], "https://example.com")
origin_case("--origin with a scheme, other scheme", ["--origin=https://example.com"],
            "http://example.com")
origin_case("--sameorigin: same", ["--sameorigin"], "http://h.example:80", "h.example:80")
origin_case("--sameorigin: same, default port", ["--sameorigin"], "http://h.example", "h.example")
origin_case("--sameorigin: other port", ["--sameorigin"], "http://h.example:81", "h.example:80")
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


@case("--header without a colon")
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
    return plain_get(s, "/")


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


@case("--cgidir=DIR --devconsole")
def _(c):
    return cli_obs(*c.cli(["--port={port}", "--cgidir=" + c.fx["cgi"], "--devconsole", "cat"]))


# -- command lines that end at once ------------------------------------------



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
