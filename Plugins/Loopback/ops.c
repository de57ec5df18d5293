/* The instance-set operations of the loopback driver. Each parses its JSON request, checks
 * it, and answers with the ABI's reply shape (docs/driver-abi.md). */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "loopback.h"

static json_t *parse_request(const char *request, cdd_error *err, cdd_status *status) {
    json_error_t jerr;
    json_t *root = request ? json_loads(request, JSON_REJECT_DUPLICATES, &jerr) : NULL;
    if (!root) {
        *status = lb_fail(err, CDD_E_INVALID, "request is not valid JSON: %s", request ? jerr.text : "NULL request");
        return NULL;
    }
    if (!json_is_object(root)) {
        json_decref(root);
        *status = lb_fail(err, CDD_E_INVALID, "request must be a JSON object");
        return NULL;
    }
    return root;
}

static int tags_match(json_t *have, json_t *filter) {
    const char *key;
    json_t *want;
    json_object_foreach(filter, key, want) {
        json_t *got = json_object_get(have, key);
        if (!got || strcmp(json_string_value(got), json_string_value(want)) != 0) return 0;
    }
    return 1;
}

static json_t *catalogue_entry(cdd_instance_set *set, const char *provider_type) {
    size_t i;
    json_t *t;
    json_array_foreach(set->catalogue, i, t) {
        if (strcmp(json_string_value(json_object_get(t, "provider_type")), provider_type) == 0) return t;
    }
    return NULL;
}

