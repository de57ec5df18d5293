/* A CloudDispatch driver in C: the template docs/driver-abi.md §10 shows. It keeps every rule
 * of the ABI (limits, NULLs, closed sets, the error record, one table for every cdd_open) and
 * leaves the cloud itself to you: look for "YOUR CLOUD". As it stands it is a cloud with no
 * instances that cannot create any (simulated is false, so the kit skips creation without
 * --live). `make c-template-test` builds it under ASan+UBSan and certifies it.
 *
 *     cc -std=c11 -shared -fPIC -O2 -fvisibility=hidden $(pkg-config --cflags cloud-dispatch-driver jansson) \
 *        mydriver.c -o libcdd_mydriver.so $(pkg-config --libs jansson) -lpthread -Wl,--no-undefined
 */
#define _POSIX_C_SOURCE 200809L   /* strdup */
#include <cloud_dispatch_driver.h>
#include <jansson.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#define EXPORT __attribute__((visibility("default")))

static cdd_status my_capabilities(void *ctx, char **out, cdd_error *err);
static cdd_status my_open_set(void *ctx, const char *set_id, const char *config, cdd_instance_set **out, cdd_error *err);
static void my_close_set(cdd_instance_set *set);
static cdd_status my_create(cdd_instance_set *set, const char *request, char **out, cdd_error *err);
static cdd_status my_list(cdd_instance_set *set, const char *request, char **out, cdd_error *err);
static cdd_status my_destroy(cdd_instance_set *set, const char *request, char **out, cdd_error *err);
static cdd_status my_set_tags(cdd_instance_set *set, const char *request, char **out, cdd_error *err);
static cdd_status my_instance_types(cdd_instance_set *set, const char *request, char **out, cdd_error *err);
static cdd_status my_quota_group(cdd_instance_set *set, const char *request, char **out, cdd_error *err);
static void my_free_string(void *ctx, char *string) { (void)ctx; free(string); }

EXPORT cdd_status cdd_negotiate(uint32_t host, uint32_t *agreed) {
    if (!agreed || cdd_version_major(host) != CDD_ABI_VERSION_MAJOR) return CDD_E_ABI;
    uint32_t minor = cdd_version_minor(host), mine = CDD_ABI_VERSION_MINOR;
    *agreed = cdd_make_version(CDD_ABI_VERSION_MAJOR, minor < mine ? minor : mine);
    return CDD_OK;
}

EXPORT cdd_status cdd_open(uint32_t agreed, const cdd_host *host, cdd_driver *d, cdd_error *err) {
    (void)host; /* keep it (the first one) to log through host->log; it lives as long as the process */
    if (!d || d->struct_size < cdd_driver_size_v1_0())
        return cdd_error_fill(err, CDD_E_ABI, 0, 0, "", "mydriver needs a 1.0-sized driver table");
    cdd_driver t = {0};   /* no driver_ctx: every call gives the same table */
    t.abi_version = agreed;
    t.id = "mydriver";
    t.version = "0.1.0";
    t.description = "a template: a cloud with no instances yet";
    t.capabilities = my_capabilities;
    t.open_set = my_open_set;
    t.close_set = my_close_set;
    t.create = my_create;
    t.list = my_list;
    t.destroy = my_destroy;
    t.set_tags = my_set_tags;
    t.instance_types = my_instance_types;
    t.quota_group = my_quota_group;
    t.free_string = my_free_string;
    uint32_t size = d->struct_size < sizeof t ? d->struct_size : (uint32_t)sizeof t;
    t.struct_size = size;
    memcpy(d, &t, size);                /* never write past what both sides know */
    return CDD_OK;
}

/* ---- the instance set ---- */

#define MAX_CREATE 10

/* After close_set only `closed` matters; the struct stays (linked below, so it stays
 * reachable) and a late call answers CDD_E_INVALID instead of reading freed memory. */
