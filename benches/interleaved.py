#!/usr/bin/env python3
"""`up -d` and `down -t 0` of 50 containers, binaries interleaved run by run.

hyperfine times one command's runs in a block; when two binaries differ by
less than the machine's drift, interleaving them run by run (with a quiet
pause between runs) tells a real change from the order of the blocks.

  benches/compare.sh first (it writes $BENCH_DIR/s50.yaml), then
  RUNS=20 benches/interleaved.py before=/path/old/stack after=target/release/stack
"""
import os
import statistics
import subprocess
import sys
import time

work = os.environ.get("BENCH_DIR", "/tmp/stack-bench-compare")
os.environ.setdefault("STACK_STATE_DIR", f"{work}/state")
os.environ.setdefault("STACK_RUN_DIR", f"{work}/run")
bins = dict(a.split("=", 1) for a in sys.argv[1:])
runs = int(os.environ.get("RUNS", "20"))
times = {k: {"up": [], "down": []} for k in bins}


def timed(cmd):
    t = time.perf_counter()
    subprocess.run(cmd, cwd=work, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return (time.perf_counter() - t) * 1000


for _ in range(runs):
    for name, path in bins.items():
        for op, args in (("up", ["up", "-d"]), ("down", ["down", "-t", "0"])):
            times[name][op].append(timed([path, "-f", "s50.yaml", "-p", f"il{name}", *args]))
            time.sleep(0.3)
for name in bins:
    for op in ("up", "down"):
        v = times[name][op]
        print(f"{name:8} {op:5} mean {statistics.mean(v):6.1f} ms  median {statistics.median(v):6.1f}  sd {statistics.stdev(v):5.1f}")