static void now_rfc3339(char *out, size_t size) {
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(out, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Make one instance: folder, host key, sshd, record. Returns the record, or NULL with `why`. */
static json_t *create_one(cdd_instance_set *set, json_t *req, const char *provider_type, char *why, size_t why_size) {
    char hex[13];
    if (lb_random_hex(hex, 6) != 0) {
        snprintf(why, why_size, "no randomness: %s", strerror(errno));
        return NULL;
    }
    char id[16];
    snprintf(id, sizeof id, "lo-%s", hex);
    char *dir = lb_instance_dir(set, id);
    char *root = dir ? lb_strdup_printf("%s/root", dir) : NULL;
    json_t *record = NULL;
    char *host_key = NULL;
    int port = 0;
    if (!root || lb_mkdirs(dir, 0700) != 0 || lb_mkdirs(root, 0755) != 0) {
        snprintf(why, why_size, "cannot make %s: %s", dir ? dir : "instance folder", strerror(errno));
        goto fail;
    }
    const char *key = json_string_value(json_object_get(req, "ssh_public_key"));
    if (lb_start_instance_sshd(set, id, dir, key, &port, &host_key, why, why_size) != 0) goto fail;

    char created[32];
    now_rfc3339(created, sizeof created);
    json_t *image = json_object_get(req, "image");
    record = json_pack("{s:s, s:s, s:O, s:i, s:s, s:s, s:s}",
                       "id", id, "provider_type", provider_type,
                       "tags", json_object_get(req, "tags"), "ssh_port", port,
                       "host_key", host_key, "created_at", created,
                       "image", json_is_string(image) ? json_string_value(image) : "");
    if (!record || lb_write_record(set, id, record) != 0) {
        snprintf(why, why_size, "cannot write the instance record: %s", strerror(errno));
        json_decref(record);
        record = NULL;
        if (lb_stop_instance(id, dir) != 0) { /* keep its folder: it says which sshd lives */
            lb_log(set, CDD_LOG_ERROR, "instance %s: its sshd could not be shown stopped (%s); see %s", id, strerror(errno), dir);
            free(dir);
            dir = NULL;
        }
        goto fail;
    }
    free(host_key);
    free(root);
    free(dir);
    return record;
fail:
    if (dir) lb_rm_rf(dir);
    free(host_key);
    free(root);
    free(dir);
    return NULL;
}

static json_t *records_for_ids(cdd_instance_set *set, json_t *ids) {
    json_t *out = json_array();
    size_t i;
    json_t *id;
    json_array_foreach(ids, i, id) {
        json_t *record = lb_read_record(set, json_string_value(id));
        if (record) json_array_append_new(out, record);
    }
    return out;
}

static cdd_status reply_instances(cdd_instance_set *set, json_t *records, char **out, cdd_error *err) {
    json_t *instances = json_array();
    size_t i;
    json_t *record;
    json_array_foreach(records, i, record) {
        json_t *pub = lb_public_instance(set, record);
        if (pub) json_array_append_new(instances, pub);
        else lb_log(set, CDD_LOG_WARN, "skipping a damaged instance record in %s/instances", set->dir);
    }
    return lb_reply(json_pack("{s:o}", "instances", instances), out, err);
}

/* create, step 1: the strings of a create request within the ABI's limits. */
static int create_strings_within(json_t *req, json_t *type, char *why, size_t why_size) {
    json_t *name = json_object_get(type, "name");
    json_t *image = json_object_get(req, "image");
    json_t *key = json_object_get(req, "ssh_public_key");
    json_t *script = json_object_get(req, "init_script");
    return lb_string_within(json_object_get(type, "provider_type"), "instance_type.provider_type", 1, CDD_MAX_PROVIDER_TYPE, why, why_size) &&
           (!name || lb_string_within(name, "instance_type.name", 1, CDD_MAX_PROVIDER_TYPE, why, why_size)) &&
           (!image || lb_string_within(image, "image", 0, CDD_MAX_IMAGE, why, why_size)) &&
           (!key || lb_string_within(key, "ssh_public_key", 0, CDD_MAX_SSH_PUBLIC_KEY, why, why_size)) &&
           (!script || lb_string_within(script, "init_script", 0, CDD_MAX_INIT_SCRIPT, why, why_size)) &&
           lb_tags_within(json_object_get(req, "tags"), "tags", why, why_size);
}

static int valid_token(const char *token) {
    return token && *token && strlen(token) <= 64 &&
           strspn(token, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") == strlen(token);
}

/* create, step 2: the whole request checked before anything is made. */
static cdd_status check_create(cdd_instance_set *set, json_t *req, cdd_error *err) {
    json_t *type = json_object_get(req, "instance_type");
    json_t *count = json_object_get(req, "count");
    json_t *token = json_object_get(req, "idempotency_token");
    json_t *key = json_object_get(req, "ssh_public_key");
    const char *provider_type = json_string_value(json_object_get(type, "provider_type"));
    char why[160];
    if (!json_is_object(type) || !provider_type || !*provider_type)
        return lb_fail(err, CDD_E_INVALID, "instance_type.provider_type: required string");
    if (!create_strings_within(req, type, why, sizeof why)) return lb_fail(err, CDD_E_INVALID, "%s", why);
    if (!catalogue_entry(set, provider_type))
        return lb_fail(err, CDD_E_INVALID, "instance_type.provider_type: unknown type \"%s\" in this instance set", provider_type);
    if (json_is_true(json_object_get(type, "preemptible")))
        return lb_fail(err, CDD_E_UNSUPPORTED, "preemptible instances: loopback instances cannot be reclaimed");
    if (!json_is_integer(count) || json_integer_value(count) < 1 || json_integer_value(count) > LOOPBACK_MAX_CREATE)
        return lb_fail(err, CDD_E_INVALID, "count: must be an integer from 1 to %d (max_create_count)", LOOPBACK_MAX_CREATE);
    if (token && !valid_token(json_string_value(token)))
        return lb_fail(err, CDD_E_INVALID, "idempotency_token: 1-64 characters of [A-Za-z0-9._-]");
    if (key && strpbrk(json_string_value(key), "\r\n")) return lb_fail(err, CDD_E_INVALID, "ssh_public_key: one line expected");
    if (access(set->sshd_path, X_OK) != 0)
        return lb_fail(err, CDD_E_UNSUPPORTED, "sshd not found at %s: install openssh-server or set sshd_path", set->sshd_path);
    return CDD_OK;
}

/* create, step 3: what an earlier create with this token made. CDD_OK with *made NULL: a first
 * call. A token file that cannot be read must not pass for a first call; a token whose
 * instances are all destroyed is spent. */
static cdd_status token_repeat(cdd_instance_set *set, const char *token, const char *token_path, json_t **made, cdd_error *err) {
    *made = NULL;
    char *previous = lb_read_file(token_path, 1 << 20);
    if (!previous && errno != ENOENT)
        return lb_fail(err, CDD_E_TRANSIENT, "cannot read idempotency token %s: %s", token, strerror(errno));
    json_t *ids = previous ? json_loads(previous, 0, NULL) : NULL;
    free(previous);
    if (json_is_array(ids)) *made = records_for_ids(set, ids); /* a repeat: the same instances */
    json_decref(ids);
    if (*made && json_array_size(*made) == 0) {
        json_decref(*made);
        *made = NULL;
        return lb_fail(err, CDD_E_INVALID, "idempotency_token: %s was used by a create whose instances are all destroyed;"
                       " a token is never used twice", token);
    }
    return CDD_OK;
}

/* create, step 4: `count` new instances within max_instances; partial success returns what was made. */
static cdd_status make_instances(cdd_instance_set *set, json_t *req, json_int_t count, json_t **made, cdd_error *err) {
    *made = NULL;
    json_t *existing = lb_all_records(set);
    if (!existing) return lb_fail(err, CDD_E_TRANSIENT, "cannot read the instance records: %s", strerror(errno));
    size_t have = json_array_size(existing);
    json_decref(existing);
    if ((json_int_t)have + count > set->max_instances)
        return lb_fail(err, CDD_E_QUOTA, "max_instances is %d and %zu exist", set->max_instances, have);
    const char *provider_type = json_string_value(json_object_get(json_object_get(req, "instance_type"), "provider_type"));
    json_t *records = json_array();
    char why[256] = "";
    for (json_int_t i = 0; i < count; i++) {
        json_t *record = create_one(set, req, provider_type, why, sizeof why);
        if (!record) break;
        json_array_append_new(records, record);
    }
    if (json_array_size(records) == 0) {
        json_decref(records);
        return lb_fail(err, CDD_E_INTERNAL, "could not start an instance: %s", why);
    }
    if (json_array_size(records) < (size_t)count)
        lb_log(set, CDD_LOG_WARN, "made %zu of %lld instances: %s", json_array_size(records), (long long)count, why);
    *made = records;
    return CDD_OK;
}

/* create, step 5: the token's instances recorded, so a repeat returns them. */
static void remember_token(cdd_instance_set *set, const char *token, const char *token_path, json_t *made) {
    json_t *ids = json_array();
    size_t i;
    json_t *r;
    json_array_foreach(made, i, r) json_array_append(ids, json_object_get(r, "id"));
    char *text = json_dumps(ids, 0);
    char *tokens_dir = lb_strdup_printf("%s/tokens", set->dir);
    if (tokens_dir) lb_mkdirs(tokens_dir, 0700);
    if (!text || lb_write_file_atomic(token_path, text, 0600) != 0) lb_log(set, CDD_LOG_WARN, "could not record idempotency token %s", token);
    free(tokens_dir);
    free(text);
    json_decref(ids);
}

/* create, step 6, outside the lock: "boot" each new instance by running its init script once,
 * even when an idempotent repeat returns it again. One that never boots is shut down by the
 * host's boot timeout: the log says why. */
static void boot_instances(cdd_instance_set *set, json_t *made, const char *script) {
    size_t i;
    json_t *r;
    json_array_foreach(made, i, r) {
        const char *id = json_string_value(json_object_get(r, "id"));
        char *dir = lb_instance_dir(set, id);
        char *started = dir ? lb_strdup_printf("%s/init.started", dir) : NULL;
        if (started && access(started, F_OK) != 0) {
            if (lb_write_file_atomic(started, "", 0600) != 0 || lb_run_init_script(id, dir, script) != 0)
                lb_log(set, CDD_LOG_ERROR, "instance %s: its init script could not be started: %s", id, strerror(errno));
        }
        free(started);
        free(dir);
    }
}

cdd_status lb_create(cdd_instance_set *set, const char *request, char **out, cdd_error *err) {
    cdd_status status = lb_usable(set, out, err);
    if (status != CDD_OK) return status;
    json_t *req = parse_request(request, err, &status);
    if (!req) return status;
    if ((status = check_create(set, req, err)) != CDD_OK) {
        json_decref(req);
        return status;
    }
    const char *token = json_string_value(json_object_get(req, "idempotency_token"));
    json_t *made = NULL;
    int lock = lb_lock_set(set);
    if (lock < 0) {
        status = lb_fail(err, CDD_E_TRANSIENT, "cannot lock the instance set %s: %s", set->dir, strerror(errno));
    } else {
        char *token_path = token ? lb_strdup_printf("%s/tokens/%s", set->dir, token) : NULL;
        status = token_path ? token_repeat(set, token, token_path, &made, err) : CDD_OK;
        if (status == CDD_OK && !made) {
            status = make_instances(set, req, json_integer_value(json_object_get(req, "count")), &made, err);
            if (made && token_path) remember_token(set, token, token_path, made);
        }
        free(token_path);
    }
    lb_unlock_set(set, lock);
    if (made) {
        boot_instances(set, made, json_string_value(json_object_get(req, "init_script")));
        status = reply_instances(set, made, out, err);
        json_decref(made);
    }
    json_decref(req);
    return status;
}

cdd_status lb_list(cdd_instance_set *set, const char *request, char **out, cdd_error *err) {
    cdd_status status = lb_usable(set, out, err);
    if (status != CDD_OK) return status;
    json_t *req = parse_request(request, err, &status);
    if (!req) return status;
    json_t *filter = json_object_get(req, "tags");
    char why[160];
    if (!lb_tags_within(filter, "tags", why, sizeof why)) {
        json_decref(req);
        return lb_fail(err, CDD_E_INVALID, "%s", why);
    }
    json_t *all = lb_all_records(set);
    if (!all) {
        status = lb_fail(err, CDD_E_TRANSIENT, "cannot read the instance records: %s", strerror(errno));
        json_decref(req);
        return status;
    }
    json_t *matching = json_array();
    size_t i;
    json_t *record;
    json_array_foreach(all, i, record) {
        json_t *tags = json_object_get(record, "tags");
        if (json_is_object(tags) && tags_match(tags, filter)) json_array_append(matching, record);
    }
    status = reply_instances(set, matching, out, err);
    json_decref(matching);
    json_decref(all);
    json_decref(req);
    return status;
}

static int valid_id_array(json_t *ids, size_t max) {
    if (!json_is_array(ids) || json_array_size(ids) == 0 || json_array_size(ids) > max) return 0;
    size_t i;
    json_t *id;
    char why[160];
    json_array_foreach(ids, i, id) {
        if (!lb_string_within(id, "ids", 1, CDD_MAX_INSTANCE_ID, why, sizeof why)) return 0;
    }
    return 1;
}

cdd_status lb_destroy(cdd_instance_set *set, const char *request, char **out, cdd_error *err) {
    cdd_status status = lb_usable(set, out, err);
    if (status != CDD_OK) return status;
    json_t *req = parse_request(request, err, &status);
    if (!req) return status;
    json_t *ids = json_object_get(req, "ids");
    if (!valid_id_array(ids, LOOPBACK_MAX_DESTROY)) {
        json_decref(req);
        return lb_fail(err, CDD_E_INVALID, "ids: required array of 1 to %d instance ids of 1 to %d characters", LOOPBACK_MAX_DESTROY,
                       CDD_MAX_INSTANCE_ID);
    }
    int lock = lb_lock_set(set);
    if (lock < 0) {
        status = lb_fail(err, CDD_E_TRANSIENT, "cannot lock the instance set %s: %s", set->dir, strerror(errno));
        lb_unlock_set(set, lock);
        json_decref(req);
        return status;
    }
    json_t *destroyed = json_array(), *failed = json_array();
    size_t i;
    json_t *id_j;
    json_array_foreach(ids, i, id_j) {
        const char *id = json_string_value(id_j);
        if (!lb_valid_instance_id(id)) { /* cannot be one of ours: already gone */
            json_array_append(destroyed, id_j);
            continue;
        }
        char *dir = lb_instance_dir(set, id);
        char *trash = lb_strdup_printf("%s/trash-%s", set->dir, id);
        /* Stop everything and see it gone, then rename away and delete: a crash part-way
         * leaves either a listed instance (destroy again) or a trash folder open_set sweeps.
         * An instance whose processes cannot be shown gone keeps its folder and is reported
         * failed (transient), so a list still shows it and the next destroy tries again. */
        if (!dir || !trash) {
            json_array_append_new(failed, json_pack("{s:s, s:s, s:s}", "id", id, "class", "transient", "message", "out of memory"));
        } else if (lb_stop_instance(id, dir) != 0) {
            char message[256];
            snprintf(message, sizeof message, "its sshd could not be shown stopped: %s", strerror(errno));
            json_array_append_new(failed, json_pack("{s:s, s:s, s:s}", "id", id, "class", "transient", "message", message));
        } else if (rename(dir, trash) == 0 || errno == ENOENT) {
            if (lb_rm_rf(trash) != 0) /* stopped and unlisted: open_set sweeps the rest */
                lb_log(set, CDD_LOG_WARN, "instance %s is stopped but %s is left: %s", id, trash, strerror(errno));
            json_array_append(destroyed, id_j);
        } else {
            json_array_append_new(failed, json_pack("{s:s, s:s, s:s}", "id", id, "class", "internal",
                                                    "message", strerror(errno)));
        }
        free(dir);
        free(trash);
    }
    lb_unlock_set(set, lock);
    json_decref(req);
    return lb_reply(json_pack("{s:o, s:o}", "destroyed", destroyed, "failed", failed), out, err);
}

cdd_status lb_set_tags(cdd_instance_set *set, const char *request, char **out, cdd_error *err) {
    cdd_status status = lb_usable(set, out, err);
    if (status != CDD_OK) return status;
    json_t *req = parse_request(request, err, &status);
    if (!req) return status;
    json_t *ids = json_object_get(req, "ids");
    json_t *tags = json_object_get(req, "tags");
    char why[160];
    if (!valid_id_array(ids, CDD_MAX_SET_TAGS_IDS)) {
        json_decref(req);
        return lb_fail(err, CDD_E_INVALID, "ids: required array of 1 to %d instance ids of 1 to %d characters (and tags: an object of strings)",
                       CDD_MAX_SET_TAGS_IDS, CDD_MAX_INSTANCE_ID);
    }
    if (!lb_tags_within(tags, "tags", why, sizeof why)) {
        json_decref(req);
        return lb_fail(err, CDD_E_INVALID, "%s", why);
    }
    int lock = lb_lock_set(set);
    status = lock < 0 ? lb_fail(err, CDD_E_TRANSIENT, "cannot lock the instance set %s: %s", set->dir, strerror(errno)) : CDD_OK;
    size_t i;
    json_t *id_j;
    json_array_foreach(ids, i, id_j) { /* check all first: all or nothing */
        if (status != CDD_OK) break;
        json_t *record = lb_read_record(set, json_string_value(id_j));
        if (!record) {
            status = lb_fail(err, CDD_E_NOT_FOUND, "no instance %s", json_string_value(id_j));
            break;
        }
        json_decref(record);
    }
    json_array_foreach(ids, i, id_j) {
        if (status != CDD_OK) break;
        json_t *record = lb_read_record(set, json_string_value(id_j));
        json_object_update(json_object_get(record, "tags"), tags);
        if (lb_write_record(set, json_string_value(id_j), record) != 0)
            status = lb_fail(err, CDD_E_INTERNAL, "cannot write the record of %s: %s", json_string_value(id_j), strerror(errno));
        json_decref(record);
    }
    lb_unlock_set(set, lock);
    json_decref(req);
    return status == CDD_OK ? lb_reply(json_object(), out, err) : status;
}

cdd_status lb_instance_types(cdd_instance_set *set, const char *request, char **out, cdd_error *err) {
    cdd_status status = lb_usable(set, out, err);
    if (status != CDD_OK) return status;
    json_t *req = parse_request(request, err, &status);
    if (!req) return status;
    json_decref(req);
    return lb_reply(json_pack("{s:O}", "instance_types", set->catalogue), out, err);
}

cdd_status lb_quota_group(cdd_instance_set *set, const char *request, char **out, cdd_error *err) {
    cdd_status status = lb_usable(set, out, err);
    if (status != CDD_OK) return status;
    json_t *req = parse_request(request, err, &status);
    if (!req) return status;
    const char *type = json_string_value(json_object_get(req, "provider_type"));
    char why[160];
    if (!type || !json_is_boolean(json_object_get(req, "preemptible"))) {
        json_decref(req);
        return lb_fail(err, CDD_E_INVALID, "provider_type (string) and preemptible (boolean) are required");
    }
    if (!lb_string_within(json_object_get(req, "provider_type"), "provider_type", 1, CDD_MAX_PROVIDER_TYPE, why, sizeof why)) {
        json_decref(req);
        return lb_fail(err, CDD_E_INVALID, "%s", why);
    }
    /* format before the release: `type` belongs to `req` */
    status = catalogue_entry(set, type) ? CDD_OK : lb_fail(err, CDD_E_INVALID, "provider_type: unknown type \"%s\"", type);
    json_decref(req);
    if (status != CDD_OK) return status;
    /* Every loopback instance shares one machine: one group. */
    return lb_reply(json_pack("{s:s}", "group", "local"), out, err);
}
