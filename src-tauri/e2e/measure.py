#!/usr/bin/env python3
"""Measures the desktop app (a benchmark, not a test): start to first paint, memory at idle and
after N scans posted through the API, and the UI bundle. Run by scripts/measure-app.sh.

- First paint: the shell's init script calls the `painted` command two animation frames after
  DOMContentLoaded (the UI's module script has run and its first frame is composited); the app
  prints {"firstPaintMs": N} measured from the start of its main(). The wall clock from spawning
  the process to reading that line is printed too (it adds exec and dynamic linking).
- Memory: VmRSS and PSS (/proc/PID/smaps_rollup; shared pages divided among the processes
  sharing them, so the sum is honest) of the app process and of each of its descendants
  (WebKitWebProcess, WebKitNetworkProcess), at idle and after the scans.
- Scans go to POST /api/v1/scans on one keep-alive connection, at the reader the window shows
  (the gate screen renders each one).
"""

import argparse
import gzip
import http.client
import json
import os
import select
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def children(pid):
    out = []
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            kids = [int(x) for x in f.read().split()]
    except OSError:
        return out
    for k in kids:
        out.append(k)
        out.extend(children(k))
    return out


def mem(pid):
    """(name, rss_kb, pss_kb) of one process."""
    with open(f"/proc/{pid}/comm") as f:
        name = f.read().strip()
    rss = pss = 0
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1])
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    pss = int(line.split()[1])
    except OSError:
        pass
    return name, rss, pss


def snapshot(pid):
    rows = [mem(pid)] + [mem(c) for c in children(pid)]
    return rows


def show(title, rows):
    print(f"\n{title}")
    print(f"  {'process':<22}{'RSS MB':>10}{'PSS MB':>10}")
    for name, rss, pss in rows:
        print(f"  {name:<22}{rss / 1024:>10.1f}{pss / 1024:>10.1f}")
    print(f"  {'total':<22}{sum(r[1] for r in rows) / 1024:>10.1f}{sum(r[2] for r in rows) / 1024:>10.1f}")


def read_json_line(proc, want, timeout):
    deadline = time.monotonic() + timeout
    buf = b""
    while time.monotonic() < deadline:
        ready, _, _ = select.select([proc.stdout], [], [], 0.05)
        if not ready:
            if proc.poll() is not None:
                raise RuntimeError(f"the app exited ({proc.returncode}) before printing {want}")
            continue
        chunk = os.read(proc.stdout.fileno(), 65536)
        if not chunk:
            raise RuntimeError(f"the app closed stdout before printing {want}")
        buf += chunk
        while b"\n" in buf:
            line, buf = buf.split(b"\n", 1)
            try:
                doc = json.loads(line)
            except ValueError:
                continue
            if want in doc:
                return doc, time.monotonic()
    raise RuntimeError(f"no {want} within {timeout} s")


def bundle():
    dist = os.path.join(ROOT, "ui", "dist")
    total = gz = 0
    files = []
    for base, _, names in os.walk(dist):
        for n in names:
            p = os.path.join(base, n)
            data = open(p, "rb").read()
            total += len(data)
            z = len(gzip.compress(data, 9))
            gz += z
            files.append((os.path.relpath(p, dist), len(data), z))
    return total, gz, files


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--app", default=os.path.join(ROOT, "target", "release", "passdesk-app"))
    ap.add_argument("--cli", default=os.path.join(ROOT, "target", "release", "passdesk"))
    ap.add_argument("--scans", type=int, default=10_000)
    ap.add_argument("--settle", type=float, default=5.0, help="seconds of idle before each sample")
    ap.add_argument("--sample-every", type=int, default=0,
                    help="also print each process's RSS every N scans (does memory level off?)")
    args = ap.parse_args()

    total, gz, files = bundle()
    print(f"UI bundle (ui/dist): {total / 1024:.1f} kB, {gz / 1024:.1f} kB gzipped, {len(files)} files")
    for name, size, z in sorted(files, key=lambda f: -f[1])[:6]:
        print(f"  {name:<40}{size / 1024:>8.1f} kB{z / 1024:>8.1f} kB gz")

    data = tempfile.mkdtemp(prefix="passdesk-measure-")
    subprocess.run([args.cli, "--data-dir", data, "demo"], check=True, capture_output=True)
    key = json.loads(
        subprocess.run(
            [args.cli, "--data-dir", data, "keys", "create", "--role", "cashier", "--name", "measure"],
            check=True, capture_output=True, text=True,
        ).stdout
    )["key"]

    t0 = time.monotonic()
    proc = subprocess.Popen(
        [args.app, "--data-dir", data, "--no-readers", "--screen", "gate", "--reader", "gate-a", "--no-kiosk"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    try:
        ready, _ = read_json_line(proc, "listening", 30)
        paint, t_paint = read_json_line(proc, "firstPaintMs", 60)
        print(f"\nStart: service listening {ready['serviceReadyMs']} ms after main(); first paint "
              f"{paint['firstPaintMs']} ms after main(), {(t_paint - t0) * 1000:.0f} ms after spawn (wall clock)")
        time.sleep(args.settle)
        idle = snapshot(proc.pid)
        show(f"Memory at idle ({args.settle:.0f} s after first paint)", idle)

        host, port = ready["listening"].removeprefix("http://").split(":")
        conn = http.client.HTTPConnection(host, int(port), timeout=10)
        values = [f"HLF-{i:04d}" for i in range(1, 301)] + [f"BEAN-{i:04d}" for i in range(1, 41)] + ["NOT-A-PASS"]
        headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
        started = time.monotonic()
        verdicts = {}
        for i in range(args.scans):
            body = json.dumps({"value": values[i % len(values)], "readerId": "gate-a", "medium": "qr"})
            conn.request("POST", "/api/v1/scans", body, headers)
            res = conn.getresponse()
            doc = json.loads(res.read())
            if res.status not in (200, 201):
                raise RuntimeError(f"scan {i}: HTTP {res.status}: {doc}")
            v = doc["data"]["attributes"]["verdict"]
            verdicts[v] = verdicts.get(v, 0) + 1
            if args.sample_every and (i + 1) % args.sample_every == 0:
                rows = snapshot(proc.pid)
                print(f"  after {i + 1:>7} scans: RSS MB " +
                      ", ".join(f"{name} {rss / 1024:.0f}" for name, rss, _ in rows), flush=True)
        took = time.monotonic() - started
        print(f"\n{args.scans} scans posted in {took:.1f} s ({args.scans / took:.0f}/s): {verdicts}")
        time.sleep(args.settle)
        after = snapshot(proc.pid)
        show(f"Memory after {args.scans} scans ({args.settle:.0f} s later)", after)
        main_mb = after[0][1] / 1024
        total_pss = sum(r[2] for r in after) / 1024
        print(f"\nBudget 150 MB: app process RSS {main_mb:.0f} MB; all processes PSS {total_pss:.0f} MB")
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
    return 0


if __name__ == "__main__":
    sys.exit(main())
