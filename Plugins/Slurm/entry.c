/* Entry points and the executor table of the Slurm backend: every container is one batch job
 * of an existing Slurm cluster, driven through Slurm's own commands (docs/executors/slurm.md). */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "slurm_backend.h"

#define EXPORT __attribute__((visibility("default")))
#define SLURM_BACKEND_VERSION "1.0.0"

/* ---- helpers shared by the other files ---- */

void slurm_log(cdx_backend *b, int32_t level, const char *fmt, ...) {
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    const cdd_host *host = b->executor->host;
    if (host && host->log) host->log(host->host_ctx, level, line);
}

cdd_status slurm_fail(cdd_error *err, cdd_status status, const char *fmt, ...) {
    char message[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof message, fmt, ap);
    va_end(ap);
    return cdd_error_fill(err, status, 0, 0, "", message);
}

cdd_status slurm_reply(json_t *reply, char **out_json, cdd_error *err) {
    char *text = reply ? json_dumps(reply, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(reply);
    if (!text) return slurm_fail(err, CDD_E_INTERNAL, "out of memory building the reply");
    *out_json = text;
    return CDD_OK;
}

cdd_status slurm_begin(cdx_backend *b, const char *request, char **out, json_t **out_root, cdd_error *err) {
    if (!b || !out || !request) return slurm_fail(err, CDD_E_INVALID, "backend, request and reply pointer are required (NULL given)");
    *out = NULL;
    if (__atomic_load_n(&b->closed, __ATOMIC_ACQUIRE))
        return slurm_fail(err, CDD_E_INVALID, "backend %s is closed", b->dispatcher_id ? b->dispatcher_id : "?");
    json_error_t jerr;
    json_t *root = json_loads(request, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) return slurm_fail(err, CDD_E_INVALID, "request is not valid JSON: %s", jerr.text);
    if (!json_is_object(root)) {
        json_decref(root);
        return slurm_fail(err, CDD_E_INVALID, "request must be a JSON object");
    }
    *out_root = root;
    return CDD_OK;
}

/* ---- executor-level members ---- */

static cdd_status slurm_capabilities(void *ctx, char **out_json, cdd_error *err) {
    (void)ctx;
    if (!out_json) return slurm_fail(err, CDD_E_INVALID, "capabilities: NULL reply pointer");
    /* images: the backend can run them when an operator configures a runtime; whether this
     * backend's config has one is checked at submit (CDD_E_UNSUPPORTED without). */
    return slurm_reply(json_pack("{s:b, s:b, s:b}", "idempotent_submit", 1, "images", 1, "log_tail", 1), out_json, err);
}

static void slurm_free_string(void *ctx, char *string) {
    (void)ctx;
    free(string); /* jansson's json_dumps allocates with malloc */
}

static cdd_status slurm_open_backend(void *ctx, const char *dispatcher_id, const char *config_json,
                                     cdx_backend **out_backend, cdd_error *err) {
    if (!out_backend) return slurm_fail(err, CDD_E_INVALID, "open_backend: NULL backend pointer");
    *out_backend = NULL;
    if (!cdd_valid_set_id(dispatcher_id))
        return slurm_fail(err, CDD_E_INVALID, "dispatcher_id: must be 1-64 of [A-Za-z0-9._-], first a letter or digit");
    if (!config_json) return slurm_fail(err, CDD_E_INVALID, "config: NULL given");
    cdx_backend *b = calloc(1, sizeof *b);
    if (!b || !(b->dispatcher_id = strdup(dispatcher_id))) {
        free(b);
        return slurm_fail(err, CDD_E_INTERNAL, "out of memory");
    }
    b->executor = ctx;
    pthread_mutex_init(&b->sizes_lock, NULL);
    cdd_status status = slurm_configure(b, config_json, err);
    if (status != CDD_OK) {
        slurm_free_config(b);
        pthread_mutex_destroy(&b->sizes_lock);
        free(b->dispatcher_id);
        free(b);
        return status;
    }
    slurm_prune_records(b);
    slurm_log(b, CDD_LOG_INFO, "slurm backend %s opened: jobs in %s", dispatcher_id, b->job_dir);
    *out_backend = b;
    return CDD_OK;
}

/* After close only the struct stays, marked closed and never freed: the handle remains a
 * valid pointer, as the ABI asks, for a few bytes per closed backend. */
static void slurm_close_backend(cdx_backend *b) {
    if (!b || __atomic_exchange_n(&b->closed, 1, __ATOMIC_ACQ_REL)) return;
    slurm_free_config(b);
    json_decref(b->sizes);
    b->sizes = NULL;
}

static slurm_executor the_executor;

EXPORT cdd_status cdx_negotiate(uint32_t host_version, uint32_t *out_agreed) {
    if (!out_agreed) return CDD_E_ABI;
    if (cdd_version_major(host_version) != CDX_ABI_VERSION_MAJOR) return CDD_E_ABI;
    uint32_t minor = cdd_version_minor(host_version);
    *out_agreed = cdd_make_version(CDX_ABI_VERSION_MAJOR, minor > CDX_ABI_VERSION_MINOR ? CDX_ABI_VERSION_MINOR : minor);
    return CDD_OK;
}

EXPORT cdd_status cdx_open(uint32_t agreed_version, const cdd_host *host, cdx_executor *executor, cdd_error *err) {
    if (!executor) return CDD_E_ABI;
    if (cdd_version_major(agreed_version) != CDX_ABI_VERSION_MAJOR)
        return cdd_error_fill(err, CDD_E_ABI, 0, 0, "", "slurm backend speaks executor ABI 1.x only");
    if (executor->struct_size < cdx_executor_size_v1_0())
        return cdd_error_fill(err, CDD_E_ABI, 0, 0, "", "host's executor table is smaller than ABI 1.0's");
    /* The first host table is the one kept (the ABI: every call fills the same table). */
    const cdd_host *none = NULL;
    __atomic_compare_exchange_n(&the_executor.host, &none, host, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
    cdx_executor table = {
        .struct_size = executor->struct_size < sizeof table ? executor->struct_size : (uint32_t)sizeof table,
        .abi_version = agreed_version,
        .executor_ctx = &the_executor,
        .id = "slurm",
        .version = SLURM_BACKEND_VERSION,
        .description = "Runs containers as batch jobs of an existing Slurm cluster (sbatch, squeue, scontrol, scancel)",
        .capabilities = slurm_capabilities,
        .open_backend = slurm_open_backend,
        .close_backend = slurm_close_backend,
        .capacity = slurm_capacity,
        .submit = slurm_submit,
        .list = slurm_list,
        .cancel = slurm_cancel,
        .release = slurm_release,
        .log_tail = slurm_log_tail,
        .get_extension = NULL,
        .free_string = slurm_free_string,
    };
    memcpy(executor, &table, table.struct_size);
    return CDD_OK;
}
