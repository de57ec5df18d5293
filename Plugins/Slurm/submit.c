/* submit: one container, one batch job; a token names one submit (docs/executors/slurm.md). */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "slurm_backend.h"

/* Checks the container of a submit; NULL when fine, else the field at fault. */
static const char *container_fault(json_t *c) {
    json_t *command = json_object_get(c, "command"), *env = json_object_get(c, "environment"), *v;
    const char *key;
    size_t i;
    if (!json_is_object(c)) return "container";
    if (!slurm_string_within(json_object_get(c, "uuid"), 1, 256)) return "container.uuid";
    if (!json_is_array(command) || json_array_size(command) == 0) return "container.command";
    json_array_foreach(command, i, v) {
        if (!json_is_string(v) || (i == 0 && !*json_string_value(v))) return "container.command";
    }
    if (!slurm_string_within(json_object_get(c, "image"), 0, CDD_MAX_IMAGE)) return "container.image";
    if (!json_is_object(env)) return "container.environment";
    json_object_foreach(env, key, v) {
        if (!*key || strchr(key, '=') || !json_is_string(v)) return "container.environment";
    }
    if (!slurm_string_within(json_object_get(c, "cwd"), 0, 4096)) return "container.cwd";
    json_t *vcpus = json_object_get(c, "vcpus"), *ram = json_object_get(c, "ram"), *limit = json_object_get(c, "max_run_time");
    if (!json_is_integer(vcpus) || json_integer_value(vcpus) < 1 || json_integer_value(vcpus) > 100000) return "container.vcpus";
    if (!json_is_integer(ram) || json_integer_value(ram) < 1) return "container.ram";
    if (!json_is_integer(limit) || json_integer_value(limit) < 0) return "container.max_run_time";
    return NULL;
}

/* A submit Slurm refused: the class the host's policy needs, from sbatch's words. */
static cdd_status sbatch_status(const slurm_output *out) {
    const char *e = out->err;
    if (out->timed_out || strstr(e, "Unable to contact") || strstr(e, "Socket timed out") || strstr(e, "Zero Bytes") ||
        strstr(e, "try again") || strstr(e, "temporarily"))
        return CDD_E_TRANSIENT;
    if (strstr(e, "MaxSubmit") || strstr(e, "QOSMax") || strstr(e, "AssocMax") || strstr(e, "limit"))
        return strstr(e, "time limit") ? CDD_E_INVALID : CDD_E_QUOTA;
    if (strstr(e, "Invalid account") || strstr(e, "Access/permission denied") || strstr(e, "User's group not permitted"))
        return CDD_E_AUTH;
    if (strstr(e, "submission failed") || strstr(e, "Invalid") || strstr(e, "invalid")) return CDD_E_INVALID;
    return CDD_E_INTERNAL;
}

static json_t *new_record(const char *id, json_t *req, const char *partition, const char *submitted_at) {
    return json_pack("{s:s, s:O, s:O, s:s, s:O, s:s}", "id", id, "idempotency_token", json_object_get(req, "idempotency_token"),
                     "uuid", json_object_get(json_object_get(req, "container"), "uuid"), "partition", partition,
                     "tags", json_object_get(req, "tags"), "submitted_at", submitted_at);
}

/* A job this token made and whose record was lost to a crash between sbatch and the write:
 * rebuilt from squeue's row (the comment holds uuid and tags). */
static json_t *record_from_row(const char *row) {
    char *copy = strdup(row ? row : ""), *cols[9];
    json_t *record = NULL;
    int n = 0;
    for (char *p = copy; p && n < 9; n++) {
        cols[n] = p;
        char *bar = n < 8 ? strchr(p, '|') : NULL;
        if (bar) *bar = 0;
        p = bar ? bar + 1 : NULL;
    }
    char *comment = n == 9 ? slurm_percent_decode(cols[8]) : NULL;
    json_t *meta = comment ? json_loads(comment, 0, NULL) : NULL;
    char submitted[40];
    if (n == 9) slurm_rfc3339(cols[5], submitted, sizeof submitted);
    const char *token = n == 9 ? strrchr(cols[1], ':') : NULL;
    if (meta && token && json_is_string(json_object_get(meta, "uuid")) && json_is_object(json_object_get(meta, "tags")))
        record = json_pack("{s:s, s:s, s:O, s:s, s:O, s:s}", "id", cols[0], "idempotency_token", token + 1, "uuid",
                           json_object_get(meta, "uuid"), "partition", cols[4], "tags", json_object_get(meta, "tags"),
                           "submitted_at", submitted);
    json_decref(meta);
    free(comment);
    free(copy);
    return record;
}

