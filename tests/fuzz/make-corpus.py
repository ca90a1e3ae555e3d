#!/usr/bin/env python3
"""Writes the seed corpora in tests/fuzz/corpus/<target>/ (committed; run
this again after changing it). Each file is named after what it holds. The
leading setting bytes of each target are described in its .c file."""
import os
import random
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
written = {}


def put(target, name, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)
    written[target] = written.get(target, 0) + 1


# --- http: byte 0 max_headers % 34, byte 1 response capacity/2 and extra --

KEY = b"dGhlIHNhbXBsZSBub25jZQ=="


def head(lines, eol=b"\r\n", start=b"GET /echo HTTP/1.1"):
    return start + eol + b"".join(l + eol for l in lines) + eol


BASE = [b"Host: example.com", b"Upgrade: websocket", b"Connection: Upgrade",
        b"Sec-WebSocket-Key: " + KEY, b"Sec-WebSocket-Version: 13"]


def http(name, data, max_headers=32, cap=0x80):
    put("http", name, bytes([max_headers, cap]) + data)


def without(name):
    return [l for l in BASE if not l.lower().startswith(name.lower() + b":")]


http("valid-crlf", head(BASE))
http("valid-lf", head(BASE, eol=b"\n"))
http("valid-query-origin", head(BASE + [b"Origin: http://example.com",
                                         b"Sec-WebSocket-Protocol: chat, superchat"],
                                 start=b"GET /echo/sub?a=1&b=%20 HTTP/1.1"))
http("valid-empty-line-first", b"\r\n" + head(BASE))
http("valid-lowercase-names", head([l.lower().replace(KEY.lower(), KEY) for l in BASE]))
http("valid-list-values", head([b"Host: h", b"Upgrade: h2c, WebSocket",
                                b"Connection: keep-alive,  Upgrade ",
                                b"Sec-WebSocket-Key: " + KEY,
                                b"Sec-WebSocket-Version: 13"]))
http("valid-upgrade-two-lines", head([b"Host: h", b"Upgrade: h2c", b"Upgrade: websocket",
                                      b"Connection: Upgrade",
                                      b"Sec-WebSocket-Key: " + KEY,
                                      b"Sec-WebSocket-Version: 13"]))
http("valid-tabs-obs-text", head(BASE + [b"X-Tab:\tx\ty\t", b"X-Obs: caf\xc3\xa9 \xff",
                                          b"X-Empty:", b"X-Blank:   "]))
