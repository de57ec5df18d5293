"""The slurm executor backend against a real throwaway cluster (support/test-slurm.sh).
    python3 Tests/slurm/test_slurm.py LIBCDX_SLURM.so SLURM_CONF WORKDIR
Each check prints one line; any failure exits non-zero. Polls list() with generous deadlines:
Slurm offers no completion event to wait on (jobs end on its ~1 s scheduling tick)."""
import concurrent.futures
import os
import statistics
import subprocess
import sys
import time
import uuid

sys.path.insert(0, os.path.dirname(__file__))
from backend import Plugin, BackendError, CDD_E_INVALID, CDD_E_NOT_FOUND, CDD_E_UNSUPPORTED  # noqa: E402

lib, slurm_conf, work = sys.argv[1:4]
env = dict(os.environ, SLURM_CONF=slurm_conf)
failures = []


def check(name, ok, detail=""):
    print(f"{'ok  ' if ok else 'FAIL'} {name}{': ' + str(detail) if detail and not ok else ''}", flush=True)
    if not ok:
        failures.append(name)


def squeue_names():
    out = subprocess.run(["squeue", "-h", "-t", "all", "-o", "%j"], env=env, capture_output=True, text=True, check=True)
    return out.stdout.split()


# Shims that count every Slurm command the backend runs (bin_dir), to measure a list's cost.
shims, calls_log = os.path.join(work, "bin"), os.path.join(work, "calls.log")
os.makedirs(shims, exist_ok=True)
for name in ("sbatch", "squeue", "scontrol", "scancel"):
    path = os.path.join(shims, name)
    with open(path, "w") as f:
        f.write(f'#!/bin/sh\necho {name} >> {calls_log}\nexec /usr/bin/{name} "$@"\n')
    os.chmod(path, 0o755)


def calls():
    try:
        with open(calls_log) as f:
            return f.read().split()
    except FileNotFoundError:
        return []


plugin = Plugin(lib)
check("capabilities", plugin.capabilities() == {"idempotent_submit": True, "images": True, "log_tail": True} and all(v is True for v in plugin.capabilities().values()))
config = {"slurm_conf": slurm_conf, "work_dir": os.path.join(work, "jobs"), "bin_dir": shims, "call_timeout_ms": 20000}
try:
    plugin.open("d1", dict(config, colour="blue"))
    check("unknown config key refused", False)
except BackendError as e:
    check("unknown config key refused, named", e.status == CDD_E_INVALID and "colour" in e.message, e)
b = plugin.open("d1", config)
other = plugin.open("d2", config)


def wait(backend, job_id, states=("ended",), deadline=120):
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        for job in backend.list():
            if job["id"] == job_id and job["state"] in states:
                return job
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} not {states} within {deadline} s")


def token():
    return "t-" + uuid.uuid4().hex[:12]


# Plain commands: exit codes, environment, cwd, output.
j = b.submit({"command": ["true"]}, token(), {"kind": "true"})
check("submit returns a pending job with our token, tags and partition",
      j["state"] in ("pending", "running") and j["tags"] == {"kind": "true"} and j["partition"] == "debug", j)
e = wait(b, j["id"])
check("true: ended, exited 0", (e["end_reason"], e["exit_code"]) == ("exited", 0), e)
check("ended job has times and where", e["ended_at"].endswith("Z") and e["where"] != "", e)
j = b.submit({"command": ["sh", "-c", "exit 3"]}, token())
e = wait(b, j["id"])
check("exit 3: exit_code 3", (e["end_reason"], e["exit_code"]) == ("exited", 3), e)
weird = "it's \"quoted\" $HOME `x` \\ ; | & *"
j = b.submit({"command": ["sh", "-c", 'printf "%s|%s|%s\\n" "$FOO" "$1" "$(pwd)"', "sh", weird],
              "environment": {"FOO": "b a'r"}, "cwd": "/tmp"}, token())
e = wait(b, j["id"])
tail = b.call("log_tail", {"id": j["id"], "max_bytes": 4096})["text"]
check("argv, environment and cwd arrive untouched; log_tail reads the output", tail == f"b a'r|{weird}|/tmp\n", repr(tail))
check("log_tail keeps the last bytes", b.call("log_tail", {"id": j["id"], "max_bytes": 5})["text"] == "/tmp\n")
j = b.submit({"command": ["env"], "environment": {"A.B": "x", "-n": "y", "PATH": "/usr/bin:/bin"}}, token())
wait(b, j["id"])
lines = b.call("log_tail", {"id": j["id"], "max_bytes": 65536})["text"].splitlines()
check("variables of any name arrive; the container's PATH finds the program", {"A.B=x", "-n=y", "PATH=/usr/bin:/bin"} <= set(lines),
      lines)
