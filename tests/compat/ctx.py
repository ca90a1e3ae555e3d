"""What a case is written with. A case is a function of a Ctx that
starts a server with a websocketd command line (ctx.server), drives it,
and returns what a user observes as a JSON-like value; @case registers it
in ALL. It runs once with websocketd and once with portal-gw; compat.py
compares the two. Keys starting with '_' are notes shown on a DIFF but
never compared. A group case returns {sub-case name: observation}.

In command lines, {port} is the listening port and {port2} a second free
one (for --redirport)."""

import os
import shutil
import tempfile
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
        "extensions": wire.header(h, "sec-websocket-extensions"),
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


def plain_get(s, path):
    """A plain GET (no upgrade) to a WebSocket path: the answer, and the
    Upgrade header that would tell the client what it needs."""
    r = wire.http("127.0.0.1", s.port, path)
    out = reply(r, keep=("content-type",), body=False)
    if "error" not in r:
        out["upgrade"] = wire.header(r["headers"], "upgrade")
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


def prog(c, script, *args, flags=()):
    return c.server(["--port={port}"] + list(flags) + [os.path.join(c.fx["bin"], script)]
                    + list(args))


def greeter(c, flags=()):
    return c.server(["--port={port}"] + list(flags) + [EX + "/bash/greeter.sh"])


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
