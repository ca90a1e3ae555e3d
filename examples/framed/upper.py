#!/usr/bin/env python3
"""--framed in Python: upper-cases text messages, reverses binary ones.

    portal-gw --framed --port 4433 /upper=./examples/framed/upper.py
"""
import base64
import sys


def unescape(s):
    out, i = [], 0
    while i < len(s):
        if s[i] == "\\" and i + 1 < len(s) and s[i + 1] in "nr\\":
            out.append({"n": "\n", "r": "\r", "\\": "\\"}[s[i + 1]])
            i += 2
        else:
            out.append(s[i])
            i += 1
    return "".join(out)


def escape(s):
    return s.replace("\\", "\\\\").replace("\n", "\\n").replace("\r", "\\r")


for line in sys.stdin.buffer:
    line = line.rstrip(b"\n")
    if line.startswith(b"T "):
        text = unescape(line[2:].decode("utf-8", "replace"))
        sys.stdout.write("T " + escape(text.upper()) + "\n")
    elif line.startswith(b"B "):
        data = base64.b64decode(line[2:])
        sys.stdout.write("B " + base64.b64encode(data[::-1]).decode() + "\n")
    sys.stdout.flush()
