#!/usr/bin/python3
"""Client of the Redis interop run (redis.sh): one room across two gateways.

    /usr/bin/python3 redis_client.py PORT CAFILE GW_A_PID GW_A_LOG GW_B_LOG TMP

nginx listens on 127.0.0.1:PORT (TLS, CAFILE the only trusted certificate)
and proxies wss://localhost:PORT/ws/chat to /chat of gateway a or b
(least_conn); each gateway says which it is in the 101's X-Instance header,
and runs examples/redis-bridge.py on --broadcast /chat. TMP holds
redis.cmd (redis-server's command line, one word a line) and redis.pid.

Checks: clients land on both gateways; every client sees every message once
and each sender's in order; SIGTERM to gateway a closes its clients with
1001 and, reconnecting through nginx, they land on b and chat on;
redis-server stopped, the bridge says on stderr (b's log) that it lost
Redis, and once restarted that it reconnected; then the room works again.
Prints one PASS/FAIL line per check and "redis-client: N passed, N failed";
exits 1 if a check failed. Written for websockets 10 (Debian 12).
"""

import asyncio
import os
import signal
import ssl
import subprocess
import sys
import time

import websockets

DEADLINE = 10.0
CLIENTS = 4
MESSAGES = 10  # per client and round

passed = 0
failed = 0


def note(ok, what):
    global passed, failed
    print("%s redis-client: %s" % ("PASS" if ok else "FAIL", what), flush=True)
    if ok:
        passed += 1
    else:
        failed += 1
    return ok


class Client:
    def __init__(self, name, port, ctx):
        self.name, self.port, self.ctx = name, port, ctx
        self.ws = None
        self.instance = None
        self.got = []

    async def connect(self):
        self.ws = await websockets.connect(
            "wss://localhost:%d/ws/chat" % self.port, ssl=self.ctx,
            open_timeout=DEADLINE, close_timeout=DEADLINE)
        self.instance = self.ws.response_headers.get("X-Instance")
        self.got = []

    async def read_until(self, tag, want):
        """Messages of round tag until want of them, or DEADLINE."""
        end = time.monotonic() + DEADLINE
        mine = [m for m in self.got if m.startswith(tag + " ")]
        while len(mine) < want:
            left = end - time.monotonic()
            if left <= 0:
                break
            try:
                m = await asyncio.wait_for(self.ws.recv(), left)
            except (asyncio.TimeoutError, websockets.ConnectionClosed):
                break
            self.got.append(m)
            if m.startswith(tag + " "):
                mine.append(m)
        return mine


def log_has(path, text):
    try:
        with open(path, errors="replace") as f:
            return text in f.read()
    except OSError:
        return False


async def wait_log(path, text, deadline=DEADLINE):
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        if log_has(path, text):
            return True
        await asyncio.sleep(0.05)
    return False


async def chat(clients, tag):
    """Each client sends MESSAGES; every client must see all, once, each
    sender's in order. Returns whether that held."""
    for c in clients:
        for j in range(MESSAGES):
            await c.ws.send("%s %s %d" % (tag, c.name, j))
    want = len(clients) * MESSAGES
    results = await asyncio.gather(*(c.read_until(tag, want) for c in clients))
    ok = True
    for c, mine in zip(clients, results):
        if len(mine) != want or len(set(mine)) != want:
            print("# %s got %d messages of %s (%d distinct), want %d"
                  % (c.name, len(mine), tag, len(set(mine)), want))
            ok = False
            continue
        for s in clients:
            seq = [int(m.split()[2]) for m in mine if m.split()[1] == s.name]
            if seq != list(range(MESSAGES)):
                print("# %s saw %s's messages as %s" % (c.name, s.name, seq))
                ok = False
    return ok


def redis_start(tmp):
    with open(os.path.join(tmp, "redis.cmd")) as f:
        cmd = f.read().splitlines()
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    with open(os.path.join(tmp, "redis.pid"), "w") as f:
        f.write("%d\n" % p.pid)
    return p


def redis_stop(tmp):
    with open(os.path.join(tmp, "redis.pid")) as f:
        pid = int(f.read())
    os.kill(pid, signal.SIGTERM)
    end = time.monotonic() + DEADLINE
    while time.monotonic() < end:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.05)
    return False


async def main():
    port, cafile, pid_a, log_a, log_b, tmp = sys.argv[1:7]
    port, pid_a = int(port), int(pid_a)
    ctx = ssl.create_default_context(cafile=cafile)
    clients = [Client("c%d" % i, port, ctx) for i in range(CLIENTS)]

    # least_conn alternates between two idle servers.
    for c in clients:
        await c.connect()
    where = sorted(c.instance or "?" for c in clients)
    note(where == ["a", "a", "b", "b"], "least_conn puts two clients on each gateway (%s)" % where)
    note(await wait_log(log_a, "redis-bridge: subscribed") and
         await wait_log(log_b, "redis-bridge: subscribed"),
         "both bridges subscribed (their stderr in the gateways' logs)")
    note(await chat(clients, "r1"), "every client sees every message once, each sender's in order")

    # One gateway stops: its clients get 1001 and come back through nginx.
    on_a = [c for c in clients if c.instance == "a"]
    os.kill(pid_a, signal.SIGTERM)
    codes = []
    for c in on_a:
        try:
            await asyncio.wait_for(c.ws.wait_closed(), DEADLINE)
        except asyncio.TimeoutError:
            pass
        codes.append(c.ws.close_code)
    note(on_a and codes == [1001] * len(on_a), "SIGTERM to gateway a: its clients get 1001 (%s)" % codes)
    for c in on_a:
        try:
            await c.connect()
        except Exception as e:
            print("# %s could not reconnect: %r" % (c.name, e))
    where = sorted(c.instance or "?" for c in clients)
    note(where == ["b"] * CLIENTS, "reconnecting through nginx they land on gateway b (%s)" % where)
    note(await chat(clients, "r2"), "after the move, every client sees every message once, in order")

    # Redis restarts: the bridge says so, reconnects, and the room works.
    note(redis_stop(tmp), "redis-server stops")
    note(await wait_log(log_b, "redis-bridge: lost the connection"),
         "the bridge says on stderr that it lost Redis")
    redis_start(tmp)
    note(await wait_log(log_b, "redis-bridge: reconnected", 20.0),
         "the bridge reconnects and says so on stderr")
    note(await chat(clients, "r3"), "after Redis restarted, every client sees every message once, in order")

    for c in clients:
        try:
            await c.ws.close()
        except Exception:
            pass


try:
    asyncio.run(main())
except Exception as e:
    note(False, "the run ends without an exception (%r)" % e)
print("redis-client: %d passed, %d failed" % (passed, failed))
sys.exit(1 if failed else 0)
