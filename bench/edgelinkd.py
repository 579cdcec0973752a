#!/usr/bin/env python3
"""redoubt against EdgeLinkd (github.com/oldrev/edgelinkd), the other Rust runtime for
Node-RED flows, on the workloads EdgeLinkd can run, on this machine, alternating.

    git clone https://github.com/oldrev/edgelinkd /tmp/edgelinkd
    (cd /tmp/edgelinkd && git checkout d0a5e11 && cargo build --release --bin edgelinkd)
    python3 bench/edgelinkd.py --edgelinkd /tmp/edgelinkd/target/release/edgelinkd

EdgeLinkd is not part of bench/run.sh: it is built from source (about 4 minutes), and it
cannot run the chain (every `http in` node opens its own listener on port 1880, so a flow
with several endpoints gets only the first) or the deploy workload (no admin API).

What it measures, redoubt and EdgeLinkd taking turns (the order flipped every round):
  cold    start until `GET /ready` of the 3-node flow answers 200 (a raw socket polled
          every 0.2 ms; 20 runs after 2 discarded)
  idle    RSS of the empty flow 2 s after start
  http    wrk -t2 -c50 -d10s --latency --timeout 5s on GET /hello (bench.py's wrk run) (after 2 s of warm-up) for
          http-change, http-function and http-json-template: req/s, p99, peak RSS (VmHWM)
EdgeLinkd answers each request on a new connection: it closes the connection after one
response (no keep-alive), so wrk reconnects every time; the progress lines count those closes.
The flows are ../shared/bench/flows with one change for EdgeLinkd only: an `http response`
node's empty `statusCode` ("", which Node-RED and redoubt read as "unset") is removed,
because EdgeLinkd rejects the flow with `invalid type: string "", expected u16`.
"""
import argparse
import atexit
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import tempfile
import time

from bench import evict_from_page_cache, port_open, wrk as bench_wrk  # the side-by-side driver's own

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SETTINGS = os.path.join(HERE, "settings.js")
LIVE = set()  # processes still running, killed at exit whatever happened
HTTP_FLOWS = ["http-change", "http-function", "http-json-template"]
RD, EL = "redoubt", "edgelinkd"


def el_flows(src, dst):
    """Copies the flows for EdgeLinkd, without the empty statusCode it cannot parse."""
    for name in os.listdir(src):
        if not name.endswith(".json"):
            continue
        with open(os.path.join(src, name)) as f:
            nodes = json.load(f)
        for n in nodes:
            if n.get("type") == "http response" and n.get("statusCode") == "":
                del n["statusCode"]
        with open(os.path.join(dst, name), "w") as f:
            json.dump(nodes, f)


class Proc:
    def __init__(self, a, kind, flow):
        self.dir = tempfile.mkdtemp(prefix="bench-%s-" % kind)
        flows = os.path.join(self.dir, "flows.json")
        if kind == EL:
            shutil.copyfile(os.path.join(a.el_flows, flow + ".json"), flows)
            argv = [a.edgelinkd, "-v", "0", "-u", self.dir, "run", flows,
                    "--bind", "127.0.0.1:%d" % (a.port + 1)]
            self.port = 1880  # where EdgeLinkd's http in nodes listen
        else:
            shutil.copyfile(os.path.join(a.flows, flow + ".json"), flows)
            argv = [a.redoubt, "-u", self.dir, "-s", SETTINGS, "-p", str(a.port), flows]
            self.port = a.port
        if port_open(self.port):
            raise SystemExit("port %d is already in use" % self.port)
        self.t0 = time.perf_counter()
        self.p = subprocess.Popen(argv, cwd=self.dir, env=dict(os.environ, HOME=self.dir),
                                  stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL)
        LIVE.add(self.p)

    def wait_200(self, path, timeout=15.0):
        while not get_200(self.port, path):
            if self.p.poll() is not None:
                raise SystemExit("%s exited with %s" % (self.p.args[0], self.p.returncode))
            if time.perf_counter() - self.t0 > timeout:
                raise SystemExit("%s: %s did not answer 200" % (self.p.args[0], path))
            time.sleep(0.0002)
        return (time.perf_counter() - self.t0) * 1000

    def status_mib(self, key):
        with open("/proc/%d/status" % self.p.pid) as f:
            for line in f:
                if line.startswith(key):
                    return int(line.split()[1]) / 1024
        raise SystemExit("no %s for pid %d" % (key, self.p.pid))

    def stop(self):
        self.p.terminate()
        self.p.wait()
        LIVE.discard(self.p)
        while port_open(self.port):
            time.sleep(0.01)
        shutil.rmtree(self.dir, ignore_errors=True)


