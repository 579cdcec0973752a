#!/usr/bin/env python3
"""redoubt vs Node-RED, side by side (python3 stdlib + wrk + nginx).

Normally started by bench/run.sh, which installs Node-RED, wrk and nginx and builds
redoubt first. Every workload runs against both runtimes in the same run, interleaved
(A, B, A, B, ... with the order flipped every repetition), so slow drifts of the
machine hit both alike. The workloads are the plain Node-RED flows.json files of
../shared/bench/flows (see --flows):

  cold     launch -> GET /ready answers 200 "rev-0" (flow running), flows `minimal`
           (3 nodes) and `nodes200`; also CPU seconds used until then
  idle     RSS of the whole process session `--settle` s after ready, flows `empty`, `nodes200`
  http     wrk -t2 -c50 --latency on GET /hello for http-change, http-function,
           http-json-template; runtime RSS and CPU sampled meanwhile; nginx serving the
           same fixed string is measured in the same rotation as the upper bound
  chain    1,000,000 messages through 10 change nodes into a counter function
           (`burst`: all emitted 10,000 per timer tick; `loop`: 1,000 tokens circulate)
  deploy   POST /flows (full deploy) of the 200-node flow with a new marker, until
           GET /ready serves the new marker

Noise control (the box is shared): during every measurement the CPU time of all
processes on the box is read from /proc/stat; what is not the runtime under test,
wrk, this driver or ksoftirqd counts as `other_cpu_pct` (100 = one core). A
measurement with more than --max-other is repeated after --retry-wait seconds, at
most --retries times; the discarded ones stay in the results JSON. Cold starts also
wait for a quiet quarter second before each launch. Before the first workload, the
page-cache pages of both runtimes' executables are written out and dropped, so they
are read from disk as an installed program's are, not kept as the linker or a copy
just wrote them, which maps 0.3-0.6 MiB more under load (`evict_from_page_cache`).

Results: a JSON file with every raw sample (--out), and the table on stdout.
`bench.py --report FILE.json` prints the table of an earlier run again.
"""
import argparse
import http.client
import json
import os
import platform
import re
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SETTINGS = os.path.join(HERE, "settings.js")
CLK_TCK = os.sysconf("SC_CLK_TCK")
NCPU = os.cpu_count() or 1

NR, RD, NGINX = "node-red", "redoubt", "nginx"
RUNTIMES = (NR, RD)

# GET /hello must answer 200 with a body containing this, per HTTP workload.
HTTP_FLOWS = {
    "http-change": b"hello world",
    "http-function": b'"sum":5050',
    "http-json-template": b"Hello world! n=42 tags=a,b,c,",
}

QUICK = dict(quiet_wait=0.5, cold_runs=2, cold_warmup=1, idle_runs=1, settle=1.0, reps=1, wrk_duration=2,
             wrk_warmup=1, chain_n=20000, chain_reps=1, deploy_runs=2, deploy_warmup=0,
             retries=0)
FULL = dict(quiet_wait=5.0, cold_runs=10, cold_warmup=1, idle_runs=3, settle=10.0, reps=3, wrk_duration=10,
            wrk_warmup=3, chain_n=1000000, chain_reps=2, deploy_runs=10, deploy_warmup=1,
            retries=3)


def log(msg):
    print("[%s] %s" % (time.strftime("%H:%M:%S"), msg), file=sys.stderr, flush=True)


# ---------------------------------------------------------------- /proc readings


def _stat_tail(pid):
    """Fields of /proc/PID/stat after the command name (index 0 = state)."""
    with open("/proc/%d/stat" % pid) as f:
        s = f.read()
    return s[s.rindex(")") + 2:].split()


def pids_in_session(sid):
    found = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                if int(_stat_tail(int(d))[3]) == sid:
                    found.append(int(d))
            except (OSError, ValueError, IndexError):
                pass
    return found


def rss_kib(pids):
    kib = 0
    for p in pids:
        try:
            with open("/proc/%d/status" % p) as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        kib += int(line.split()[1])
                        break
        except OSError:
            pass
    return kib


def cpu_s(pids):
    ticks = 0
    for p in pids:
        try:
            t = _stat_tail(p)
            ticks += int(t[11]) + int(t[12])  # utime + stime
        except (OSError, ValueError, IndexError):
            pass
    return ticks / CLK_TCK


def cpu_s_precise(pids):
    """On-CPU seconds of the live threads of `pids`, in ns resolution (schedstat):
    /proc/PID/stat counts 10 ms ticks, too coarse for a start that takes a few ms."""
    ns = 0
    for p in pids:
        try:
            for t in os.listdir("/proc/%d/task" % p):
                with open("/proc/%d/task/%s/schedstat" % (p, t)) as f:
                    ns += int(f.read().split()[0])
        except (OSError, ValueError, IndexError):
            pass
    return ns / 1e9


