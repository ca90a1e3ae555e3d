"""The documented improvements: the only differences compat.py may call
BETTER. Each names the first cell of its row in README.md's "How
portal-gw differs from websocketd" table (compat.py checks the row is
there) and a predicate that accepts exactly the documented pair of
observations (websocketd's, portal-gw's); any other difference in the
same case stays a DIFF."""

import re

END_CHILD = "end of the child"
LAST_LINE = 'last line without "\\n"'
BINARY_LINE = "binary message in line mode"
SIZE = "message size"
BAD_UTF8 = "invalid UTF-8 on stdout"
VERSION = "wrong `Sec-WebSocket-Version`"
HOST = "`HTTP_HOST`"
HTTPOXY = "`Proxy:` request header"
MAXFORKS = "`--maxforks` reached"
HEADER = "`--header`, `--header-http`"
NOTEXEC = "`--dir`: a file that is not executable"
STATIC = "`--staticdir` files"
SIGTERM = "SIGTERM to the server"
CGIDIR = "`--cgidir`"


def rest_equal(ws, gw, *skip):
    return {k: v for k, v in ws.items() if k not in skip} == \
        {k: v for k, v in gw.items() if k not in skip}


def closes(end, code, reason=".*"):
    """portal-gw's end of session: a Close with CODE and REASON, then EOF."""
    return len(end) == 2 and re.fullmatch(r"close %d %s" % (code, reason), end[0]) is not None \
        and end[1] == "eof"


def child_end(ws, gw):
    """websocketd drops TCP when the child exits; portal-gw sends Close
    1000 for status 0, 1011 naming the status or signal otherwise."""
    if ws.get("end") != ["eof"]:
        return False
    e = gw.get("end", [])
    return closes(e, 1000, "") or closes(e, 1011, r"(exit status \d+|killed by signal SIG[A-Z]+)")


def end_only(ws, gw):
    return isinstance(ws, dict) and isinstance(gw, dict) and child_end(ws, gw) \
        and rest_equal(ws, gw, "end")


def host_lines(prefix=""):
    return lambda line: line.startswith(prefix + "HTTP_HOST=")


def only_extra(ws_lines, gw_lines, allowed_extra, allowed_missing=lambda line: False):
    """GW_LINES is WS_LINES with some lines ALLOWED_EXTRA added and some
    ALLOWED_MISSING removed, and at least one of the two."""
    extra = [x for x in gw_lines if x not in ws_lines]
    missing = [x for x in ws_lines if x not in gw_lines]
    return bool(extra or missing) and all(map(allowed_extra, extra)) \
        and all(map(allowed_missing, missing))


def env_host(ws, gw):
    """portal-gw's child also gets HTTP_HOST (websocketd drops it)."""
    return "env" in ws and "env" in gw and rest_equal(ws, gw, "env") \
        and only_extra(ws["env"], gw["env"], host_lines())


def env_httpoxy(ws, gw):
    return "env" in ws and "env" in gw and rest_equal(ws, gw, "env") \
        and any(x.startswith("HTTP_PROXY=") for x in ws["env"]) \
        and only_extra(ws["env"], gw["env"], host_lines(),
                       lambda line: line.startswith("HTTP_PROXY="))


def dump_env_example(ws, gw):
    """An example's dump-env: the child's end, and HTTP_HOST among the
    HTTP_* lines it prints."""
    return child_end(ws, gw) and rest_equal(ws, gw, "end", "messages") \
        and only_extra(ws["messages"], gw["messages"], host_lines("text ")) \
        if "messages" in ws and "messages" in gw else False


def last_line(ws, gw):
    return ws.get("end") == ["eof"] and closes(gw.get("end", []), 1000, "") \
        and gw.get("messages") == ws.get("messages", []) + ["text b"]


def binary_line(ws, gw):
    """websocketd glues a binary message's bytes to the next line."""
    return ws.get("messages") == ["text Hello binx!"] and gw.get("messages") == [] \
        and closes(gw.get("end", []), 1003)