j = b.submit({"command": ["/no/such/program"]}, token())
e = wait(b, j["id"])
check("a missing program: failed_to_start", e["end_reason"] == "failed_to_start" and e["exit_code"] is None, e)
j = b.submit({"command": ["true"], "cwd": "/no/such/folder"}, token())
e = wait(b, j["id"])
check("a missing cwd: failed_to_start", e["end_reason"] == "failed_to_start" and "/no/such/folder" in e["message"], e)
try:
    b.submit({"command": ["true"], "image": "docker.io/library/alpine"}, token())
    check("an image without image_runtime refused", False)
except BackendError as err:
    check("an image without image_runtime: unsupported", err.status == CDD_E_UNSUPPORTED, err)

for bad, why in (({"command": ["true"], "vcpus": 9}, "more vCPUs than any node"),
                 ({"command": ["true"], "ram": 1 << 50}, "more memory than any node")):
    try:
        b.submit(bad, token())
        check(f"{why}: refused", False)
    except BackendError as err:
        check(f"{why}: invalid", err.status == CDD_E_INVALID, err)
try:
    b.submit({"command": ["true"]}, token(), partition="nosuch")
    check("an unknown partition refused", False)
except BackendError as err:
    check("an unknown partition: invalid", err.status == CDD_E_INVALID, err)

# A partition that is down cannot take a job now; its capacity is zero.
subprocess.run(["scontrol", "update", "PartitionName=debug", "State=DOWN"], env=env, check=True)
try:
    fresh = plugin.open("d1", config)
    free = fresh.call("capacity", {})["partitions"][0]["free_vcpus"]
    try:
        fresh.submit({"command": ["true"]}, token())
        check("a down partition refuses", False)
    except BackendError as err:
        check("a down partition: capacity_type, and no free vCPUs", err.status == 5 and free == 0, (err, free))
    fresh.close()
finally:
    subprocess.run(["scontrol", "update", "PartitionName=debug", "State=UP"], env=env, check=True)

# A Slurm command that hangs is killed at call_timeout_ms, with what it started.
hang = os.path.join(work, "hang")
os.makedirs(hang, exist_ok=True)
for name in ("sbatch", "squeue", "scontrol", "scancel"):
    with open(os.path.join(hang, name), "w") as f:
        f.write("#!/bin/sh\nsleep 1234\n")
    os.chmod(os.path.join(hang, name), 0o755)
hung = plugin.open("d1", dict(config, bin_dir=hang, call_timeout_ms=500))
t0 = time.monotonic()
try:
    hung.list()
    check("a hung squeue fails the list", False)
except BackendError as err:
    took = time.monotonic() - t0
    check("a hung squeue: transient within the call timeout", err.status == 9 and took < 3, (err, took))
hung.close()
check("nothing of the hung command is left", subprocess.run(["pgrep", "-f", "sleep 1234"]).returncode == 1)

# Containers with an image, through podman (when the test image exists: make podman-image).
image = os.environ.get("CLOUD_DISPATCH_TEST_PODMAN_IMAGE", "")
if image:
    pod = plugin.open("d1", dict(config, image_runtime="podman"))
    j = pod.submit({"command": ["sh", "-c", 'printf "%s|%s|%s\\n" "$FOO" "$1" "$(pwd)"; exit 4', "sh", weird], "image": image,
                    "environment": {"FOO": "b a'r"}, "cwd": "/tmp"}, token())
    e = wait(pod, j["id"])
    tail = pod.call("log_tail", {"id": j["id"], "max_bytes": 4096})["text"]
    check("podman: argv, environment, cwd and exit code come through", (e["end_reason"], e["exit_code"]) == ("exited", 4)
          and tail.endswith(f"b a'r|{weird}|/tmp\n"), (e, tail))
    j = pod.submit({"command": ["true"], "image": "localhost/no-such-image:1"}, token())
    e = wait(pod, j["id"])
    check("podman: a missing image is failed_to_start", e["end_reason"] == "failed_to_start" and "no-such-image" in e["message"], e)
    pod.close()
else:
    print("skip podman checks (CLOUD_DISPATCH_TEST_PODMAN_IMAGE unset)")

