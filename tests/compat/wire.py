"""Client side of the compat harness: a raw-socket WebSocket client and a
plain HTTP client that report what a user of either server observes.

Standard library only. Every read has a deadline; a server that does not
answer in time is an observation ("timeout"), never a hang.
"""

import base64
import hashlib
import os
import socket
import struct
import time

KEY = "dGhlIHNhbXBsZSBub25jZQ=="   # fixed, so both servers see the same request
GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
LONG = 120                           # longer payloads are shown as length + digest


def show(payload):
    """A message payload as it goes into an observation: text as text
    (invalid UTF-8 shown as \\x escapes), long ones as length and digest."""
    if isinstance(payload, bytes):
        try:
            text = payload.decode("utf-8")
        except UnicodeDecodeError:
            text = payload.decode("utf-8", "backslashreplace") + " (invalid UTF-8)"
    else:
        text = payload
    if len(text) > LONG:
        digest = hashlib.sha1(text.encode("utf-8", "surrogateescape")).hexdigest()[:10]
        return "<%d chars %s>" % (len(text), digest)
    return text


def connect(host, port, timeout):
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    s = socket.socket(family, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect((host, port))
    return s


def read_head(sock, deadline, data=b""):
    """Reads up to the blank line, after the bytes already read (data);
    returns (status, headers, rest) or (None, reason, b'')."""
    while b"\r\n\r\n" not in data:
        left = deadline - time.monotonic()
        if left <= 0:
            return None, "timeout", b""
        sock.settimeout(left)
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            return None, "timeout", b""
        except OSError as e:
            return None, "error %s" % e.__class__.__name__, b""
        if not chunk:
            return None, "eof" if not data else "eof in head", b""
        data += chunk
    head, rest = data.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    try:
        status = int(parts[1])
    except (IndexError, ValueError):
        return None, "bad status line %r" % lines[0], b""
    headers = []
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers.append((name.strip().lower(), value.strip()))
    return status, headers, rest


def header(headers, name):
    """All values of NAME joined with ', ', or None."""
    values = [v for n, v in headers if n == name.lower()]
    return ", ".join(values) if values else None


def accept_for(key):
    return base64.b64encode(hashlib.sha1((key + GUID).encode()).digest()).decode()


class WS:
    """One WebSocket session. open() does the handshake; then send_* and
    events() report what arrives."""

    def __init__(self, host, port, path="/", headers=(), version="13",
                 key=KEY, timeout=3.0, method="GET", upgrade=True):
        self.host, self.port, self.timeout = host, port, timeout
        self.sock = None
        self.buf = b""
        self.status = None
        self.headers = []
        self.error = None
        hostport = "[%s]:%d" % (host, port) if ":" in host else "%s:%d" % (host, port)
        req = ["%s %s HTTP/1.1" % (method, path), "Host: " + hostport]
        if upgrade:
            req += ["Upgrade: websocket", "Connection: Upgrade"]
            if key is not None:
                req.append("Sec-WebSocket-Key: " + key)
            if version is not None:
                req.append("Sec-WebSocket-Version: " + version)
        req += ["%s: %s" % h for h in headers]
        self.request = ("\r\n".join(req) + "\r\n\r\n").encode("latin-1")

    def open(self):
        """Returns the status (101 on success) or None with self.error."""
        deadline = time.monotonic() + self.timeout
        try:
            self.sock = connect(self.host, self.port, self.timeout)
            self.sock.sendall(self.request)
        except OSError as e:
            self.error = "connect: %s" % (e.strerror or e.__class__.__name__)
            return None
        status, headers, rest = read_head(self.sock, deadline)
        if status is None:
            self.error = headers
            return None
        self.status, self.headers, self.buf = status, headers, rest
        return status

    def close_socket(self):
        if self.sock:
            try:
                self.sock.close()
            except OSError:
                pass
            self.sock = None

    # -- sending -------------------------------------------------------
    def frame(self, opcode, payload, fin=True):
        if isinstance(payload, str):
            payload = payload.encode("utf-8")
        b0 = (0x80 if fin else 0) | opcode
        n = len(payload)
        if n < 126:
            head = struct.pack("!BB", b0, 0x80 | n)
        elif n < 65536:
            head = struct.pack("!BBH", b0, 0x80 | 126, n)
        else:
            head = struct.pack("!BBQ", b0, 0x80 | 127, n)
        mask = os.urandom(4)
        masked = bytes(b ^ mask[i & 3] for i, b in enumerate(payload)) \
            if n < 4096 else _mask_fast(payload, mask)
        try:
            self.sock.sendall(head + mask + masked)
            return True
        except OSError:
            return False

    def send_text(self, text):
        return self.frame(1, text)

    def send_binary(self, data):
        return self.frame(2, data)

    def send_close(self, code=1000, reason=b""):
        return self.frame(8, struct.pack("!H", code) + reason)

    # -- receiving -----------------------------------------------------
    def _fill(self, n, deadline):
        while len(self.buf) < n:
            left = deadline - time.monotonic()
            if left <= 0:
                return "timeout"
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(1 << 20)
            except socket.timeout:
                return "timeout"
            except ConnectionResetError:
                return "reset"
            except OSError:
                return "eof"
            if not chunk:
                return "eof"
            self.buf += chunk
        return None

    def _frame(self, deadline):
        """(opcode, fin, payload) or (end, None, None), end in eof/reset/timeout."""
        end = self._fill(2, deadline)
        if end:
            return end, None, None
        b0, b1 = self.buf[0], self.buf[1]
        n, off = b1 & 0x7F, 2
        if n == 126:
            end = self._fill(4, deadline)
            if end:
                return end, None, None
            n, off = struct.unpack("!H", self.buf[2:4])[0], 4
        elif n == 127:
            end = self._fill(10, deadline)
            if end:
                return end, None, None
            n, off = struct.unpack("!Q", self.buf[2:10])[0], 10
        if b1 & 0x80:
            off += 4   # a masked server frame: shown as such below
        end = self._fill(off + n, deadline)
        if end:
            return end, None, None
        payload = self.buf[off:off + n]
        self.buf = self.buf[off + n:]
        if b1 & 0x80:
            return "masked-frame", None, None
        return b0 & 0x0F, bool(b0 & 0x80), payload

    def events(self, count=None, timeout=None):
        """Messages as strings until the session ends, COUNT messages have
        arrived, or TIMEOUT passes: 'text X', 'binary X', 'pong X',
        'close CODE REASON' (then the client answers Close and waits for
        EOF: 'eof'), 'eof' (TCP closed or reset without a Close),
        'timeout'."""
        deadline = time.monotonic() + (timeout or self.timeout)
        out, parts, kind, n = [], [], None, 0
        while count is None or n < count:
            op, fin, payload = self._frame(deadline)
            if isinstance(op, str):
                out.append("eof" if op == "reset" else op)
                return out
            if op == 9:
                self.frame(10, payload)
                continue
            if op == 10:
                out.append("pong " + show(payload))
                continue
            if op == 8:
                code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else None
                reason = show(payload[2:])
                out.append("close %s %s" % (code, reason) if code else "close (no code)")
                self.send_close(code if code and code not in (1005, 1006) else 1000)
                end = self._fill(len(self.buf) + 1, time.monotonic() + 1.0)
                # EOF or RST after the Close handshake: the same to a client.
                out.append({"eof": "eof", "reset": "eof"}.get(end, end or "data after close"))
                return out
            if op in (1, 2):
                kind, parts = op, [payload]
            elif op == 0:
                parts.append(payload)
            else:
                out.append("opcode %d" % op)
                return out
            if fin:
                data = b"".join(parts)
                if kind == 1:
                    msg = "text " + show(data)
                else:
                    msg = "binary " + show(data)
                out.append(msg)
                n += 1
        return out


def _mask_fast(payload, mask):
    n = len(payload)
    key = int.from_bytes((mask * (n // 4 + 1))[:n], "big")
    return (int.from_bytes(payload, "big") ^ key).to_bytes(n, "big")


def http(host, port, path, method="GET", headers=(), body=None, timeout=3.0,
         keepalive=False):
    """One plain HTTP request: {'status', 'headers', 'body'} or {'error'}.
    Reads the body by Content-Length, chunked, or to EOF."""
    hostport = "[%s]:%d" % (host, port) if ":" in host else "%s:%d" % (host, port)
    req = ["%s %s HTTP/1.1" % (method, path), "Host: " + hostport]
    if not keepalive:
        req.append("Connection: close")
    if body is not None:
        req.append("Content-Length: %d" % len(body))
    req += ["%s: %s" % h for h in headers]
    raw = ("\r\n".join(req) + "\r\n\r\n").encode("latin-1") + (body or b"")
    deadline = time.monotonic() + timeout
    try:
        s = connect(host, port, timeout)
    except OSError as e:
        return {"error": "connect: %s" % (e.strerror or e.__class__.__name__)}
    try:
        return _exchange(s, raw, method, deadline, keepalive)
    finally:
        s.close()


def _exchange(s, raw, method, deadline, repeat):
    """Sends RAW (twice on one connection when REPEAT) and reads the answers."""
    answers = []
    rest = b""
    for _ in range(2 if repeat else 1):
        try:
            s.sendall(raw)
        except OSError as e:
            answers.append({"error": "send: %s" % e.__class__.__name__})
            break
        status, headers, got = read_head(s, deadline, rest)
        if status is None:
            answers.append({"error": headers})
            break
        body, rest, err = _body(s, got, headers, method, status, deadline)
        r = {"status": status, "headers": headers, "body": body}
        if err:
            r["body_error"] = err
        answers.append(r)
    return answers if repeat else answers[0]


def _recv(s, deadline):
    left = deadline - time.monotonic()
    if left <= 0:
        return None
    s.settimeout(left)
    try:
        return s.recv(65536)
    except socket.timeout:
        return None
    except OSError:
        return b""


def _body(s, got, headers, method, status, deadline):
    """(body, leftover, error)."""
    if method == "HEAD" or status in (204, 304) or 100 <= status < 200:
        return b"", got, None
    te = (header(headers, "transfer-encoding") or "").lower()
    cl = header(headers, "content-length")
    if "chunked" in te:
        body = b""
        while True:
            while b"\r\n" not in got:
                c = _recv(s, deadline)
                if not c:
                    return body, b"", "chunked body cut"
                got += c
            line, got = got.split(b"\r\n", 1)
            n = int(line.split(b";")[0], 16)
            while len(got) < n + 2:
                c = _recv(s, deadline)
                if not c:
                    return body, b"", "chunked body cut"
                got += c
            body += got[:n]
            got = got[n + 2:]
            if n == 0:
                return body, got, None
    if cl is not None:
        n = int(cl.split(",")[0])
        while len(got) < n:
            c = _recv(s, deadline)
            if not c:
                return got, b"", "body shorter than Content-Length"
            got += c
        return got[:n], got[n:], None
    while True:
        c = _recv(s, deadline)
        if c is None:
            return got, b"", "timeout reading body to EOF"
        if not c:
            return got, b"", None
        got += c