/* The job a token already made, or NULL (no error) when it made none; CDD_OK otherwise. */
static cdd_status existing_job(cdx_backend *b, json_t *req, const char *name, json_t **out_job, cdd_error *err) {
    const char *token = json_string_value(json_object_get(req, "idempotency_token"));
    const char *uuid = json_string_value(json_object_get(json_object_get(req, "container"), "uuid"));
    char *id = slurm_token_job(b, token), why[512];
    json_t *record = id ? slurm_read_record(b, id) : NULL;
    free(id);
    if (!record && !slurm_has_intent(b, token)) return CDD_OK; /* a first submit: nothing to ask Slurm */
    /* An ended job's result is in its record: Slurm has nothing to add. */
    json_t *rows = record && json_object_get(record, "final") ? json_object() : slurm_squeue(b, name, why, sizeof why);
    if (!rows) {
        json_decref(record);
        return slurm_fail(err, CDD_E_TRANSIENT, "cannot look for the token's job: %s", why);
    }
    if (!record) {
        const char *row_id;
        json_t *row;
        json_object_foreach(rows, row_id, row) {
            if ((record = record_from_row(json_string_value(row)))) break;
        }
        if (record && (slurm_write_record(b, record) != 0 ||
                       slurm_write_token(b, token, json_string_value(json_object_get(record, "id"))) != 0)) {
            json_decref(record);
            json_decref(rows);
            return slurm_fail(err, CDD_E_INTERNAL, "cannot write the job records in %s", b->records_dir);
        }
    }
    if (record && strcmp(json_string_value(json_object_get(record, "uuid")), uuid) != 0) {
        json_decref(record);
        json_decref(rows);
        return slurm_fail(err, CDD_E_INVALID, "idempotency_token: already used for another container");
    }
    if (record) {
        const char *id_now = json_string_value(json_object_get(record, "id"));
        *out_job = slurm_job_view(b, record, json_string_value(json_object_get(rows, id_now)));
    }
    json_decref(record);
    json_decref(rows);
    return CDD_OK;
}

