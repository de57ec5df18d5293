/* The backend operations: each parses its JSON request, checks it, takes the state folder's
 * lock where records change, brings the records up to date from the runner and answers with
 * the ABI's reply shape (cloud_dispatch_executor.h). */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "local.h"

/* ---- shared steps ---- */

static cdd_status usable(cdx_backend *b, char **out, cdd_error *err) {
    if (!b || !out) return local_fail(err, CDD_E_INVALID, "backend and reply pointer are required (NULL given)");
    if (__atomic_load_n(&b->closed, __ATOMIC_ACQUIRE))
        return local_fail(err, CDD_E_INVALID, "backend %s is closed", b->dispatcher_id ? b->dispatcher_id : "?");
    *out = NULL;
    return CDD_OK;
}

static json_t *parse_request(const char *request, cdd_error *err, cdd_status *status) {
    json_error_t jerr;
    json_t *root = request ? json_loads(request, JSON_REJECT_DUPLICATES, &jerr) : NULL;
    if (!json_is_object(root)) {
        *status = local_fail(err, CDD_E_INVALID, "request must be a JSON object (%s)",
                             !request ? "NULL request" : root ? "not an object" : jerr.text);
        json_decref(root);
        return NULL;
    }
    *status = CDD_OK;
    return root;
}

/* 1 when `value` is a string of min..max characters; else 0 with `why` naming `field` (never the value). */
static int string_within(json_t *value, const char *field, long min, long max, char *why, size_t size) {
    long length = json_is_string(value) ? cdd_utf8_length(json_string_value(value)) : -1;
    if (length < 0) snprintf(why, size, "%s: must be a UTF-8 string", field);
    else if (length < min || length > max) snprintf(why, size, "%s: %ld characters, must be %ld to %ld", field, length, min, max);
    return length >= min && length <= max;
}

static int tags_within(json_t *tags, char *why, size_t size) {
    if (!json_is_object(tags)) {
        snprintf(why, size, "tags: must be an object of string values");
        return 0;
    }
    const char *key;
    json_t *value;
    json_object_foreach(tags, key, value) {
        long length = cdd_utf8_length(key);
        if (length < 1 || length > CDX_MAX_TAG_KEY) {
            snprintf(why, size, "tags: a key of %ld characters; keys are 1 to %d", length, CDX_MAX_TAG_KEY);
            return 0;
        }
        if (!string_within(value, "tags value", 0, CDX_MAX_TAG_VALUE, why, size)) return 0;
    }
    return 1;
}

static int tags_match(json_t *have, json_t *filter) {
    const char *key;
    json_t *want;
    json_object_foreach(filter, key, want) {
        const char *got = json_string_value(json_object_get(have, key));
        if (!got || strcmp(got, json_string_value(want)) != 0) return 0;
    }
    return 1;
}

