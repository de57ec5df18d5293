/* Job records brought up to date from the runner: which jobs run, how the ended ones ended
 * (the runner's result mapped onto the ABI's end reasons), cancels escalated past their grace,
 * pending jobs started. Called under the state folder's lock. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "local.h"

static double number(json_t *record, const char *key) {
    json_t *v = json_object_get(record, key);
    return json_is_number(v) ? json_number_value(v) : 0;
}

const char *local_state(json_t *record) {
    if (local_flag(record, "ended")) return "ended";
    return local_flag(record, "detached") ? "running" : "pending";
}

/* At most CDX_MAX_MESSAGE characters (1000 bytes are fewer), valid UTF-8 (stderr may not be). */
static void set_message(json_t *record, const char *text) {
    size_t len = text ? strlen(text) : 0;
    char *clean = local_utf8_tail(text ? text : "", len, len);
    size_t keep = clean ? strlen(clean) : 0;
    if (keep > 1000) keep = 1000;
    while (clean && keep > 0 && ((unsigned char)clean[keep] & 0xC0) == 0x80) keep--;
    while (keep > 0 && clean[keep - 1] == '\n') keep--;
    json_object_set_new(record, "message", json_stringn(clean ? clean : "", keep));
    free(clean);
}

static void settle(json_t *record, const char *reason, json_t *exit_code, const char *message, double started, double ended) {
    json_object_set_new(record, "ended", json_true());
    json_object_set_new(record, "end_reason", json_string(reason));
    json_object_set_new(record, "exit_code", exit_code ? exit_code : json_null());
    set_message(record, message);
    if (started > 0) json_object_set_new(record, "started_at", json_real(started));
    json_object_set_new(record, "ended_at", json_real(ended > 0 ? ended : local_now()));
}

/* A signal somebody else sends to stop a process; a crash's (SEGV, ABRT) is the command's own. */
static int stop_signal(json_int_t signal) { return signal == 1 || signal == 2 || signal == 3 || signal == 9 || signal == 15; }

/* The runner's result ({"exit_code","signal","reason","started_at","finished_at"}) as an end. */
static void settle_from_result(json_t *record, json_t *result) {
    json_t *code = json_object_get(result, "exit_code");
    json_t *signal = json_object_get(result, "signal");
    const char *reason = json_string_value(json_object_get(result, "reason"));
    double started = number(result, "started_at"), finished = number(result, "finished_at");
    int plain = !local_flag(record, "image");
    char text[1100];
    if (local_flag(record, "cancel_requested")) {
        snprintf(text, sizeof text, "cancelled%s%.1000s", reason ? ": " : "", reason ? reason : "");
        settle(record, "cancelled", NULL, text, started, finished);
    } else if (reason && strncmp(reason, "exceeded max_run_time", 21) == 0) {
        settle(record, "timeout", NULL, reason, started, finished);
    } else if (!json_is_integer(code)) {
        settle(record, "failed_to_start", NULL, reason ? reason : "the command could not be started", started, finished);
    } else if (reason && strncmp(reason, "the runner was stopped by", 25) == 0) {
        snprintf(text, sizeof text, "%.1000s (not by this backend's cancel)", reason);
        settle(record, "cancelled", NULL, text, started, finished);
    } else if (plain && json_is_integer(signal) && stop_signal(json_integer_value(signal))) {
        snprintf(text, sizeof text, "ended by signal %lld from outside the backend (not by its cancel)",
                 (long long)json_integer_value(signal));
        settle(record, "cancelled", NULL, text, started, finished);
    } else {
        json_int_t value = json_integer_value(code);
        if (json_is_integer(signal)) snprintf(text, sizeof text, "ended by signal %lld", (long long)json_integer_value(signal));
        else snprintf(text, sizeof text, "%.1000s", reason ? reason : "");
        settle(record, "exited", json_integer(value < 0 || value > 255 ? 255 : value), text, started, finished);
    }
}