# Time limit.
j = b.submit({"command": ["sleep", "60"], "max_run_time": 2}, token())
e = wait(b, j["id"])
check("past max_run_time: timeout", e["end_reason"] == "timeout" and e["exit_code"] is None, e)

# Idempotency.
t = token()
first = b.submit({"command": ["sleep", "1"]}, t)
again = b.submit({"command": ["sleep", "1"]}, t)
check("a repeated token returns the same job", first["id"] == again["id"], (first, again))
check("and Slurm holds one job for it", squeue_names().count(f"cdx:d1:{t}") == 1)
with concurrent.futures.ThreadPoolExecutor(8) as pool:
    ids = set(pool.map(lambda _: b.submit({"command": ["sleep", "1"]}, t)["id"], range(8)))
check("8 concurrent repeats of the token: still one job", ids == {first["id"]}, ids)
n = len(calls())
t2 = token()
odd_tags = {"k": "a b|%é\n", "k2": ""}
crashed = b.submit({"command": ["sleep", "1"]}, t2, odd_tags)
check("a first submit costs one Slurm command (sbatch)", calls()[n:] == ["sbatch"], calls()[n:])
# A crash between sbatch and the records: the intent file is left, the records are not.
records = os.path.join(config["work_dir"], "d1", "records")
os.remove(os.path.join(records, f"token-{t2}"))
os.remove(os.path.join(records, f"job-{crashed['id']}.json"))
open(os.path.join(records, f"intent-{t2}"), "w").close()
n = len(calls())
healed = b.submit({"command": ["sleep", "1"]}, t2, odd_tags)
check("after a crash the token's job is found by name, not made again", healed["id"] == crashed["id"]
      and healed["tags"] == odd_tags and calls()[n:] == ["squeue"], (healed, calls()[n:]))
check("and its record is rebuilt", os.path.exists(os.path.join(records, f"job-{crashed['id']}.json")))
try:
    b.submit({"command": ["sleep", "1"], "uuid": "another"}, t)
    check("the token with another container refused", False)
except BackendError as err:
    check("the token with another container: invalid", err.status == CDD_E_INVALID, err)

# Cancel: ours, by hand, another dispatcher's.
j = b.submit({"command": ["sleep", "300"]}, token())
wait(b, j["id"], ("running",))
b.call("cancel", {"id": j["id"], "grace_ms": 1000})
e = wait(b, j["id"])
check("cancel of sleep 300: cancelled", e["end_reason"] == "cancelled", e)
check("cancel of an ended job: ok", b.call("cancel", {"id": j["id"], "grace_ms": 0}) == {})
j = b.submit({"command": ["sleep", "300"]}, token())
wait(b, j["id"], ("running",))
subprocess.run(["scancel", j["id"]], env=env, check=True)
e = wait(b, j["id"])
check("scancel by hand behind the backend's back: cancelled", e["end_reason"] == "cancelled", e)
try:
    other.call("cancel", {"id": j["id"], "grace_ms": 0})
    check("another dispatcher's job: not found", False)
except BackendError as err:
    check("cancel of another dispatcher's job: not found", err.status == CDD_E_NOT_FOUND, err)
check("another dispatcher lists none of ours", other.list() == [])

# Preemption: a job of the higher tier partition (urgent) takes the node from one of debug's.
low = b.submit({"command": ["sleep", "300"], "vcpus": 8}, token())
wait(b, low["id"], ("running",))
high = b.submit({"command": ["sleep", "1"], "vcpus": 8}, token(), partition="urgent")
e = wait(b, low["id"])
check("a job preempted by a higher tier: preempted", e["end_reason"] == "preempted" and e["exit_code"] is None, e)
e = wait(b, high["id"])
check("the preempting job ran in its partition", e["end_reason"] == "exited" and e["partition"] == "urgent", e)

# A node that fails under a running job: node_fail (Slurm does not requeue: --no-requeue).
node = subprocess.run(["hostname", "-s"], capture_output=True, text=True, check=True).stdout.strip()
j = b.submit({"command": ["sleep", "300"]}, token())
wait(b, j["id"], ("running",))
subprocess.run(["scontrol", "update", f"NodeName={node}", "State=DOWN", "Reason=slurm-test"], env=env, check=True)
try:
    e = wait(b, j["id"])
    check("the node failing under the job: node_fail", e["end_reason"] == "node_fail" and e["where"] == node, e)
finally:
    subprocess.run(["scontrol", "update", f"NodeName={node}", "State=RESUME"], env=env, capture_output=True)
    end = time.monotonic() + 60
    while time.monotonic() < end and subprocess.run(["sinfo", "-h", "-o", "%T"], env=env, capture_output=True,
                                                    text=True).stdout.strip() != "idle":
        time.sleep(0.2)

