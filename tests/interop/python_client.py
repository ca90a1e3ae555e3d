#!/usr/bin/python3
"""Interop client on Python's `websockets` (Debian python3-websockets).

    /usr/bin/python3 python_client.py ws://127.0.0.1:PORT

Makes the checks of checks.js against /echo (cat), /ok (prints "hi", exits 0),
/fail (prints "bye", exits 3) and /linger (cat, then sleeps). Prints one PASS/FAIL line per check and
"N passed, N failed"; exits 1 if a check failed. A close is "clean" as a
browser's wasClean: a Close frame was both received and sent, and the server
then closed the TCP connection promptly.

Written for the asyncio client of websockets 10 (Debian 12); it reads only
what later versions keep (close_code, close_reason, the Close frames sent
and received), so a newer Debian's package should work as well.
"""

import asyncio
import sys
import time

import websockets

TAG = "python-websockets"
BIG_LEN = 1 << 20
DEADLINE = 10.0  # seconds, for one event
BIG_DEADLINE = 30.0
CLOSE_TIMEOUT = 10.0  # how long the library waits for the server to close TCP
PROMPT = 3.0  # the server is expected to close TCP well within this


def big_text(n):
    unit = "portal-gw interop 0123456789 abcdefghijklmnopqrstuvwxyz ABCD!"
    return (unit * (n // len(unit) + 1))[:n]


def show(s):
    if isinstance(s, str) and len(s) > 60:
        return "%r... (%d chars)" % (s[:40], len(s))
    return repr(s)


class CheckFailed(Exception):
    pass


def connect(url):
    # compression stays at its default: the client offers permessage-deflate
    # and the gateway must decline it.
    return websockets.connect(
        url, max_size=None, open_timeout=DEADLINE, close_timeout=CLOSE_TIMEOUT
    )


async def recv(ws, deadline=DEADLINE):
    try:
        return await asyncio.wait_for(ws.recv(), deadline)
    except asyncio.TimeoutError:
        raise CheckFailed("timed out after %gs waiting for a message" % deadline)
    except websockets.ConnectionClosed as e:
        raise CheckFailed("closed before the expected message: %s" % e)


def close_info(ws):
    return "code=%s reason=%r" % (ws.close_code, ws.close_reason)


async def wait_closed(ws):
    """Waits for the end of the TCP connection; returns how long it took."""
    t0 = time.monotonic()
    try:
        await asyncio.wait_for(ws.wait_closed(), CLOSE_TIMEOUT + DEADLINE)
    except asyncio.TimeoutError:
        raise CheckFailed("connection not closed after %gs" % (CLOSE_TIMEOUT + DEADLINE))
    return time.monotonic() - t0


def both_close_frames(obj):
    """True if a Close frame was both received and sent. obj is a
    ConnectionClosed exception or a connection (legacy: close_rcvd on the
    connection; newer versions: on its .protocol)."""
    for o in (obj, getattr(obj, "protocol", None)):
        for r, s in (("rcvd", "sent"), ("close_rcvd", "close_sent")):
            if o is not None and hasattr(o, r) and hasattr(o, s):
                return getattr(o, r) is not None and getattr(o, s) is not None
    return False


async def echo_one(base, text, deadline=DEADLINE):
    async with connect(base + "/echo") as ws:
        await ws.send(text)
        got = await recv(ws, deadline)
        if got != text:
            raise CheckFailed("sent %s, got back %s" % (show(text), show(got)))
    return "echoed %d chars" % len(text)


async def echo_many(base):
    async with connect(base + "/echo") as ws:
        for i in range(100):
            await ws.send("message %d" % i)
        for i in range(100):
            got = await recv(ws)
            if got != "message %d" % i:
                raise CheckFailed("message %d came back as %s" % (i, show(got)))
    return "100 in order"


async def client_close(base):
    ws = await connect(base + "/echo")
    await asyncio.wait_for(ws.close(1000, "client done"), CLOSE_TIMEOUT + DEADLINE)
    took = await wait_closed(ws)
    info = close_info(ws)
    if ws.close_code != 1000:
        raise CheckFailed("expected the server to answer code 1000, got " + info)
    if not both_close_frames(ws):
        raise CheckFailed("closing handshake incomplete: " + info)
    if took > PROMPT:
        raise CheckFailed("server kept TCP open %.1fs after the closing handshake" % took)
    return info


async def expect_end(base, path, line, code, reason):
    ws = await connect(base + path)
    try:
        got = await recv(ws)
        if got != line:
            raise CheckFailed("expected %r, got %s" % (line, show(got)))
        try:
            extra = await asyncio.wait_for(ws.recv(), DEADLINE)
            raise CheckFailed("expected a Close, got message %s" % show(extra))
        except asyncio.TimeoutError:
            raise CheckFailed("no Close within %gs" % DEADLINE)
        except websockets.ConnectionClosed as e:
            closed = e
        took = await wait_closed(ws)
        info = close_info(ws)
        if ws.close_code != code or ws.close_reason != reason:
            raise CheckFailed("expected code=%d reason=%r, got %s" % (code, reason, info))
        want = websockets.ConnectionClosedOK if code == 1000 else websockets.ConnectionClosedError
        if not isinstance(closed, want):
            raise CheckFailed("library raised %s (%s)" % (type(closed).__name__, closed))
        if not both_close_frames(closed):
            raise CheckFailed("closing handshake incomplete: %s" % closed)
        if took > PROMPT:
            raise CheckFailed("server kept TCP open %.1fs after the closing handshake" % took)
        return "%s, %s" % (info, type(closed).__name__)
    finally:
        if ws.transport is not None and not ws.transport.is_closing():
            ws.transport.abort()


async def close_and_drop(base):
    """Close 1001 (going away), then TCP dropped 20 ms later (the library's
    close_timeout), on /linger, whose child only ends when the gateway ends
    it: the gateway must keep serving."""
    ws = await websockets.connect(base + "/linger", close_timeout=0.02)
    await ws.send("are you there")
    got = await recv(ws)
    if got != "are you there":
        raise CheckFailed("/linger echoed %s" % show(got))
    await ws.close(1001, "going away")
    await asyncio.sleep(0.5)
    try:
        return "then " + await echo_one(base, "still there?")
    except (OSError, CheckFailed, websockets.WebSocketException, asyncio.TimeoutError) as e:
        raise CheckFailed("the gateway no longer answers: %s: %s" % (type(e).__name__, e))


CHECKS = [
    ("echo short text", lambda b: echo_one(b, "hello, portal-gw")),
    ("echo UTF-8 text", lambda b: echo_one(b, "h\u00e9llo w\u00f6rld \u2713 \u4e16\u754c \U0001f680")),
    ("echo 100 messages in order", echo_many),
    ("echo 1 MiB text", lambda b: echo_one(b, big_text(BIG_LEN), BIG_DEADLINE)),
    ("client Close 1000 answered, wasClean", client_close),
    ("child exit 0: Close 1000, wasClean", lambda b: expect_end(b, "/ok", "hi", 1000, "")),
    (
        'child exit 3: Close 1011 "exit status 3", wasClean',
        lambda b: expect_end(b, "/fail", "bye", 1011, "exit status 3"),
    ),
    ("Close 1001 then TCP dropped, child lingering: gateway keeps serving", close_and_drop),
]


async def main(base):
    print("# %s: websockets %s, Python %s" % (TAG, websockets.__version__, sys.version.split()[0]))
    passed = failed = 0
    for name, fn in CHECKS:
        try:
            detail = await asyncio.wait_for(fn(base), BIG_DEADLINE + CLOSE_TIMEOUT + DEADLINE)
            ok = True
        except CheckFailed as e:
            ok, detail = False, str(e)
        except asyncio.TimeoutError:
            ok, detail = False, "check timed out"
        except Exception as e:  # a library error is a failed check too
            ok, detail = False, "%s: %s" % (type(e).__name__, e)
        print("%s %s: %s (%s)" % ("PASS" if ok else "FAIL", TAG, name, detail), flush=True)
        passed += ok
        failed += not ok
    print("%s: %d passed, %d failed" % (TAG, passed, failed), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print("usage: python_client.py ws://HOST:PORT", file=sys.stderr)
        sys.exit(2)
    sys.exit(asyncio.run(main(sys.argv[1])))