def size(ws, gw):
    return len(ws.get("messages", [])) == 1 and gw.get("messages") == [] \
        and closes(gw.get("end", []), 1009)


def bad_utf8(ws, gw):
    return [m.replace("\\xff", "\ufffd").replace(" (invalid UTF-8)", "")
            for m in ws.get("messages", [])] == gw.get("messages") != ws.get("messages")


def version(ws, gw):
    return ws.get("status") == 400 and gw.get("status") == 426 \
        and ws.get("version") == gw.get("version") == "13"


def maxforks(ws, gw):
    return ws.get("second while first open") == 429 and \
        gw.get("second while first open") == 503 and \
        rest_equal(ws, gw, "second while first open")


def header(expected):
    """portal-gw adds exactly what websocketd's help promises and it forgot."""
    return lambda ws, gw: ws.get("status") == gw.get("status") and \
        sorted(set(ws.get("headers", [])) | set(expected)) == gw.get("headers")


def notexec(ws, gw):
    return ws == {"status": 101, "messages": [], "end": ["eof"]} and gw == {"status": 404}


def sigterm(ws, gw):
    """websocketd dies at once; portal-gw says goodbye and exits 0."""
    return ws.get("client") == ["text Hello x!", "eof"] and \
        gw.get("client", [None])[0] == "text Hello x!" and \
        closes(gw.get("client")[1:], 1001) and gw.get("server exit status") == 0


def status(ws_status, gw_status):
    return lambda ws, gw: ws == {"status": ws_status} and gw.get("status") == gw_status


def static_refused(ws, gw):
    """websocketd serves it (a listing, a dotfile, a file outside the
    directory); portal-gw answers 404."""
    return ws.get("status") == 200 and gw == {"status": 404}


IMPROVEMENTS = {
    "end: child exits 0": (END_CHILD, end_only),
    "end: child exits 3": (END_CHILD, end_only),
    "end: child killed by SIGKILL": (END_CHILD, end_only),
    "end: child exits 0 without output": (END_CHILD, end_only),
    "end: last line without a newline": (LAST_LINE, last_line),
    "message: binary in line mode": (BINARY_LINE, binary_line),
    "message: 2 MiB text": (SIZE, size),
    "output: invalid UTF-8": (BAD_UTF8, bad_utf8),
    "handshake: Sec-WebSocket-Version 8": (VERSION, version),
    "env: Proxy request header (httpoxy)": (HTTPOXY, env_httpoxy),
    "--maxforks=1": (MAXFORKS, maxforks),
    "--header*: on a refused upgrade (403)": (HEADER, header(["x-all: 1", "x-http: 3"])),
    "--header*: on a static /a.txt": (HEADER, header(["x-all: 1", "x-http: 3"])),
    "--header*: on a static /missing.txt": (HEADER, header(["x-all: 1", "x-http: 3"])),
    "--dir: /notexec.sh": (NOTEXEC, notexec),
    "SIGTERM to the server with a session open": (SIGTERM, sigterm),
    "--cgidir GET /noheader.sh": (CGIDIR, status(500, 502)),
    "--cgidir GET /plain.txt": (CGIDIR, status(500, 403)),
}

for _lang in ("bash", "perl", "python", "nodejs"):
    IMPROVEMENTS["example %s/count" % _lang] = (END_CHILD, end_only)
    IMPROVEMENTS["example %s/dump-env" % _lang] = (END_CHILD, dump_env_example)

for _name in ("env: program form, /", "env: program form, path and query",
              "env: program form, URL-encoded path", "env: --dir form",
              "env: --dir form, path info", "env: --dir sub-directory",
              "env: --dir sub-sub-directory", "env: default --passenv", "env: --passenv=FOO",
              "env: --passenv FOO,HTTPS with HTTPS=on", "env: --reverselookup",
              "env: --reverselookup=false"):
    IMPROVEMENTS[_name] = (HOST, env_host)

for _path in ("/empty/", "/empty", "/.hidden", "/.git/config", "/link-out.txt"):
    IMPROVEMENTS["--staticdir GET " + _path] = (STATIC, static_refused)
