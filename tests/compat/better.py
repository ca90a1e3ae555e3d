"""The documented improvements: the only differences compat.py may call
BETTER. Each names the first cells of the rows of README.md's "How
portal-gw differs from websocketd" table that document it (compat.py
checks the rows are there) and a predicate that accepts exactly the
documented pair of observations (websocketd's, portal-gw's); any other
difference in the same case stays a DIFF."""

import re

from ctx import BASE_ENV

END_CHILD = "end of the child"
LAST_LINE = 'last line without "\\n"'
BINARY_LINE = "binary message in line mode"
SIZE = "message size"
BAD_UTF8 = "invalid UTF-8 on stdout"
VERSION = "wrong `Sec-WebSocket-Version`"
HTTP10 = "upgrade over HTTP/1.0"
PLAIN_GET = "plain GET to a WebSocket path"
HOST = "`HTTP_HOST`"
GATEWAY = "`GATEWAY_INTERFACE`"
HTTPOXY = "`Proxy:` request header"
PASSENV = "`--passenv`"
MAXFORKS = "`--maxforks` reached"
ORIGIN = "`--origin`, `--sameorigin`"
HEADER = "`--header`, `--header-http`"
NOTEXEC = "`--dir`: a file that is not executable"
DOTFILES = "`--dir`: dotfiles"
STATIC = "`--staticdir` files"
STATIC_REQ = "`--staticdir` requests"
CGIDIR = "`--cgidir`"
CGIENV = "`--cgidir` environment"
DEVCONSOLE = "`--devconsole`"
TLS = "`--ssl`, `--sslcert`, `--sslkey`, `--redirport`"
SIGTERM = "SIGTERM to the server"


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


GATEWAY_WS = "GATEWAY_INTERFACE=websocketd-CGI/0.1"
GATEWAY_GW = "GATEWAY_INTERFACE=CGI/1.1"


def env_lines(ws_lines, gw_lines, prefix, added, dropped):
    """GW_LINES (NAME=VALUE lines after PREFIX) is WS_LINES with
    GATEWAY_INTERFACE=CGI/1.1 for websocketd-CGI/0.1, the variables
    ADDED set, the variables DROPPED unset, and nothing else."""
    extra = [x for x in gw_lines if x not in ws_lines]
    missing = [x for x in ws_lines if x not in gw_lines]
    if not all(x.startswith(prefix) for x in extra + missing):
        return False

    def names(lines):
        return sorted(x[len(prefix):].split("=", 1)[0] for x in lines)
    return prefix + GATEWAY_WS in missing and prefix + GATEWAY_GW in extra \
        and names(extra) == sorted(["GATEWAY_INTERFACE"] + list(added)) \
        and names(missing) == sorted(["GATEWAY_INTERFACE"] + list(dropped)) \
        and len(gw_lines) - len(ws_lines) == len(extra) - len(missing)


def env(added=("HTTP_HOST",), dropped=()):
    """An env case: the child's environment differs as env_lines says
    (HTTP_HOST set by default), nothing else does."""
    return lambda ws, gw: rest_equal(ws, gw, "env") \
        and env_lines(ws["env"], gw["env"], "", added, dropped)


def session_env(ws, gw):
    """A session whose child sends its environment (an example's
    dump-env, --dir's env.sh): the child's end, and the lines differ as
    env_lines says with HTTP_HOST set."""
    return child_end(ws, gw) and rest_equal(ws, gw, "end", "messages") \
        and env_lines(ws["messages"], gw["messages"], "text ", ["HTTP_HOST"], [])


GO_CGI_PATH = "/bin:/usr/bin:/usr/ucb:/usr/bsd:/usr/local/bin"
# The CGI variables Go leaves out (CONTENT_* come with a body, as in Go).
CGI_NAMES = ["AUTH_TYPE", "PATH_TRANSLATED", "REMOTE_IDENT", "REMOTE_USER", "UNIQUE_ID"]


def variables(lines):
    """NAME=VALUE lines as a dict; a value dump-env prints as <unset> is
    left out."""
    out = {}
    for line in lines:
        name, _, value = line.partition("=")
        if value != "<unset>":
            out[name] = value
    return out