static int valid_token(const char *token) {
    return token && *token && strlen(token) <= CDX_MAX_TOKEN &&
           strspn(token, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") == strlen(token);
}

/* This backend's record of job `id` (a JSON string), or NULL: CDD_E_NOT_FOUND for an id it
 * never made (another dispatcher's included), CDD_E_TRANSIENT when it cannot be read. */
static json_t *find_job(cdx_backend *b, json_t *id, cdd_error *err, cdd_status *status) {
    char hash[17];
    const char *text = json_string_value(id);
    char why[160];
    if (!string_within(id, "id", 1, CDX_MAX_JOB_ID, why, sizeof why)) {
        *status = local_fail(err, CDD_E_INVALID, "%s", why);
        return NULL;
    }
    json_t *record = local_hash_of_id(text, hash) ? local_read_record(b->dir, hash) : NULL;
    if (!record && local_hash_of_id(text, hash) && errno != ENOENT) {
        *status = local_fail(err, CDD_E_TRANSIENT, "cannot read the record of job %.80s: %s", text, strerror(errno));
        return NULL;
    }
    if (!record || strcmp(json_string_value(json_object_get(record, "id")), text) != 0) {
        json_decref(record);
        *status = local_fail(err, CDD_E_NOT_FOUND, "job %.80s: this backend (dispatcher %s) has no such job", text, b->dispatcher_id);
        return NULL;
    }
    *status = CDD_OK;
    return record;
}

/* vCPUs and RAM of the jobs not ended yet, in every dispatcher's folder of the state folder
 * (each brought up to date first). -1 (errno) when a folder or the runner cannot be read. */
static int used_resources(cdx_backend *b, long *vcpus, json_int_t *ram) {
    *vcpus = 0;
    *ram = 0;
    DIR *d = opendir(b->state_dir);
    if (!d) return -1;
    struct dirent *e;
    int failed = 0;
    while (!failed && (e = readdir(d)) != NULL) {
        if (!cdd_valid_set_id(e->d_name)) continue;
        char *dir = local_printf("%s/%s", b->state_dir, e->d_name);
        json_t *records = dir ? local_read_records(dir) : NULL;
        if (!records) failed = !dir || (errno != ENOENT && errno != ENOTDIR); /* no jobs/ in it: not ours */
        else if (local_refresh(b, dir, records) != 0) failed = 1;
        size_t i;
        json_t *record;
        json_array_foreach(records, i, record) {
            if (local_flag(record, "ended")) continue;
            *vcpus += (long)json_integer_value(json_object_get(record, "vcpus"));
            *ram += json_integer_value(json_object_get(record, "ram"));
        }
        json_decref(records);
        free(dir);
    }
    int saved = errno;
    closedir(d);
    errno = saved;
    return failed ? -1 : 0;
}

/* ---- capacity ---- */

cdd_status local_capacity(cdx_backend *b, const char *request, char **out, cdd_error *err) {
    cdd_status status = usable(b, out, err);
    if (status != CDD_OK) return status;
    json_t *req = parse_request(request, err, &status);
    if (!req) return status;
    json_decref(req);
    int lock = local_lock(b);
    if (lock < 0) return local_fail(err, CDD_E_TRANSIENT, "cannot lock %s/lock: %s", b->state_dir, strerror(errno));
    long used_vcpus;
    json_int_t used_ram;
    int rc = used_resources(b, &used_vcpus, &used_ram);
    int saved = errno;
    local_unlock(lock);
    if (rc != 0) return local_fail(err, CDD_E_TRANSIENT, "cannot count the running jobs: %s", strerror(saved));
    long free_vcpus = b->vcpus - used_vcpus;
    json_int_t free_ram = b->ram - used_ram;
    return local_reply(json_pack("{s:[{s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:i}]}", "partitions",
                                 "name", LOCAL_PARTITION, "total_vcpus", (json_int_t)b->vcpus, "total_ram", b->ram,
                                 "free_vcpus", (json_int_t)(free_vcpus > 0 ? free_vcpus : 0),
                                 "free_ram", free_ram > 0 ? free_ram : 0,
                                 "max_job_vcpus", (json_int_t)b->vcpus, "max_job_ram", b->ram, "max_run_time", 0),
                       out, err);
}

/* ---- submit ---- */

/* submit, step 1: the request checked before anything is made. */
static cdd_status check_submit(cdx_backend *b, json_t *req, cdd_error *err) {
    json_t *c = json_object_get(req, "container");
    json_t *command = json_object_get(c, "command");
    json_t *env = json_object_get(c, "environment");
    json_t *image = json_object_get(c, "image");
    json_t *cwd = json_object_get(c, "cwd");
    json_t *vcpus = json_object_get(c, "vcpus");
    json_t *ram = json_object_get(c, "ram");
    json_t *max_run_time = json_object_get(c, "max_run_time");
    json_t *partition = json_object_get(req, "partition");
    json_t *tags = json_object_get(req, "tags");
    char why[200];
    if (!json_is_object(c)) return local_fail(err, CDD_E_INVALID, "container: required object");
    if (!string_within(json_object_get(c, "uuid"), "container.uuid", 1, 256, why, sizeof why)) return local_fail(err, CDD_E_INVALID, "%s", why);
    if (!json_is_array(command) || json_array_size(command) == 0)
        return local_fail(err, CDD_E_INVALID, "container.command: required non-empty array of strings");
    size_t i;
    json_t *v;
    json_array_foreach(command, i, v) {
        if (!json_is_string(v)) return local_fail(err, CDD_E_INVALID, "container.command[%zu]: must be a string", i);
    }
    const char *key;
    if (env && !json_is_object(env)) return local_fail(err, CDD_E_INVALID, "container.environment: must be an object of strings");
    json_object_foreach(env, key, v) {
        if (!json_is_string(v) || !*key || strchr(key, '='))
            return local_fail(err, CDD_E_INVALID, "container.environment: names without '=' and string values only");
    }
    if (image && !json_is_null(image) && !string_within(image, "container.image", 0, CDD_MAX_IMAGE, why, sizeof why))
        return local_fail(err, CDD_E_INVALID, "%s", why);
    if (cwd && !json_is_null(cwd) && (!json_is_string(cwd) || (json_string_value(cwd)[0] && json_string_value(cwd)[0] != '/')))
        return local_fail(err, CDD_E_INVALID, "container.cwd: \"\" or an absolute path");
    if (!json_is_integer(vcpus) || json_integer_value(vcpus) < 1) return local_fail(err, CDD_E_INVALID, "container.vcpus: an integer >= 1");
    if (!json_is_integer(ram) || json_integer_value(ram) < 0) return local_fail(err, CDD_E_INVALID, "container.ram: an integer >= 0 (bytes)");
    if (max_run_time && (!json_is_integer(max_run_time) || json_integer_value(max_run_time) < 0))
        return local_fail(err, CDD_E_INVALID, "container.max_run_time: an integer >= 0 (seconds)");
    if (!string_within(partition, "partition", 1, CDX_MAX_PARTITION, why, sizeof why)) return local_fail(err, CDD_E_INVALID, "%s", why);
    if (strcmp(json_string_value(partition), LOCAL_PARTITION) != 0)
        return local_fail(err, CDD_E_INVALID, "partition: this backend has one partition, \"local\"");
    if (!valid_token(json_string_value(json_object_get(req, "idempotency_token"))))
        return local_fail(err, CDD_E_INVALID, "idempotency_token: 1-64 characters of [A-Za-z0-9._-]");
    if (tags && !tags_within(tags, why, sizeof why)) return local_fail(err, CDD_E_INVALID, "%s", why);
    if (json_integer_value(vcpus) > b->vcpus || json_integer_value(ram) > b->ram)
        return local_fail(err, CDD_E_INVALID, "container: %lld vCPUs and %lld bytes of RAM never fit this backend (%ld vCPUs, %lld bytes)",
                          (long long)json_integer_value(vcpus), (long long)json_integer_value(ram), b->vcpus, (long long)b->ram);
    if (json_is_string(image) && json_string_value(image)[0] && strcmp(b->runtime, "none") == 0)
        return local_fail(err, CDD_E_UNSUPPORTED, "container.image: this backend runs plain commands (runtime \"none\"); "
                          "configure runtime podman or docker to run images");
    return CDD_OK;
}

/* submit, step 2: the record of a new job, the runner's spec in it. */
static json_t *new_record(cdx_backend *b, json_t *req, const char *id) {
    json_t *c = json_object_get(req, "container");
    json_t *image = json_object_get(c, "image");
    json_t *cwd = json_object_get(c, "cwd");
    json_t *env = json_object_get(c, "environment");
    json_t *tags = json_object_get(req, "tags");
    int has_image = json_is_string(image) && json_string_value(image)[0];
    int has_cwd = json_is_string(cwd) && json_string_value(cwd)[0];
    json_t *limit = json_object_get(c, "max_run_time");
    json_t *spec = json_pack("{s:s, s:O, s:O, s:O, s:o, s:I, s:s}", "uuid", id, "command", json_object_get(c, "command"),
                             "image", has_image ? image : json_null(), "cwd", has_cwd ? cwd : json_null(),
                             "environment", json_is_object(env) ? json_incref(env) : json_object(),
                             "max_run_time", limit ? json_integer_value(limit) : (json_int_t)0,
                             "runtime", b->runtime);
    if (!spec) return NULL;
    return json_pack("{s:s, s:O, s:O, s:s, s:o, s:O, s:O, s:b, s:f, s:o}", "id", id,
                     "token", json_object_get(req, "idempotency_token"), "uuid", json_object_get(c, "uuid"),
                     "dispatcher", b->dispatcher_id, "tags", json_is_object(tags) ? json_incref(tags) : json_object(),
                     "vcpus", json_object_get(c, "vcpus"), "ram", json_object_get(c, "ram"), "image", has_image,
                     "submitted_at", local_now(), "spec", spec);
}

/* submit, step 3: a token used before names its job: brought up to date (and started when
 * its first submit could not) and returned, whatever its state. */
static cdd_status repeat(cdx_backend *b, json_t *req, json_t *record, json_t **job, cdd_error *err) {
    const char *token = json_string_value(json_object_get(req, "idempotency_token"));
    const char *uuid = json_string_value(json_object_get(json_object_get(req, "container"), "uuid"));
    if (strcmp(json_string_value(json_object_get(record, "token")), token) != 0)
        return local_fail(err, CDD_E_INTERNAL, "idempotency_token: its record file belongs to another token (hash collision)");
    if (strcmp(json_string_value(json_object_get(record, "uuid")), uuid) != 0)
        return local_fail(err, CDD_E_INVALID, "idempotency_token: %s was used for another container", token);
    json_t *one = json_pack("[O]", record);
    if (!one || local_refresh(b, b->dir, one) != 0) {
        json_decref(one);
        return local_fail(err, CDD_E_TRANSIENT, "cannot ask the runner how job %s is: %s", json_string_value(json_object_get(record, "id")),
                          strerror(errno));
    }
    json_decref(one);
    if (strcmp(local_state(record), "pending") == 0)
        return local_fail(err, CDD_E_TRANSIENT, "job %s is accepted but the runner could not start it yet (see the log)",
                          json_string_value(json_object_get(record, "id")));
    *job = local_public_job(b, record);
    return *job ? CDD_OK : local_fail(err, CDD_E_INTERNAL, "out of memory");
}

/* submit, step 4: a new job, if it fits now: recorded durably, then started. */
static cdd_status make_job(cdx_backend *b, json_t *req, const char *id, json_t **job, cdd_error *err) {
    json_t *c = json_object_get(req, "container");
    long used_vcpus;
    json_int_t used_ram;
    if (used_resources(b, &used_vcpus, &used_ram) != 0)
        return local_fail(err, CDD_E_TRANSIENT, "cannot count the running jobs: %s", strerror(errno));
    json_int_t vcpus = json_integer_value(json_object_get(c, "vcpus")), ram = json_integer_value(json_object_get(c, "ram"));
    if (vcpus > b->vcpus - used_vcpus || ram > b->ram - used_ram)
        return local_fail(err, CDD_E_CAPACITY_TYPE, "no room now: %lld vCPUs and %lld bytes asked, %ld vCPUs and %lld bytes free",
                          (long long)vcpus, (long long)ram, b->vcpus - used_vcpus, (long long)(b->ram - used_ram));
    json_t *record = new_record(b, req, id);
    if (!record) return local_fail(err, CDD_E_INTERNAL, "out of memory");
    /* Durable before the runner starts anything: a crash after this line is found again by
     * the token's next submit (or the next refresh) and started exactly once (the runner
     * refuses a second --detach of the same id). */
    if (local_write_record(b->dir, record) != 0) {
        json_decref(record);
        return local_fail(err, CDD_E_TRANSIENT, "cannot write the job record in %s/jobs: %s", b->dir, strerror(errno));
    }
    char why[512];
    if (local_start(b, b->dir, record, why, sizeof why) < 0) {
        json_decref(record);
        return local_fail(err, CDD_E_TRANSIENT, "%s (the job is recorded: a repeat of this submit starts it)", why);
    }
    *job = local_public_job(b, record);
    json_decref(record);
    return *job ? CDD_OK : local_fail(err, CDD_E_INTERNAL, "out of memory");
}

cdd_status local_submit(cdx_backend *b, const char *request, char **out, cdd_error *err) {
    cdd_status status = usable(b, out, err);
    if (status != CDD_OK) return status;
    json_t *req = parse_request(request, err, &status);
    if (!req) return status;
    if ((status = check_submit(b, req, err)) != CDD_OK) {
        json_decref(req);
        return status;
    }
    char hash[17], id[80];
    local_token_hash(b, json_string_value(json_object_get(req, "idempotency_token")), hash);
    local_job_id(json_string_value(json_object_get(json_object_get(req, "container"), "uuid")), hash, id, sizeof id);
    int lock = local_lock(b);
    if (lock < 0) {
        json_decref(req);
        return local_fail(err, CDD_E_TRANSIENT, "cannot lock %s/lock: %s", b->state_dir, strerror(errno));
    }
    json_t *job = NULL;
    json_t *record = local_read_record(b->dir, hash);
    if (record) status = repeat(b, req, record, &job, err);
    else if (errno != ENOENT) status = local_fail(err, CDD_E_TRANSIENT, "cannot read the token's record: %s", strerror(errno));
    else status = make_job(b, req, id, &job, err);
    local_unlock(lock);
    json_decref(record);
    json_decref(req);
    if (status != CDD_OK) return status;
    return local_reply(json_pack("{s:o}", "job", job), out, err);
}

/* ---- list ---- */

cdd_status local_list(cdx_backend *b, const char *request, char **out, cdd_error *err) {
    cdd_status status = usable(b, out, err);
    if (status != CDD_OK) return status;
    json_t *req = parse_request(request, err, &status);
    if (!req) return status;
    json_t *filter = json_object_get(req, "tags");
    char why[200];
    if (filter && !tags_within(filter, why, sizeof why)) {
        json_decref(req);
        return local_fail(err, CDD_E_INVALID, "%s", why);
    }
    int lock = local_lock(b);
    json_t *records = lock >= 0 ? local_read_records(b->dir) : NULL;
    int rc = records ? local_refresh(b, b->dir, records) : -1;
    int saved = errno;
    local_unlock(lock);
    if (rc != 0) {
        json_decref(records);
        json_decref(req);
        /* never "no jobs" for "could not look": the host would take its jobs for gone */
        return local_fail(err, CDD_E_TRANSIENT, "cannot read this backend's jobs: %s", strerror(saved));
    }
    json_t *jobs = json_array();
    size_t i;
    json_t *record;
    json_array_foreach(records, i, record) {
        if (local_flag(record, "released") || (filter && !tags_match(json_object_get(record, "tags"), filter))) continue;
        json_t *job = local_public_job(b, record);
        if (job) json_array_append_new(jobs, job);
        else local_log(b, CDD_LOG_WARN, "skipping a damaged job record in %s/jobs", b->dir);
    }
    json_decref(records);
    json_decref(req);
    return local_reply(json_pack("{s:o}", "jobs", jobs), out, err);
}

/* ---- cancel ---- */

cdd_status local_cancel(cdx_backend *b, const char *request, char **out, cdd_error *err) {
    cdd_status status = usable(b, out, err);
    if (status != CDD_OK) return status;
    json_t *req = parse_request(request, err, &status);
    if (!req) return status;
    json_t *grace = json_object_get(req, "grace_ms");
    if (grace && (!json_is_integer(grace) || json_integer_value(grace) < 0)) {
        json_decref(req);
        return local_fail(err, CDD_E_INVALID, "grace_ms: an integer >= 0");
    }
    int lock = local_lock(b);
    if (lock < 0) {
        json_decref(req);
        return local_fail(err, CDD_E_TRANSIENT, "cannot lock %s/lock: %s", b->state_dir, strerror(errno));
    }
    json_t *record = find_job(b, json_object_get(req, "id"), err, &status);
    json_t *one = record ? json_pack("[O]", record) : NULL;
    /* A job that ended by itself a moment ago keeps its own end: look before cancelling. */
    if (one && local_flag(record, "detached") && local_refresh(b, b->dir, one) != 0)
        status = local_fail(err, CDD_E_TRANSIENT, "cannot reach the runner to stop the job: %s", strerror(errno));
    double kill_at = local_now() + (grace ? (double)json_integer_value(grace) / 1000.0 : 0);
    json_t *earlier = record ? json_object_get(record, "kill_at") : NULL;
    /* A repeated cancel may shorten the grace, never lengthen it. */
    if (status == CDD_OK && record && !local_flag(record, "ended") &&
        (!local_flag(record, "cancel_requested") || !json_is_number(earlier) || kill_at < json_number_value(earlier))) {
        /* The intent first (durable), then TERM; KILL comes from a later call's refresh once
         * the grace is over (or from this one when it is already over). */
        json_object_set_new(record, "cancel_requested", json_true());
        json_object_set_new(record, "kill_at", json_real(kill_at));
        if (local_write_record(b->dir, record) != 0)
            status = local_fail(err, CDD_E_TRANSIENT, "cannot write the job record: %s", strerror(errno));
        else if (!one || local_refresh(b, b->dir, one) != 0)
            status = local_fail(err, CDD_E_TRANSIENT, "cannot reach the runner to stop the job: %s", strerror(errno));
    }
    json_decref(one);
    local_unlock(lock);
    json_decref(record);
    json_decref(req);
    if (status != CDD_OK) return status;
    return local_reply(json_object(), out, err);
}

/* ---- release ---- */

/* A released job's record stays, without its spec, so its token still names it; after a day
 * it goes. */
static void forget_spent_tokens(cdx_backend *b) {
    json_t *records = local_read_records(b->dir);
    size_t i;
    json_t *record;
    json_array_foreach(records, i, record) {
        json_t *at = json_object_get(record, "released_at");
        if (local_flag(record, "released") && json_is_number(at) && local_now() - json_number_value(at) > LOCAL_TOKEN_KEEP_SECONDS)
            local_remove_record(b->dir, record);
    }
    json_decref(records);
}

cdd_status local_release(cdx_backend *b, const char *request, char **out, cdd_error *err) {
    cdd_status status = usable(b, out, err);
    if (status != CDD_OK) return status;
    json_t *req = parse_request(request, err, &status);
    if (!req) return status;
    json_t *ids = json_object_get(req, "ids");
    if (!json_is_array(ids)) {
        json_decref(req);
        return local_fail(err, CDD_E_INVALID, "ids: required array of job ids");
    }
    int lock = local_lock(b);
    if (lock < 0) {
        json_decref(req);
        return local_fail(err, CDD_E_TRANSIENT, "cannot lock %s/lock: %s", b->state_dir, strerror(errno));
    }
    size_t i;
    json_t *id;
    json_array_foreach(ids, i, id) {
        cdd_error ignored = {.struct_size = sizeof ignored};
        cdd_status found;
        json_t *record = find_job(b, id, &ignored, &found);
        if (record && local_flag(record, "ended") && !local_flag(record, "released")) {
            const char *args[] = {"--forget", json_string_value(id), NULL};
            local_run run;
            int forgotten = local_runner(b, b->dir, args, NULL, &run) == 0 && run.exit_code == 0;
            if (forgotten) {
                json_object_set_new(record, "released", json_true());
                json_object_set_new(record, "released_at", json_real(local_now()));
                json_object_del(record, "spec"); /* the environment is not kept past the job */
                if (local_write_record(b->dir, record) != 0)
                    local_log(b, CDD_LOG_ERROR, "job %s: cannot write its record: %s", json_string_value(id), strerror(errno));
            } else {
                local_log(b, CDD_LOG_WARN, "job %s: cloud-dispatch-runner --forget failed: %.300s (released later)",
                          json_string_value(id), run.err ? run.err : "");
            }
            local_run_free(&run);
        }
        json_decref(record);
    }
    forget_spent_tokens(b);
    local_unlock(lock);
    json_decref(req);
    return local_reply(json_object(), out, err);
}

/* ---- log_tail ---- */

cdd_status local_log_tail(cdx_backend *b, const char *request, char **out, cdd_error *err) {
    cdd_status status = usable(b, out, err);
    if (status != CDD_OK) return status;
    json_t *req = parse_request(request, err, &status);
    if (!req) return status;
    json_t *max = json_object_get(req, "max_bytes");
    if (!json_is_integer(max) || json_integer_value(max) < 0 || json_integer_value(max) > CDX_MAX_LOG_TAIL) {
        json_decref(req);
        return local_fail(err, CDD_E_INVALID, "max_bytes: an integer from 0 to %d", CDX_MAX_LOG_TAIL);
    }
    json_t *record = find_job(b, json_object_get(req, "id"), err, &status);
    if (record && local_flag(record, "released"))
        status = local_fail(err, CDD_E_NOT_FOUND, "job %s was released: its log is gone", json_string_value(json_object_get(record, "id")));
    char *text = NULL;
    if (status == CDD_OK) {
        /* The runner's log file (docs/runner.md, Files): <root>/runner/<uuid>.log, at most 1 MiB. */
        size_t want = (size_t)json_integer_value(max), len = 0;
        char *path = local_printf("%s/runner/%s.log", b->dir, json_string_value(json_object_get(record, "id")));
        char *log = path ? local_read_file(path, 2u << 20, &len) : NULL;
        if (!log && errno != ENOENT) status = local_fail(err, CDD_E_TRANSIENT, "cannot read the job's log: %s", strerror(errno));
        else text = local_utf8_tail(log ? log : "", log ? len : 0, want);
        free(log);
        free(path);
        if (status == CDD_OK && !text) status = local_fail(err, CDD_E_INTERNAL, "out of memory");
    }
    json_decref(record);
    json_decref(req);
    if (status != CDD_OK) return status;
    json_t *reply = json_pack("{s:s}", "text", text);
    free(text);
    return local_reply(reply, out, err);
}
