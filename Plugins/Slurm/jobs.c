/* list, cancel, release and log_tail: each parses its request, checks it against the ABI's
 * limits, and answers with the reply shapes of docs/executor-abi.md. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "slurm_backend.h"

static int tags_match(json_t *have, json_t *filter) {
    const char *key;
    json_t *want;
    json_object_foreach(filter, key, want) {
        const char *got = json_string_value(json_object_get(have, key));
        if (!got || strcmp(got, json_string_value(want)) != 0) return 0;
    }
    return 1;
}

cdd_status slurm_list(cdx_backend *b, const char *request, char **out, cdd_error *err) {
    json_t *req;
    cdd_status status = slurm_begin(b, request, out, &req, err);
    if (status != CDD_OK) return status;
    json_t *filter = json_object_get(req, "tags");
    if (filter && !slurm_valid_tags(filter)) {
        json_decref(req);
        return slurm_fail(err, CDD_E_INVALID, "tags: must be an object of strings within the tag limits");
    }
    /* Records first, then squeue: a job whose record exists is already in Slurm's answer. */
    json_t *records = slurm_all_records(b), *jobs = json_array(), *record;
    char why[512];
    json_t *rows = records ? slurm_squeue(b, NULL, why, sizeof why) : NULL;
    const char *id;
    if (!rows) status = slurm_fail(err, CDD_E_TRANSIENT, "cannot list the jobs: %s", records ? why : "out of memory");
    json_object_foreach(rows ? records : NULL, id, record) {
        if (json_is_true(json_object_get(record, "released"))) continue;
        if (filter && !tags_match(json_object_get(record, "tags"), filter)) continue;
        json_t *job = slurm_job_view(b, record, json_string_value(json_object_get(rows, id)));
        if (job) json_array_append_new(jobs, job);
    }
    json_decref(rows);
    json_decref(records);
    json_decref(req);
    if (status != CDD_OK) {
        json_decref(jobs);
        return status;
    }
    return slurm_reply(json_pack("{s:o}", "jobs", jobs), out, err);
}

/* The record of a job this dispatcher submitted; CDD_E_NOT_FOUND for any other id. */
static cdd_status own_record(cdx_backend *b, json_t *req, json_t **record, cdd_error *err) {
    const char *id = json_string_value(json_object_get(req, "id"));
    if (!slurm_string_within(json_object_get(req, "id"), 1, CDX_MAX_JOB_ID)) return slurm_fail(err, CDD_E_INVALID, "id: must be a job id");
    *record = slurm_read_record(b, id);
    if (!*record) return slurm_fail(err, CDD_E_NOT_FOUND, "job %.40s was not submitted by dispatcher %s", id, b->dispatcher_id);
    return CDD_OK;
}

/* scancel without a signal: Slurm sends TERM to every process of the job, KILL after the
 * cluster's KillWait, and records CANCELLED. grace_ms is therefore the cluster's KillWait. */
cdd_status slurm_cancel(cdx_backend *b, const char *request, char **out, cdd_error *err) {
    json_t *req, *record = NULL;
    cdd_status status = slurm_begin(b, request, out, &req, err);
    if (status != CDD_OK) return status;
    json_t *grace = json_object_get(req, "grace_ms");
    if (grace && (!json_is_integer(grace) || json_integer_value(grace) < 0)) {
        status = slurm_fail(err, CDD_E_INVALID, "grace_ms: must be a non-negative integer");
    } else if ((status = own_record(b, req, &record, err)) == CDD_OK && !json_object_get(record, "final")) {
        const char *argv[] = {"scancel", json_string_value(json_object_get(record, "id")), NULL};
        slurm_output o;
        char why[512];
        if (slurm_run(b, argv, &o, why, sizeof why) != 0 && !(o.err && (strstr(o.err, "already") || strstr(o.err, "Invalid job id"))))
            status = slurm_fail(err, o.timed_out || !o.err ? CDD_E_TRANSIENT : CDD_E_INTERNAL, "%s", why);
        if (o.err) slurm_output_free(&o);
    }
    json_decref(record);
    json_decref(req);
    return status == CDD_OK ? slurm_reply(json_object(), out, err) : status;
}