int local_kill(cdx_backend *b, const char *dir, const char *id, const char *signal) {
    const char *args[] = {"--kill", signal, id, NULL};
    local_run run;
    if (local_runner(b, dir, args, NULL, &run) != 0) return -1;
    int code = run.exit_code;
    if (code != 0 && code != 1)
        local_log(b, CDD_LOG_WARN, "job %s: cloud-dispatch-runner --kill %s failed (%s): %.300s", id, signal,
                  run.timed_out ? "timed out" : "exit code", run.err ? run.err : "");
    local_run_free(&run);
    return code == 0 ? 0 : code == 1 ? 1 : -1;
}

int local_start(cdx_backend *b, const char *dir, json_t *record, char *why, size_t why_size) {
    const char *id = json_string_value(json_object_get(record, "id"));
    char *spec = json_dumps(json_object_get(record, "spec"), JSON_COMPACT);
    const char *args[] = {"--detach", NULL};
    local_run run;
    int rc = spec ? local_runner(b, dir, args, spec, &run) : -1;
    free(spec);
    if (rc != 0) {
        snprintf(why, why_size, "cannot run %s: %s", b->runner, strerror(errno));
        return -1;
    }
    int result = -1;
    if (run.exit_code == 0 || run.exit_code == 3) { /* 3: the runner has it already (an earlier try) */
        json_object_set_new(record, "detached", json_true());
        if (number(record, "started_at") <= 0) json_object_set_new(record, "started_at", json_real(local_now()));
        result = 0;
    } else if (run.exit_code == 2) { /* the runner refused the spec: it never will take it */
        settle(record, "failed_to_start", NULL, run.err && *run.err ? run.err : "the runner refused the container", 0, 0);
        result = 1;
    } else {
        snprintf(why, why_size, "cloud-dispatch-runner --detach %s for %s: %.300s", run.timed_out ? "timed out" : "failed", id,
                 run.err ? run.err : "");
    }
    local_run_free(&run);
    if (result >= 0 && local_write_record(dir, record) != 0)
        local_log(b, CDD_LOG_ERROR, "job %s: cannot write its record: %s", id, strerror(errno));
    return result;
}

/* The runner's `--status` of an ended job, settled into the record. */
static void settle_done(cdx_backend *b, const char *dir, json_t *record, const char *id) {
    const char *args[] = {"--status", id, NULL};
    local_run run;
    if (local_runner(b, dir, args, NULL, &run) != 0) return;
    json_t *result = run.exit_code == 0 && run.out ? json_loads(run.out, 0, NULL) : NULL;
    if (json_is_object(result)) settle_from_result(record, result);
    else if (run.exit_code == 1) settle(record, "lost", NULL, "the runner has no record of it", 0, 0);
    json_decref(result);
    local_run_free(&run);
}

/* `--list`: {uuid: "live"|"done"|"stale"}, NULL when the runner could not be asked. */
static json_t *runner_list(cdx_backend *b, const char *dir) {
    const char *args[] = {"--list", NULL};
    local_run run;
    if (local_runner(b, dir, args, NULL, &run) != 0) return NULL;
    json_t *seen = run.exit_code == 0 ? json_object() : NULL;
    if (!seen) {
        local_log(b, CDD_LOG_WARN, "cloud-dispatch-runner --list %s: %.300s", run.timed_out ? "timed out" : "failed",
                  run.err ? run.err : "");
        errno = EIO;
    }
    char *save = NULL;
    for (char *line = seen && run.out ? strtok_r(run.out, "\n", &save) : NULL; line; line = strtok_r(NULL, "\n", &save)) {
        char *space = strchr(line, ' ');
        if (space) *space = 0;
        json_object_set_new(seen, line, json_string(!space ? "live" : strcmp(space + 1, "done") == 0 ? "done" : "stale"));
    }
    local_run_free(&run);
    return seen;
}

/* How long a job with an image gets TERM again: `--kill` asks the runtime once, and a TERM
 * that comes while podman or docker still creates the container is lost (docs/runner.md:
 * "still running: repeat, then KILL"). A plain process gets its TERM the first time. */
#define LOCAL_TERM_REPEAT_SECONDS 5.0