def cgi_env(script, key, added):
    """--cgidir's environment (the lines under KEY) for SCRIPT: websocketd
    gives Go's net/http/cgi values (SCRIPT_NAME=/, the script in
    PATH_INFO, SERVER_NAME with the port, Go's own PATH); portal-gw RFC
    3875's (SCRIPT_NAME the script, PATH_INFO empty, SERVER_NAME without
    the port, the server's PATH, and the CGI variables ADDED that Go
    leaves out)."""
    def pred(ws, gw):
        a, b = variables(ws[key]), variables(gw[key])
        go = (a.get("SCRIPT_NAME"), a.get("PATH_INFO"), a.get("SERVER_NAME"))
        rfc = (b.get("SCRIPT_NAME"), b.get("PATH_INFO", ""), b.get("SERVER_NAME"),
               b.get("PATH_TRANSLATED"))
        path = "PATH" not in a and "PATH" not in b or \
            (a.get("PATH"), b.get("PATH")) == (GO_CGI_PATH, BASE_ENV["PATH"])
        rest = {k for k in set(a) | set(b) if a.get(k) != b.get(k)} - \
            {"SCRIPT_NAME", "PATH_INFO", "SERVER_NAME", "PATH"}
        return rest_equal(ws, gw, key) and path \
            and go == ("/", script, "127.0.0.1:{PORT}") \
            and rfc == (script, "", "127.0.0.1", script) \
            and sorted(rest) == sorted(added) and all(k not in a for k in rest)
    return pred


def last_line(ws, gw):
    return ws.get("end") == ["eof"] and closes(gw.get("end", []), 1000, "") \
        and gw.get("messages") == ws.get("messages", []) + ["text b"] \
        and rest_equal(ws, gw, "end", "messages")


def binary_line(ws, gw):
    """websocketd glues a binary message's bytes to the next line."""
    return ws.get("messages") == ["text Hello binx!"] and gw.get("messages") == [] \
        and closes(gw.get("end", []), 1003) and rest_equal(ws, gw, "end", "messages")


def size(ws, gw):
    return len(ws.get("messages", [])) == 1 and gw.get("messages") == [] \
        and closes(gw.get("end", []), 1009) and rest_equal(ws, gw, "end", "messages")


def bad_utf8(ws, gw):
    return [m.replace("\\xff", "\ufffd").replace(" (invalid UTF-8)", "")
            for m in ws.get("messages", [])] == gw.get("messages") != ws.get("messages") \
        and rest_equal(ws, gw, "messages")


def version(ws, gw):
    return ws.get("status") == 400 and gw.get("status") == 426 \
        and ws.get("version") == gw.get("version") == "13" \
        and rest_equal(ws, gw, "status", "connection", "upgrade")


def upgrade_required(ws, gw):
    """A plain GET to a WebSocket path: websocketd 404, portal-gw 426
    with `Upgrade: websocket`."""
    return ws == {"status": 404, "upgrade": None} and \
        gw == {"status": 426, "upgrade": "websocket"}


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


def dotfile(ws, gw):
    """--dir: websocketd runs /.hidden.sh; portal-gw answers 404."""
    return ws == {"status": 101, "messages": ["text hidden"], "end": ["eof"]} \
        and gw == {"status": 404}


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


def dot_segments(ws, gw):
    """/sub/../a.txt: websocketd redirects to /a.txt and serves it;
    portal-gw answers 404."""
    return ws.get("status") == 200 and ws.get("body") == "hello text\n" and gw == {"status": 404}


def post_file(ws, gw):
    return ws.get("status") == 200 and gw == {"status": 405}


def xml_type(ws, gw):
    return ws.get("content-type") == "text/xml;charset=utf-8" and \
        gw.get("content-type") == "application/xml" and rest_equal(ws, gw, "content-type")


def runs_with(ws, gw):
    """A command line websocketd refuses and portal-gw serves."""
    return ws == {"exit": "refused", "said something": True} and \
        gw == {"exit": "still running", "said something": True}


def no_tls(served):
    """websocketd serves TLS itself (observed: SERVED); portal-gw refuses
    the flag at start: exit 2, one line that points to README's recipe
    for a TLS proxy."""
    return lambda ws, gw: ws == served and set(gw) == {"start"} and re.fullmatch(
        r"exit 2: portal-gw: --(ssl|redirport): [^\n]*TLS[^\n]*README\.md[^\n]*",
        gw["start"]) is not None