def box_cpu():
    """(task, total, steal) jiffies over all CPUs: task = user + nice + system;
    steal = time the hypervisor gave our virtual CPUs to someone else."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    return v[0] + v[1] + v[2], sum(v[:8]), v[7]


def ksoftirqd_cpu():
    total = 0.0
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open("/proc/%s/comm" % d) as f:
                    if f.read().startswith("ksoftirqd"):
                        total += cpu_s([int(d)])
            except OSError:
                pass
    return total


def own_cpu():
    """CPU seconds of this driver plus its reaped children (wrk)."""
    s, c = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return s.ru_utime + s.ru_stime, c.ru_utime + c.ru_stime


def machine():
    model = ""
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as f:
        mem_kib = int(f.readline().split()[1])
    with open("/proc/loadavg") as f:
        load = f.read().split()[:3]
    return {"nproc": NCPU, "cpu_model": model, "mem_gib": round(mem_kib / 1048576, 1),
            "kernel": platform.release(), "python": platform.python_version(), "loadavg_at_start": load}


class CpuWindow:
    """Box-wide CPU accounting over a window: who used the CPUs while we measured."""

    def __init__(self, runtime):
        self.rt = runtime

    def __enter__(self):
        self.t0 = time.perf_counter()
        self.box0, self.rt0 = box_cpu(), self.rt.cpu()
        self.own0, self.ks0 = own_cpu(), ksoftirqd_cpu()
        return self

    def close(self, min_window=0.0):
        dt = time.perf_counter() - self.t0
        (task1, tot1, steal1), (task0, tot0, steal0) = box_cpu(), self.box0
        own1 = own_cpu()
        box_s = (task1 - task0) / CLK_TCK
        runtime = self.rt.cpu() - self.rt0
        driver, wrk = own1[0] - self.own0[0], own1[1] - self.own0[1]
        ks = ksoftirqd_cpu() - self.ks0
        other = max(0.0, box_s - runtime - driver - wrk - ks)
        span = max(dt, min_window)
        self.result = {
            "window_s": dt, "runtime_cpu_pct": 100 * runtime / dt, "driver_cpu_pct": 100 * driver / dt,
            "wrk_cpu_pct": 100 * wrk / dt, "ksoftirqd_pct": 100 * ks / dt,
            "box_busy_pct": 100 * NCPU * (task1 - task0) / max(1, tot1 - tot0),
            "steal_pct": 100 * NCPU * (steal1 - steal0) / max(1, tot1 - tot0),
            "other_cpu_pct": 100 * other / span,
        }
        return self.result

    def __exit__(self, *exc):
        if not hasattr(self, "result"):
            self.close()


class RssSampler(threading.Thread):
    def __init__(self, runtime, every=0.25):
        super().__init__(daemon=True)
        self.rt, self.every, self.samples, self.done = runtime, every, [], threading.Event()

    def run(self):
        while not self.done.wait(self.every):
            self.samples.append(self.rt.rss_mib())

    def stop(self):
        self.done.set()
        self.join()
        return max(self.samples) if self.samples else self.rt.rss_mib()


def evict_from_page_cache(paths):
    """Writes out and drops the page-cache pages of the runtimes' executables, so the first
    start reads them from disk as it would an installed program. A binary just linked or
    copied (bench/run.sh copies redoubt's) keeps the pages as they were written, and the
    kernel then maps more of it at each fault: 0.3-0.6 MiB more RSS under the function
    workload, measured alternating with and without this (BENCHMARKS.md, "Reading the
    numbers"). Needs no root: fsync, then posix_fadvise(DONTNEED) on the file alone.
    Returns the paths it evicted; a file it cannot open is left as it is."""
    done = []
    for path in paths:
        try:
            fd = os.open(path, os.O_RDONLY)
        except OSError as e:
            log("page cache: %s left as it is (%s)" % (path, e.strerror))
            continue
        try:
            os.fsync(fd)
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            done.append(path)
        finally:
            os.close(fd)
    return done


def wait_quiet(a, seconds=0.25):
    """Before a cold start: wait until the box was quiet for `seconds` (other tenants
    below --max-other); gives up after --quiet-wait seconds and returns what it saw."""
    pct = 0.0
    for _ in range(max(1, int(a.quiet_wait / (2 * seconds)))):
        t0, own0 = box_cpu(), own_cpu()[0]
        time.sleep(seconds)
        t1, own1 = box_cpu(), own_cpu()[0]
        busy = (t1[0] - t0[0]) / CLK_TCK - (own1 - own0)
        pct = 100 * busy / seconds
        if pct <= a.max_other:
            return pct
        time.sleep(seconds)
    return pct


# ---------------------------------------------------------------- HTTP helpers


def http_get(port, path, method="GET", body=None, headers=None, timeout=5.0):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        c.request(method, path, body=body, headers=headers or {})
        r = c.getresponse()
        return r.status, r.read()
    finally:
        c.close()


def try_get(port, path, timeout=2.0):
    try:
        return http_get(port, path, timeout=timeout)
    except OSError:
        return 0, b""


def port_open(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


# ---------------------------------------------------------------- processes


NGINX_CONF = """worker_processes {workers};
pid {ud}/nginx.pid;
error_log {ud}/error.log warn;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  keepalive_requests 1000000;
  client_body_temp_path {ud}/t1; proxy_temp_path {ud}/t2; fastcgi_temp_path {ud}/t3;
  uwsgi_temp_path {ud}/t4; scgi_temp_path {ud}/t5;
  server {{
    listen 127.0.0.1:{port};
    location = /hello {{ default_type text/plain; return 200 "hello world"; }}
  }}
}}
"""


class Runtime:
    """One server process in its own session; RSS/CPU are summed over that session."""

    def __init__(self, a, kind, port, userdir, flow=None):
        self.a, self.kind, self.port, self.ud = a, kind, port, userdir
        os.makedirs(userdir, exist_ok=True)
        self.flows = os.path.join(userdir, "flows.json")
        if flow is not None:
            shutil.copyfile(os.path.join(a.flows, flow + ".json"), self.flows)
        if kind == NR:
            self.argv = [a.node, a.node_red, "--settings", SETTINGS, "--userDir", userdir,
                         "--port", str(port)]
        elif kind == RD:
            self.argv = [a.redoubt, "-u", userdir, "-s", SETTINGS, "-p", str(port), self.flows]
        elif kind == NGINX:
            conf = os.path.join(userdir, "nginx.conf")
            with open(conf, "w") as f:
                f.write(NGINX_CONF.format(workers=a.nginx_workers, ud=userdir, port=port))
            self.argv = [a.nginx, "-e", os.path.join(userdir, "error.log"), "-p", userdir,
                         "-c", conf, "-g", "daemon off;"]
        else:
            raise ValueError(kind)
        self.env = dict(os.environ, HOME=userdir, BENCH_PORT=str(port), BENCH_EDITOR=a.editor,
                        NODE_RED_DISABLE_TELEMETRY="1")
        self.proc = None

    def start(self):
        if port_open(self.port):
            raise RuntimeError("port %d is already in use" % self.port)
        self.log = open(os.path.join(self.ud, "%s.log" % self.kind), "ab")
        self.t_launch = time.perf_counter()
        self.proc = subprocess.Popen(self.argv, cwd=self.ud, env=self.env, stdin=subprocess.DEVNULL,
                                     stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        return self

    def pids(self):
        return pids_in_session(self.proc.pid) if self.proc is not None else []

    def rss_mib(self):
        return rss_kib(self.pids()) / 1024

    def cpu(self):
        return cpu_s(self.pids())

    def cpu_precise(self):
        return cpu_s_precise(self.pids())

    def check_alive(self):
        if self.proc.poll() is not None:
            raise RuntimeError("%s exited with %s; log: %s/%s.log"
                               % (self.kind, self.proc.returncode, self.ud, self.kind))

    def wait(self, path=None, expect=None, timeout=60.0, poll=0.001):
        """Polls until `path` answers 200 (and contains `expect`), or until TCP accept
        when path is None. Returns (seconds since launch to TCP accept, to ready)."""
        t_tcp = None
        deadline = self.t_launch + timeout
        while True:
            self.check_alive()
            now = time.perf_counter()
            if now > deadline:
                raise RuntimeError("%s not ready after %.0f s (%s)" % (self.kind, timeout, path))
            if path is None:
                if port_open(self.port):
                    t = time.perf_counter() - self.t_launch
                    return t, t
            else:
                try:
                    st, body = http_get(self.port, path, timeout=2.0)
                    if t_tcp is None:
                        t_tcp = time.perf_counter() - self.t_launch
                    if st == 200 and (expect is None or expect in body):
                        return t_tcp, time.perf_counter() - self.t_launch
                except OSError:
                    pass
            time.sleep(poll)

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
            except ProcessLookupError:
                pass
        if getattr(self, "log", None):
            self.log.close()
            self.log = None


class Group:
    """Several runtimes alive at once on consecutive ports (stopped together)."""

    def __init__(self, a, work, name, kinds, flow):
        self.rts = {}
        for i, k in enumerate(kinds):
            self.rts[k] = Runtime(a, k, a.port + i, os.path.join(work, "%s-%s" % (name, k)), flow)

    def __enter__(self):
        return self.rts

    def __exit__(self, *exc):
        for rt in self.rts.values():
            rt.stop()


# ---------------------------------------------------------------- statistics


def summary(xs):
    xs = [x for x in xs if x is not None]
    if not xs:
        return None
    return {"n": len(xs), "median": statistics.median(xs), "min": min(xs), "max": max(xs)}


def summarize(runs, keys=None):
    keys = keys or sorted({k for r in runs for k, v in r.items() if isinstance(v, (int, float))
                           and not isinstance(v, bool)})
    return {k: summary([r.get(k) for r in runs]) for k in keys}


def measured(a, what, fn):
    """Runs fn() -> dict with other_cpu_pct; repeats noisy measurements.
    Returns (kept result, discarded noisy results)."""
    discarded = []
    for attempt in range(1 + a.retries):
        r = fn()
        if r.get("incomplete"):
            discarded.append(r)
            log("  %s: INCOMPLETE (%s of %s arrived)%s" % (what, r.get("arrived"), r.get("n"),
                                                          ", again" if attempt < a.retries else ""))
            continue
        if r.get("other_cpu_pct", 0.0) <= a.max_other:
            return r, discarded
        r["noisy"] = True
        discarded.append(r)
        if attempt < a.retries:
            log("  %s: noisy (other processes used %.0f%% CPU > %.0f%%), again in %.0f s"
                % (what, r["other_cpu_pct"], a.max_other, a.retry_wait))
            time.sleep(a.retry_wait)
    log("  %s: no clean measurement after %d retries; kept the last one (flagged)" % (what, a.retries))
    return discarded.pop(), discarded


def rotation(kinds, rep):
    """Interleaving order: flipped every repetition."""
    return list(kinds) if rep % 2 == 0 else list(reversed(kinds))


# ---------------------------------------------------------------- suites


def suite_cold(a, work):
    out = {}
    variants = [(flow, k) for flow in ("minimal", "nodes200") for k in a.runtimes]
    for flow, k in variants:
        out.setdefault(flow, {})[k] = {"runs": [], "discarded_noisy": []}
    for rnd in range(a.cold_warmup + a.cold_runs):
        warm = rnd < a.cold_warmup
        for flow, k in (variants if rnd % 2 == 0 else variants[::-1]):
            ud = os.path.join(work, "cold-%s-%s" % (flow, k))  # reused: a restart, not a first install

            def once():
                quiet = wait_quiet(a)
                rt = Runtime(a, k, a.port, ud, flow)
                win = CpuWindow(rt)
                try:
                    with win:
                        rt.start()
                        t_tcp, t_ready = rt.wait("/ready", b"rev-0", poll=a.poll_ms / 1000)
                        r = {"tcp_ms": 1000 * t_tcp, "ready_ms": 1000 * t_ready,
                             "cpu_s_at_ready": rt.cpu_precise(), "rss_mib_at_ready": rt.rss_mib()}
                        w = win.close(min_window=0.1)
                finally:
                    rt.stop()
                r.update(other_cpu_pct=w["other_cpu_pct"], quiet_before_pct=quiet)
                return r

            if warm:
                r, noisy = once(), []
            else:
                r, noisy = measured(a, "cold %s %s" % (flow, k), once)
                out[flow][k]["runs"].append(r)
                out[flow][k]["discarded_noisy"] += noisy
            log("cold %-8s %-8s %s: ready %.1f ms (cpu %.3f s, other %.0f%%)"
                % (flow, k, "warm-up" if warm else "run %d" % (rnd - a.cold_warmup), r["ready_ms"],
                   r["cpu_s_at_ready"], r["other_cpu_pct"]))
    for flow in out:
        for k, v in out[flow].items():
            v["summary"] = summarize(v["runs"])
    return out


def suite_idle(a, work):
    """Both runtimes started side by side (no load), RSS read --settle s after ready."""
    out = {}
    for rnd in range(a.idle_runs):
        for flow in ("empty", "nodes200"):
            with Group(a, work, "idle-%s" % flow, rotation(a.runtimes, rnd), flow) as rts:
                for k, rt in rts.items():
                    rt.start()
                for k, rt in rts.items():
                    # the empty flow serves nothing: readiness = TCP accept
                    rt.wait(None if flow == "empty" else "/ready", b"rev-0" if flow != "empty" else None)
                time.sleep(a.settle)
                for k, rt in rts.items():
                    rt.check_alive()
                    r = {"rss_mib": rt.rss_mib(), "nprocs": len(rt.pids())}
                    out.setdefault(flow, {}).setdefault(k, {"runs": []})["runs"].append(r)
                    log("idle %-8s %-8s %.1f MiB" % (flow, k, r["rss_mib"]))
    for flow in out:
        for k, v in out[flow].items():
            v["summary"] = summarize(v["runs"])
    return out


def _ms(text):
    m = re.match(r"([\d.]+)(us|ms|s|m)$", text)
    return float(m.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[m.group(2)]


def wrk(a, port, seconds):
    cmd = ["wrk", "-t%d" % a.wrk_threads, "-c%d" % a.wrk_conns, "-d%ds" % seconds, "--latency",
           "--timeout", "5s", "http://127.0.0.1:%d/hello" % port]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60).stdout
    r = {}
    m = re.search(r"Requests/sec:\s+([\d.]+)", out)
    r["rps"] = float(m.group(1)) if m else None
    for pct in ("50", "90", "99"):
        m = re.search(r"^\s+%s(?:\.0+)?%%\s+(\S+)" % pct, out, re.M)
        r["p%s_ms" % pct] = _ms(m.group(1)) if m else None
    m = re.search(r"(\d+) requests in", out)
    r["requests"] = int(m.group(1)) if m else None
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    r["non2xx"] = int(m.group(1)) if m else 0
    m = re.search(r"Socket errors: (.*)", out)
    if m:
        r["socket_errors"] = m.group(1)
    if r["rps"] is None:
        raise RuntimeError("wrk failed: %s" % out[-500:])
    return r


def measure_load(a, rt, what):
    def once():
        smp = RssSampler(rt)
        with CpuWindow(rt) as win:
            smp.start()
            r = wrk(a, rt.port, a.wrk_duration)
            r["rss_mib_max"] = smp.stop()
            r.update(win.close())
        rt.check_alive()
        return r
    r, noisy = measured(a, what, once)
    log("http %-18s %-8s %8.0f req/s  p50 %.2f ms  p99 %.2f ms  rss %.1f MiB  cpu %.0f%%  other %.0f%%%s"
        % (what, rt.kind, r["rps"], r["p50_ms"], r["p99_ms"], r["rss_mib_max"], r["runtime_cpu_pct"],
           r["other_cpu_pct"], "  NON-2XX %d" % r["non2xx"] if r["non2xx"] else ""))
    return r, noisy


def suite_http(a, work):
    out = {}
    for flow, expect in HTTP_FLOWS.items():
        kinds = list(a.runtimes) + ([NGINX] if flow == "http-change" and a.nginx else [])
        with Group(a, work, flow, kinds, flow) as rts:
            for rt in rts.values():
                rt.start()
            for k, rt in rts.items():
                rt.wait("/hello")
                st, body = http_get(rt.port, "/hello")
                if st != 200 or expect not in body:
                    raise RuntimeError("%s %s: GET /hello gave %s %r" % (flow, k, st, body[:200]))
                out.setdefault(flow, {})[k] = {"sample_body": body[:200].decode("utf-8", "replace"),
                                               "runs": [], "discarded_noisy": [],
                                               "rss_mib_before": rt.rss_mib()}
                wrk(a, rt.port, a.wrk_warmup)  # discarded: JIT, connection pools, caches
            for rep in range(a.reps):
                for k in rotation(kinds, rep):
                    r, noisy = measure_load(a, rts[k], flow)
                    out[flow][k]["runs"].append(r)
                    out[flow][k]["discarded_noisy"] += noisy
        for k, v in out[flow].items():
            v["summary"] = summarize(v["runs"])
    return out


def _chain_run(a, rt, mode, n):
    """One chain run. Completion is detected without touching the runtime: when its CPU
    use drops below 10 % of a core for 0.5 s, GET /stats is read once (polling /stats
    during the run would run a second function node on the shared context object)."""
    q = "batch=%d" % a.chain_batch if mode == "burst" else "k=%d" % a.chain_k
    peak, s, last_count, stalls = 0.0, {}, -1, 0
    with CpuWindow(rt) as win:
        st, body = http_get(rt.port, "/start-%s?n=%d&%s" % (mode, n, q))
        if st != 200:
            raise RuntimeError("%s /start-%s: %s %r" % (rt.kind, mode, st, body[:200]))
        deadline = time.perf_counter() + a.chain_timeout
        hist = [(time.perf_counter(), rt.cpu_precise())]
        while True:
            time.sleep(0.1)
            rt.check_alive()
            peak = max(peak, rt.rss_mib())
            hist.append((time.perf_counter(), rt.cpu_precise()))
            hist = [h for h in hist if h[0] >= hist[-1][0] - 0.55]
            busy = (hist[-1][1] - hist[0][1]) / max(1e-9, hist[-1][0] - hist[0][0])
            if hist[-1][0] - hist[0][0] >= 0.45 and busy < 0.10:
                st, body = http_get(rt.port, "/stats", timeout=30)
                s = json.loads(body) if st == 200 else {}
                if s.get("count", 0) >= n and s.get("last"):
                    break
                stalls = stalls + 1 if s.get("count") == last_count else 0
                last_count = s.get("count")
                if stalls >= 3:  # idle, no progress: messages (or counts) were lost
                    break
                hist = hist[-1:]
            if time.perf_counter() > deadline:
                raise RuntimeError("%s chain %s: %s of %d after %.0f s" % (rt.kind, mode, s.get("count"), n,
                                                                          a.chain_timeout))
        w = win.close()
    r = {"n": n, "rss_mib_peak": peak, "runtime_cpu_pct": w["runtime_cpu_pct"],
         "other_cpu_pct": w["other_cpu_pct"], "arrived": s.get("count", 0)}
    if s.get("last"):
        ms = max(1, s["last"] - s["t0"])
        r.update(msgs_per_s=n * 1000.0 / ms, elapsed_s=ms / 1000.0, first_latency_ms=s["first"] - s["t0"])
    else:
        r.update(incomplete=True, msgs_per_s=None, elapsed_s=None)
    return r


def suite_chain(a, work):
    out = {}
    with Group(a, work, "chain", a.runtimes, "chain") as rts:
        for rt in rts.values():
            rt.start()
        for rt in rts.values():
            rt.wait("/stats")
        for mode in ("burst", "loop"):
            for k in a.runtimes:  # warm-up with n/10 (JIT, allocator), discarded
                r = _chain_run(a, rts[k], mode, max(1, a.chain_n // 10))
                log("chain %-5s %-8s warm-up %s msgs/s (%s of %s arrived)"
                    % (mode, k, _num(r["msgs_per_s"], 0), r["arrived"], r["n"]))
                out.setdefault(mode, {})[k] = {"runs": [], "discarded_noisy": []}
            for rep in range(a.chain_reps):
                for k in rotation(a.runtimes, rep):
                    r, noisy = measured(a, "chain %s %s" % (mode, k),
                                        lambda: _chain_run(a, rts[k], mode, a.chain_n))
                    out[mode][k]["runs"].append(r)
                    out[mode][k]["discarded_noisy"] += noisy
                    log("chain %-5s %-8s %s msgs/s (%s s, cpu %.0f%%, rss %.1f MiB, other %.0f%%)"
                        % (mode, k, _num(r["msgs_per_s"], 0), _num(r["elapsed_s"], 2), r["runtime_cpu_pct"],
                           r["rss_mib_peak"], r["other_cpu_pct"]))
            for k, v in out[mode].items():
                v["summary"] = summarize(v["runs"])
    return out


DEPLOY_HEADERS = {"Content-Type": "application/json", "Node-RED-API-Version": "v1",
                  "Node-RED-Deployment-Type": "full"}


def _deploy_once(a, rt, src, marker):
    body = src.replace('"rev-0"', '"%s"' % marker).encode()
    with CpuWindow(rt) as win:
        t0 = time.perf_counter()
        st, resp = http_get(rt.port, "/flows", "POST", body, DEPLOY_HEADERS, timeout=60)
        t_resp = time.perf_counter() - t0
        if st not in (200, 204):
            raise RuntimeError("%s deploy: HTTP %s %r" % (rt.kind, st, resp[:200]))
        while True:
            st, got = try_get(rt.port, "/ready")
            if st == 200 and got.strip() == marker.encode():
                break
            if time.perf_counter() - t0 > 60:
                raise RuntimeError("%s deploy: %s not serving after 60 s" % (rt.kind, marker))
            time.sleep(a.poll_ms / 1000)
        t_serve = time.perf_counter() - t0
        w = win.close(min_window=0.1)
    return {"resp_ms": 1000 * t_resp, "serving_ms": 1000 * t_serve, "other_cpu_pct": w["other_cpu_pct"]}


def suite_deploy(a, work):
    src = open(os.path.join(a.flows, "nodes200.json")).read()
    if '"rev-0"' not in src:
        raise RuntimeError("nodes200.json lacks the rev-0 marker")
    out = {}
    with Group(a, work, "deploy", a.runtimes, "nodes200") as rts:
        for rt in rts.values():
            rt.start()
        live = []
        for k, rt in rts.items():
            rt.wait("/ready", b"rev-0")
            st, _ = try_get(rt.port, "/flows")
            if st == 200:
                live.append(k)
                out[k] = {"runs": [], "discarded_noisy": [], "rss_mib_before": rt.rss_mib()}
            else:
                why = "admin API not wired yet: GET /flows → %s" % (st or "no connection")
                out[k] = {"unavailable": why}
                log("deploy %s: n/a, %s" % (k, why))
        seq = [0]

        def once(k):
            seq[0] += 1
            return _deploy_once(a, rts[k], src, "rev-%d" % seq[0])

        for i in range(a.deploy_warmup + a.deploy_runs):
            for k in rotation(live, i):
                if i < a.deploy_warmup:
                    r = once(k)
                else:
                    r, noisy = measured(a, "deploy %s" % k, lambda: once(k))
                    out[k]["runs"].append(r)
                    out[k]["discarded_noisy"] += noisy
                log("deploy %-8s %s: response %.1f ms, serving %.1f ms"
                    % (k, "warm-up" if i < a.deploy_warmup else "run %d" % (i - a.deploy_warmup),
                       r["resp_ms"], r["serving_ms"]))
                time.sleep(a.deploy_pause)
        for k in live:
            out[k]["rss_mib_after"] = rts[k].rss_mib()
            out[k]["summary"] = summarize(out[k]["runs"])
    return out


SUITES = {"cold": suite_cold, "idle": suite_idle, "http": suite_http, "chain": suite_chain,
          "deploy": suite_deploy}


# ---------------------------------------------------------------- report


def _get(res, *path):
    cur = res
    for p in path:
        if not isinstance(cur, dict) or p not in cur:
            return None
        cur = cur[p]
    return cur


def _num(x, digits):
    if x is None:
        return "n/a"
    if digits == 0:
        return "{:,.0f}".format(x)
    return "{:,.{d}f}".format(x, d=digits)


def _cell(s, digits):
    if not s:
        return "n/a"
    if s["n"] == 1:
        return _num(s["median"], digits)
    return "%s (%s–%s)" % (_num(s["median"], digits), _num(s["min"], digits), _num(s["max"], digits))


def rows(res):
    """(label, node-red summary, redoubt summary, digits, higher_is_better, note)."""
    out = []

    def add(label, path, key, digits, hib, scale=1.0):
        cells = []
        for k in RUNTIMES:
            s = _get(res, *path, k, "summary", key)
            if s and scale != 1.0:
                s = {x: (v * scale if x != "n" else v) for x, v in s.items()}
            cells.append(s)
        note = None
        if path and path[0] == "deploy":
            note = _get(res, "deploy", RD, "unavailable")
        out.append((label, cells[0], cells[1], digits, hib, note))

    add("cold start → serving (ms), 3-node flow", ("cold", "minimal"), "ready_ms", 1, False)
    add("cold start → serving (ms), 200-node flow", ("cold", "nodes200"), "ready_ms", 1, False)
    add("CPU used until serving (ms), 3-node flow", ("cold", "minimal"), "cpu_s_at_ready", 1, False, 1000)
    add("idle RSS (MiB), empty flow", ("idle", "empty"), "rss_mib", 1, False)
    add("idle RSS (MiB), 200-node flow", ("idle", "nodes200"), "rss_mib", 1, False)
    for flow, label in (("http-change", "http in → change → response"),
                        ("http-function", "http in → function → response"),
                        ("http-json-template", "http in → change → json → template → response")):
        add("%s: req/s" % label, ("http", flow), "rps", 0, True)
        add("  p99 latency (ms)", ("http", flow), "p99_ms", 2, False)
        add("  RSS under load (MiB, max)", ("http", flow), "rss_mib_max", 1, False)
        add("  runtime CPU (% of one core)", ("http", flow), "runtime_cpu_pct", 0, None)
    n = _get(res, "args", "chain_n") or 1000000
    n = "1M" if n == 1000000 else "{:,}".format(n)
    add("10 change nodes, %s msgs, burst: msgs/s" % n, ("chain", "burst"), "msgs_per_s", 0, True)
    add("10 change nodes, %s msgs, loop: msgs/s" % n, ("chain", "loop"), "msgs_per_s", 0, True)
    add("  peak RSS, burst (MiB)", ("chain", "burst"), "rss_mib_peak", 1, False)
    add("deploy 200 nodes → serving (ms)", ("deploy",), "serving_ms", 1, False)
    add("deploy 200 nodes → HTTP answer (ms)", ("deploy",), "resp_ms", 1, False)
    return out


def ratio(nr, rd, hib):
    if not nr or not rd or hib is None or not nr["median"] or not rd["median"]:
        return None
    return rd["median"] / nr["median"] if hib else nr["median"] / rd["median"]


def med(res, *path):
    s = _get(res, *path)
    return s["median"] if s else None


def targets(res):
    """(target, measured text, met: True/False/None)."""
    out = []

    def t(name, value, ok, fmt):
        out.append((name, fmt % value if value is not None else "n/a", None if value is None else ok(value)))

    t("cold start (3-node flow) ≤ 10 ms", med(res, "cold", "minimal", RD, "summary", "ready_ms"), lambda v: v <= 10, "%.1f ms")
    t("idle RSS, empty flow ≤ 8 MiB", med(res, "idle", "empty", RD, "summary", "rss_mib"), lambda v: v <= 8,
      "%.1f MiB")

    def x(flow, key="rps"):
        nr, rd = med(res, "http", flow, NR, "summary", key), med(res, "http", flow, RD, "summary", key)
        return rd / nr if nr and rd else None

    t("http-change ≥ 20× Node-RED", x("http-change"), lambda v: v >= 20, "%.1f×")
    ng, rd = med(res, "http", "http-change", NGINX, "summary", "rps"), med(res, "http", "http-change", RD,
                                                                          "summary", "rps")
    t("http-change ≥ 60 % of nginx", 100 * rd / ng if ng and rd else None, lambda v: v >= 60, "%.0f %%")
    t("http-change p99 ≤ 3 ms", med(res, "http", "http-change", RD, "summary", "p99_ms"), lambda v: v <= 3,
      "%.2f ms")
    t("function variant ≥ 10× Node-RED", x("http-function"), lambda v: v >= 10, "%.1f×")
    t("json + template ≥ 10× Node-RED", x("http-json-template"), lambda v: v >= 10, "%.1f×")
    loads = [med(res, "http", f, RD, "summary", "rss_mib_max") for f in HTTP_FLOWS]
    loads = [v for v in loads if v is not None]
    t("RSS under load ≤ 10 MiB (worst HTTP workload)", max(loads) if loads else None, lambda v: v <= 10,
      "%.1f MiB")
    for mode in ("burst", "loop"):
        t("10 change nodes ≥ 1,000,000 msgs/s (%s)" % mode, med(res, "chain", mode, RD, "summary", "msgs_per_s"),
          lambda v: v >= 1e6, "%.0f msgs/s")
    dep = med(res, "deploy", RD, "summary", "serving_ms")
    if dep is None and _get(res, "deploy", RD, "unavailable"):
        out.append(("deploy 200 nodes ≤ 5 ms", "n/a (%s)" % _get(res, "deploy", RD, "unavailable"), None))
    else:
        t("deploy 200 nodes ≤ 5 ms", dep, lambda v: v <= 5, "%.1f ms")
    return out


def render(res):
    v = res.get("versions", {})
    m = res.get("machine", {})
    lines = [
        "redoubt %s%s vs Node-RED %s (Node.js %s); %s" % (v.get(RD, "?"), " (%s)" % v["git"] if v.get("git") else "",
                                                         v.get("node-red", "?"), v.get("node", "?"),
                                                       "QUICK smoke run, not a measurement" if res.get("quick")
                                                       else "full run"),
        "machine: %s cores, %s, %s GiB; load at start %s; %s" % (
            m.get("nproc"), m.get("cpu_model"), m.get("mem_gib"), " ".join(m.get("loadavg_at_start", [])),
            res.get("started", "")),
        "command: %s" % res.get("command", "?"),
        "cells: median (min–max) of the measured repetitions; ratio = how many times better redoubt is",
        "",
        "| workload | Node-RED %s | redoubt | ratio |" % v.get("node-red", ""),
        "|---|---:|---:|---:|",
    ]
    for label, nr, rd, digits, hib, note in rows(res):
        if nr is None and rd is None and note is None:
            continue
        r = ratio(nr, rd, hib)
        rd_cell = _cell(rd, digits) if rd or not note else "n/a (%s)" % note
        lines.append("| %s | %s | %s | %s |" % (label, _cell(nr, digits), rd_cell,
                                                "%.1f×" % r if r is not None else ""))
    ng = _get(res, "http", "http-change", NGINX, "summary")
    if ng:
        rd = _get(res, "http", "http-change", RD, "summary")
        share = ("%.0f %%" % (100 * rd["rps"]["median"] / ng["rps"]["median"])) if rd else "n/a"
        lines += ["", "| baseline: nginx %s, fixed string on GET /hello | value | redoubt http-change vs it |"
                  % v.get("nginx", ""), "|---|---:|---:|",
                  "| req/s | %s | %s |" % (_cell(ng["rps"], 0), share),
                  "| p99 latency (ms) | %s | |" % _cell(ng["p99_ms"], 2),
                  "| CPU (%% of one core) | %s | |" % _cell(ng["runtime_cpu_pct"], 0)]
    lines += ["", "| target (redoubt) | measured | |", "|---|---:|---|"]
    for name, value, ok in targets(res):
        lines.append("| %s | %s | %s |" % (name, value, {True: "met", False: "**missed**", None: "n/a"}[ok]))
    for mode in ("burst", "loop"):
        for k in RUNTIMES:
            x = _get(res, "chain", mode, k) or {}
            bad = [r for r in x.get("runs", []) + x.get("discarded_noisy", []) if r.get("incomplete")]
            if bad:
                lines.append("chain %s, %s: %d run(s) ended with fewer arrivals than sent (%s): "
                             "lost messages or lost counter updates" % (
                                 mode, k, len(bad), ", ".join("%s of %s" % (r["arrived"], r["n"]) for r in bad)))
    noisy = sum(1 for x in _walk(res) for r in x.get("discarded_noisy", []) if r.get("noisy"))
    flagged = sum(1 for x in _walk(res) for r in x.get("runs", []) if r.get("noisy"))
    lines += ["", "noise: %d measurements repeated because other processes were busy; %d kept although noisy"
              % (noisy, flagged)]
    return "\n".join(lines)


def _walk(res):
    for s in SUITES:
        stack = [res.get(s)]
        while stack:
            x = stack.pop()
            if isinstance(x, dict):
                if "runs" in x:
                    yield x
                stack += [y for y in x.values() if isinstance(y, dict)]


# ---------------------------------------------------------------- main


def versions(a):
    v = {}
    try:
        v["node-red"] = json.load(open(os.path.join(os.path.dirname(a.node_red), "package.json")))["version"]
    except (OSError, ValueError, KeyError, TypeError):
        v["node-red"] = "?" if a.node_red else "-"
    for name, cmd in (("node", [a.node, "--version"]), (RD, [a.redoubt, "--version"]),
                      ("nginx", [a.nginx, "-v"]), ("wrk", ["wrk", "-v"])):
        if not cmd[0]:
            v[name] = "-"
            continue
        try:
            p = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
            text = (p.stdout + p.stderr).strip().splitlines()
            v[name] = text[0] if text else "?"
        except OSError:
            v[name] = "?"
    v["git"] = os.environ.get("BENCH_GIT_REV", "")
    v["node"] = v["node"].lstrip("v")
    v[RD] = v[RD].replace("redoubt ", "")
    v["nginx"] = v["nginx"].split("/")[-1]
    v["wrk"] = v["wrk"].split(" [")[0]
    return v


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="smoke run: every workload once, tiny sizes (CI)")
    p.add_argument("--report", metavar="JSON", help="print the table of an earlier results file and exit")
    p.add_argument("--suites", default=",".join(SUITES), help="comma list of %s" % ",".join(SUITES))
    p.add_argument("--runtimes", default="%s,%s" % RUNTIMES, help="comma list: node-red,redoubt")
    p.add_argument("--no-nginx", dest="nginx_on", action="store_false", help="skip the nginx baseline")
    p.add_argument("--node", default="node", help="Node.js >= 22.9 binary for Node-RED 5")
    p.add_argument("--node-red", default=None, help="path of node-red's red.js")
    p.add_argument("--redoubt", default=os.path.join(ROOT, "target", "release", "redoubt"))
    p.add_argument("--nginx", default=shutil.which("nginx") or "/usr/sbin/nginx")
    p.add_argument("--nginx-workers", default="auto")
    p.add_argument("--flows", default=os.path.normpath(os.path.join(ROOT, "..", "shared", "bench", "flows")),
                   help="folder with the workload flows.json files")
    p.add_argument("--editor", default="0", help="1 = Node-RED editor on (BENCH_EDITOR); default off for both")
    p.add_argument("--port", type=int, default=27880, help="first of 3 consecutive ports")
    p.add_argument("--cache", default=os.path.join(HERE, ".cache"))
    p.add_argument("--out", default=None, help="results JSON (default CACHE/results/TIME[-quick].json)")
    p.add_argument("--keep", action="store_true", help="keep the temp user dirs (runtime logs)")
    p.add_argument("--max-other", type=float, default=30.0,
                   help="repeat a measurement when other processes used more CPU %% (100 = one core)")
    p.add_argument("--retry-wait", type=float, default=10.0)
    p.add_argument("--poll-ms", type=float, default=1.0, help="readiness poll interval")
    p.add_argument("--wrk-threads", type=int, default=2)
    p.add_argument("--wrk-conns", type=int, default=50)
    p.add_argument("--chain-batch", type=int, default=10000)
    p.add_argument("--chain-k", type=int, default=1000)
    p.add_argument("--chain-timeout", type=float, default=300.0)
    p.add_argument("--deploy-pause", type=float, default=0.5, help="seconds between deploys")
    for k, v in FULL.items():
        p.add_argument("--" + k.replace("_", "-"), type=type(v), default=None,
                       help="default %s (quick: %s)" % (v, QUICK[k]))
    a = p.parse_args(argv)
    for k, v in (QUICK if a.quick else FULL).items():
        if getattr(a, k) is None:
            setattr(a, k, v)
    for k in ("node", "node_red", "redoubt", "nginx", "flows", "cache"):
        v = getattr(a, k)
        if v and (os.sep in v or os.path.exists(v)):
            setattr(a, k, os.path.abspath(v))
        elif v and shutil.which(v):
            setattr(a, k, shutil.which(v))
    a.runtimes = tuple(k for k in RUNTIMES if k in a.runtimes.split(","))
    a.nginx = a.nginx if a.nginx_on else None
    return a


def main(argv=None):
    a = parse_args(sys.argv[1:] if argv is None else argv)
    if a.report:
        print(render(json.load(open(a.report))))
        return 0
    if NR in a.runtimes and not a.node_red:
        sys.exit("--node-red PATH/red.js is needed (bench/run.sh installs it)")
    for f in ("minimal", "nodes200", "empty", "chain") + tuple(HTTP_FLOWS):
        if not os.path.exists(os.path.join(a.flows, f + ".json")):
            sys.exit("workload %s.json not found in %s (--flows)" % (f, a.flows))
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed (bench/run.sh installs it)")
    stamp = time.strftime("%Y%m%d-%H%M%S")
    out = a.out or os.path.join(a.cache, "results", "%s%s.json" % (stamp, "-quick" if a.quick else ""))
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    os.makedirs(os.path.join(a.cache, "work"), exist_ok=True)
    work = tempfile.mkdtemp(prefix="run-", dir=os.path.join(a.cache, "work"))
    res = {"started": time.strftime("%Y-%m-%d %H:%M:%S %Z"), "quick": a.quick, "machine": machine(),
           "versions": versions(a), "command": os.environ.get("BENCH_COMMAND") or " ".join(["bench/bench.py"] + sys.argv[1:]),
           "args": {k: v for k, v in vars(a).items()}}
    exes = [a.redoubt] if RD in a.runtimes else []
    exes += [shutil.which(a.node) or a.node] if NR in a.runtimes else []
    res["page_cache_evicted"] = evict_from_page_cache(exes)
    log("results -> %s; user dirs in %s" % (out, work))
    t_all = time.perf_counter()
    try:
        for name in a.suites.split(","):
            t = time.perf_counter()
            log("=== %s" % name)
            res[name] = SUITES[name](a, work)
            res.setdefault("suite_seconds", {})[name] = round(time.perf_counter() - t, 1)
            with open(out, "w") as f:
                json.dump(res, f, indent=1)
    finally:
        if not a.keep:
            shutil.rmtree(work, ignore_errors=True)
    res["finished"] = time.strftime("%Y-%m-%d %H:%M:%S %Z")
    res["total_seconds"] = round(time.perf_counter() - t_all, 1)
    with open(out, "w") as f:
        json.dump(res, f, indent=1)
    table = render(res)
    with open(out[:-5] + ".md" if out.endswith(".json") else out + ".md", "w") as f:
        f.write(table + "\n")
    print(table)
    log("done in %.0f s; results %s" % (res["total_seconds"], out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
