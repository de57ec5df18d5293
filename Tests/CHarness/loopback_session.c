/* A scripted session with the loopback driver in a process of its own, for faults a test
 * cannot cause inside its own (multi-threaded) process: a descriptor table run dry, secrets
 * in the host's environment. Built and run by Tests/DriverConformanceTests
 * (LoopbackFaultTests) with plain cc against the ABI header alone.
 *
 *     loopback_session DRIVER.so STATE_DIR STEP...
 *
 * Steps: create (one instance; init script from $SESSION_INIT_SCRIPT), list, destroy (the
 * instances created in this session, else every listed one), starve N (fill the descriptor table, leaving N free), feed (free it).
 * Each prints one line: "STEP STATUS TEXT", STATUS the cdd_status number, TEXT the reply or
 * the error message. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "cloud_dispatch_driver.h"

static void host_log(void *ctx, int32_t level, const char *message) {
    (void)ctx;
    fprintf(stderr, "driver log %d: %s\n", level, message);
}

static cdd_driver driver;
static cdd_instance_set *set;
static char ids[4096] = ""; /* JSON strings of the created instances, comma-separated */

/* Runs one operation and prints its line; returns the reply (caller frees) or NULL. */
static char *call(const char *step, cdd_set_op_fn op, const char *request) {
    char *out = NULL;
    cdd_error err = {.struct_size = sizeof err};
    cdd_status status = op(set, request, &out, &err);
    printf("%s %d %s\n", step, (int)status, status == CDD_OK ? out : err.message);
    fflush(stdout);
    return status == CDD_OK ? out : NULL;
}

static int fillers[1 << 16];
static int filled;

/* Lowers the soft limit (so filling is quick), then takes every descriptor but `spare`. */
static void starve(int spare) {
    struct rlimit limit;
    getrlimit(RLIMIT_NOFILE, &limit);
    if (limit.rlim_cur > 256) limit.rlim_cur = 256;
    setrlimit(RLIMIT_NOFILE, &limit);
    int fd;
    while (filled < (int)(sizeof fillers / sizeof *fillers) && (fd = dup(0)) >= 0) fillers[filled++] = fd;
    for (int i = 0; i < spare && filled > 0; i++) close(fillers[--filled]);
    printf("starve 0 %d descriptors taken, %d left free\n", filled, spare);
    fflush(stdout);
}

static void feed(void) {
    while (filled > 0) close(fillers[--filled]);
    printf("feed 0 ok\n");
    fflush(stdout);
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: loopback_session DRIVER.so STATE_DIR STEP...\n");
        return 2;
    }
    void *lib = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
    if (!lib) { fprintf(stderr, "dlopen: %s\n", dlerror()); return 1; }
    cdd_status (*negotiate)(uint32_t, uint32_t *) = (cdd_status (*)(uint32_t, uint32_t *))dlsym(lib, "cdd_negotiate");
    cdd_status (*open)(uint32_t, const cdd_host *, cdd_driver *, cdd_error *) =
        (cdd_status (*)(uint32_t, const cdd_host *, cdd_driver *, cdd_error *))dlsym(lib, "cdd_open");
    uint32_t agreed = 0;
    static cdd_host host = {.struct_size = sizeof host, .log = host_log};
    cdd_error err = {.struct_size = sizeof err};
    driver.struct_size = sizeof driver;
    if (!negotiate || !open || negotiate(cdd_abi_version(), &agreed) != CDD_OK) { fprintf(stderr, "not a driver\n"); return 1; }
    host.abi_version = agreed;
    driver.abi_version = agreed;
    if (open(agreed, &host, &driver, &err) != CDD_OK) { fprintf(stderr, "cdd_open: %s\n", err.message); return 1; }
    char config[1024];
    snprintf(config, sizeof config, "{\"state_dir\": \"%s\"}", argv[2]);
    if (driver.open_set(driver.driver_ctx, "session", config, &set, &err) != CDD_OK) {
        fprintf(stderr, "open_set: %s\n", err.message);
        return 1;
    }

    for (int i = 3; i < argc; i++) {
        const char *step = argv[i];
        if (strcmp(step, "create") == 0) {
            const char *script = getenv("SESSION_INIT_SCRIPT");
            char *request = NULL;
            if (asprintf(&request, "{\"instance_type\": {\"provider_type\": \"local\"}, \"count\": 1, \"tags\": {},"
                                   " \"init_script\": \"%s\"}", script ? script : "") < 0) return 1;
            char *reply = call(step, driver.create, request);
            free(request);
            /* the one id: "id":"lo-…" */
            char *at = reply ? strstr(reply, "\"id\":\"") : NULL;
            if (at) snprintf(ids + strlen(ids), sizeof ids - strlen(ids), "%s\"%.15s\"", *ids ? "," : "", at + 6);
            driver.free_string(driver.driver_ctx, reply);
        } else if (strcmp(step, "list") == 0) {
            driver.free_string(driver.driver_ctx, call(step, driver.list, "{\"tags\": {}}"));
        } else if (strcmp(step, "destroy") == 0) {
            if (!*ids) { /* none created in this session: every listed one */
                char *out = NULL;
                if (driver.list(set, "{\"tags\": {}}", &out, &err) == CDD_OK)
                    for (char *at = out; (at = strstr(at, "\"id\":\"")) != NULL; at += 6)
                        snprintf(ids + strlen(ids), sizeof ids - strlen(ids), "%s\"%.15s\"", *ids ? "," : "", at + 6);
                driver.free_string(driver.driver_ctx, out);
            }
            char request[4200];
            snprintf(request, sizeof request, "{\"ids\": [%s]}", ids);
            driver.free_string(driver.driver_ctx, call(step, driver.destroy, request));
        } else if (strcmp(step, "starve") == 0 && i + 1 < argc) {
            starve(atoi(argv[++i]));
        } else if (strcmp(step, "feed") == 0) {
            feed();
        } else {
            fprintf(stderr, "unknown step %s\n", step);
            return 2;
        }
    }
    return 0;
}
