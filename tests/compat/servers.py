"""Starting and stopping the two servers with the same command line.

websocketd has no --port 0, so both get a port picked by binding port 0
and releasing it; a start that loses that race (address in use) is retried
on another port. Every wait has a deadline.
"""

import itertools
import os
import signal
import socket
import subprocess
import time

START_DEADLINE = 5.0


def free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("0.0.0.0", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def reachable(port):
    for host, family in (("127.0.0.1", socket.AF_INET), ("::1", socket.AF_INET6)):
        s = socket.socket(family, socket.SOCK_STREAM)
        s.settimeout(0.2)
        try:
            s.connect((host, port))
            return True
        except OSError:
            pass
        finally:
            s.close()
    return False


def expand(args, ports):
    return [a.format(port=ports[0], port2=ports[1]) for a in args]


class Server:
    """One server process. After start(): .port, or .failed with the exit
    status and what it printed."""

    seq = itertools.count(1)     # log file names; next() is atomic under the GIL

    def __init__(self, binary, args, cwd, env, logdir, tag):
        self.binary, self.args, self.cwd, self.env = binary, args, cwd, env
        self.logdir, self.tag = logdir, tag
        self.proc = None
        self.port = self.port2 = None
        self.failed = None
        self.out_path = None

    def start(self):
        for _ in range(5):
            self.out_path = os.path.join(self.logdir, "%s.%d.log" % (self.tag, next(Server.seq)))
            ports = (free_port(), free_port())
            argv = [self.binary] + expand(self.args, ports)
            with open(self.out_path, "wb") as out:
                self.proc = subprocess.Popen(
                    argv, cwd=self.cwd, env=self.env, stdin=subprocess.DEVNULL,
                    stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
            deadline = time.monotonic() + START_DEADLINE
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    break
                if reachable(ports[0]):
                    self.port, self.port2 = ports
                    return self
                time.sleep(0.02)
            if self.proc.poll() is None:
                self.stop()
                self.failed = "did not listen on its port within %.0f s: %s" % (
                    START_DEADLINE, first_line(self.output()))
                return self
            text = self.output()
            if "address already in use" in text.lower():
                continue
            self.failed = "exit %d: %s" % (self.proc.returncode, first_line(text))
            return self
        self.failed = "no free port after 5 tries"
        return self

    def output(self):
        try:
            with open(self.out_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def stop(self):
        if self.proc is None or self.proc.poll() is not None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
        except OSError:
            pass
        try:
            self.proc.wait(2)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except OSError:
                pass
            self.proc.wait(2)


def first_line(text):
    for line in text.splitlines():
        if line.strip():
            return line.strip()[:200]
    return "(printed nothing)"


def run_cli(binary, args, cwd, env, timeout=2.0):
    """A command line that should end by itself: (exit status or
    'still running', stdout, stderr)."""
    ports = (free_port(), free_port())
    try:
        p = subprocess.run([binary] + expand(args, ports), cwd=cwd, env=env,
                           stdin=subprocess.DEVNULL, capture_output=True,
                           timeout=timeout, start_new_session=True)
    except subprocess.TimeoutExpired as e:
        return "still running", (e.stdout or b"").decode("utf-8", "replace"), \
            (e.stderr or b"").decode("utf-8", "replace")
    return p.returncode, p.stdout.decode("utf-8", "replace"), \
        p.stderr.decode("utf-8", "replace")