@atexit.register
def _kill_live():
    for p in LIVE:
        p.kill()


def get_200(port, path):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
            s.sendall(b"GET %s HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n" % path.encode())
            return s.recv(64).startswith(b"HTTP/1.1 200")
    except OSError:
        return False


def wrk(a, port, seconds):
    """bench.py's wrk run; fails on error responses and on socket errors other than the
    server closing connections. EdgeLinkd closes every connection after one response
    (no keep-alive, and no `Connection: close` either), which wrk counts as read errors
    and reconnects. Returns (req/s, p99 ms, connections closed by the server)."""
    r = bench_wrk(a, port, seconds)
    if r["non2xx"]:
        raise SystemExit("wrk saw %d error responses on port %d" % (r["non2xx"], port))
    closed = 0
    if "socket_errors" in r:
        m = re.match(r"connect (\d+), read (\d+), write (\d+), timeout (\d+)", r["socket_errors"])
        if not m:
            raise SystemExit("wrk's socket errors unreadable on port %d: %s" % (port, r["socket_errors"]))
        connect, closed, write, timeout = (int(x) for x in m.groups())
        if connect or write or timeout:
            raise SystemExit("wrk saw socket errors on port %d: %s" % (port, r["socket_errors"]))
    return r["rps"], r["p99_ms"], closed


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--edgelinkd", required=True, help="the edgelinkd binary")
    p.add_argument("--redoubt", default=os.path.join(ROOT, "target", "release", "redoubt"))
    p.add_argument("--flows", default=os.path.join(ROOT, "..", "shared", "bench", "flows"))
    p.add_argument("--rounds", type=int, default=2, help="idle and http rounds per runtime")
    p.add_argument("--cold-runs", type=int, default=20)
    p.add_argument("--port", type=int, default=27997, help="redoubt's port; EdgeLinkd's editor port+1")
    a = p.parse_args()
    a.wrk_threads, a.wrk_conns = 2, 50  # bench.py's defaults, for its wrk()
    a.el_flows = tempfile.mkdtemp(prefix="bench-el-flows-")
    el_flows(a.flows, a.el_flows)
    # Both binaries read from disk, not as their builds left them (see bench.py).
    evict_from_page_cache([a.redoubt, a.edgelinkd])
    res = {}

    def add(kind, key, v):
        res.setdefault(key, {}).setdefault(kind, []).append(v)

    for i in range(a.cold_runs + 2):
        for kind in ([RD, EL] if i % 2 == 0 else [EL, RD]):
            pr = Proc(a, kind, "minimal")
            t = pr.wait_200("/ready")
            pr.stop()
            if i >= 2:
                add(kind, "cold start → serving (ms), 3-node flow", t)
    for r in range(a.rounds):
        for kind in ([RD, EL] if r % 2 == 0 else [EL, RD]):
            pr = Proc(a, kind, "empty")
            time.sleep(2)
            add(kind, "idle RSS (MiB), empty flow", pr.status_mib("VmRSS"))
            pr.stop()
            for flow in HTTP_FLOWS:
                pr = Proc(a, kind, flow)
                pr.wait_200("/hello")
                wrk(a, pr.port, 2)
                rps, p99, closed = wrk(a, pr.port, 10)
                add(kind, "%s: req/s" % flow, rps)
                add(kind, "%s: p99 (ms)" % flow, p99)
                add(kind, "%s: RSS under load (MiB, max)" % flow, pr.status_mib("VmHWM"))
                pr.stop()
                print("[%s] %s %s %.0f req/s, p99 %.2f ms, connections closed by the server: %d"
                      % (time.strftime("%H:%M:%S"), kind, flow, rps, p99, closed), flush=True)
    print("\n| workload | EdgeLinkd | redoubt | ratio |\n|---|---:|---:|---:|")
    for key, by in res.items():
        el, rd = statistics.median(by[EL]), statistics.median(by[RD])
        better = rd / el if "req/s" in key else el / rd
        rng = lambda xs: "%s–%s" % (fmt(min(xs)), fmt(max(xs)))
        print("| %s | %s (%s) | %s (%s) | %.1f× |" % (key, fmt(el), rng(by[EL]), fmt(rd), rng(by[RD]), better))
    shutil.rmtree(a.el_flows, ignore_errors=True)


def fmt(x):
    return "{:,.0f}".format(x) if x >= 1000 else "%.1f" % x if x >= 10 else "%.2f" % x


if __name__ == "__main__":
    main()
