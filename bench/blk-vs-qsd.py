#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause
"""Host side of bench/blk-vs-qsd.sh.

  blk-vs-qsd.py sample CONSOLE PID TIMEOUT
      follows the guest console CONSOLE; at each 'BENCH begin NAME' and
      'BENCH end NAME ...' line of bench/blk-io.c reads the CPU time of the
      backend process PID, and prints per workload one line
        NAME ops N bytes B usec T reqs R cpu_ns C ticks K
      C: the process's CPU clock (clock_getcpuclockid: user + system of all
      its threads, those that exited included, in ns); K: utime + stime
      from /proc/PID/stat (clock ticks), a cross-check. Exits 0 after
      'BENCH done rc 0', 1 on a timeout, a failed guest or a dead backend.
  blk-vs-qsd.py summary RAW
      RAW holds 'run ROUND BACKEND NAME ops ...' lines; prints per workload
      and backend the median CPU time per request and throughput, and for
      each qsd row the ratio ours / qsd of CPU time per request (ours-direct
      for the -direct rows).
"""
import os
import re
import statistics
import sys
import time

LINE = re.compile(r"BENCH (begin|end|done) (\S+)(.*)")


def cpu_clock(pid):
    # The kernel's CPU-time clock of another process: what
    # clock_getcpuclockid(pid) returns, MAKE_PROCESS_CPUCLOCK(pid, SCHED).
    return ((~pid) << 3) | 2


def ticks(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime, stime (fields 14, 15)


def sample(console, pid, timeout):
    clk = cpu_clock(pid)
    deadline = time.time() + timeout
    pos = 0
    buf = b""
    start = {}
    while time.time() < deadline:
        try:
            with open(console, "rb") as f:
                f.seek(pos)
                data = f.read()
        except OSError:
            data = b""
        pos += len(data)
        buf += data
        *lines, buf = buf.split(b"\n")
        for raw in lines:
            m = LINE.search(raw.decode("ascii", "replace").replace("\r", ""))
            if not m:
                continue
            kind, name, rest = m.groups()
            if kind == "done":
                return 0 if rest.strip() == "0" else 1
            try:
                now = (time.clock_gettime_ns(clk), ticks(pid))
            except OSError as e:
                print("# backend %d: %s" % (pid, e), file=sys.stderr)
                return 1
            if kind == "begin":
                start[name] = now
            elif name in start:
                b = start.pop(name)
                print("%s%s cpu_ns %d ticks %d" % (name, rest.rstrip(), now[0] - b[0],
                                                   now[1] - b[1]), flush=True)
        time.sleep(0.01)
    print("# timed out after %d s" % timeout, file=sys.stderr)
    return 1


def summary(raw):
    runs = {}  # (name, backend) -> list of dicts
    backends = []
    names = []
    with open(raw) as f:
        for line in f:
            w = line.split()
            if len(w) < 4 or w[0] != "run":
                continue
            _, rnd, backend, name = w[:4]
            kv = dict(zip(w[4::2], (float(x) for x in w[5::2])))
            if kv.get("reqs", 0) <= 0 or kv.get("usec", 0) <= 0:
                continue
            runs.setdefault((name, backend), []).append(kv)
            if backend not in backends:
                backends.append(backend)
            if name not in names:
                names.append(name)
    if not runs:
        print("no runs")
        return 1
    # Each qsd row is compared with ours in the same cache mode: ours for
    # the page cache rows, ours-direct for the -direct ones.
    def ref_of(b):
        return "ours-direct" if b.endswith("-direct") else "ours"
    backends.sort(key=lambda b: (b.endswith("-direct"), not b.startswith("ours"), b))
    hdr = "%-13s %-19s %4s %8s %7s %10s %8s %8s %9s" % (
        "workload", "backend", "runs", "reqs/run", "KiB/req", "cpu us/req", "MB/s",
        "IOPS", "ours/qsd")
    print(hdr)
    print("-" * len(hdr))
    for name in names:
        per = {}
        for backend in backends:
            rs = runs.get((name, backend))
            if rs:
                per[backend] = statistics.median(r["cpu_ns"] / r["reqs"] / 1000 for r in rs)
        for backend in backends:
            rs = runs.get((name, backend))
            if not rs:
                continue
            mbs = statistics.median(r["bytes"] / r["usec"] for r in rs)
            iops = statistics.median(r["ops"] / r["usec"] * 1e6 for r in rs)
            reqs = statistics.median(r["reqs"] for r in rs)
            kib = statistics.median(r["bytes"] / r["reqs"] / 1024 for r in rs)
            ref = ref_of(backend)
            if backend.startswith("ours"):
                ratio = "-"
            elif ref in per:
                ratio = "%.2fx" % (per[ref] / per[backend])
            else:
                ratio = "?"
            print("%-13s %-19s %4d %8d %7.0f %10.2f %8.1f %8.0f %9s" % (
                name, backend, len(rs), reqs, kib, per[backend], mbs, iops, ratio))
    print("(ours/qsd: median CPU time per request of ours (ours-direct for the -direct "
          "rows) divided by the row's; the goal is <= 0.80x)")
    return 0


def main():
    if len(sys.argv) == 5 and sys.argv[1] == "sample":
        return sample(sys.argv[2], int(sys.argv[3]), float(sys.argv[4]))
    if len(sys.argv) == 3 and sys.argv[1] == "summary":
        return summary(sys.argv[2])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
