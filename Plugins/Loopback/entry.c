/* Entry points and the driver table of the loopback driver: every instance is a private sshd
 * on 127.0.0.1 of this machine. Written in plain C against the ABI header alone, to prove the
 * ABI language-neutral; it is also the embedded default cloud. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "loopback.h"

#define EXPORT __attribute__((visibility("default")))
#define LOOPBACK_VERSION "1.0.0"

/* ---- helpers shared by the other files ---- */

void lb_log(cdd_instance_set *set, int32_t level, const char *fmt, ...) {
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    const cdd_host *host = set->driver->host;
    if (host && host->log) host->log(host->host_ctx, level, line);
}

cdd_status lb_fail(cdd_error *err, cdd_status status, const char *fmt, ...) {
    char message[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof message, fmt, ap);
    va_end(ap);
    return cdd_error_fill(err, status, 0, 0, "", message);
}

cdd_status lb_usable(cdd_instance_set *set, char **out, cdd_error *err) {
    if (!set || !out) return lb_fail(err, CDD_E_INVALID, "instance set and reply pointer are required (NULL given)");
    if (__atomic_load_n(&set->closed, __ATOMIC_ACQUIRE))
        return lb_fail(err, CDD_E_INVALID, "instance set %s is closed", set->set_id ? set->set_id : "?");
    *out = NULL;
    return CDD_OK;
}

