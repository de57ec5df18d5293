/* Slurm's view of a job in the ABI's words. squeue gives every job of this user in one call;
 * only a job seen ended for the first time costs a `scontrol show job` (squeue has no exit
 * code; `squeue --json` has only the raw wait status), and its result is kept in the record. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "slurm_backend.h"

/* id|name|state|nodes|partition|submit|start|end|comment: the comment is last, so whatever it
 * holds cannot shift a column. */
static const char squeue_format[] = "%i|%j|%T|%N|%P|%V|%S|%e|%k";
enum { COL_ID, COL_NAME, COL_STATE, COL_NODES, COL_PARTITION, COL_SUBMIT, COL_START, COL_END, COL_COMMENT, COLS };

/* Splits a copy of `row` into its columns; 0 when it has fewer. */
static int columns(char *row, char *col[COLS]) {
    for (int i = 0; i < COLS; i++) {
        col[i] = row;
        if (i == COLS - 1) break;
        char *bar = row ? strchr(row, '|') : NULL;
        if (!bar) return 0;
        *bar = 0;
        row = bar + 1;
    }
    return 1;
}

json_t *slurm_squeue(cdx_backend *b, const char *name, char *why, size_t why_size) {
    char *name_arg = NULL;
    if (name && asprintf(&name_arg, "--name=%s", name) < 0) name_arg = NULL;
    const char *argv[] = {"squeue", "--noheader", "--states=all", "--me", "--format", squeue_format,
                          name_arg ? name_arg : NULL, NULL};
    slurm_output out;
    int rc = (name && !name_arg) ? -1 : slurm_run(b, argv, &out, why, why_size);
    free(name_arg);
    if (rc != 0) {
        if (name && !name_arg) snprintf(why, why_size, "out of memory");
        else slurm_output_free(&out);
        return NULL;
    }
    json_t *rows = json_object();
    size_t prefix = strlen(b->name_prefix);
    char *save = NULL;
    for (char *line = strtok_r(out.out, "\n", &save); line && rows; line = strtok_r(NULL, "\n", &save)) {
        char *copy = strdup(line), *col[COLS];
        if (copy && columns(copy, col) && strncmp(col[COL_NAME], b->name_prefix, prefix) == 0 && slurm_valid_job_id(col[COL_ID]))
            json_object_set_new(rows, col[COL_ID], json_string(line));
        free(copy);
    }
    slurm_output_free(&out);
    if (!rows) snprintf(why, why_size, "out of memory");
    return rows;
}

char *slurm_field(const char *line, const char *key) {
    size_t n = strlen(key);
    for (const char *p = line; (p = strstr(p, key)); p += n) {
        if ((p == line || p[-1] == ' ') && p[n] == '=') {
            const char *v = p + n + 1;
            return strndup(v, strcspn(v, " \n"));
        }
    }
    return NULL;
}

void slurm_rfc3339(const char *t, char *out, size_t size) {
    struct tm tm = {0};
    snprintf(out, size, "%s", "");
    if (!t || !strptime(t, "%Y-%m-%dT%H:%M:%S", &tm)) return;
    tm.tm_isdst = -1;
    time_t when = mktime(&tm); /* Slurm prints its local time */
    struct tm utc;
    if (when == (time_t)-1 || !gmtime_r(&when, &utc)) return;
    strftime(out, size, "%Y-%m-%dT%H:%M:%SZ", &utc);
}

