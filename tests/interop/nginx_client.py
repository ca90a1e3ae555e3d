#!/usr/bin/python3
"""Client of the nginx interop run (nginx.sh): wss:// through nginx to portal-gw.

    /usr/bin/python3 nginx_client.py TAG PORT CAFILE

Connects to nginx at 127.0.0.1:PORT from the source address 127.0.0.2 (so
that the client's address differs from nginx's, 127.0.0.1, and the check of
REMOTE_ADDR means something), speaks TLS to it with the self-signed
certificate CAFILE as the only trusted one (server name "localhost"), and
uses wss://localhost:PORT/ws/NAME, which nginx maps to portal-gw's /NAME.
The gateway serves /echo (cat), /fail (prints "bye", exits 3) and /env
(env), with --trust-proxy --protocol chat,v2 --sameorigin.

Prints one PASS/FAIL line per check and "TAG: N passed, N failed"; exits 1
if a check failed. Written for the asyncio client of websockets 10 (Debian 12).
"""

import asyncio
import socket
import ssl
import sys

import websockets

DEADLINE = 10.0
BIG_DEADLINE = 30.0
CLIENT_ADDR = "127.0.0.2"


class CheckFailed(Exception):
    pass


class Gw:
    def __init__(self, port, cafile):
        self.port = port
        self.ctx = ssl.create_default_context(cafile=cafile)
        self.base = "wss://localhost:%d/ws" % port

    def connect(self, path, **kw):
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind((CLIENT_ADDR, 0))
        sock.settimeout(DEADLINE)
        sock.connect(("127.0.0.1", self.port))
        sock.setblocking(False)
        return websockets.connect(
            self.base + path,
            sock=sock,
            ssl=self.ctx,
            server_hostname="localhost",
            max_size=None,
            open_timeout=DEADLINE,
            close_timeout=DEADLINE,
            **kw
        )


async def recv(ws, deadline=DEADLINE):
    try:
        return await asyncio.wait_for(ws.recv(), deadline)
    except asyncio.TimeoutError:
        raise CheckFailed("timed out after %gs waiting for a message" % deadline)
    except websockets.ConnectionClosed as e:
        raise CheckFailed("closed before the expected message: %s" % e)


async def child_env(ws):
    """Reads the lines env(1) prints until the gateway closes: a dict."""
    env = {}
    while True:
        try:
            line = await asyncio.wait_for(ws.recv(), DEADLINE)
        except websockets.ConnectionClosed:
            return env
        name, _, value = line.partition("=")
        env[name] = value


def expect(env, name, want):
    got = env.get(name)
    if got != want:
        raise CheckFailed("%s is %r, expected %r" % (name, got, want))


async def echo(gw, text, deadline=DEADLINE):
    async with gw.connect("/echo") as ws:
        await ws.send(text)
        got = await recv(ws, deadline)
        if got != text:
            raise CheckFailed("sent %d chars, got %d back (or other ones)" % (len(text), len(got)))
    return "echoed %d chars" % len(text)


async def fail_status(gw):
    async with gw.connect("/fail") as ws:
        got = await recv(ws)
        if got != "bye":
            raise CheckFailed("expected 'bye', got %r" % got)
        try:
            extra = await asyncio.wait_for(ws.recv(), DEADLINE)
            raise CheckFailed("expected a Close, got %r" % extra)
        except websockets.ConnectionClosed:
            pass
        if ws.close_code != 1011 or ws.close_reason != "exit status 3":
            raise CheckFailed("got code=%s reason=%r" % (ws.close_code, ws.close_reason))
    return "code=1011 reason='exit status 3'"


async def trusted_env(gw):
    # A client may send X-Forwarded-For itself; nginx appends the address
    # it sees, and only that rightmost entry counts.
    async with gw.connect("/env", extra_headers={"X-Forwarded-For": "198.51.100.7"}) as ws:
        env = await child_env(ws)
    expect(env, "HTTPS", "on")
    expect(env, "REQUEST_SCHEME", "https")
    expect(env, "REMOTE_ADDR", CLIENT_ADDR)
    expect(env, "HTTP_X_FORWARDED_FOR", "198.51.100.7, " + CLIENT_ADDR)
    return "REMOTE_ADDR=%s HTTPS=on" % CLIENT_ADDR


async def subprotocol(gw):
    async with gw.connect("/env", subprotocols=["nope", "v2", "chat"]) as ws:
        chosen = ws.subprotocol
        env = await child_env(ws)
    if chosen != "v2":
        raise CheckFailed("negotiated %r, expected 'v2' (the client's first acceptable)" % chosen)
    expect(env, "WEBSOCKET_PROTOCOL", "v2")
    return "v2, WEBSOCKET_PROTOCOL=v2"


async def same_origin(gw):
    origin = "https://localhost:%d" % gw.port
    async with gw.connect("/echo", origin=origin) as ws:
        await ws.send("same")
        if await recv(ws) != "same":
            raise CheckFailed("no echo with Origin %s" % origin)
    try:
        async with gw.connect("/echo", origin="https://evil.example"):
            pass
    except websockets.InvalidStatusCode as e:
        if e.status_code != 403:
            raise CheckFailed("foreign Origin answered %d, expected 403" % e.status_code)
        return "own Origin accepted, foreign one 403"
    raise CheckFailed("a foreign Origin was let in")


CHECKS = [
    ("echo short text", lambda g: echo(g, "hello through nginx")),
    ("echo 1 MiB text", lambda g: echo(g, "x" * (1 << 20), BIG_DEADLINE)),
    ('child exit 3: Close 1011 "exit status 3" passes nginx', fail_status),
    ("--trust-proxy: HTTPS=on, REMOTE_ADDR is the client's", trusted_env),
    ("--protocol: subprotocol negotiated through nginx", subprotocol),
    ("--sameorigin behind TLS: own Origin in, foreign out", same_origin),
]


async def main(tag, port, cafile):
    gw = Gw(port, cafile)
    print("# %s: websockets %s, Python %s" % (tag, websockets.__version__, sys.version.split()[0]))
    passed = failed = 0
    for name, fn in CHECKS:
        try:
            detail = await asyncio.wait_for(fn(gw), BIG_DEADLINE + DEADLINE)
            ok = True
        except CheckFailed as e:
            ok, detail = False, str(e)
        except asyncio.TimeoutError:
            ok, detail = False, "check timed out"
        except Exception as e:  # a library or TLS error is a failed check too
            ok, detail = False, "%s: %s" % (type(e).__name__, e)
        print("%s %s: %s (%s)" % ("PASS" if ok else "FAIL", tag, name, detail), flush=True)
        passed += ok
        failed += not ok
    print("%s: %d passed, %d failed" % (tag, passed, failed), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    if len(sys.argv) != 4:
        print("usage: nginx_client.py TAG PORT CAFILE", file=sys.stderr)
        sys.exit(2)
    sys.exit(asyncio.run(main(sys.argv[1], int(sys.argv[2]), sys.argv[3])))
