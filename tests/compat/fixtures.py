"""The files both servers serve: scripts for the program and --dir forms,
a --staticdir tree, a --cgidir tree, and a self-signed certificate for
--ssl when openssl is installed. Written once per run into a fresh
directory; the servers only read it (chat.sh gets its own directory)."""

import os
import shutil
import subprocess

EXAMPLES = "/usr/share/doc/websocketd/examples"

SCRIPTS = {
    "bin/env.sh": "#!/bin/sh\nexec env\n",
    "bin/exit0.sh": "#!/bin/sh\necho one\necho two\n",
    "bin/exit3.sh": "#!/bin/sh\necho one\nexit 3\n",
    "bin/killed.sh": "#!/bin/sh\necho one\nkill -9 $$\n",
    "bin/noeol.sh": "#!/bin/sh\nprintf 'a\\nb'\n",
    "bin/silent-exit.sh": "#!/bin/sh\nexit 0\n",
    "bin/crlf.sh": "#!/bin/sh\nprintf 'a\\r\\nb\\r\\n'\nexec cat >/dev/null\n",
    "bin/badutf8.sh": "#!/bin/sh\nprintf 'a\\377b\\n'\nexec cat >/dev/null\n",
    "bin/stderr.sh": "#!/bin/sh\necho to-stderr >&2\necho to-stdout\nexec cat >/dev/null\n",
    "bin/longline.sh": "#!/bin/sh\nhead -c 200000 /dev/zero | tr '\\0' a\necho\n"
                       "exec cat >/dev/null\n",
    "bin/echo.sh": "#!/bin/sh\nexec cat\n",
    "bin/many.sh": "#!/bin/sh\nseq 1 5000\nexec cat >/dev/null\n",
    "bin/args.sh": "#!/bin/sh\nfor a in \"$@\"; do echo \"arg:$a\"; done\nexec cat >/dev/null\n",
    # Which signals arrive, in order, after the client has gone; ignores
    # stdin's EOF. Ends on the third signal or after 4 s.
    "bin/signals.sh": "#!/bin/bash\n"
                      "trap 'echo INT >>\"$1\"' INT\n"
                      "trap 'echo TERM >>\"$1\"; exit 0' TERM\n"
                      "trap 'echo HUP >>\"$1\"' HUP\n"
                      "echo ready\n"
                      "for i in $(seq 80); do sleep 0.05; done\n"
                      "echo none >>\"$1\"\n",
    "dir/greeter.sh": None,   # copied from the Debian examples
    "dir/env.sh": "#!/bin/sh\nexec env\n",
    "dir/sub/env.sh": "#!/bin/sh\nexec env\n",
    "dir/sub/deeper/env.sh": "#!/bin/sh\nexec env\n",
    "dir/notexec.sh": "#!/bin/sh\necho not executable\n",
    "dir/.hidden.sh": "#!/bin/sh\necho hidden\n",
    "cgi/status.sh": "#!/bin/sh\nprintf 'Status: 201 Created\\r\\nX-Cgi: yes\\r\\n"
                     "Content-Type: text/x-made\\r\\n\\r\\nmade\\n'\n",
    "cgi/post.sh": "#!/bin/sh\necho 'Content-Type: text/plain'\necho\n"
                   "echo \"method=$REQUEST_METHOD length=$CONTENT_LENGTH type=$CONTENT_TYPE\"\n"
                   "head -c \"${CONTENT_LENGTH:-0}\"\n",
    "cgi/redirect.sh": "#!/bin/sh\nprintf 'Location: /elsewhere\\r\\n\\r\\n'\n",
    "cgi/noheader.sh": "#!/bin/sh\necho just a body\n",
    "cgi/fail.sh": "#!/bin/sh\necho 'Content-Type: text/plain'\necho\necho partial\nexit 4\n",
    "cgi/sub/env.sh": "#!/bin/sh\necho 'Content-Type: text/plain'\necho\nenv | sort\n",
    "cgi/plain.txt": "not a script\n",
}

STATIC = {
    "index.html": b"<!doctype html><title>home</title>\n",
    "a.txt": b"hello text\n",
    "style.css": b"body { color: red }\n",
    "app.js": b"console.log(1)\n",
    "app.mjs": b"export default 1\n",
    "data.json": b"{\"a\": 1}\n",
    "pic.svg": b"<svg xmlns=\"http://www.w3.org/2000/svg\"/>\n",
    "img.png": b"\x89PNG\r\n\x1a\n" + bytes(range(64)),
    "photo.jpg": b"\xff\xd8\xff\xe0" + bytes(64),
    "anim.gif": b"GIF89a" + bytes(32),
    "icon.ico": bytes(40),
    "font.woff2": b"wOF2" + bytes(40),
    "mod.wasm": b"\x00asm\x01\x00\x00\x00",
    "doc.pdf": b"%PDF-1.4\n",
    "feed.xml": b"<?xml version=\"1.0\"?><a/>\n",
    "page.htm": b"<p>htm</p>\n",
    "notes.md": b"# notes\n",
    "noext": b"plain bytes without an extension\n",
    "binary.dat": bytes(range(256)),
    "with space.txt": b"space\n",
    "big.bin": bytes(i % 251 for i in range(300000)),
    "sub/index.html": b"<p>sub index</p>\n",
    "sub/b.txt": b"in sub\n",
    "empty/x.txt": b"a file in a directory without index.html\n",
    ".hidden": b"a dotfile\n",
    ".git/config": b"[core]\n",
    ".well-known/security.txt": b"Contact: mailto:security@example.com\n",
}


def build(root):
    """Writes the fixture tree under ROOT; returns a dict of paths."""
    for rel, text in SCRIPTS.items():
        path = os.path.join(root, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        if text is None:
            shutil.copy(os.path.join(EXAMPLES, "bash", os.path.basename(rel)), path)
        else:
            with open(path, "w") as f:
                f.write(text)
        os.chmod(path, 0o644 if rel.endswith(("notexec.sh", ".txt")) else 0o755)
    static = os.path.join(root, "static")
    for rel, data in STATIC.items():
        path = os.path.join(static, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)
        os.utime(path, (1700000000, 1700000000))
    with open(os.path.join(root, "outside.txt"), "w") as f:
        f.write("outside the static directory\n")
    os.symlink("../outside.txt", os.path.join(static, "link-out.txt"))
    os.symlink("a.txt", os.path.join(static, "link-in.txt"))
    paths = {"root": root, "bin": os.path.join(root, "bin"), "dir": os.path.join(root, "dir"),
             "static": static, "cgi": os.path.join(root, "cgi"), "cert": None, "key": None}
    cert, key = os.path.join(root, "cert.pem"), os.path.join(root, "key.pem")
    if shutil.which("openssl"):
        r = subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                            "-keyout", key, "-out", cert, "-days", "2", "-subj",
                            "/CN=localhost"], capture_output=True, timeout=20)
        if r.returncode == 0:
            paths["cert"], paths["key"] = cert, key
    return paths