void slurm_now_rfc3339(char *out, size_t size) {
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(out, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Cuts `s` to at most `max` characters (UTF-8 aware), in place. */
static void cut_chars(char *s, long max) {
    long chars = 0;
    for (char *p = s; *p; p++) {
        if (((unsigned char)*p & 0xC0) != 0x80 && chars++ == max) {
            *p = 0;
            return;
        }
    }
}

static const char *const pending_states[] = {"PENDING", "REQUEUED", "REQUEUE_HOLD", "REQUEUE_FED", "RESV_DEL_HOLD",
                                             "CONFIGURING", NULL};
static const char *const running_states[] = {"RUNNING", "COMPLETING", "SUSPENDED", "STOPPED", "SIGNALING", "STAGE_OUT",
                                             "RESIZING", NULL};

static int one_of(const char *s, const char *const set[]) {
    for (; *set; set++)
        if (strcmp(s, *set) == 0) return 1;
    return 0;
}

/* The text of a marker file the job script left (start failure, its own timeout), or NULL. */
static char *marker(cdx_backend *b, const char *id, const char *suffix) {
    char *path, text[600] = "";
    if (asprintf(&path, "%s/job-%s.%s", b->job_dir, id, suffix) < 0) return NULL;
    FILE *f = fopen(path, "re");
    free(path);
    if (!f) return NULL;
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = 0;
    text[strcspn(text, "\n")] = 0;
    return strdup(text);
}

/* The final result of an ended job, from `scontrol show job -o` and the markers. */
static json_t *final_result(cdx_backend *b, const char *id, const char *squeue_state, const char *nodes) {
    const char *argv[] = {"scontrol", "show", "job", "--oneliner", id, NULL};
    slurm_output out;
    char why[512];
    int ran = slurm_run(b, argv, &out, why, sizeof why) == 0;
    char *state = ran ? slurm_field(out.out, "JobState") : NULL;
    char *exit_code = ran ? slurm_field(out.out, "ExitCode") : NULL;
    char *reason = ran ? slurm_field(out.out, "Reason") : NULL;
    char *node_list = ran ? slurm_field(out.out, "NodeList") : NULL;
    char *start = ran ? slurm_field(out.out, "StartTime") : NULL;
    char *end = ran ? slurm_field(out.out, "EndTime") : NULL;
    if (ran) slurm_output_free(&out);
    if (!ran && !strstr(why, "Invalid job id")) {
        /* Slurm did not answer now: no result is cached; the next list asks again. */
        slurm_log(b, CDD_LOG_WARN, "slurm: job %s ended but its result cannot be read now: %s", id, why);
        free(state), free(exit_code), free(reason), free(node_list), free(start), free(end);
        return NULL;
    }
    const char *s = state ? state : squeue_state;
    char *failed = marker(b, id, "failed"), *timed_out = marker(b, id, "timeout");
    const char *end_reason = "lost";
    int code = -1;
    char message[1100];
    snprintf(message, sizeof message, "Slurm: %s%s%s%s", s, reason && strcmp(reason, "None") ? " (" : "",
             reason && strcmp(reason, "None") ? reason : "", reason && strcmp(reason, "None") ? ")" : "");
    if (!strcmp(s, "COMPLETED") || !strcmp(s, "FAILED") || !strcmp(s, "SPECIAL_EXIT")) {
        int status = 0, signal = 0;
        if (failed) {
            end_reason = "failed_to_start";
            snprintf(message, sizeof message, "%s", failed);
        } else if (timed_out) {
            end_reason = "timeout";
            snprintf(message, sizeof message, "stopped at its max_run_time");
        } else if (exit_code && sscanf(exit_code, "%d:%d", &status, &signal) == 2) {
            end_reason = "exited";
            code = signal ? 128 + signal : status;
            code = code > 255 ? 255 : code;
        } else {
            snprintf(message, sizeof message, "Slurm says %s but gives no exit code: %s", s, ran ? "?" : why);
        }
    } else if (!strcmp(s, "TIMEOUT") || !strcmp(s, "DEADLINE")) {
        end_reason = "timeout";
    } else if (!strcmp(s, "OUT_OF_MEMORY")) {
        end_reason = "out_of_memory";
    } else if (!strcmp(s, "CANCELLED") || !strcmp(s, "REVOKED")) {
        end_reason = "cancelled";
    } else if (!strcmp(s, "NODE_FAIL")) {
        end_reason = "node_fail";
    } else if (!strcmp(s, "PREEMPTED")) {
        end_reason = "preempted";
    } else if (!strcmp(s, "BOOT_FAIL") || !strcmp(s, "LAUNCH_FAILED")) {
        end_reason = "failed_to_start";
    }
    cut_chars(message, CDX_MAX_MESSAGE);
    char started[40], ended[40], where[CDX_MAX_WHERE + 1];
    slurm_rfc3339(start, started, sizeof started);
    slurm_rfc3339(end, ended, sizeof ended);
    if (!ended[0]) slurm_now_rfc3339(ended, sizeof ended);
    const char *w = node_list && strcmp(node_list, "(null)") ? node_list : (nodes ? nodes : "");
    snprintf(where, sizeof where, "%s", w);
    json_t *result = json_pack("{s:s, s:s, s:s, s:s, s:s, s:o}", "end_reason", end_reason, "message", message,
                               "where", where, "started_at", started, "ended_at", ended,
                               "exit_code", code >= 0 ? json_integer(code) : json_null());
    free(state), free(exit_code), free(reason), free(node_list), free(start), free(end), free(failed), free(timed_out);
    return result;
}

json_t *slurm_job_view(cdx_backend *b, json_t *record, const char *row) {
    const char *id = json_string_value(json_object_get(record, "id"));
    json_t *job = json_pack("{s:s, s:O, s:O, s:O, s:s, s:s, s:n, s:n, s:s, s:O, s:s, s:s}", "id", id,
                            "idempotency_token", json_object_get(record, "idempotency_token"),
                            "partition", json_object_get(record, "partition"), "tags", json_object_get(record, "tags"),
                            "state", "pending", "where", "", "exit_code", "end_reason", "message", "",
                            "submitted_at", json_object_get(record, "submitted_at"), "started_at", "", "ended_at", "");
    if (!job) return NULL;
    json_t *final = json_object_get(record, "final");
    char *copy = row ? strdup(row) : NULL, *col[COLS];
    if (!final && copy && columns(copy, col)) {
        char where[CDX_MAX_WHERE + 1], started[40];
        snprintf(where, sizeof where, "%s", col[COL_NODES]);
        slurm_rfc3339(col[COL_START], started, sizeof started);
        if (col[COL_PARTITION][0]) json_object_set_new(job, "partition", json_string(col[COL_PARTITION]));
        if (one_of(col[COL_STATE], running_states)) {
            json_object_set_new(job, "state", json_string("running"));
            json_object_set_new(job, "where", json_string(where));
            json_object_set_new(job, "started_at", json_string(started));
        } else if (!one_of(col[COL_STATE], pending_states)) {
            final = final_result(b, id, col[COL_STATE], col[COL_NODES]);
            if (!final) { /* ended, result unread yet: still "running" to the host */
                json_object_set_new(job, "state", json_string("running"));
                json_object_set_new(job, "where", json_string(where));
                json_object_set_new(job, "started_at", json_string(started));
            }
            if (final) {
                if (col[COL_PARTITION][0]) json_object_set_new(record, "partition", json_string(col[COL_PARTITION]));
                json_object_set_new(record, "final", final);
                if (slurm_write_record(b, record) != 0)
                    slurm_log(b, CDD_LOG_WARN, "slurm: cannot keep the result of job %s in %s", id, b->records_dir);
            }
        }
    } else if (!final && !row) {
        /* Slurm forgot it (MinJobAge) before this dispatcher saw it end. */
        final = json_pack("{s:s, s:s, s:s, s:s, s:s, s:n}", "end_reason", "lost", "message",
                          "Slurm no longer knows this job (purged after MinJobAge before its end was seen)", "where", "",
                          "started_at", "", "ended_at", "", "exit_code");
        if (final) {
            char now[40];
            slurm_now_rfc3339(now, sizeof now);
            json_object_set_new(final, "ended_at", json_string(now));
            json_object_set_new(record, "final", final);
            slurm_write_record(b, record);
        }
    }
    free(copy);
    if (final) {
        json_object_set_new(job, "state", json_string("ended"));
        const char *keys[] = {"end_reason", "message", "where", "started_at", "ended_at", "exit_code"};
        for (size_t i = 0; i < sizeof keys / sizeof *keys; i++)
            json_object_set(job, keys[i], json_object_get(final, keys[i]));
    }
    return job;
}
