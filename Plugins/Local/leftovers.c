/* What a killed runner supervisor leaves running: its container's process group (a plain
 * process, or the runtime's client), and the container inside podman or docker. The runner's
 * `--kill` acts only on live records (docs/runner.md), so for a stale one the backend stops the
 * rest itself, from the lock file's pgid and runtime: a job reported lost must not run on
 * beside the run the host starts next. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "local.h"

/* When the machine booted (seconds since the epoch), 0 when unknown. */
static double boot_time(void) {
    char *stat = local_read_file("/proc/stat", 1 << 20, NULL);
    const char *line = stat ? strstr(stat, "\nbtime ") : NULL;
    double btime = line ? strtod(line + 7, NULL) : 0;
    free(stat);
    return btime;
}

/* 1 when `pgid` is a live process that leads its own group and started within 2 s of
 * `started_at`: the container's main process, not a later process that got the same id. */
static int is_leader_started_at(pid_t pgid, double started_at) {
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pgid);
    char *stat = local_read_file(path, 4096, NULL);
    const char *end = stat ? strrchr(stat, ')') : NULL; /* the command name may hold spaces */
    long long field[20] = {0};
    int n = 0;
    char state = 0;
    if (end && sscanf(end + 1, " %c", &state) == 1) {
        const char *p = end + 3;
        for (; n < 20 && *p; n++) {
            char *next;
            field[n] = strtoll(p, &next, 10);
            if (next == p) break;
            p = next;
        }
    }
    free(stat);
    /* after the state: ppid, pgrp, ... starttime is the 19th number (clock ticks since boot) */
    if (n < 19 || state == 'Z' || field[1] != pgid) return 0;
    double started = boot_time() + (double)field[18] / (double)sysconf(_SC_CLK_TCK);
    return started - started_at < 2.0 && started_at - started < 2.0;
}

const char *local_kill_leftovers(cdx_backend *b, const char *dir, const char *id) {
    char *path = local_printf("%s/runner/%s.lock", dir, id);
    char *text = path ? local_read_file(path, 1 << 16, NULL) : NULL;
    json_t *lock = text ? json_loads(text, 0, NULL) : NULL;
    free(path);
    free(text);
    json_t *pgid = json_object_get(lock, "pgid");
    json_t *started = json_object_get(lock, "started_at");
    const char *runtime = json_string_value(json_object_get(lock, "runtime"));
    /* The client first: killed, it creates nothing more; then what it did create. */
    int killed = json_is_integer(pgid) && json_integer_value(pgid) > 1 && json_is_number(started) &&
                 is_leader_started_at((pid_t)json_integer_value(pgid), json_number_value(started)) &&
                 killpg((pid_t)json_integer_value(pgid), SIGKILL) == 0;
    for (double until = local_monotonic() + 2; killed && local_monotonic() < until;) {
        if (!is_leader_started_at((pid_t)json_integer_value(pgid), json_number_value(started))) break;
        usleep(10000); /* KILL is sent; the runtime must not be asked before its client is gone */
    }
    const char *note = killed ? "; its processes killed" : "";
    if (runtime && runtime[0] == '/') {
        char name[128];
        snprintf(name, sizeof name, "cdd-%s", id);
        const char *argv[] = {runtime, "rm", "--force", name, NULL};
        local_run run;
        if (local_run_program(b, argv, NULL, &run) == 0 && run.exit_code == 0)
            note = killed ? "; its runtime client killed, its container removed" : "; its container removed";
        else local_log(b, CDD_LOG_DEBUG, "job %s: %s rm --force %s: %.300s", id, runtime, name, run.err ? run.err : "failed");
        local_run_free(&run);
    }
    json_decref(lock);
    return note;
}
