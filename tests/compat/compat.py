#!/usr/bin/python3
"""make compat: websocketd 0.4.1 and portal-gw side by side.

Each case starts websocketd and portal-gw with the same websocketd-style
command line and the same child programs, drives both with the same
client, and compares what a user observes. It prints one line:

    SAME name
    BETTER name (README: <the rows of README's comparison table for it>)
    DIFF name: websocketd said X, portal-gw said Y

then `compat: N same, M better, K diff`, and exits 1 on any DIFF.

A difference is BETTER only when the case is in IMPROVEMENTS (better.py),
the observed pair is exactly the documented one, and README.md's "How
portal-gw differs from websocketd" table has the rows it names.

usage: compat.py [--portal-gw PATH] [--websocketd PATH] [--jobs N]
                 [--verbose] [NAME-PREFIX ...]
  PORTAL_GW and WEBSOCKETD in the environment also name the binaries.
"""

import argparse
import concurrent.futures
import json
import os
import re
import shutil
import sys
import tempfile
import time

sys.dont_write_bytecode = True     # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import better       # noqa: E402
import cases_ws     # noqa: E402,F401  (registers its cases)
import cases_http   # noqa: E402,F401  (registers its cases, after those)
import ctx          # noqa: E402
import fixtures     # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))


def readme_rows(path):
    """The rows of README's comparison table, by their first cell."""
    rows, inside = {}, False
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.startswith("## "):
                inside = line.strip() == "## How portal-gw differs from websocketd"
                continue
            if inside and line.startswith("|") and not line.startswith("|---"):
                cells = [c.strip() for c in line.strip().strip("|").split("|")]
                if cells and cells[0]:
                    rows[cells[0]] = line.strip()
    return rows


def normalise(obs, ports, root):
    """What may differ without a user caring: ports, the fixture path,
    ids, server names, dates."""
    subs = [(re.escape(root), "{FX}")]
    for name, port in ports:
        subs.append((r"(?<![0-9])%d(?![0-9])" % port, "{%s}" % name))
    subs += [
        (r"REMOTE_PORT=[0-9]+", "REMOTE_PORT={CPORT}"),
        (r"SERVER_SOFTWARE=.*", "SERVER_SOFTWARE={SOFTWARE}"),
        (r"UNIQUE_ID=.*", "UNIQUE_ID={ID}"),
        (r"[A-Z][a-z]{2} [A-Z][a-z]{2} [ 0-9][0-9] [0-9:]{8} [A-Z]+ [0-9]{4}", "{DATE}"),
    ]

    def walk(x):
        if isinstance(x, str):
            for pat, rep in subs:
                x = re.sub(pat, rep, x)
            return x
        if isinstance(x, list):
            return [walk(v) for v in x]
        if isinstance(x, dict):
            return {k: walk(v) for k, v in x.items()}
        return x
    return walk(obs)


def brief(x, limit=600):
    text = json.dumps(x, ensure_ascii=False, sort_keys=True)
    return text if len(text) <= limit else text[:limit] + "...(%d chars)" % len(text)


def differing(a, b):
    """The parts of two observations that differ (keys starting with '_'
    are notes: shown, never compared)."""
    if isinstance(a, dict) and isinstance(b, dict):
        if ("start" in a) != ("start" in b):    # one did not start: that, and all of the other
            return a, b
        keys = sorted(k for k in set(a) | set(b) if not k.startswith("_") and a.get(k) != b.get(k))
        da = {k: a.get(k, "<absent>") for k in keys}
        db = {k: b.get(k, "<absent>") for k in keys}
        for k in sorted(set(a) | set(b)):
            if k.startswith("_") and keys:
                da[k], db[k] = a.get(k, ""), b.get(k, "")
        for k in keys:      # long lists (environments, messages): only what differs
            la, lb = a.get(k), b.get(k)
            if isinstance(la, list) and isinstance(lb, list) and max(len(la), len(lb)) > 4 \
                    and all(isinstance(x, str) for x in la + lb):
                only_a = [x for x in la if x not in lb]
                only_b = [x for x in lb if x not in la]
                if only_a or only_b:
                    da[k] = only_a or "(nothing the other lacks)"
                    db[k] = only_b or "(nothing the other lacks)"
                else:
                    da[k], db[k] = "(same lines, other order)", "(same lines, other order)"
        return da, db
    return a, b


def comparable(obs):
    if isinstance(obs, dict):
        return {k: v for k, v in obs.items() if not k.startswith("_")}
    return obs


