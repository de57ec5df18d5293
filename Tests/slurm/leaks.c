/* Every operation of the slurm backend once, error paths included, in one process built with
 * AddressSanitizer and leak detection (make slurm-test): a leak or a bad access fails it.
 *     leaks SLURM_CONF WORK_DIR */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cloud_dispatch_executor.h"

static cdx_executor table;
static int failures;
/* A closed handle stays a valid pointer (the ABI): its few bytes are kept on purpose. */
static cdx_backend *volatile kept;

static cdd_status call(cdx_backend_op_fn op, cdx_backend *b, const char *request, char **reply) {
    cdd_error err = {.struct_size = sizeof err};
    char *out = NULL;
    cdd_status status = op(b, request, &out, &err);
    if ((status == CDD_OK) != (out != NULL)) {
        fprintf(stderr, "FAIL reply pointer and status disagree (%d) for %s\n", status, request);
        failures++;
    }
    if (reply) *reply = out;
    else table.free_string(table.executor_ctx, out);
    return status;
}

static void expect(const char *what, cdd_status got, cdd_status want) {
    printf("%s %s (status %d)\n", got == want ? "ok  " : "FAIL", what, got);
    failures += got != want;
}

static const char *job_request(const char *token, const char *uuid, const char *command, const char *image) {
    static char buf[1024];
    snprintf(buf, sizeof buf,
             "{\"container\":{\"uuid\":\"%s\",\"command\":%s,\"image\":\"%s\",\"environment\":{\"A\":\"1\"},\"cwd\":\"\","
             "\"vcpus\":1,\"ram\":1048576,\"max_run_time\":0},\"partition\":\"\",\"idempotency_token\":\"%s\",\"tags\":{\"k\":\"v\"}}",
             uuid, command, image, token);
    return buf;
}

int main(int argc, char **argv) {
    if (argc != 3) return 2;
    setvbuf(stdout, NULL, _IOLBF, 0);
    uint32_t agreed;
    cdd_error err = {.struct_size = sizeof err};
    table.struct_size = sizeof table;
    if (cdx_negotiate(cdx_abi_version(), &agreed) != CDD_OK || cdx_open(agreed, NULL, &table, &err) != CDD_OK) return 1;
    expect("negotiate NULL out", cdx_negotiate(cdx_abi_version(), NULL), CDD_E_ABI);
    cdx_backend *b = NULL;
    char config[2048];
    expect("open: NULL config", table.open_backend(table.executor_ctx, "x", NULL, &b, &err), CDD_E_INVALID);
    expect("open: bad id", table.open_backend(table.executor_ctx, ".x", "{}", &b, &err), CDD_E_INVALID);
    expect("open: no work_dir", table.open_backend(table.executor_ctx, "x", "{}", &b, &err), CDD_E_INVALID);
    expect("open: unknown key", table.open_backend(table.executor_ctx, "x", "{\"work_dir\":\"/tmp\",\"nope\":1}", &b, &err),
           CDD_E_INVALID);
    expect("open: bad runtime", table.open_backend(table.executor_ctx, "x", "{\"work_dir\":\"/tmp\",\"image_runtime\":\"d\"}", &b, &err),
           CDD_E_INVALID);
    snprintf(config, sizeof config, "{\"slurm_conf\":\"%s\",\"work_dir\":\"%s\"}", argv[1], argv[2]);
    expect("open", table.open_backend(table.executor_ctx, "leaks", config, &b, &err), CDD_OK);
    if (!b) return 1;
    char token[32], *reply = NULL;
    snprintf(token, sizeof token, "leak-%ld", (long)time(NULL));
    expect("submit: not JSON", call(table.submit, b, "{", NULL), CDD_E_INVALID);
    expect("submit: not an object", call(table.submit, b, "[]", NULL), CDD_E_INVALID);
    expect("submit: no container", call(table.submit, b, "{}", NULL), CDD_E_INVALID);
    expect("submit: empty command", call(table.submit, b, job_request(token, "u1", "[]", ""), NULL), CDD_E_INVALID);
    expect("submit: bad token", call(table.submit, b, job_request("a b", "u1", "[\"true\"]", ""), NULL), CDD_E_INVALID);
    expect("submit: image without runtime", call(table.submit, b, job_request(token, "u1", "[\"true\"]", "alpine"), NULL),
           CDD_E_UNSUPPORTED);
    expect("submit", call(table.submit, b, job_request(token, "u1", "[\"true\"]", ""), &reply), CDD_OK);
    char id[64] = "";
    const char *at = reply ? strstr(reply, "\"id\":\"") : NULL;
    if (at) sscanf(at + 6, "%63[0-9]", id);
    table.free_string(table.executor_ctx, reply);
    expect("submit again", call(table.submit, b, job_request(token, "u1", "[\"true\"]", ""), NULL), CDD_OK);
    expect("submit: token of another uuid", call(table.submit, b, job_request(token, "u2", "[\"true\"]", ""), NULL), CDD_E_INVALID);
    int ended = 0;
    cdd_status listed = CDD_OK;
    for (int i = 0; i < 600 && !ended && listed == CDD_OK; i++) { /* Slurm has no end event: poll, 60 s at most */
        listed = call(table.list, b, "{\"tags\":{\"k\":\"v\"}}", &reply);
        ended = reply && strstr(reply, "\"state\":\"ended\"") != NULL;
        table.free_string(table.executor_ctx, reply);
        if (!ended) nanosleep(&(struct timespec){0, 100000000}, NULL);
    }
    expect("list until the job ended", ended ? listed : CDD_E_INTERNAL, CDD_OK);
    expect("list: bad tags", call(table.list, b, "{\"tags\":[]}", NULL), CDD_E_INVALID);
    char request[256];
    snprintf(request, sizeof request, "{\"id\":\"%s\",\"max_bytes\":100}", id);
    expect("log_tail", call(table.log_tail, b, request, NULL), CDD_OK);
    expect("log_tail: bad max_bytes", call(table.log_tail, b, "{\"id\":\"1\",\"max_bytes\":-1}", NULL), CDD_E_INVALID);
    expect("log_tail: unknown job", call(table.log_tail, b, "{\"id\":\"999999\",\"max_bytes\":10}", NULL), CDD_E_NOT_FOUND);
    snprintf(request, sizeof request, "{\"id\":\"%s\",\"grace_ms\":0}", id);
    expect("cancel an ended job", call(table.cancel, b, request, NULL), CDD_OK);
    expect("cancel: unknown job", call(table.cancel, b, "{\"id\":\"999999\",\"grace_ms\":0}", NULL), CDD_E_NOT_FOUND);
    expect("cancel: no id", call(table.cancel, b, "{}", NULL), CDD_E_INVALID);
    snprintf(request, sizeof request, "{\"ids\":[\"%s\",\"123\"]}", id);
    expect("release", call(table.release, b, request, NULL), CDD_OK);
    expect("release: not an array", call(table.release, b, "{\"ids\":3}", NULL), CDD_E_INVALID);
    expect("capacity", call(table.capacity, b, "{}", NULL), CDD_OK);
    expect("capabilities NULL out", table.capabilities(table.executor_ctx, NULL, &err), CDD_E_INVALID);
    expect("list: NULL request", call(table.list, b, NULL, NULL), CDD_E_INVALID);
    kept = b;
    table.close_backend(b);
    table.close_backend(b);
    table.close_backend(NULL);
    table.free_string(table.executor_ctx, NULL);
    expect("list after close", call(table.list, b, "{}", NULL), CDD_E_INVALID);
    printf("%s\n", failures ? "FAILED" : "all passed");
    return failures ? 1 : 0;
}