/* A live job with a cancel: TERM (again for an image, for a while), KILL once its grace is over. */
static int escalate(cdx_backend *b, const char *dir, json_t *record, const char *id) {
    if (!local_flag(record, "cancel_requested")) return 0;
    double now = local_now();
    int first = number(record, "term_at") <= 0;
    if (first) json_object_set_new(record, "term_at", json_real(now));
    int again = !first && local_flag(record, "image") && now < number(record, "term_at") + LOCAL_TERM_REPEAT_SECONDS &&
                now < number(record, "kill_at");
    if ((first || again) && local_kill(b, dir, id, "TERM") == 0) return 1;
    if (!local_flag(record, "kill_sent") && local_now() >= number(record, "kill_at")) {
        json_object_set_new(record, "kill_sent", json_true());
        local_kill(b, dir, id, "KILL");
    }
    return 1;
}

int local_refresh(cdx_backend *b, const char *dir, json_t *records) {
    size_t i, open = 0;
    json_t *record;
    json_array_foreach(records, i, record) open += !local_flag(record, "ended");
    if (open == 0) return 0;
    json_t *seen = runner_list(b, dir);
    if (!seen) return -1;
    json_array_foreach(records, i, record) {
        if (local_flag(record, "ended")) continue;
        const char *id = json_string_value(json_object_get(record, "id"));
        const char *state = id ? json_string_value(json_object_get(seen, id)) : NULL;
        int changed = 1;
        char why[512] = "";
        if (state && strcmp(state, "live") == 0) {
            changed = !local_flag(record, "detached");
            if (changed) {
                json_object_set_new(record, "detached", json_true());
                if (number(record, "started_at") <= 0) json_object_set_new(record, "started_at", json_real(local_now()));
            }
            changed |= escalate(b, dir, record, id);
        } else if (state && strcmp(state, "done") == 0) {
            settle_done(b, dir, record, id);
        } else if (state) {
            snprintf(why, sizeof why, "the runner's supervisor ended without a result (killed?)%s",
                     local_kill_leftovers(b, dir, id));
            settle(record, "lost", NULL, why, 0, 0);
        } else if (local_flag(record, "detached")) {
            settle(record, "lost", NULL, "the runner has no record of it", 0, 0);
        } else if (local_flag(record, "cancel_requested")) {
            settle(record, "cancelled", NULL, "cancelled before it started", 0, 0);
        } else {
            /* accepted, never started (a submit that timed out or died): start it now */
            changed = 0;
            if (local_start(b, dir, record, why, sizeof why) < 0) local_log(b, CDD_LOG_WARN, "%s", why);
        }
        if (changed && local_write_record(dir, record) != 0)
            local_log(b, CDD_LOG_ERROR, "job %s: cannot write its record: %s", id ? id : "?", strerror(errno));
    }
    json_decref(seen);
    return 0;
}

json_t *local_public_job(cdx_backend *b, json_t *record) {
    const char *state = local_state(record);
    int ended = strcmp(state, "ended") == 0;
    char submitted[32], started[32], finished[32];
    local_rfc3339(number(record, "submitted_at"), submitted, sizeof submitted);
    local_rfc3339(number(record, "started_at"), started, sizeof started);
    local_rfc3339(ended ? number(record, "ended_at") : 0, finished, sizeof finished);
    json_t *tags = json_object_get(record, "tags");
    json_t *code = json_object_get(record, "exit_code");
    json_t *reason = json_object_get(record, "end_reason");
    json_t *message = json_object_get(record, "message");
    return json_pack("{s:O, s:O, s:s, s:s, s:s, s:o, s:O, s:O, s:s, s:s, s:s, s:s}",
                     "id", json_object_get(record, "id"),
                     "idempotency_token", json_object_get(record, "token"),
                     "partition", LOCAL_PARTITION, "state", state,
                     "where", started[0] ? b->hostname : "",
                     "tags", json_is_object(tags) ? json_incref(tags) : json_object(),
                     "exit_code", ended && json_is_integer(code) ? code : json_null(),
                     "end_reason", ended && json_is_string(reason) ? reason : json_null(),
                     "message", json_is_string(message) ? json_string_value(message) : "",
                     "submitted_at", submitted, "started_at", started, "ended_at", finished);
}
