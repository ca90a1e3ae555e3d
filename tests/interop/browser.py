"""What a browser client (chromium_client.py, firefox_client.py) needs
besides its browser's protocol: the frame of a run (main: the page's HTTP
server, a temporary directory, the printing of results, the teardown), the
echo probe through python3-websockets, and the killing of a browser's
processes (devconsole_client.py uses CHILD and stop_browser).

A client runs one browser at a time; CHILD holds it (and its temporary
directory) for the signal handler.
"""

import asyncio
import http.server
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading

import websockets

HERE = os.path.dirname(os.path.abspath(__file__))
SERVED = {
    "/page.html": "text/html; charset=utf-8",
    "/checks.js": "text/javascript; charset=utf-8",
    "/chat.html": "text/html; charset=utf-8",  # chat_chromium.py's
}
POLL = 0.1

CHILD = {"proc": None, "tmp": None}


class Failure(Exception):
    pass


def describe(e):
    """A Failure's own words, or the type and text of any other exception."""
    return str(e) if isinstance(e, Failure) else "%s: %s" % (type(e).__name__, e)


class Handler(http.server.BaseHTTPRequestHandler):
    """Serves the files of SERVED and nothing else."""

    def do_GET(self):
        path = self.path.split("?", 1)[0]
        ctype = SERVED.get(path)
        if ctype is None:
            self.send_error(404)
            return
        with open(os.path.join(HERE, path[1:]), "rb") as f:
            body = f.read()
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, fmt, *args):
        pass


def serve_page(base):
    """Serves the page from a thread of this process on a free port of
    127.0.0.1; returns (server, the page's URL with base in it). Stop it
    with server.shutdown() and server.server_close()."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, "http://127.0.0.1:%d/page.html?ws=%s" % (server.server_address[1], base)


def find_program(env_var, names):
    """The browser to run: $env_var if set, else the first of names on PATH,
    else None."""
    if os.environ.get(env_var):
        return os.environ[env_var]
    for name in names:
        path = shutil.which(name)
        if path:
            return path
    return None


def private_env(tmp):
    """The environment for a browser whose home and XDG directories are in
    tmp, so that everything it writes stays there."""
    env = dict(os.environ)
    env.update(HOME=tmp, XDG_CONFIG_HOME=tmp + "/config", XDG_CACHE_HOME=tmp + "/cache")
    return env


def spawn(argv, env, errlog):
    """Starts the browser in a session of its own, so that its whole process
    group can be killed, with its output in errlog; sets CHILD["proc"] and
    returns it."""
    with open(errlog, "wb") as log:
        proc = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )
        CHILD["proc"] = proc
    return proc


async def echo_probe(base):
    """The gateway still answers: an echo through python3-websockets."""
    async with websockets.connect(base + "/echo", open_timeout=5, close_timeout=5) as ws:
        await ws.send("still there?")
        got = await asyncio.wait_for(ws.recv(), 5)
        if got != "still there?":
            raise Failure("echo probe got %r" % got)


def print_results(tag, results):
    """Prints one PASS/FAIL line per {name, ok, detail}; returns (passed,
    failed)."""
    passed = failed = 0
    for r in results:
        ok = bool(r.get("ok"))
        print("%s %s: %s (%s)" % ("PASS" if ok else "FAIL", tag, r.get("name"), r.get("detail")))
        passed += ok
        failed += not ok
    return passed, failed


def print_log_tail(tag, path, noise, n=20):
    """Prints the last n lines of the browser's output that contain none of
    the strings in noise."""
    try:
        with open(path, errors="replace") as fh:
            tail = [x for x in fh.read().splitlines() if not any(s in x for s in noise)][-n:]
        for line in tail:
            print("# %s stderr: %s" % (tag, line))
    except OSError:
        pass


def kill_strays(tmp):
    """SIGKILLs, by pid, any process still running whose command line names
    our temporary directory (a helper that left the browser's process
    group)."""
    me = os.getpid()
    for pid in os.listdir("/proc"):
        if not pid.isdigit() or int(pid) == me:
            continue
        try:
            with open("/proc/%s/cmdline" % pid, "rb") as fh:
                cmd = fh.read()
        except OSError:
            continue
        if tmp.encode() in cmd:
            try:
                os.kill(int(pid), signal.SIGKILL)
            except OSError:
                pass


def stop_browser(tag, proc, tmp, grace=5):
    """Gives the browser grace seconds to exit, then SIGKILLs its whole
    process group and any stray that names tmp, and reaps it."""
    if proc is None:
        return
    try:
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        pass
    # The whole group: the browser and the processes it started.
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    kill_strays(tmp)
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        print("# %s: %s (pid %d) did not die" % (tag, tag, proc.pid), file=sys.stderr)


def on_signals(tag):
    """On SIGTERM, SIGHUP or SIGINT: kills CHILD's browser at once, prints a
    FAIL line and exits 128 + the signal."""

    def on_signal(signum, frame):
        # timeout(1) signals both us and our process group: act once, at once.
        for s in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
            signal.signal(s, signal.SIG_IGN)
        if CHILD["proc"] is not None:
            stop_browser(tag, CHILD["proc"], CHILD["tmp"], grace=0)
        print("FAIL %s: interrupted by signal %d" % (tag, signum), flush=True)
        raise SystemExit(128 + signum)

    for s in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
        signal.signal(s, on_signal)


def main(tag, run, base, noise):
    """One run of a browser client against the gateway at base: serves the
    page and calls run(tmp, errlog, base, page_base, report), which starts
    the browser with spawn() in the temporary directory tmp, drives it,
    sets report["version"] and returns (results, the page's error). Prints
    the results (or, if run failed, the page's checks done before) and, if
    anything failed, report["console"] and the tail of the browser's output
    without the lines that contain one of noise. Everything is stopped and
    removed on the way out; returns the exit status."""
    on_signals(tag)
    passed = failed = 0
    report = {}
    server = None
    tmp = tempfile.mkdtemp(prefix="portal-gw-%s." % tag)
    CHILD["tmp"] = tmp
    errlog = os.path.join(tmp, tag + ".log")
    try:
        try:
            server, page_base = serve_page(base)
            results, error = run(tmp, errlog, base, page_base, report)
            print("# %s: %s" % (tag, report.get("version", "?")))
            passed, failed = print_results(tag, results)
            if error:
                raise Failure("page script: " + error)
            if not results:
                raise Failure("the page ran no check")
        except Exception as e:
            if not passed + failed:
                # The page's checks that did finish before the browser failed.
                passed, failed = print_results(tag, report.get("partial", []))
            print("FAIL %s: drive the browser (%s)" % (tag, describe(e)))
            failed += 1
        if failed:
            for line in report.get("console", []):
                print("# %s page %s" % (tag, line))
            print_log_tail(tag, errlog, noise)
    finally:
        stop_browser(tag, CHILD["proc"], tmp)
        if server is not None:
            server.shutdown()
            server.server_close()
        shutil.rmtree(tmp, ignore_errors=True)
    print("%s: %d passed, %d failed" % (tag, passed, failed), flush=True)
    return 1 if failed else 0
