"""What one list costs with many jobs queued (not part of slurm-test: it takes a few minutes).
    python3 Tests/slurm/scale.py LIBCDX_SLURM.so SLURM_CONF WORKDIR [JOBS]
Submits JOBS (default 1000) `sleep 600` containers from 8 threads, then times lists and counts
the Slurm commands each runs (shims in bin_dir log every call), then cancels them all."""
import concurrent.futures
import os
import statistics
import subprocess
import sys
import time
import uuid

sys.path.insert(0, os.path.dirname(__file__))
from backend import Plugin  # noqa: E402

lib, slurm_conf, work = sys.argv[1:4]
jobs = int(sys.argv[4]) if len(sys.argv) > 4 else 1000
shims, log = os.path.join(work, "bin"), os.path.join(work, "calls.log")
os.makedirs(shims, exist_ok=True)
for name in ("sbatch", "squeue", "scontrol", "scancel"):
    with open(os.path.join(shims, name), "w") as f:
        f.write(f'#!/bin/sh\necho {name} >> {log}\nexec /usr/bin/{name} "$@"\n')
    os.chmod(os.path.join(shims, name), 0o755)


def calls():
    with open(log) as f:
        return f.read().split()


b = Plugin(lib).open("scale", {"slurm_conf": slurm_conf, "work_dir": os.path.join(work, "jobs"), "bin_dir": shims})
t0 = time.monotonic()
with concurrent.futures.ThreadPoolExecutor(8) as pool:
    ids = list(pool.map(lambda i: b.submit({"command": ["sleep", "600"]}, "s-" + uuid.uuid4().hex[:12])["id"], range(jobs)))
took = time.monotonic() - t0
print(f"{jobs} submits from 8 threads: {took:.1f} s ({jobs / took:.0f}/s)")
times = []
for _ in range(5):
    n = len(calls())
    t0 = time.monotonic()
    listed = b.list()
    times.append(time.monotonic() - t0)
    cost = calls()[n:]
print(f"list of {len(listed)} jobs: median {statistics.median(times) * 1000:.0f} ms; Slurm commands per list: {cost}")
subprocess.run(["scancel", "--me"], env=dict(os.environ, SLURM_CONF=slurm_conf), check=False)
n = len(calls())
deadline = time.monotonic() + 300
while time.monotonic() < deadline:
    ended = [x for x in b.list() if x["state"] == "ended"]
    if len(ended) == jobs:
        break
    time.sleep(1)
print(f"after scancel: {len(ended)} ended, reasons {sorted(set(x['end_reason'] for x in ended))}; "
      f"calls to see them all end: {len(calls()) - n} (one squeue per list + one scontrol per newly ended job)")
n = len(calls())
t0 = time.monotonic()
b.list()
print(f"list of {jobs} ended (cached) jobs: {(time.monotonic() - t0) * 1000:.0f} ms, calls {calls()[n:]}")