cdd_status lb_reply(json_t *reply, char **out_json, cdd_error *err) {
    char *text = reply ? json_dumps(reply, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(reply);
    if (!text) return lb_fail(err, CDD_E_INTERNAL, "out of memory building the reply");
    *out_json = text;
    return CDD_OK;
}

/* ---- driver-level members ---- */

static cdd_status lb_capabilities(void *ctx, char **out_json, cdd_error *err) {
    (void)ctx;
    if (!out_json) return lb_fail(err, CDD_E_INVALID, "capabilities: NULL reply pointer");
    return lb_reply(json_pack("{s:b, s:b, s:i, s:i, s:b, s:b, s:b, s:[]}",
                              "simulated", 1, "idempotent_create", 1,
                              "max_create_count", LOOPBACK_MAX_CREATE, "max_destroy_batch", LOOPBACK_MAX_DESTROY,
                              "preemptible", 0, "host_keys", 1, "init_script", 1, "extensions"),
                    out_json, err);
}

static void lb_free_string(void *ctx, char *string) {
    (void)ctx;
    free(string); /* jansson's json_dumps allocates with malloc */
}

/* The default catalogue: one type, "local", describing this machine. */
static json_t *machine_catalogue(const char *state_dir) {
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    long long ram = (long long)sysconf(_SC_PHYS_PAGES) * sysconf(_SC_PAGESIZE);
    struct statvfs fs;
    long long scratch = statvfs(state_dir, &fs) == 0 ? (long long)fs.f_bavail * (long long)fs.f_frsize : 0;
    return json_pack("[{s:s, s:i, s:I, s:I, s:f}]", "provider_type", "local", "vcpus", (int)(cpus > 0 ? cpus : 1),
                     "ram", (json_int_t)ram, "scratch", (json_int_t)scratch, "price", 0.0);
}

/* Check an operator-given catalogue: [{provider_type, vcpus, ram, scratch?, price?}]. */
static int valid_catalogue(json_t *types, char *why, size_t size) {
    if (!json_is_array(types) || json_array_size(types) == 0) {
        snprintf(why, size, "instance_types: must be a non-empty array");
        return 0;
    }
    size_t i;
    json_t *t;
    json_array_foreach(types, i, t) {
        const char *key;
        json_t *v;
        json_object_foreach(t, key, v) {
            int ok = (!strcmp(key, "provider_type") && json_is_string(v) && *json_string_value(v)) ||
                     ((!strcmp(key, "vcpus") || !strcmp(key, "ram")) && json_is_integer(v) && json_integer_value(v) > 0) ||
                     (!strcmp(key, "scratch") && json_is_integer(v) && json_integer_value(v) >= 0) ||
                     (!strcmp(key, "price") && json_is_number(v) && json_number_value(v) >= 0);
            if (!ok) {
                snprintf(why, size, "instance_types[%zu].%s: unknown key or bad value", i, key);
                return 0;
            }
        }
        if (!json_object_get(t, "provider_type") || !json_object_get(t, "vcpus") || !json_object_get(t, "ram")) {
            snprintf(why, size, "instance_types[%zu]: provider_type, vcpus and ram are required", i);
            return 0;
        }
    }
    return 1;
}

static void sweep_trash(cdd_instance_set *set);

static cdd_status lb_open_set(void *ctx, const char *set_id, const char *config_json,
                              cdd_instance_set **out_set, cdd_error *err) {
    if (!out_set) return lb_fail(err, CDD_E_INVALID, "open_set: NULL set pointer");
    /* The id becomes a folder under state_dir: never ".", "..", hidden, or a path. */
    if (!cdd_valid_set_id(set_id))
        return lb_fail(err, CDD_E_INVALID, "set_id: must be 1 to %d characters, a letter or digit first, then letters, digits, '.', '_' or '-'",
                       CDD_MAX_SET_ID);
    json_error_t jerr;
    json_t *config = json_loads(config_json ? config_json : "", JSON_REJECT_DUPLICATES, &jerr);
    if (!json_is_object(config)) {
        json_decref(config);
        return lb_fail(err, CDD_E_INVALID, "config must be a JSON object (%s)", config ? "not an object" : jerr.text);
    }
    /* api_token stands for a real cloud's credential: accepted and never used or echoed, so a
     * test can check the host never logs a driver's configuration. */
    static const char *known[] = {"state_dir", "sshd_path", "ssh_keygen_path", "max_instances", "instance_types", "api_token", NULL};
    const char *key;
    json_t *value;
    json_object_foreach(config, key, value) {
        int ok = 0;
        for (const char **k = known; *k; k++) ok |= strcmp(*k, key) == 0;
        if (!ok) { /* format before the release: `key` belongs to `config` */
            cdd_status status = lb_fail(err, CDD_E_INVALID, "config: unknown key \"%s\" (known: state_dir, sshd_path, ssh_keygen_path, max_instances, instance_types, api_token)", key);
            json_decref(config);
            return status;
        }
    }
    const char *state_dir = json_string_value(json_object_get(config, "state_dir"));
    json_t *max_j = json_object_get(config, "max_instances");
    json_t *types = json_object_get(config, "instance_types");
    char why[256];
    cdd_status status = CDD_OK;
    if (!state_dir || state_dir[0] != '/') {
        status = lb_fail(err, CDD_E_INVALID, "config.state_dir: required absolute path");
    } else if (max_j && (!json_is_integer(max_j) || json_integer_value(max_j) < 1 || json_integer_value(max_j) > 1000)) {
        status = lb_fail(err, CDD_E_INVALID, "config.max_instances: an integer from 1 to 1000");
    } else if (types && !valid_catalogue(types, why, sizeof why)) {
        status = lb_fail(err, CDD_E_INVALID, "config.%s", why);
    } else if (json_object_get(config, "sshd_path") && !json_is_string(json_object_get(config, "sshd_path"))) {
        status = lb_fail(err, CDD_E_INVALID, "config.sshd_path: must be a string");
    } else if (json_object_get(config, "ssh_keygen_path") && !json_is_string(json_object_get(config, "ssh_keygen_path"))) {
        status = lb_fail(err, CDD_E_INVALID, "config.ssh_keygen_path: must be a string");
    }
    if (status != CDD_OK) {
        json_decref(config);
        return status;
    }

    cdd_instance_set *set = calloc(1, sizeof *set);
    struct passwd pw, *found = NULL;
    char pwbuf[4096];
    getpwuid_r(geteuid(), &pw, pwbuf, sizeof pwbuf, &found);
    const char *sshd = json_string_value(json_object_get(config, "sshd_path"));
    const char *keygen = json_string_value(json_object_get(config, "ssh_keygen_path"));
    if (set) {
        set->driver = ctx;
        set->set_id = strdup(set_id);
        set->dir = lb_strdup_printf("%s/%s", state_dir, set_id);
        set->sshd_path = strdup(sshd ? sshd : "/usr/sbin/sshd");
        set->keygen_path = strdup(keygen ? keygen : "/usr/bin/ssh-keygen");
        set->ssh_user = strdup(found ? found->pw_name : "root");
        set->max_instances = max_j ? (int)json_integer_value(max_j) : 32;
        set->catalogue = types ? json_deep_copy(types) : machine_catalogue(state_dir);
        pthread_mutex_init(&set->lock, NULL);
    }
    json_decref(config);
    if (!set || !set->set_id || !set->dir || !set->sshd_path || !set->keygen_path || !set->ssh_user || !set->catalogue)
        return lb_fail(err, CDD_E_INTERNAL, "out of memory");
    char *instances = lb_strdup_printf("%s/instances", set->dir);
    int made = instances && lb_mkdirs(instances, 0700) == 0;
    free(instances);
    if (!made) {
        status = lb_fail(err, CDD_E_INVALID, "config.state_dir: cannot create %s: %s", set->dir, strerror(errno));
        free(set->set_id); free(set->dir); free(set->sshd_path); free(set->keygen_path); free(set->ssh_user);
        json_decref(set->catalogue);
        free(set);
        return status;
    }
    sweep_trash(set);
    *out_set = set;
    return CDD_OK;
}

/* Remove folders a destroy had renamed away but not deleted (it was interrupted), and
 * idempotency tokens older than a day. */
static void sweep_trash(cdd_instance_set *set) {
    int lock = lb_lock_set(set);
    if (lock < 0) { /* best effort: the next open sweeps */
        lb_unlock_set(set, lock);
        return;
    }
    char *tokens = lb_strdup_printf("%s/tokens", set->dir);
    DIR *t = tokens ? opendir(tokens) : NULL;
    struct dirent *e;
    time_t day_ago = time(NULL) - 24 * 3600;
    while (t && (e = readdir(t)) != NULL) {
        struct stat st;
        char *path = e->d_name[0] != '.' ? lb_strdup_printf("%s/%s", tokens, e->d_name) : NULL;
        if (path && stat(path, &st) == 0 && st.st_mtime < day_ago) unlink(path);
        free(path);
    }
    if (t) closedir(t);
    free(tokens);
    DIR *d = opendir(set->dir);
    while (d && (e = readdir(d)) != NULL) {
        if (strncmp(e->d_name, "trash-", 6) != 0) continue;
        char *path = lb_strdup_printf("%s/%s", set->dir, e->d_name);
        /* a trash folder whose processes cannot be shown gone stays for the next sweep */
        if (path && lb_stop_instance(e->d_name + 6, path) == 0) lb_rm_rf(path);
        free(path);
    }
    if (d) closedir(d);
    lb_unlock_set(set, lock);
}

/* Closed sets: their structs stay (a few bytes each) so a late call or a second close_set
 * finds `closed` set rather than freed memory; the list keeps them reachable. */
static cdd_instance_set *closed_sets;
static pthread_mutex_t closed_lock = PTHREAD_MUTEX_INITIALIZER;

static void lb_close_set(cdd_instance_set *set) {
    if (!set) return;
    pthread_mutex_lock(&closed_lock);
    int already = set->closed;
    if (!already) {
        __atomic_store_n(&set->closed, 1, __ATOMIC_RELEASE);
        set->next_closed = closed_sets;
        closed_sets = set;
    }
    pthread_mutex_unlock(&closed_lock);
    if (already) return;
    pthread_mutex_destroy(&set->lock);
    json_decref(set->catalogue);
    set->catalogue = NULL;
    free(set->dir); free(set->sshd_path); free(set->keygen_path); free(set->ssh_user);
    set->dir = set->sshd_path = set->keygen_path = set->ssh_user = NULL;
    /* set_id stays: it names the set in the "closed" error */
}

/* ---- entry points ---- */

EXPORT cdd_status cdd_negotiate(uint32_t host_version, uint32_t *out_agreed) {
    if (!out_agreed || cdd_version_major(host_version) != CDD_ABI_VERSION_MAJOR) return CDD_E_ABI;
    uint32_t minor = cdd_version_minor(host_version);
    if (minor > CDD_ABI_VERSION_MINOR) minor = CDD_ABI_VERSION_MINOR;
    *out_agreed = cdd_make_version(CDD_ABI_VERSION_MAJOR, minor);
    return CDD_OK;
}

EXPORT cdd_status cdd_open(uint32_t agreed_version, const cdd_host *host, cdd_driver *driver, cdd_error *err) {
    if (!driver || cdd_version_major(agreed_version) != CDD_ABI_VERSION_MAJOR ||
        driver->struct_size < cdd_driver_size_v1_0())
        return cdd_error_fill(err, CDD_E_ABI, 0, 0, "", "loopback needs ABI 1.x and a 1.0-sized driver table");
    /* One context for the process: a second cdd_open gives the same table, driver_ctx too,
     * and keeps the first host table (valid for the process lifetime). */
    static loopback_driver context;
    static pthread_mutex_t once = PTHREAD_MUTEX_INITIALIZER;
    loopback_driver *ctx = &context;
    pthread_mutex_lock(&once);
    if (!ctx->host) ctx->host = host;
    pthread_mutex_unlock(&once);

    cdd_driver table = {0};
    table.abi_version = agreed_version;
    table.driver_ctx = ctx;
    table.id = "loopback";
    table.version = LOOPBACK_VERSION;
    table.description = "instances are private sshd processes on this machine";
    table.capabilities = lb_capabilities;
    table.open_set = lb_open_set;
    table.close_set = lb_close_set;
    table.create = lb_create;
    table.list = lb_list;
    table.destroy = lb_destroy;
    table.set_tags = lb_set_tags;
    table.instance_types = lb_instance_types;
    table.quota_group = lb_quota_group;
    table.get_extension = NULL;
    table.free_string = lb_free_string;

    /* Write only what both sides know. */
    uint32_t size = driver->struct_size < sizeof table ? driver->struct_size : (uint32_t)sizeof table;
    table.struct_size = size;
    memcpy(driver, &table, size);
    return CDD_OK;
}