struct cdd_instance_set {
    char set_id[CDD_MAX_SET_ID + 1];
    char *region;                       /* YOUR CLOUD: credentials, endpoint, ... */
    int closed;
    struct cdd_instance_set *next_closed;
};
static cdd_instance_set *closed_sets;
static pthread_mutex_t closed_lock = PTHREAD_MUTEX_INITIALIZER;

static cdd_status fail(cdd_error *err, cdd_status status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static cdd_status fail(cdd_error *err, cdd_status status, const char *fmt, ...) {
    char message[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof message, fmt, ap);
    va_end(ap);
    return cdd_error_fill(err, status, 0, 0, "", message);
}

/* Takes `reply` (NULL: out of memory) and hands its text to the host. */
static cdd_status answer(json_t *reply, char **out, cdd_error *err) {
    char *text = reply ? json_dumps(reply, JSON_COMPACT) : NULL;
    json_decref(reply);
    if (!text) return fail(err, CDD_E_INTERNAL, "out of memory");
    *out = text;
    return CDD_OK;
}

static cdd_status my_capabilities(void *ctx, char **out, cdd_error *err) {
    (void)ctx;
    if (!out) return fail(err, CDD_E_INVALID, "NULL reply pointer");
    return answer(json_pack("{s:b, s:b, s:i, s:i, s:b, s:b, s:b, s:[]}", "simulated", 0, "idempotent_create", 1,
                            "max_create_count", MAX_CREATE, "max_destroy_batch", 100, "preemptible", 0,
                            "host_keys", 0, "init_script", 1, "extensions"),
                  out, err);
}

static cdd_status my_open_set(void *ctx, const char *set_id, const char *config, cdd_instance_set **out, cdd_error *err) {
    (void)ctx;
    if (!out || !config) return fail(err, CDD_E_INVALID, "open_set: NULL argument");
    if (!cdd_valid_set_id(set_id)) return fail(err, CDD_E_INVALID, "set_id: not a valid instance-set id");
    json_error_t jerr;
    json_t *c = json_loads(config, JSON_REJECT_DUPLICATES, &jerr);   /* jansson refuses invalid UTF-8 */
    if (!json_is_object(c)) {
        json_decref(c);
        return fail(err, CDD_E_INVALID, "config: must be a JSON object");
    }
    const char *key;
    json_t *value;
    cdd_status status = CDD_OK;
    json_object_foreach(c, key, value) {
        if (strcmp(key, "region") != 0) {   /* format before json_decref: `key` belongs to `c` */
            status = fail(err, CDD_E_INVALID, "config: unknown key \"%.64s\" (known: region)", key);
            break;
        }
    }
    const char *region = json_string_value(json_object_get(c, "region"));
    if (status == CDD_OK && !region) status = fail(err, CDD_E_INVALID, "config.region: required string");
    cdd_instance_set *set = status == CDD_OK ? calloc(1, sizeof *set) : NULL;
    if (set) {
        snprintf(set->set_id, sizeof set->set_id, "%s", set_id);
        set->region = strdup(region);
    }
    json_decref(c);
    if (status != CDD_OK) return status;
    if (!set || !set->region) {
        if (set) free(set);
        return fail(err, CDD_E_INTERNAL, "out of memory");
    }
    *out = set;
    return CDD_OK;
}

static void my_close_set(cdd_instance_set *set) {
    if (!set) return;
    pthread_mutex_lock(&closed_lock);
    if (!set->closed) {
        __atomic_store_n(&set->closed, 1, __ATOMIC_RELEASE);
        free(set->region);
        set->region = NULL;
        set->next_closed = closed_sets;
        closed_sets = set;
    }
    pthread_mutex_unlock(&closed_lock);
}

/* The request as a JSON object, after the checks every operation shares; NULL with the
 * status in *status when it cannot be used. */
static json_t *begin(cdd_instance_set *set, const char *request, char **out, cdd_error *err, cdd_status *status) {
    *status = CDD_E_INVALID;
    if (!set || !request || !out) { fail(err, CDD_E_INVALID, "set, request and reply pointer are required (NULL given)"); return NULL; }
    if (__atomic_load_n(&set->closed, __ATOMIC_ACQUIRE)) { fail(err, CDD_E_INVALID, "instance set %s is closed", set->set_id); return NULL; }
    *out = NULL;
    json_error_t jerr;
    json_t *req = json_loads(request, JSON_REJECT_DUPLICATES, &jerr);
    if (!json_is_object(req)) {
        json_decref(req);
        fail(err, CDD_E_INVALID, "request: not a JSON object of UTF-8 text");
        return NULL;
    }
    return req;
}

/* 1 when `value` is a string of min..max characters, else 0 with the error filled. */
static int within(json_t *value, const char *field, long min, long max, cdd_error *err) {
    long n = json_is_string(value) ? cdd_utf8_length(json_string_value(value)) : -1;
    if (n >= min && n <= max) return 1;
    fail(err, CDD_E_INVALID, "%s: must be a string of %ld to %ld characters", field, min, max);   /* never echo the value */
    return 0;
}

static int valid_tags(json_t *tags, cdd_error *err) {
    if (!json_is_object(tags)) { fail(err, CDD_E_INVALID, "tags: required object of strings"); return 0; }
    const char *key;
    json_t *value;
    json_object_foreach(tags, key, value) {
        long n = cdd_utf8_length(key);
        if (n < 1 || n > CDD_MAX_TAG_KEY) { fail(err, CDD_E_INVALID, "tags: keys are 1 to %d characters", CDD_MAX_TAG_KEY); return 0; }
        if (!within(value, "tags value", 0, CDD_MAX_TAG_VALUE, err)) return 0;
    }
    return 1;
}

static int valid_ids(json_t *ids, size_t max, cdd_error *err) {
    if (!json_is_array(ids) || json_array_size(ids) < 1 || json_array_size(ids) > max) {
        fail(err, CDD_E_INVALID, "ids: required array of 1 to %zu instance ids", max);
        return 0;
    }
    size_t i;
    json_t *id;
    json_array_foreach(ids, i, id) if (!within(id, "ids", 1, CDD_MAX_INSTANCE_ID, err)) return 0;
    return 1;
}

static cdd_status my_create(cdd_instance_set *set, const char *request, char **out, cdd_error *err) {
    cdd_status status;
    json_t *req = begin(set, request, out, err, &status);
    if (!req) return status;
    json_t *type = json_object_get(req, "instance_type"), *count = json_object_get(req, "count");
    json_t *token = json_object_get(req, "idempotency_token");
    if (!json_is_object(type)) status = fail(err, CDD_E_INVALID, "instance_type: required object");
    else if (!within(json_object_get(type, "provider_type"), "instance_type.provider_type", 1, CDD_MAX_PROVIDER_TYPE, err)) status = CDD_E_INVALID;
    else if (!valid_tags(json_object_get(req, "tags"), err)) status = CDD_E_INVALID;
    else if (!json_is_integer(count) || json_integer_value(count) < 1 || json_integer_value(count) > MAX_CREATE)
        status = fail(err, CDD_E_INVALID, "count: a whole number from 1 to %d (max_create_count)", MAX_CREATE);
    else if (token && !within(token, "idempotency_token", 1, CDD_MAX_IDEMPOTENCY_TOKEN, err)) status = CDD_E_INVALID;
    else if (json_object_get(req, "image") && !within(json_object_get(req, "image"), "image", 0, CDD_MAX_IMAGE, err)) status = CDD_E_INVALID;
    else if (json_object_get(req, "init_script") &&
             !within(json_object_get(req, "init_script"), "init_script", 0, CDD_MAX_INIT_SCRIPT, err)) status = CDD_E_INVALID;
    else if (json_object_get(req, "ssh_public_key") &&
             !within(json_object_get(req, "ssh_public_key"), "ssh_public_key", 0, CDD_MAX_SSH_PUBLIC_KEY, err)) status = CDD_E_INVALID;
    else /* YOUR CLOUD: launch `count` instances tagged with exactly `tags`, keyed by the token */
        status = fail(err, CDD_E_UNSUPPORTED, "create: this template has no cloud yet");
    json_decref(req);
    return status;
}

static cdd_status my_list(cdd_instance_set *set, const char *request, char **out, cdd_error *err) {
    cdd_status status;
    json_t *req = begin(set, request, out, err, &status);
    if (!req) return status;
    int ok = valid_tags(json_object_get(req, "tags"), err);
    json_decref(req);
    if (!ok) return CDD_E_INVALID;
    /* YOUR CLOUD: the instances of this set whose tags include every pair of the filter */
    return answer(json_pack("{s:[]}", "instances"), out, err);
}

static cdd_status my_destroy(cdd_instance_set *set, const char *request, char **out, cdd_error *err) {
    cdd_status status;
    json_t *req = begin(set, request, out, err, &status);
    if (!req) return status;
    json_t *ids = json_object_get(req, "ids");
    if (!valid_ids(ids, 100, err)) {
        json_decref(req);
        return CDD_E_INVALID;
    }
    /* YOUR CLOUD: terminate the ids this set has; any other id counts as destroyed */
    json_t *reply = json_pack("{s:O, s:[]}", "destroyed", ids, "failed");
    json_decref(req);
    return answer(reply, out, err);
}

static cdd_status my_set_tags(cdd_instance_set *set, const char *request, char **out, cdd_error *err) {
    cdd_status status;
    json_t *req = begin(set, request, out, err, &status);
    if (!req) return status;
    if (!valid_ids(json_object_get(req, "ids"), CDD_MAX_SET_TAGS_IDS, err) || !valid_tags(json_object_get(req, "tags"), err)) {
        json_decref(req);
        return CDD_E_INVALID;
    }
    /* YOUR CLOUD: merge the tags into instances of this set; none exist here yet */
    status = fail(err, CDD_E_NOT_FOUND, "no instance %.256s in set %s", json_string_value(json_array_get(json_object_get(req, "ids"), 0)),
                  set->set_id);
    json_decref(req);
    return status;
}

static cdd_status my_instance_types(cdd_instance_set *set, const char *request, char **out, cdd_error *err) {
    cdd_status status;
    json_t *req = begin(set, request, out, err, &status);
    if (!req) return status;
    json_decref(req);
    /* YOUR CLOUD: the catalogue with prices */
    return answer(json_pack("{s:[{s:s, s:i, s:I, s:f}]}", "instance_types", "provider_type", "example.small",
                            "vcpus", 2, "ram", (json_int_t)4 << 30, "price", 0.05),
                  out, err);
}

static cdd_status my_quota_group(cdd_instance_set *set, const char *request, char **out, cdd_error *err) {
    cdd_status status;
    json_t *req = begin(set, request, out, err, &status);
    if (!req) return status;
    json_t *type = json_object_get(req, "provider_type");
    if (!json_is_boolean(json_object_get(req, "preemptible")))
        status = fail(err, CDD_E_INVALID, "provider_type (string) and preemptible (boolean) are required");
    else if (!within(type, "provider_type", 1, CDD_MAX_PROVIDER_TYPE, err))
        status = CDD_E_INVALID;
    else if (strcmp(json_string_value(type), "example.small") != 0)
        status = fail(err, CDD_E_INVALID, "provider_type: unknown type \"%.128s\"", json_string_value(type));
    else
        status = answer(json_pack("{s:s}", "group", "example"), out, err);
    json_decref(req);   /* after the last use of `type`, which belongs to `req` */
    return status;
}