/* Writes the script, runs sbatch, keeps the record: the job, or NULL with the error filled. */
static json_t *run_sbatch(cdx_backend *b, json_t *req, const char *name, cdd_status *status, cdd_error *err) {
    json_t *c = json_object_get(req, "container");
    const char *partition = json_string_value(json_object_get(req, "partition"));
    if (!partition || !*partition) partition = b->partition;
    if (!*partition && b->default_partition) partition = b->default_partition;
    char *script = slurm_job_script(b, c), *path = NULL, *meta = NULL, *comment = NULL, *args[12] = {0};
    json_t *meta_json = json_pack("{s:O, s:O}", "uuid", json_object_get(c, "uuid"), "tags", json_object_get(req, "tags"));
    if (meta_json) meta = json_dumps(meta_json, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(meta_json);
    comment = meta ? slurm_percent_encode(meta) : NULL;
    free(meta);
    int fd = -1;
    if (script && comment && asprintf(&path, "%s/submit-XXXXXX", b->job_dir) >= 0 && (fd = mkstemp(path)) >= 0) {
        size_t len = strlen(script);
        int ok = write(fd, script, len) == (ssize_t)len;
        if (close(fd) != 0 || !ok) fd = -1;
    }
    json_t *job = NULL;
    if (fd >= 0 && (*status = slurm_check_fits(b, partition, json_integer_value(json_object_get(c, "vcpus")),
                                                 json_integer_value(json_object_get(c, "ram")), err)) != CDD_OK)
        goto done;
    if (fd < 0) {
        *status = slurm_fail(err, CDD_E_INTERNAL, "cannot write the job script in %s: %s", b->job_dir, strerror(errno));
        goto done;
    }
    json_int_t ram_mb = (json_integer_value(json_object_get(c, "ram")) + (1 << 20) - 1) >> 20;
    json_int_t limit = json_integer_value(json_object_get(c, "max_run_time"));
    int n = 0;
    n += asprintf(&args[0], "--job-name=%s", name) < 0;
    n += asprintf(&args[1], "--comment=%s", comment) < 0;
    n += asprintf(&args[2], "--cpus-per-task=%lld", (long long)json_integer_value(json_object_get(c, "vcpus"))) < 0;
    n += asprintf(&args[3], "--mem=%lldM", (long long)ram_mb) < 0;
    n += asprintf(&args[4], "--output=%s/job-%%j.out", b->job_dir) < 0;
    n += asprintf(&args[5], "--chdir=%s", b->job_dir) < 0;
    /* Slurm counts minutes: its limit is a backstop one minute past the script's own. */
    n += asprintf(&args[6], "--time=%lld", limit > 0 ? (long long)((limit + 59) / 60 + 1) : 0LL) < 0;
    n += asprintf(&args[7], "--partition=%s", partition) < 0;
    n += asprintf(&args[8], "--account=%s", b->account) < 0;
    n += asprintf(&args[9], "--qos=%s", b->qos) < 0;
    if (n) {
        *status = slurm_fail(err, CDD_E_INTERNAL, "out of memory");
        goto done;
    }
    const char *argv[20];
    int k = 0;
    argv[k++] = "sbatch";
    argv[k++] = "--parsable";
    argv[k++] = "--ntasks=1";
    argv[k++] = "--nodes=1";
    argv[k++] = "--no-requeue"; /* retries are the host's policy, not Slurm's */
    for (int i = 0; i < 6; i++) argv[k++] = args[i];
    if (limit > 0) argv[k++] = args[6];
    if (*partition) argv[k++] = args[7];
    if (b->account[0]) argv[k++] = args[8];
    if (b->qos[0]) argv[k++] = args[9];
    argv[k++] = path;
    argv[k] = NULL;
    slurm_output out;
    char why[512], submitted[40];
    slurm_now_rfc3339(submitted, sizeof submitted);
    const char *token = json_string_value(json_object_get(req, "idempotency_token"));
    if (slurm_mark_intent(b, token) != 0) {
        *status = slurm_fail(err, CDD_E_INTERNAL, "cannot write in %s: %s", b->records_dir, strerror(errno));
        goto done;
    }
    if (slurm_run(b, argv, &out, why, sizeof why) != 0) {
        *status = out.err ? sbatch_status(&out) : CDD_E_INTERNAL;
        if (out.timed_out) *status = CDD_E_TRANSIENT;
        if (!out.timed_out && out.status > 0) slurm_clear_intent(b, token); /* sbatch said no: no job */
        slurm_fail(err, *status, "%s", why);
        if (out.err) slurm_output_free(&out);
        goto done;
    }
    out.out[strcspn(out.out, ";\n")] = 0; /* "id" or "id;cluster" */
    if (!slurm_valid_job_id(out.out)) {
        *status = slurm_fail(err, CDD_E_INTERNAL, "sbatch printed no job id");
        slurm_output_free(&out);
        goto done;
    }
    json_t *record = new_record(out.out, req, partition, submitted);
    if (!record || slurm_write_record(b, record) != 0 || slurm_write_token(b, token, out.out) != 0) {
        /* The job exists; the next submit with this token finds it by name. */
        *status = slurm_fail(err, CDD_E_TRANSIENT, "job %s submitted but its record could not be written in %s", out.out,
                             b->records_dir);
    } else {
        slurm_clear_intent(b, token);
        job = slurm_job_view(b, record, "");
    }
    json_decref(record);
    slurm_output_free(&out);
done:
    if (path) unlink(path); /* sbatch keeps its own copy of the script */
    for (int i = 0; i < 12; i++) free(args[i]);
    free(path), free(script), free(comment);
    return job;
}

cdd_status slurm_submit(cdx_backend *b, const char *request, char **out, cdd_error *err) {
    json_t *req;
    cdd_status status = slurm_begin(b, request, out, &req, err);
    if (status != CDD_OK) return status;
    json_t *c = json_object_get(req, "container"), *job = NULL;
    const char *fault = container_fault(c);
    const char *image = json_string_value(json_object_get(c, "image"));
    char *name = NULL;
    int lock = -1;
    if (fault) {
        status = slurm_fail(err, CDD_E_INVALID, "%s: missing or malformed", fault);
    } else if (!slurm_string_within(json_object_get(req, "partition"), 0, CDX_MAX_PARTITION) ||
               strpbrk(json_string_value(json_object_get(req, "partition")), " |,\n")) {
        status = slurm_fail(err, CDD_E_INVALID, "partition: must be a string of at most %d characters", CDX_MAX_PARTITION);
    } else if (!slurm_valid_token(json_object_get(req, "idempotency_token"))) {
        status = slurm_fail(err, CDD_E_INVALID, "idempotency_token: must be 1-%d of [A-Za-z0-9._-]", CDX_MAX_TOKEN);
    } else if (!slurm_valid_tags(json_object_get(req, "tags"))) {
        status = slurm_fail(err, CDD_E_INVALID, "tags: must be an object of strings within the tag limits");
    } else if (image && *image && !strcmp(b->image_runtime, "none")) {
        status = slurm_fail(err, CDD_E_UNSUPPORTED, "container.image: this backend has no image_runtime configured");
    } else if (asprintf(&name, "%s%s", b->name_prefix, json_string_value(json_object_get(req, "idempotency_token"))) < 0) {
        name = NULL;
        status = slurm_fail(err, CDD_E_INTERNAL, "out of memory");
    } else if ((lock = slurm_lock_token(b, json_string_value(json_object_get(req, "idempotency_token")))) < 0) {
        status = slurm_fail(err, CDD_E_INTERNAL, "cannot lock the token in %s: %s", b->records_dir, strerror(errno));
    } else if ((status = existing_job(b, req, name, &job, err)) == CDD_OK && !job) {
        job = run_sbatch(b, req, name, &status, err);
    }
    slurm_unlock(lock);
    free(name);
    json_decref(req);
    if (status != CDD_OK) {
        json_decref(job);
        return status;
    }
    return slurm_reply(job ? json_pack("{s:o}", "job", job) : NULL, out, err);
}