/* Marks ended jobs released: list leaves them out; the record stays for its token's sake. */
cdd_status slurm_release(cdx_backend *b, const char *request, char **out, cdd_error *err) {
    json_t *req;
    cdd_status status = slurm_begin(b, request, out, &req, err);
    if (status != CDD_OK) return status;
    json_t *ids = json_object_get(req, "ids"), *v;
    size_t i;
    if (!json_is_array(ids)) status = slurm_fail(err, CDD_E_INVALID, "ids: must be an array of job ids");
    json_array_foreach(status == CDD_OK ? ids : NULL, i, v) {
        if (!slurm_string_within(v, 1, CDX_MAX_JOB_ID)) {
            status = slurm_fail(err, CDD_E_INVALID, "ids[%zu]: must be a job id", i);
            break;
        }
    }
    json_array_foreach(status == CDD_OK ? ids : NULL, i, v) {
        json_t *record = slurm_read_record(b, json_string_value(v));
        if (record && json_object_get(record, "final") && !json_is_true(json_object_get(record, "released"))) {
            json_object_set_new(record, "released", json_true());
            if (slurm_write_record(b, record) != 0)
                status = slurm_fail(err, CDD_E_INTERNAL, "cannot write the record of job %s", json_string_value(v));
        }
        json_decref(record);
    }
    json_decref(req);
    return status == CDD_OK ? slurm_reply(json_object(), out, err) : status;
}

/* The last max_bytes of the job's output file, from a character boundary, as valid UTF-8. */
cdd_status slurm_log_tail(cdx_backend *b, const char *request, char **out, cdd_error *err) {
    json_t *req, *record = NULL;
    cdd_status status = slurm_begin(b, request, out, &req, err);
    if (status != CDD_OK) return status;
    json_t *max = json_object_get(req, "max_bytes");
    char *path = NULL, *buf = NULL;
    size_t len = 0;
    if (!json_is_integer(max) || json_integer_value(max) < 0 || json_integer_value(max) > CDX_MAX_LOG_TAIL) {
        status = slurm_fail(err, CDD_E_INVALID, "max_bytes: must be 0 to %d", CDX_MAX_LOG_TAIL);
    } else if ((status = own_record(b, req, &record, err)) == CDD_OK) {
        size_t want = (size_t)json_integer_value(max);
        if (asprintf(&path, "%s/job-%s.out", b->job_dir, json_string_value(json_object_get(record, "id"))) < 0) path = NULL;
        int fd = path ? open(path, O_RDONLY | O_CLOEXEC) : -1;
        struct stat st;
        buf = malloc(want + 1);
        if (buf && fd >= 0 && fstat(fd, &st) == 0) {
            off_t from = st.st_size > (off_t)want ? st.st_size - (off_t)want : 0;
            ssize_t n = pread(fd, buf, want, from);
            len = n > 0 ? (size_t)n : 0;
        }
        if (fd >= 0) close(fd);
        if (!buf) status = slurm_fail(err, CDD_E_INTERNAL, "out of memory");
        else buf[len] = 0;
    }
    json_t *reply = NULL;
    if (status == CDD_OK) {
        size_t start = 0;
        while (start < len && ((unsigned char)buf[start] & 0xC0) == 0x80) start++; /* cut mid-character */
        for (size_t i = start; i < len; i++)
            if (!buf[i]) buf[i] = '?';
        /* Whatever is not valid UTF-8 (a binary byte, a character cut at the end) becomes '?'. */
        for (char *p = buf + start; *p;) {
            unsigned char lead = (unsigned char)*p;
            size_t need = lead < 0x80 ? 1 : lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : 2, k = 0;
            char one[5] = {0};
            while (k < need && p[k]) one[k] = p[k], k++;
            if (k < need || cdd_utf8_length(one) != 1) *p = '?', k = 1;
            p += k;
        }
        reply = json_pack("{s:s}", "text", buf + start);
    }
    free(buf);
    free(path);
    json_decref(record);
    json_decref(req);
    return status == CDD_OK ? slurm_reply(reply, out, err) : status;
}
