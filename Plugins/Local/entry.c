/* Entry points and the executor table of the local backend: containers run on this machine
 * through cloud-dispatch-runner, within a configured CPU and RAM capacity. Plain C against
 * the ABI header alone, like the loopback driver. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "local.h"

#define EXPORT __attribute__((visibility("default")))
#define LOCAL_VERSION "1.0.0"

/* ---- helpers shared by the other files ---- */

void local_log(cdx_backend *b, int32_t level, const char *fmt, ...) {
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    const cdd_host *host = b->executor->host;
    if (host && host->log) host->log(host->host_ctx, level, line);
}

cdd_status local_fail(cdd_error *err, cdd_status status, const char *fmt, ...) {
    char message[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof message, fmt, ap);
    va_end(ap);
    return cdd_error_fill(err, status, 0, 0, "", message);
}

cdd_status local_reply(json_t *reply, char **out_json, cdd_error *err) {
    char *text = reply ? json_dumps(reply, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(reply);
    if (!text) return local_fail(err, CDD_E_INTERNAL, "out of memory building the reply");
    *out_json = text;
    return CDD_OK;
}

/* ---- executor-level members ---- */

static cdd_status capabilities(void *ctx, char **out_json, cdd_error *err) {
    (void)ctx;
    if (!out_json) return local_fail(err, CDD_E_INVALID, "capabilities: NULL reply pointer");
    /* images: capabilities belong to the executor, not to one open backend; a backend
     * configured with runtime "none" answers a submit with an image CDD_E_UNSUPPORTED. */
    return local_reply(json_pack("{s:b, s:b, s:b}", "idempotent_submit", 1, "images", 1, "log_tail", 1), out_json, err);
}

static void free_string(void *ctx, char *string) {
    (void)ctx;
    free(string); /* json_dumps allocates with malloc */
}

static cdd_status open_backend(void *ctx, const char *dispatcher_id, const char *config_json, cdx_backend **out,
                               cdd_error *err) {
    if (!out) return local_fail(err, CDD_E_INVALID, "open_backend: NULL backend pointer");
    *out = NULL;
    cdx_backend *b = calloc(1, sizeof *b);
    if (!b) return local_fail(err, CDD_E_INTERNAL, "out of memory");
    b->executor = ctx;
    cdd_status status = local_configure(b, dispatcher_id, config_json, err);
    if (status != CDD_OK) {
        local_free_config(b);
        free(b->dispatcher_id);
        free(b);
        return status;
    }
    *out = b;
    return CDD_OK;
}

/* Closed backends: their structs stay (a few bytes each) so a late call or a second close
 * finds `closed` set rather than freed memory; the list keeps them reachable. */
static cdx_backend *closed_backends;
static pthread_mutex_t closed_lock = PTHREAD_MUTEX_INITIALIZER;

static void close_backend(cdx_backend *b) {
    if (!b) return;
    pthread_mutex_lock(&closed_lock);
    int already = b->closed;
    if (!already) {
        __atomic_store_n(&b->closed, 1, __ATOMIC_RELEASE);
        b->next_closed = closed_backends;
        closed_backends = b;
    }
    pthread_mutex_unlock(&closed_lock);
    if (!already) local_free_config(b);
}

/* ---- entry points ---- */

EXPORT cdd_status cdx_negotiate(uint32_t host_version, uint32_t *out_agreed) {
    if (!out_agreed || cdd_version_major(host_version) != CDX_ABI_VERSION_MAJOR) return CDD_E_ABI;
    uint32_t minor = cdd_version_minor(host_version);
    if (minor > CDX_ABI_VERSION_MINOR) minor = CDX_ABI_VERSION_MINOR;
    *out_agreed = cdd_make_version(CDX_ABI_VERSION_MAJOR, minor);
    return CDD_OK;
}

EXPORT cdd_status cdx_open(uint32_t agreed_version, const cdd_host *host, cdx_executor *executor, cdd_error *err) {
    if (!executor || cdd_version_major(agreed_version) != CDX_ABI_VERSION_MAJOR ||
        executor->struct_size < cdx_executor_size_v1_0())
        return cdd_error_fill(err, CDD_E_ABI, 0, 0, "", "local needs ABI 1.x and a 1.0-sized executor table");
    /* One context for the process: a second cdx_open gives the same table and keeps the
     * first host table (valid for the process lifetime). */
    static local_executor context;
    static pthread_mutex_t once = PTHREAD_MUTEX_INITIALIZER;
    pthread_mutex_lock(&once);
    if (!context.host) context.host = host;
    pthread_mutex_unlock(&once);

    cdx_executor table = {0};
    table.abi_version = agreed_version;
    table.executor_ctx = &context;
    table.id = "local";
    table.version = LOCAL_VERSION;
    table.description = "runs containers on this machine through cloud-dispatch-runner, within a configured CPU and RAM";
    table.capabilities = capabilities;
    table.open_backend = open_backend;
    table.close_backend = close_backend;
    table.capacity = local_capacity;
    table.submit = local_submit;
    table.list = local_list;
    table.cancel = local_cancel;
    table.release = local_release;
    table.log_tail = local_log_tail;
    table.get_extension = NULL;
    table.free_string = free_string;

    /* Write only what both sides know. */
    uint32_t size = executor->struct_size < sizeof table ? executor->struct_size : (uint32_t)sizeof table;
    table.struct_size = size;
    memcpy(executor, &table, size);
    return CDD_OK;
}