IMPROVEMENTS = {
    "end: child exits 0": ((END_CHILD,), end_only),
    "end: child exits 3": ((END_CHILD,), end_only),
    "end: child killed by SIGKILL": ((END_CHILD,), end_only),
    "end: child exits 0 without output": ((END_CHILD,), end_only),
    "end: last line without a newline": ((LAST_LINE,), last_line),
    "message: binary in line mode": ((BINARY_LINE,), binary_line),
    "message: 2 MiB text": ((SIZE,), size),
    "output: invalid UTF-8": ((BAD_UTF8,), bad_utf8),
    "handshake: Sec-WebSocket-Version 8": ((VERSION,), version),
    "handshake: HTTP/1.0": ((HTTP10,), status(101, 400)),
    "plain GET to the program (no --devconsole)": ((PLAIN_GET,), upgrade_required),
    "--devconsole=false": ((PLAIN_GET,), upgrade_required),
    "--dir: plain GET /greeter.sh": ((PLAIN_GET,), upgrade_required),
    "env: Proxy request header (httpoxy)": ((HOST, GATEWAY, HTTPOXY),
                                            env(dropped=["HTTP_PROXY"])),
    "env: --passenv=FOO": ((HOST, GATEWAY, PASSENV), env(added=["HTTP_HOST", "PATH"])),
    "env: --passenv FOO,HTTPS with HTTPS=on": ((HOST, GATEWAY, PASSENV),
                                               env(added=["HTTP_HOST", "PATH"])),
    "--dir: /sub/env.sh/x/y": ((END_CHILD, HOST, GATEWAY), session_env),
    "--maxforks=1": ((MAXFORKS,), maxforks),
    "--origin: no Origin header": ((ORIGIN,), status(403, 101)),
    "--sameorigin: no Origin": ((ORIGIN,), status(403, 101)),
    "--header*: on a refused upgrade (403)": ((HEADER,), header(["x-all: 1", "x-http: 3"])),
    "--header*: on a static /a.txt": ((HEADER,), header(["x-all: 1", "x-http: 3"])),
    "--header*: on a static /missing.txt": ((HEADER,), header(["x-all: 1", "x-http: 3"])),
    "--dir: /notexec.sh": ((NOTEXEC,), notexec),
    "--dir: /.hidden.sh": ((DOTFILES,), dotfile),
    "SIGTERM to the server with a session open": ((SIGTERM,), sigterm),
    "--staticdir GET /feed.xml": ((STATIC_REQ,), xml_type),
    "--staticdir GET /sub/../a.txt": ((STATIC_REQ,), dot_segments),
    "--staticdir POST /a.txt": ((STATIC_REQ,), post_file),
    "--staticdir only upgrade": ((STATIC_REQ,), status(200, 404)),
    "--cgidir GET /noheader.sh": ((CGIDIR,), status(500, 502)),
    "--cgidir GET /plain.txt": ((CGIDIR,), status(500, 403)),
    "--cgidir env of /sub/env.sh?q=1": ((CGIENV,), cgi_env("/sub/env.sh", "env", CGI_NAMES)),
    # dump-env prints an empty variable as <unset>: only PATH_TRANSLATED shows.
    "example cgi-bin/dump-env (--cgidir only)": ((CGIENV,), cgi_env("/dump-env.sh", "body",
                                                                     ["PATH_TRANSLATED"])),
    "--cgidir=DIR --devconsole": ((DEVCONSOLE,), runs_with),
    "--staticdir with --devconsole": ((DEVCONSOLE,), runs_with),
    "--redirport": ((TLS,), no_tls({"talks": ["text Hello x!"], "redirect port": {
        "status": 301, "location": "http://127.0.0.1:{PORT}/"}})),
    "--ssl with --sslcert and --sslkey": ((TLS,), no_tls({"status": 101,
                                                          "HTTPS in env": ["HTTPS=on"]})),
}

for _lang in ("bash", "perl", "python", "nodejs"):
    IMPROVEMENTS["example %s/count" % _lang] = ((END_CHILD,), end_only)
    IMPROVEMENTS["example %s/dump-env" % _lang] = ((END_CHILD, HOST, GATEWAY), session_env)

for _name in ("env: program form, /", "env: program form, path and query",
              "env: program form, URL-encoded path", "env: --dir form",
              "env: --dir form, path info", "env: --dir sub-directory",
              "env: --dir sub-sub-directory", "env: default --passenv", "env: --reverselookup",
              "env: --reverselookup=false"):
    IMPROVEMENTS[_name] = ((HOST, GATEWAY), env())

for _path in ("/empty/", "/empty", "/.hidden", "/.git/config", "/link-out.txt"):
    IMPROVEMENTS["--staticdir GET " + _path] = ((STATIC,), static_refused)