# Release: gone from list, the token still names its job.
t = token()
j = b.submit({"command": ["true"]}, t)
wait(b, j["id"])
b.call("release", {"ids": [j["id"], "999999"]})
check("a released job leaves list", all(x["id"] != j["id"] for x in b.list()))
check("its token still returns it", b.submit({"command": ["true"]}, t)["id"] == j["id"])
record = os.path.join(config["work_dir"], "d1", "records", f"job-{j['id']}.json")
old = time.time() - 3 * 86400
os.utime(record, (old, old))
plugin.open("d1", config).close()
check("a released record two days old is pruned at open", not os.path.exists(record)
      and not os.path.exists(os.path.join(config["work_dir"], "d1", f"job-{j['id']}.out")))

# 20 parallel submits, submit -> running latency, and what a list costs.
for x in b.list():
    if x["state"] == "ended":
        b.call("release", {"ids": [x["id"]]})
started = {}
with concurrent.futures.ThreadPoolExecutor(20) as pool:
    def go(i):
        t0 = time.monotonic()
        job = b.submit({"command": ["sleep", "2"]}, token(), {"batch": "p20"})
        return job["id"], t0
    submitted = dict(pool.map(go, range(20)))
check("20 parallel submits: 20 jobs", len(submitted) == 20)
running_at = {}
end = time.monotonic() + 180
while len(running_at) < 20 and time.monotonic() < end:
    for x in b.list({"batch": "p20"}):
        if x["id"] in submitted and x["state"] != "pending" and x["id"] not in running_at:
            running_at[x["id"]] = time.monotonic()
    time.sleep(0.05)
lat = sorted(running_at[i] - submitted[i] for i in running_at)
check("all 20 started", len(lat) == 20)
if lat:
    print(f"     submit->running latency over {len(lat)} jobs: median {statistics.median(lat):.2f} s, "
          f"p95 {lat[int(len(lat) * 0.95) - 1]:.2f} s, max {lat[-1]:.2f} s (8 advertised CPUs, 2 real)")
ends = [wait(b, i) for i in submitted]
check("all 20 exited 0", all((x["end_reason"], x["exit_code"]) == ("exited", 0) for x in ends))
# One at a time on an idle cluster: the latency a lone container sees.
alone = []
for _ in range(20):
    t0 = time.monotonic()
    i = b.submit({"command": ["sleep", "1"]}, token(), {"batch": "alone"})["id"]
    while all(x["id"] != i or x["state"] == "pending" for x in b.list({"batch": "alone"})):
        time.sleep(0.02)
    alone.append(time.monotonic() - t0)
    wait(b, i)
alone.sort()
print(f"     submit->running, one job at a time: median {statistics.median(alone):.2f} s, p95 {alone[18]:.2f} s, "
      f"max {alone[-1]:.2f} s")
for x in b.list():
    if x["state"] == "ended":
        b.call("release", {"ids": [x["id"]]})
before = len(calls())
b.list()
steady = calls()[before:]
check("a steady list costs one squeue", steady == ["squeue"], steady)
j = b.submit({"command": ["true"]}, token())
wait(b, j["id"], ("ended",))
n = len(calls())
b.list()
check("a list after the end is cached: one squeue", calls()[n:] == ["squeue"], calls()[n:])

# Capacity.
parts = {p["name"]: p for p in b.call("capacity", {})["partitions"]}
p = parts.get("debug", {})
check("capacity: both partitions, sane numbers", sorted(parts) == ["debug", "urgent"] and p["total_vcpus"] == 8
      and 0 <= p["free_vcpus"] <= 8 and p["max_job_vcpus"] == 8 and 0 < p["free_ram"] <= p["total_ram"] == p["max_job_ram"]
      and p["max_run_time"] == 0 and parts["urgent"]["max_run_time"] == 3600, parts)
only = plugin.open("d1", dict(config, partition="urgent"))
check("capacity with a configured partition: only it", [x["name"] for x in only.call("capacity", {})["partitions"]] == ["urgent"])
only.close()

b.close()
try:
    b.list()
    check("a closed backend refuses", False)
except BackendError as err:
    check("a closed backend refuses: invalid", err.status == CDD_E_INVALID, err)
other.close()
print(f"{len(failures)} failed" if failures else "all passed")
sys.exit(1 if failures else 0)
