"""The local executor backend (libcdx_local.so) against a real cloud-dispatch-runner.

    python3 Tests/local/test_local.py LIBCDX_LOCAL.so CLOUD-DISPATCH-RUNNER

Each check loads nothing but the library and the runner; jobs are real processes. Waiting for a
job to end polls `list` with a generous deadline (the runner offers no event to wait for).
Prints one line per check and "N passed, M failed"; exits 1 when any failed.
"""
import ctypes
import fcntl
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cdx  # noqa: E402

GIB = 1 << 30
DEADLINE = 60.0


def container(command, uuid, **extra):
    c = {"uuid": uuid, "command": command, "image": "", "environment": {}, "cwd": "", "vcpus": 1, "ram": 64 << 20,
         "max_run_time": 0}
    c.update(extra)
    return c


class Harness:
    def __init__(self, lib, runner):
        self.lib, self.runner = lib, runner
        self.tmp = tempfile.mkdtemp(prefix="cdx-local-test-")
        self.plugin = cdx.Plugin(lib)
        self.count = 0

    def config(self, state="state", **extra):
        c = {"runner": self.runner, "state_dir": os.path.join(self.tmp, state), "vcpus": 4, "ram": 4 * GIB,
             "call_timeout_ms": 20000}
        c.update(extra)
        return c

    def open(self, dispatcher="d1", **extra):
        return self.plugin.open(dispatcher, self.config(**extra))

    def submit(self, backend, command, token=None, tags=None, **extra):
        self.count += 1
        uuid = extra.pop("uuid", f"ctr-test{self.count:04d}")
        request = {"container": container(command, uuid, **extra), "partition": "local",
                   "idempotency_token": token or f"tok-{self.count}-{os.getpid()}", "tags": tags or {"t": "1"}}
        return backend.call("submit", request)["job"]

    def job(self, backend, job_id):
        jobs = [j for j in backend.call("list", {"tags": {}})["jobs"] if j["id"] == job_id]
        return jobs[0] if jobs else None

    def wait_ended(self, backend, job_id):
        deadline = time.monotonic() + DEADLINE
        while time.monotonic() < deadline:
            job = self.job(backend, job_id)
            if job and job["state"] == "ended":
                return job
            time.sleep(0.05)
        raise AssertionError(f"job {job_id} did not end within {DEADLINE} s: {self.job(backend, job_id)}")

    def wait_file(self, path):
        deadline = time.monotonic() + DEADLINE
        while time.monotonic() < deadline:
            if os.path.exists(path) and open(path).read().strip():
                return open(path).read().strip()
            time.sleep(0.02)
        raise AssertionError(f"{path} never appeared")

    def free(self, backend):
        p = backend.call("capacity", {})["partitions"]
        assert len(p) == 1 and p[0]["name"] == "local", p
        return p[0]["free_vcpus"], p[0]["free_ram"]

    def pid_script(self, name):
        path = os.path.join(self.tmp, name)
        return path, ["sh", "-c", f'echo $$ > {path}; exec sleep 300']


def expect_failure(status, call, *args, **kwargs):
    try:
        call(*args, **kwargs)
    except cdx.Failure as f:
        assert f.status == status, f"expected status {status}, got {f}"
        return f.message
    raise AssertionError(f"expected status {status}, the call succeeded")


def wait_unlocked(path):
    """Until nobody holds the flock on `path` (the runner's supervisor holds it while it lives)."""
    deadline = time.monotonic() + DEADLINE
    with open(path) as f:
        while time.monotonic() < deadline:
            try:
                fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
                fcntl.flock(f, fcntl.LOCK_UN)
                return
            except BlockingIOError:
                time.sleep(0.02)
    raise AssertionError(f"{path} stayed locked")