http("valid-pipelined-bytes", head(BASE) + b"\x81\x85\x01\x02\x03\x04ignored")
http("valid-long-value", head(BASE + [b"Cookie: " + b"a=b; " * 200]))
http("version-12", head(without(b"Sec-WebSocket-Version") + [b"Sec-WebSocket-Version: 12"]))
http("version-missing", head(without(b"Sec-WebSocket-Version")))
http("version-list", head(without(b"Sec-WebSocket-Version") + [b"Sec-WebSocket-Version: 13, 8"]))
http("version-twice", head(BASE + [b"Sec-WebSocket-Version: 13"]))
http("host-twice", head(BASE + [b"Host: other"]))
http("host-missing", head(without(b"Host")))
http("key-missing", head(without(b"Sec-WebSocket-Key")))
http("key-twice", head(BASE + [b"Sec-WebSocket-Key: " + KEY]))
http("key-pad-bits", head(without(b"Sec-WebSocket-Key") + [b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZR=="]))
http("key-short", head(without(b"Sec-WebSocket-Key") + [b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZ="]))
http("no-upgrade", head(without(b"Upgrade")))
http("no-connection-upgrade", head(without(b"Connection") + [b"Connection: keep-alive"]))
http("post", head(BASE, start=b"POST /echo HTTP/1.1"))
http("get-lowercase", head(BASE, start=b"get /echo HTTP/1.1"))
http("http10", head(BASE, start=b"GET /echo HTTP/1.0"))
http("http20", head(BASE, start=b"GET /echo HTTP/2.0"))
http("target-star", head(BASE, start=b"OPTIONS * HTTP/1.1"))
http("target-absolute", head(BASE, start=b"GET http://example.com/echo HTTP/1.1"))
http("bad-double-space", head(BASE, start=b"GET  /echo HTTP/1.1"))
http("bad-trailing-space", head(BASE, start=b"GET /echo HTTP/1.1 "))
http("bad-version", head(BASE, start=b"GET /echo HTTP/1.x"))
http("bad-target-ctl", head(BASE, start=b"GET /e\x01cho HTTP/1.1"))
http("bad-obs-fold", head(BASE[:2] + [b"  folded"] + BASE[2:]))
http("bad-space-before-colon", head(BASE + [b"X-A : b"]))
http("bad-ctl-in-value", head(BASE + [b"X-A: b\x01c"]))
http("bad-del-in-value", head(BASE + [b"X-A: b\x7f"]))
http("bad-cr-alone", b"GET /echo HTTP/1.1\rHost: h\r\n\r\n")
http("bad-name-char", head(BASE + [b"X(A): b"]))
http("bad-empty-name", head(BASE + [b": b"]))
http("incomplete-no-blank-line", head(BASE)[:-2])
http("incomplete-request-line", b"GET /echo HT")
http("incomplete-cr", head(BASE)[:-1])
http("too-many-headers", head(BASE + [b"X-%d: %d" % (i, i) for i in range(40)]), max_headers=33)
http("max-headers-0", head(BASE), max_headers=0)
http("max-headers-5", head(BASE), max_headers=5)
http("max-headers-4", head(BASE), max_headers=4)
for cap in (0, 1, 40, 64, 65, 66, 67, 70, 80, 255):
    http("cap-%d" % cap, head(BASE), cap=cap)
for i, st in enumerate((400, 403, 404, 405, 408, 426, 431, 500, 503)):
    http("error-%d" % st, b"\x00", max_headers=i, cap=0xfe)

# --- ws: 4 setting bytes (see fuzz_ws.c), then frames ---------------------

MASK = b"\x37\xfa\x21\x3d"


def frame(op, payload=b"", fin=True, mask=MASK, rsv=0, length=None, form=None):
    n = len(payload) if length is None else length
    b0 = (0x80 if fin else 0) | rsv << 4 | op
    mbit = 0x80 if mask is not None else 0
    if form is None:
        form = 7 if n < 126 else 16 if n < 65536 else 64
    if form == 7:
        h = bytes([b0, mbit | n])
    elif form == 16:
        h = bytes([b0, mbit | 126]) + struct.pack(">H", n)
    else:
        h = bytes([b0, mbit | 127]) + struct.pack(">Q", n)
    if mask is None:
        return h + payload
    return h + mask + bytes(c ^ mask[i % 4] for i, c in enumerate(payload))


def close(code=None, reason=b"", **kw):
    p = b"" if code is None else struct.pack(">H", code) + reason
    return frame(8, p, **kw)


def ws(name, stream, flags=0, limit=0, seed=7, piece=15):
    put("ws", name, bytes([flags, limit, seed, piece]) + stream)


def both(name, build, **kw):
    """The stream as a client sends it (server role) and as a server does."""
    ws(name, build(MASK), **kw)
    ws(name + "-client", build(None), flags=kw.pop("flags", 0) | 1, **kw)


both("text-hello", lambda m: frame(1, b"Hello", mask=m) + close(1000, mask=m))
both("text-empty", lambda m: frame(1, b"", mask=m))
both("binary", lambda m: frame(2, bytes(range(256)), mask=m))
both("fragmented-ping", lambda m: frame(1, b"Hel", fin=False, mask=m) +
     frame(9, b"p", mask=m) + frame(0, b"", fin=False, mask=m) +
     frame(0, b"lo", mask=m))
both("utf8-split-fragments", lambda m: frame(1, "κόσμε €".encode()[:3], fin=False, mask=m) +
     frame(0, "κόσμε €".encode()[3:], mask=m))
both("len-125", lambda m: frame(2, b"x" * 125, mask=m))
both("len-126", lambda m: frame(2, b"x" * 126, mask=m))
both("len-127", lambda m: frame(2, b"x" * 127, mask=m))
both("len-16bit-truncated", lambda m: frame(2, b"x" * 40, length=65535, mask=m))
both("len-64bit-truncated", lambda m: frame(2, b"x" * 40, length=65536, mask=m))
both("len-not-minimal-16", lambda m: frame(2, b"x" * 125, form=16, mask=m))
both("len-not-minimal-64", lambda m: frame(2, b"x" * 200, form=64, mask=m))
both("len-not-minimal-64-65535", lambda m: frame(2, b"x" * 20, length=65535, form=64, mask=m))
both("len-16bit-126", lambda m: frame(2, b"x" * 20, length=126, form=16, mask=m))
both("len-64bit-max", lambda m: frame(2, b"x" * 20, length=(1 << 63) - 1, mask=m))
both("len-top-bit", lambda m: frame(2, b"", length=1 << 63, mask=m))
both("ping-empty", lambda m: frame(9, mask=m) + frame(10, b"unsolicited", mask=m))
both("ping-125", lambda m: frame(9, b"p" * 125, mask=m))
both("ping-126", lambda m: frame(9, b"p" * 126, mask=m))
both("ping-fragmented", lambda m: frame(9, b"p", fin=False, mask=m))
both("close-empty", lambda m: close(mask=m))
both("close-reason", lambda m: close(1000, b"bye \xe2\x82\xac", mask=m) + frame(1, b"after", mask=m))
both("close-1-byte", lambda m: frame(8, b"\x03", mask=m))
both("close-bad-utf8", lambda m: close(1000, b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80", mask=m))
for code in (999, 1000, 1003, 1004, 1005, 1006, 1007, 1014, 1015, 1016, 2999, 3000, 4999, 5000, 65535):
    ws("close-%d" % code, close(code, mask=MASK))
both("rsv1", lambda m: frame(1, b"x", rsv=4, mask=m))
both("rsv3", lambda m: frame(1, b"x", rsv=1, mask=m))
for op in (3, 7, 11, 15):
    ws("opcode-%d" % op, frame(op, b"x"))
ws("unmasked-to-server", frame(1, b"x", mask=None))
ws("masked-to-client", frame(1, b"x"), flags=1)
both("cont-without-start", lambda m: frame(0, b"x", mask=m))
both("text-inside-message", lambda m: frame(1, b"a", fin=False, mask=m) + frame(1, b"b", mask=m))
both("utf8-invalid", lambda m: frame(1, b"ok\xff", mask=m))
both("utf8-incomplete-end", lambda m: frame(1, b"\xe2\x82", mask=m))
both("utf8-surrogate", lambda m: frame(1, b"\xed\xa0\x80", mask=m))
both("utf8-overlong", lambda m: frame(1, b"\xc0\xaf", mask=m))
both("utf8-above-max", lambda m: frame(1, b"\xf4\x90\x80\x80", mask=m))
both("utf8-fail-fast", lambda m: frame(1, b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xf4\x90\x80\x80edited", fin=False, mask=m))
ws("text-refused", frame(1, b"x"), flags=2)
ws("binary-refused", frame(2, b"x"), flags=4)
ws("max-message-exceeded", frame(1, b"123456"), flags=1 << 3, limit=5)
ws("max-message-exact", frame(1, b"12345"), flags=1 << 3, limit=5)
ws("max-message-fragments", frame(1, b"123", fin=False) + frame(0, b"456"), flags=1 << 3, limit=5)
ws("max-message-125", frame(2, b"y" * 126), flags=2 << 3)
ws("max-message-huge", frame(2, b"y" * 300) + frame(1, b"ok"), flags=7 << 3)
ws("call-limit-1", frame(1, b"Hello") + frame(9, b"ping"), flags=1 << 6)
ws("call-limit-16", frame(2, b"z" * 200), flags=3 << 6, seed=3, piece=200)
ws("one-byte-pieces", frame(1, b"abcdefgh") + close(1001), piece=0)

# --- wsenc: 4 setting bytes (see fuzz_wsenc.c), then op bytes --------------

rnd = random.Random(6455)
put("wsenc", "text", b"\x00\x01\x07\x00" + b"\x00\x05hello")
put("wsenc", "text-client", b"\x01\x01\x07\x00" + b"\x00\x05hello")
put("wsenc", "fragments-pings", b"\x00\x02\x20\x01" + bytes([0x38, 12]) + b"fragmented!!" + b"\x39\x40")
put("wsenc", "len-class-2", b"\x00\x03\xff\x02" + bytes([0x80 | 2, 26, 0x87, 30]))
put("wsenc", "len-64k", b"\x00\x04\xff\x03" + bytes([0xc2, 0xf5, 0x24]))
put("wsenc", "len-64k-text", b"\x00\x04\x80\x00" + bytes([0xd8, 0xff, 0x1f]))
put("wsenc", "close-reason-long", b"\x00\x05\x10\x00" + bytes([0x05, 0x80, 190]))
put("wsenc", "close-empty", b"\x00\x05\x10\x00" + bytes([0x03, 0, 0x05, 0x00, 0]))
put("wsenc", "max-message-boundary", b"\x02\x06\x08\x01" + bytes([0x40, 200, 0x02, 100]))
put("wsenc", "max-message-exceeded", b"\x04\x06\x08\x01" + bytes([0x40, 200, 0x02, 100]))
for i in range(24):
    settings = bytes([rnd.randrange(8), rnd.randrange(256), rnd.randrange(256), rnd.randrange(4)])
    ops = bytes(rnd.randrange(256) for _ in range(rnd.randrange(8, 48)))
    put("wsenc", "random-%02d" % i, settings + ops)

# --- utf8: byte 0 split seed, byte 1 largest piece - 1, then text ---------

def utf8(name, text, seed=1, piece=4):
    put("utf8", name, bytes([seed, piece]) + text)


samples = {
    "ascii": b"Hello, world",
    "ascii-long": b"The quick brown fox jumps over the lazy dog. " * 4,
    "greek": "κόσμε".encode(),
    "mixed": "a€𝄞é\u0800\uffff\U00010000\U0010ffff\x7f\x80".encode(),
    "boundaries-2": b"\x7f\xc2\x80\xdf\xbf",
    "boundaries-3": b"\xe0\xa0\x80\xef\xbf\xbf\xed\x9f\xbf\xee\x80\x80",
    "boundaries-4": b"\xf0\x90\x80\x80\xf4\x8f\xbf\xbf",
    "overlong-2": b"\xc0\xaf\xc1\xbf",
    "overlong-3": b"\xe0\x80\xaf\xe0\x9f\xbf",
    "overlong-4": b"\xf0\x80\x80\xaf\xf0\x8f\xbf\xbf",
    "surrogates": b"\xed\xa0\x80\xed\xbf\xbf\xed\xa0\x80\xed\xb0\x80",
    "above-max": b"\xf4\x90\x80\x80\xf7\xbf\xbf\xbf",
    "f5-ff": bytes(range(0xf5, 0x100)),
    "lone-continuations": bytes(range(0x80, 0xc0)),
    "truncated-2": b"ab\xc3",
    "truncated-3": b"ab\xe2\x82",
    "truncated-4": b"ab\xf0\x9f\x98",
    "truncated-mid": b"\xe2\x82a\xf0\x9f\x98b\xc3",
    "maximal-subparts": b"a\xf1\x80\x80\xe1\x80\xc2b\x80c\x80\xbfd",
    "unicode-table-3-8": b"a\xc0\xaf\xe0\x80\xbf\xf0\x81\x82\x41",
    "ascii-then-bad-7": b"abcdefg\xff",
    "ascii-then-bad-8": b"abcdefgh\xff",
    "ascii-then-bad-9": b"abcdefghi\xffjklmnopqrstuvwxyz",
    "char-across-word": b"abcdefg\xe2\x82\xacabcdefgh",
    "kuhn-fail": "κόσμε".encode() + b"\xed\xa0\x80edited",
    "nul": b"a\x00b",
    "empty": b"",
}
for name, text in samples.items():
    utf8(name, text)
utf8("pieces-1", samples["mixed"], piece=0)
utf8("pieces-31", samples["ascii-long"] + samples["mixed"], seed=9, piece=31)

# --- opts: byte 0 max words - 1 (mod 16), then a COMMAND ------------------

commands = {
    "plain": b"./echo.sh a b c",
    "blanks": b" \t cat \n  -u\t",
    "single-quotes": b"sh -c 'echo $HOME; ls *'",
    "double-quotes": b'printf "%s\\n" "a \\"b\\" \\$c \\`d\\` \\x"',
    "backslashes": b"a\\ b c\\\\d \\'e",
    "empty-quotes": b"'' \"\" x''y",
    "adjacent-quotes": b"a'b'\"c\"d",
    "unterminated-single": b"echo 'abc",
    "unterminated-double": b'echo "abc\\"',
    "trailing-backslash": b"echo abc\\",
    "empty": b"",
    "only-blanks": b"   \t\n",
    "tilde-star": b"~ * ? [a] ; | & > < $(x)",
}
for name, cmd in commands.items():
    put("opts", name, b"\x0f" + cmd)
put("opts", "max-3-words-3", b"\x02a b c")
put("opts", "max-3-words-2", b"\x02a b")
put("opts", "max-1", b"\x00a")
put("opts", "max-1-empty", b"\x00  ")
put("opts", "nul-inside", b"\x0fa b\x00c d")

# --- env: byte 0 buffer size, byte 1 slots, then operations (fuzz_env.c) --

def hdr(name, value):
    return b"\x00" + bytes([len(name)]) + name + bytes([len(value)]) + value


def var(which, value):
    return bytes([1 | which << 1, len(value)]) + value


BIG, SLOTS = 0x80, 40
put("env", "headers", bytes([BIG, SLOTS]) + hdr(b"Host", b"example.com") +
    hdr(b"Upgrade", b"websocket") + hdr(b"Sec-WebSocket-Key", KEY))
put("env", "repeat-adjacent", bytes([BIG, SLOTS]) + hdr(b"X-A", b"1") + hdr(b"x-a", b"2"))
put("env", "cr-lf-nul", bytes([BIG, SLOTS]) + hdr(b"X-A", b"a\r\nB: c\x00d"))
put("env", "bad-names", bytes([BIG, SLOTS]) + hdr(b"X_Y", b"1") + hdr(b"X Y", b"2") +
    hdr(b"", b"3") + hdr(b"\xc3\xa9", b"4") + hdr(b"9-Z", b"5"))
put("env", "vars", bytes([BIG, SLOTS]) + var(0, b"127.0.0.1") + var(1, b"/x\ny") +
    var(2, b"h") + hdr(b"Host", b"h2"))
put("env", "small-buffer", bytes([4, SLOTS]) + hdr(b"Host", b"example.com") +
    hdr(b"X-Long", b"v" * 60) + hdr(b"X-B", b"b"))
put("env", "few-slots", bytes([BIG, 2]) + hdr(b"A", b"1") + hdr(b"B", b"2") + hdr(b"C", b"3"))
put("env", "join-overflow", bytes([3, SLOTS]) + hdr(b"X-A", b"1" * 20) + hdr(b"X-A", b"2" * 30))
put("env", "empty-values", bytes([BIG, SLOTS]) + hdr(b"X-A", b"") + hdr(b"X-A", b"") + var(1, b""))

# --- range: bytes 0..7 the file size (little-endian), then the value -------

def rng(name, value, fsize=1000):
    put("range", name, struct.pack("<Q", fsize) + value)


rng("first-last", b"bytes=0-99")
rng("open-end", b"bytes=100-")
rng("suffix", b"bytes=-500")
rng("suffix-long", b"bytes=-5000")
rng("past-end", b"bytes=1000-")
rng("overflow", b"bytes=0-99999999999999999999999")
rng("max-size", b"bytes=18446744073709551614-", 0xFFFFFFFFFFFFFFFF)
rng("empty-file", b"bytes=-1", 0)
rng("blanks-case", b"BYTES=\t1-2 ")
rng("list", b"bytes=0-1,5-6")
rng("backwards", b"bytes=5-4")

# --- mime: a mime.types file ------------------------------------------------

put("mime", "debian-like", b"# comment\n\ntext/html\t\thtml htm\n"
    b"application/json json\r\nimage/png png\n  video/mp4 mp4 mpg4\n"
    b"application/x-none\naudio/ogg oga ogg opus")
put("mime", "duplicates", b"text/javascript js mjs\napplication/javascript js JSX\n")
put("mime", "malformed", b"nothing a\n/x c\nx/ d\na/b/c e\ntext/plain ok b@d "
    + b"a" * 40 + b" good.ext\n\x00x/y z\n")

# --- hub: a line a hub program printed (byte 0 also seeds the formatters) --

put("hub", "to-one", b"7 hello")
put("hub", "to-one-empty", b"7 ")
put("hub", "to-one-cr", b"7 a\r")
put("hub", "to-all", b"* everyone")
put("hub", "close", b"-3")
put("hub", "close-code", b"-3 4000")
put("hub", "close-reason", b"-3 3000 bye now")
put("hub", "close-long-reason", b"-3 3000 " + "\u00e9".encode() * 80)
put("hub", "close-bad-code", b"-3 1006 no")
put("hub", "close-bad-utf8", b"-3 1000 \xc3")
put("hub", "max-id", b"18446744073709551615 x")
put("hub", "over-id", b"18446744073709551616 x")
put("hub", "leading-zero", b"07 x")
put("hub", "no-space", b"7")
put("hub", "join-like", b"+7 127.0.0.1 /chat?x=1")
put("hub", "multi-line", b"\x05a\nb\r\n\nc")
put("hub", "empty", b"")

for target in sorted(written):
    print("%s: %d files" % (target, written[target]), file=sys.stderr)