def run_case(case, ctxs):
    """{name: (ws_obs, gw_obs)} for one case (a group yields several)."""
    results = {}
    for kind in ("websocketd", "portal-gw"):
        c = ctxs[kind].fork(case.name)
        try:
            out = case.fn(c)
        except Exception as e:          # a harness bug must show, not pass
            out = {"harness error": "%s: %s" % (e.__class__.__name__, e)}
        finally:
            c.close()
        if not case.group:
            out = {case.name: out}
        for name, obs in out.items():
            results.setdefault(name, {})[kind] = normalise(obs, c.ports, c.fx["root"])
    # A group whose server did not start on one side: each of the other
    # side's sub-cases gets that failure.
    star = results.pop("*", {})
    names = list(results) or [case.name]
    for n in names:
        for kind, obs in star.items():
            results.setdefault(n, {})[kind] = obs
    return {n: (r.get("websocketd"), r.get("portal-gw")) for n, r in results.items()}


def classify(name, ws, gw, rows):
    if comparable(ws) == comparable(gw):
        return "SAME", "SAME %s" % name
    rule = better.IMPROVEMENTS.get(name)
    if rule:
        keys, pred = rule
        for key in keys:
            if key not in rows:
                return "DIFF", ("DIFF %s: README.md's comparison table has no row %r for this "
                                "documented improvement" % (name, key))
        try:
            ok = isinstance(ws, dict) and isinstance(gw, dict) and \
                pred(comparable(ws), comparable(gw))
        except (KeyError, TypeError, AttributeError, IndexError):
            ok = False
        if ok:
            return "BETTER", "BETTER %s (README: %s)" % (name, " ".join(rows[k] for k in keys))
    da, db = differing(ws, gw)
    return "DIFF", "DIFF %s: websocketd said %s, portal-gw said %s" % (name, brief(da), brief(db))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--portal-gw", default=os.environ.get("PORTAL_GW")
                    or os.path.join(REPO, "build", "portal-gw"))
    ap.add_argument("--websocketd", default=os.environ.get("WEBSOCKETD") or "/usr/bin/websocketd")
    ap.add_argument("--jobs", type=int, default=int(os.environ.get("COMPAT_JOBS", "6")))
    ap.add_argument("--verbose", action="store_true", help="print both observations of every case")
    ap.add_argument("--readme", default=os.path.join(REPO, "README.md"))
    ap.add_argument("only", nargs="*", help="run only cases whose name starts with one of these")
    a = ap.parse_args()
    a.portal_gw = os.path.abspath(a.portal_gw)    # servers run in the fixture directory
    a.websocketd = os.path.abspath(a.websocketd)
    for b in (a.portal_gw, a.websocketd):
        if not os.access(b, os.X_OK):
            print("compat: %s is not an executable file" % b, file=sys.stderr)
            return 2
    rows = readme_rows(a.readme)
    bad = sorted({k for keys, _ in better.IMPROVEMENTS.values() for k in keys} - set(rows))
    for k in bad:
        print("compat: README.md's comparison table has no row %r (named in better.py)" % k,
              file=sys.stderr)
    tmp = tempfile.mkdtemp(prefix="portal-gw-compat.")
    started = time.monotonic()
    try:
        fx = fixtures.build(os.path.join(tmp, "fx"))
        logs = os.path.join(tmp, "logs")
        os.mkdir(logs)
        ctxs = {"websocketd": ctx.Ctx("websocketd", a.websocketd, fx, logs),
                "portal-gw": ctx.Ctx("portal-gw", a.portal_gw, fx, logs)}
        def wanted(name, group):
            return not a.only or any(name.startswith(p) or (group and p.startswith(name))
                                     for p in a.only)
        todo = [c for c in ctx.ALL if c.available(fx) and wanted(c.name, c.group)]
        counts = {"SAME": 0, "BETTER": 0, "DIFF": 0}
        with concurrent.futures.ThreadPoolExecutor(max(1, a.jobs)) as pool:
            futures = [pool.submit(run_case, c, ctxs) for c in todo]
            for f in futures:
                for name, (ws, gw) in f.result().items():
                    if not wanted(name, False):
                        continue
                    verdict, line = classify(name, ws, gw, rows)
                    counts[verdict] += 1
                    print(line, flush=True)
                    if a.verbose:
                        print("    websocketd: " + brief(ws, 4000))
                        print("    portal-gw:  " + brief(gw, 4000))
        print("compat: %d cases, %s against %s, %.0f s" % (
            sum(counts.values()), a.portal_gw, a.websocketd, time.monotonic() - started))
        print("compat: %d same, %d better, %d diff" % (
            counts["SAME"], counts["BETTER"], counts["DIFF"]))
        return 1 if counts["DIFF"] or bad else 0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
