#!/usr/bin/python3
"""A broadcast program that joins one room across many portal-gw instances.

    portal-gw --broadcast '/chat=redis-bridge.py [URL [CHANNEL]]'

URL is the Redis server (default redis://127.0.0.1:6379/0), CHANNEL the
pub/sub channel (default "portal-gw" followed by the route, from
SCRIPT_NAME: "portal-gw/chat"). Every line on stdin (a message from a client
of this gateway) is published to CHANNEL; every message of CHANNEL (from the
bridge of every gateway, this one's included) is printed on stdout, one line
each, flushed at once: the gateway sends it to each of its clients. So every
client of every gateway sees every message once, and a sender's messages in
the order it sent them (one bridge publishes them, in order, over one
connection, and Redis delivers a channel's messages in order).

Redis lost: it says so on stderr (the gateway logs it under the route),
keeps its clients connected and reconnects with back-off (0.1 s doubling up
to 5 s), then says so again. It does not exit, since the gateway would then
close every client of the room. While Redis is away, stdin is not read (the
gateway holds the clients' messages back: its backpressure), and each line
is published once Redis is back; messages other gateways published
meanwhile are lost to this one: pub/sub keeps no history.

It ends on stdin's end (exit 0), as the gateway asks after --linger.
Needs Debian's python3-redis (Debian's /usr/bin/python3 sees it).
"""

import os
import sys
import threading
import time

import redis

BACKOFF_FIRST = 0.1
BACKOFF_MAX = 5.0


def say(text):
    sys.stderr.write("redis-bridge: %s\n" % text)
    sys.stderr.flush()


class Backoff:
    def __init__(self):
        self.delay = BACKOFF_FIRST

    def wait(self):
        time.sleep(self.delay)
        self.delay = min(self.delay * 2, BACKOFF_MAX)

    def reset(self):
        self.delay = BACKOFF_FIRST


def subscriber(url, channel, out):
    """Prints the channel's messages for ever, across lost connections."""
    lost = False
    backoff = Backoff()
    while True:
        try:
            conn = redis.Redis.from_url(url, socket_connect_timeout=2,
                                        health_check_interval=5)
            ps = conn.pubsub()
            ps.subscribe(channel)
            # Its confirmation: from then on nothing published is missed.
            msg = ps.get_message(timeout=5.0)
            if not msg or msg["type"] != "subscribe":
                raise redis.TimeoutError("no answer to SUBSCRIBE in 5 s")
            say("%s %s, channel %s" % ("reconnected to" if lost else
                                        "subscribed at", url, channel))
            lost = False
            backoff.reset()
            for msg in ps.listen():
                if msg["type"] != "message":
                    continue
                data = msg["data"].replace(b"\n", b" ")
                out.write(data + b"\n")
                out.flush()
        except redis.RedisError as e:
            if not lost:
                say("lost the connection to %s (%s); reconnecting" % (url, e))
            lost = True
            backoff.wait()
        except (BrokenPipeError, ValueError):
            os._exit(0)  # the gateway is gone: stdout closed


def publish(conn, channel, line):
    """Publishes line, retrying with back-off while Redis is away."""
    backoff = Backoff()
    while True:
        try:
            conn.publish(channel, line)
            return
        except redis.RedisError:
            backoff.wait()


def main():
    url = sys.argv[1] if len(sys.argv) > 1 else "redis://127.0.0.1:6379/0"
    route = os.environ.get("SCRIPT_NAME", "")
    channel = sys.argv[2] if len(sys.argv) > 2 else "portal-gw" + route
    threading.Thread(target=subscriber, args=(url, channel, sys.stdout.buffer),
                     daemon=True).start()
    conn = redis.Redis.from_url(url, socket_connect_timeout=2)
    for line in sys.stdin.buffer:
        publish(conn, channel, line.rstrip(b"\n"))
    sys.stdout.flush()


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        pass  # SIGINT, the gateway's second step after stdin's end