def gone(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    # a zombie counts as gone
    with open(f"/proc/{pid}/stat") as f:
        return f.read().split(")")[-1].split()[0] == "Z"


# ---- the checks ----

def check_exit_codes(h):
    b = h.open()
    ok = h.wait_ended(b, h.submit(b, ["true"])["id"])
    assert (ok["end_reason"], ok["exit_code"]) == ("exited", 0), ok
    three = h.wait_ended(b, h.submit(b, ["sh", "-c", "exit 3"])["id"])
    assert (three["end_reason"], three["exit_code"]) == ("exited", 3), three
    assert ok["started_at"] and ok["ended_at"] and ok["submitted_at"] and ok["where"], ok
    missing = h.wait_ended(b, h.submit(b, ["/nonexistent/program"])["id"])
    assert missing["end_reason"] == "failed_to_start" and missing["exit_code"] is None and missing["message"], missing
    b.close()


def check_capacity_while_running(h):
    b = h.open()
    before = h.free(b)
    assert before == (4, 4 * GIB), before
    job = h.submit(b, ["sleep", "300"], vcpus=2, ram=GIB)
    assert job["state"] == "running", job
    assert h.free(b) == (2, 3 * GIB), h.free(b)
    b.call("release", {"ids": [job["id"]]})  # still running: left alone
    assert h.job(b, job["id"])["state"] == "running"
    b.call("cancel", {"id": job["id"], "grace_ms": 2000})
    ended = h.wait_ended(b, job["id"])
    assert ended["end_reason"] == "cancelled" and ended["exit_code"] is None, ended
    assert h.free(b) == before, h.free(b)
    b.close()


def check_beyond_capacity(h):
    b = h.open()
    big = h.submit(b, ["sleep", "300"], vcpus=3)
    message = expect_failure(cdx.CDD_E_CAPACITY_TYPE, h.submit, b, ["true"], vcpus=2)
    assert "free" in message, message
    expect_failure(cdx.CDD_E_CAPACITY_TYPE, h.submit, b, ["true"], ram=4 * GIB)
    expect_failure(cdx.CDD_E_INVALID, h.submit, b, ["true"], vcpus=5)
    expect_failure(cdx.CDD_E_INVALID, h.submit, b, ["true"], ram=5 * GIB)
    b.call("cancel", {"id": big["id"], "grace_ms": 0})
    h.wait_ended(b, big["id"])
    h.wait_ended(b, h.submit(b, ["true"], vcpus=2)["id"])
    b.close()


def check_idempotent(h):
    b = h.open()
    marks = os.path.join(h.tmp, "idempotent-runs")
    request = {"container": container(["sh", "-c", f"echo run >> {marks}"], "ctr-idem1"), "partition": "local",
               "idempotency_token": "idem-1", "tags": {"t": "1"}}
    first = b.call("submit", request)["job"]
    again = b.call("submit", request)["job"]
    assert first["id"] == again["id"], (first, again)
    h.wait_ended(b, first["id"])
    third = b.call("submit", request)["job"]
    assert third["id"] == first["id"] and third["state"] == "ended", third
    assert open(marks).read() == "run\n", "the job ran more than once"
    same = [j for j in b.call("list", {})["jobs"] if j["idempotency_token"] == "idem-1"]
    assert len(same) == 1, same
    other = dict(request, container=container(["true"], "ctr-idem2"))
    expect_failure(cdx.CDD_E_INVALID, b.call, "submit", other)
    # released: the token still names the job, which does not run again
    b.call("release", {"ids": [first["id"]]})
    assert h.job(b, first["id"]) is None
    fourth = b.call("submit", request)["job"]
    assert fourth["id"] == first["id"] and fourth["state"] == "ended" and fourth["exit_code"] == 0, fourth
    assert open(marks).read() == "run\n", "a released job ran again"
    expect_failure(cdx.CDD_E_NOT_FOUND, b.call, "log_tail", {"id": first["id"], "max_bytes": 100})
    b.call("cancel", {"id": first["id"], "grace_ms": 0})  # released counts as cancelled: OK
    b.close()


def check_cancel(h):
    b = h.open()
    pidfile, command = h.pid_script("cancel.pid")
    job = h.submit(b, command)
    pid = int(h.wait_file(pidfile))
    b.call("cancel", {"id": job["id"], "grace_ms": 5000})
    ended = h.wait_ended(b, job["id"])
    assert ended["end_reason"] == "cancelled", ended
    assert gone(pid), f"process {pid} still runs after cancel"
    b.call("cancel", {"id": job["id"], "grace_ms": 0})  # ended: OK
    expect_failure(cdx.CDD_E_NOT_FOUND, b.call, "cancel", {"id": "ctr-nothing-0123456789abcdef", "grace_ms": 0})
    b.close()


def check_cancel_escalates(h):
    """A process that ignores TERM gets KILL once the grace is over, on a later call."""
    b = h.open()
    pidfile = os.path.join(h.tmp, "stubborn.pid")
    job = h.submit(b, ["sh", "-c", f"trap '' TERM; echo $$ > {pidfile}; while :; do sleep 1; done"])
    pid = int(h.wait_file(pidfile))
    start = time.monotonic()
    b.call("cancel", {"id": job["id"], "grace_ms": 6000})
    assert time.monotonic() - start < 4.5, "cancel waited for the grace"
    assert h.job(b, job["id"])["state"] == "running" and not gone(pid), "KILL came before the grace was over"
    b.call("cancel", {"id": job["id"], "grace_ms": 0})  # a repeat shortens the grace: KILL now
    ended = h.job(b, job["id"])
    assert ended["state"] == "ended" and ended["end_reason"] == "cancelled" and gone(pid), ended
    assert time.monotonic() - start < 6, "the second cancel did not shorten the grace"
    # a job that ended by itself keeps its end when a cancel comes after
    done = h.submit(b, ["sh", "-c", "exit 5"])
    result = os.path.join(h.tmp, "state", "d1", "runner", done["id"] + ".result.json")
    h.wait_file(result)  # ended in the runner, not yet seen by the backend:
    wait_unlocked(result.replace(".result.json", ".lock"))  # and its supervisor is gone
    b.call("cancel", {"id": done["id"], "grace_ms": 0})
    ended = h.wait_ended(b, done["id"])
    assert (ended["end_reason"], ended["exit_code"]) == ("exited", 5), ended
    b.close()


def check_killed_behind_back(h):
    b = h.open()
    pidfile, command = h.pid_script("victim.pid")
    job = h.submit(b, command)
    pid = int(h.wait_file(pidfile))
    os.kill(pid, signal.SIGKILL)
    ended = h.wait_ended(b, job["id"])
    assert ended["end_reason"] == "cancelled" and "signal 9" in ended["message"], ended
    # the runner's supervisor killed: nobody knows how it ends
    pidfile, command = h.pid_script("orphan.pid")
    job = h.submit(b, command)
    pid = int(h.wait_file(pidfile))
    lock = json.load(open(os.path.join(h.tmp, "state", "d1", "runner", job["id"] + ".lock")))
    os.kill(lock["pid"], signal.SIGKILL)
    ended = h.wait_ended(b, job["id"])
    assert ended["end_reason"] == "lost" and "processes killed" in ended["message"], ended
    deadline = time.monotonic() + DEADLINE
    while not gone(pid) and time.monotonic() < deadline:  # SIGKILL is sent; its delivery is not instant
        time.sleep(0.02)
    assert gone(pid), "a job reported lost runs on"
    b.close()


def check_timeout(h):
    b = h.open()
    ended = h.wait_ended(b, h.submit(b, ["sleep", "300"], max_run_time=1)["id"])
    assert ended["end_reason"] == "timeout" and "max_run_time" in ended["message"], ended
    b.close()


def check_parallel(h):
    """8 threads submit at once: every one answered, and the capacity lock lets exactly 4 of
    8 one-vCPU jobs in (4 vCPUs); then 8 short jobs on 8 vCPUs all run."""
    b = h.open()
    results = [None] * 8

    def submit(i, command, backend):
        try:
            results[i] = h.submit(backend, command, token=f"par-{i}-{time.time_ns()}", uuid=f"ctr-par{i}")
        except cdx.Failure as f:
            results[i] = f

    threads = [threading.Thread(target=submit, args=(i, ["sleep", "300"], b)) for i in range(8)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    started = [r for r in results if isinstance(r, dict)]
    refused = [r for r in results if isinstance(r, cdx.Failure)]
    assert len(started) == 4 and len(refused) == 4, results
    assert all(r.status == cdx.CDD_E_CAPACITY_TYPE for r in refused), refused
    assert len({j["id"] for j in started}) == 4
    for j in started:
        b.call("cancel", {"id": j["id"], "grace_ms": 0})
    for j in started:
        h.wait_ended(b, j["id"])
    wide = h.plugin.open("wide", h.config(state="state-wide", vcpus=8))
    threads = [threading.Thread(target=submit, args=(i, ["true"], wide)) for i in range(8)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert all(isinstance(r, dict) for r in results), results
    for j in results:
        assert h.wait_ended(wide, j["id"])["exit_code"] == 0
    b.close()
    wide.close()


PEER = """
import json, sys
sys.path.insert(0, sys.argv[1])
import cdx
b = cdx.Plugin(sys.argv[2]).open(sys.argv[3], json.loads(sys.argv[4]))
print(json.dumps({"jobs": b.call("list", {})["jobs"], "capacity": b.call("capacity", {})}))
b.close()
"""


def check_second_process(h):
    b = h.open()
    job = h.submit(b, ["sleep", "300"], vcpus=3, tags={"t": "1", "peer": "yes"})
    out = subprocess.run([sys.executable, "-B", "-c", PEER, os.path.dirname(os.path.abspath(__file__)), h.lib, "d1",
                          json.dumps(h.config())], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    seen = json.loads(out.stdout)
    theirs = {j["id"]: j for j in seen["jobs"]}
    ours = {j["id"]: j for j in b.call("list", {})["jobs"]}
    assert theirs.keys() == ours.keys(), (theirs.keys(), ours.keys())
    assert theirs[job["id"]]["state"] == "running", theirs[job["id"]]
    assert seen["capacity"]["partitions"][0]["free_vcpus"] == 1, seen["capacity"]
    # another dispatcher in the same state folder: shares the capacity, not the jobs
    other = h.open("d2")
    assert h.free(other)[0] == 1
    assert job["id"] not in {j["id"] for j in other.call("list", {})["jobs"]}
    expect_failure(cdx.CDD_E_NOT_FOUND, other.call, "cancel", {"id": job["id"], "grace_ms": 0})
    assert h.job(b, job["id"])["state"] == "running"
    assert [j["id"] for j in b.call("list", {"tags": {"peer": "yes"}})["jobs"]] == [job["id"]]
    b.call("cancel", {"id": job["id"], "grace_ms": 0})
    h.wait_ended(b, job["id"])
    other.close()
    b.close()


SUBMITTER = """
import json, sys
sys.path.insert(0, sys.argv[1])
import cdx
b = cdx.Plugin(sys.argv[2]).open(sys.argv[3], json.loads(sys.argv[4]))
request = {"container": {"uuid": "ctr-gone1", "command": ["sleep", "300"], "image": "", "environment": {}, "cwd": "",
           "vcpus": 1, "ram": 1, "max_run_time": 0}, "partition": "local", "idempotency_token": "gone-1", "tags": {}}
print(json.dumps(b.call("submit", request)["job"]))
b.close()
"""


def check_survives_submitter_exit(h):
    """The process that submitted ends (a daemon restart): the job runs on and is found again."""
    out = subprocess.run([sys.executable, "-B", "-c", SUBMITTER, os.path.dirname(os.path.abspath(__file__)), h.lib, "d1",
                          json.dumps(h.config())], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    job = json.loads(out.stdout)
    b = h.open()
    assert h.job(b, job["id"])["state"] == "running", h.job(b, job["id"])
    b.call("cancel", {"id": job["id"], "grace_ms": 0})
    assert h.wait_ended(b, job["id"])["end_reason"] == "cancelled"
    b.close()


def check_start_after_lost_answer(h):
    """The runner fails after the record is written: the submit fails (transient), the job is
    pending and counted; the token's next submit starts it, once."""
    flag = os.path.join(h.tmp, "runner-fails")
    wrapper = os.path.join(h.tmp, "flaky-runner")
    with open(wrapper, "w") as f:
        f.write(f"""#!/bin/sh
if [ -e '{flag}' ]; then for a; do [ "$a" = --detach ] && {{ echo 'flaky runner: not now' >&2; exit 1; }}; done; fi
exec '{h.runner}' "$@"
""")
    os.chmod(wrapper, 0o755)
    b = h.plugin.open("d1", h.config(runner=wrapper))
    open(flag, "w").close()
    marks = os.path.join(h.tmp, "lost-answer-runs")
    request = {"container": container(["sh", "-c", f"echo run >> {marks}; exec sleep 300"], "ctr-lost1", vcpus=2),
               "partition": "local", "idempotency_token": "lost-1", "tags": {}}
    message = expect_failure(cdx.CDD_E_TRANSIENT, b.call, "submit", request)
    assert "not now" in message, message
    pending = [j for j in b.call("list", {})["jobs"] if j["idempotency_token"] == "lost-1"]
    assert len(pending) == 1 and pending[0]["state"] == "pending", pending
    assert h.free(b)[0] == 2, h.free(b)
    os.unlink(flag)
    job = b.call("submit", request)["job"]
    assert job["id"] == pending[0]["id"] and job["state"] == "running", job
    assert b.call("submit", request)["job"]["id"] == job["id"]
    h.wait_file(marks)
    b.call("cancel", {"id": job["id"], "grace_ms": 0})
    h.wait_ended(b, job["id"])
    assert open(marks).read() == "run\n"
    b.close()


def check_environment_and_cwd(h):
    os.environ["CDX_TEST_SECRET"] = "s3cret"  # the host's environment must not reach the job
    b = h.open()
    work = os.path.join(h.tmp, "work dir")
    os.makedirs(work)
    job = h.submit(b, ["sh", "-c", 'echo "foo=$FOO|cwd=$(pwd)|secret=$CDX_TEST_SECRET|"'],
                   environment={"FOO": "bar baz"}, cwd=work)
    ended = h.wait_ended(b, job["id"])
    assert ended["exit_code"] == 0, ended
    text = b.call("log_tail", {"id": job["id"], "max_bytes": 4096})["text"]
    assert f"foo=bar baz|cwd={work}|secret=|" in text, text
    tail = b.call("log_tail", {"id": job["id"], "max_bytes": 5})["text"]
    assert tail == "et=|\n", tail
    assert b.call("log_tail", {"id": job["id"], "max_bytes": 0})["text"] == ""
    b.close()


def check_log_tail_utf8(h):
    """Every cut of a log with multi-byte characters is valid UTF-8, a suffix, within max_bytes;
    a byte that is not UTF-8 comes back as '?'."""
    b = h.open()
    job = h.submit(b, ["printf", "a\u00e9\u20ac\U0001F600z\n"])
    full = "a\u00e9\u20ac\U0001F600z\n"
    h.wait_ended(b, job["id"])
    for n in range(0, len(full.encode()) + 2):
        text = b.call("log_tail", {"id": job["id"], "max_bytes": n})["text"]
        assert full.endswith(text) and len(text.encode()) <= n, (n, text)
        assert len(text.encode()) >= n - 3 or text == full, (n, text)
    job = h.submit(b, ["printf", "ok\\377ok"])
    h.wait_ended(b, job["id"])
    assert b.call("log_tail", {"id": job["id"], "max_bytes": 100})["text"] == "ok?ok"
    b.close()


def check_contract_edges(h):
    caps = h.plugin.capabilities()
    assert caps == {"idempotent_submit": True, "images": True, "log_tail": True} and all(v is True for v in caps.values()), caps
    message = expect_failure(cdx.CDD_E_INVALID, h.plugin.open, "d1", dict(h.config(), colour="red"))
    assert "colour" in message, message
    expect_failure(cdx.CDD_E_INVALID, h.plugin.open, "d1", {"state_dir": h.tmp})
    message = expect_failure(cdx.CDD_E_INVALID, h.plugin.open, "d1", dict(h.config(), runner="/bin/true"))
    assert "config.runner" in message, message
    expect_failure(cdx.CDD_E_INVALID, h.plugin.open, "d1", dict(h.config(), vcpus=0))
    expect_failure(cdx.CDD_E_INVALID, h.plugin.open, "d1", dict(h.config(), runtime="lxc"))
    expect_failure(cdx.CDD_E_INVALID, h.plugin.open, "../x", h.config())
    b = h.open()
    expect_failure(cdx.CDD_E_UNSUPPORTED, h.submit, b, ["true"], image="localhost/x:1")
    expect_failure(cdx.CDD_E_INVALID, b.call, "submit", {"container": container(["true"], "u"), "partition": "gpu",
                                                         "idempotency_token": "p1", "tags": {}})
    expect_failure(cdx.CDD_E_INVALID, b.call, "list", "not json")
    expect_failure(cdx.CDD_E_INVALID, b.call, "log_tail", {"id": "x", "max_bytes": 2 << 20})
    b.call("release", {"ids": ["unknown-0123456789abcdef"]})
    table, out = h.plugin.table, ctypes.c_void_p()
    for op in cdx.OPS:  # NULL request, NULL reply pointer, NULL backend: invalid; a NULL err is allowed
        assert getattr(table, op)(b.handle, None, ctypes.byref(out), None) == cdx.CDD_E_INVALID and not out.value, op
        assert getattr(table, op)(b.handle, b"{}", None, None) == cdx.CDD_E_INVALID, op
        assert getattr(table, op)(None, b"{}", ctypes.byref(out), None) == cdx.CDD_E_INVALID, op
    assert table.capabilities(table.executor_ctx, None, None) == cdx.CDD_E_INVALID
    assert table.open_backend(table.executor_ctx, b"d1", b"{}", None, None) == cdx.CDD_E_INVALID
    table.free_string(table.executor_ctx, None)
    assert h.plugin.lib.cdx_negotiate(ctypes.c_uint32(2 << 16), ctypes.byref(ctypes.c_uint32())) == cdx.CDD_E_ABI
    assert h.plugin.lib.cdx_negotiate(ctypes.c_uint32(cdx.ABI_VERSION), None) == cdx.CDD_E_ABI
    b.close()
    expect_failure(cdx.CDD_E_INVALID, b.call, "list", {})
    b.close()  # a second close does nothing
    h.plugin.table.close_backend(None)


def check_podman_image(h):
    """With CLOUD_DISPATCH_TEST_PODMAN_IMAGE (make podman-image): runtime podman runs the image."""
    image = os.environ.get("CLOUD_DISPATCH_TEST_PODMAN_IMAGE")
    if not image:
        return "skipped: CLOUD_DISPATCH_TEST_PODMAN_IMAGE is not set"
    b = h.open("pod", state="state-podman", runtime="podman")
    job = h.submit(b, ["sh", "-c", 'echo "foo=$FOO|cwd=$(pwd)|"; exit 4'], image=image, environment={"FOO": "bar"}, cwd="/")
    ended = h.wait_ended(b, job["id"])
    assert (ended["end_reason"], ended["exit_code"]) == ("exited", 4), ended
    assert "foo=bar|cwd=/|" in b.call("log_tail", {"id": job["id"], "max_bytes": 1000})["text"]
    job = h.submit(b, ["sleep", "300"], image=image)
    start = time.monotonic()  # right after the submit: podman may still create the container
    b.call("cancel", {"id": job["id"], "grace_ms": 30000})
    assert h.wait_ended(b, job["id"])["end_reason"] == "cancelled"
    assert time.monotonic() - start < 25, "TERM was lost: it took the KILL after the grace"
    # the supervisor killed: lost, and neither the container nor podman's client runs on
    job = h.submit(b, ["sleep", "300"], image=image)
    lock_path = os.path.join(h.tmp, "state-podman", "pod", "runner", job["id"] + ".lock")
    deadline = time.monotonic() + DEADLINE
    while json.load(open(lock_path))["pgid"] == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    lock = json.load(open(lock_path))
    os.kill(lock["pid"], signal.SIGKILL)
    ended = h.wait_ended(b, job["id"])
    assert ended["end_reason"] == "lost" and "container removed" in ended["message"], ended
    names = subprocess.run(["podman", "ps", "-a", "--format", "{{.Names}}"], capture_output=True, text=True, timeout=120).stdout
    assert "cdd-" + job["id"] not in names.split(), (names, ended["message"])
    b.call("release", {"ids": [j["id"] for j in b.call("list", {})["jobs"]]})
    assert b.call("list", {})["jobs"] == []
    b.close()


CHECKS = [check_contract_edges, check_exit_codes, check_capacity_while_running, check_beyond_capacity,
          check_idempotent, check_cancel, check_cancel_escalates, check_killed_behind_back, check_timeout,
          check_parallel, check_second_process, check_survives_submitter_exit, check_start_after_lost_answer,
          check_environment_and_cwd, check_log_tail_utf8, check_podman_image]


def main():
    lib, runner = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    h = Harness(lib, runner)
    only = sys.argv[3:]
    passed = failed = 0
    for check in CHECKS:
        if only and check.__name__ not in only:
            continue
        start = time.monotonic()
        try:
            skipped = check(h)
            passed += not skipped
            print(f"{'skip' if skipped else 'ok'}   {check.__name__} ({skipped or f'{time.monotonic() - start:.1f} s'})")
        except Exception:
            failed += 1
            print(f"FAIL {check.__name__}")
            traceback.print_exc()
            print("  backend log:", *h.plugin.logs[-5:], sep="\n    ")
    for level, line in h.plugin.logs:
        print(f"  backend log [{level}]: {line}")
    print(f"local-exec-test: {passed} passed, {failed} failed" + (f" (state kept in {h.tmp})" if failed else ""))
    if not failed:
        shutil.rmtree(h.tmp, ignore_errors=True)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
