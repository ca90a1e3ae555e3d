#!/usr/bin/env python3
"""Greet: a resource in Python. One line in, one line out.

Each message from the client arrives as a line on stdin; each line printed
goes back as a message. Output is line-buffered (the default for a pipe is
a block buffer, which would hold replies back). stderr goes to the
portal-gw log; the exit status becomes the Close code.

    portal-gw --port 4433 /greet=./examples/greet.py
"""
import os
import sys

sys.stdout.reconfigure(line_buffering=True)

# The CGI environment: who is asking, and what the URL said.
who = os.environ.get("REMOTE_ADDR", "?")
query = os.environ.get("QUERY_STRING", "")
print(f"hello {who}, what is your name?" + (f" ({query})" if query else ""))

for line in sys.stdin:
    name = line.rstrip("\n")
    if name == "bye":
        print("goodbye")
        sys.exit(0)  # Close 1000
    if not name:
        print("greet.py: empty name", file=sys.stderr)  # to the log only
        sys.exit(2)  # Close 1011 "exit status 2"
    print(f"hello, {name}!")
