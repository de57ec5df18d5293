/* open_backend's configuration: every key checked, an unknown one refused by name, the
 * machine's size as the default capacity. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "local.h"

static const char *const known[] = {"runner", "state_dir", "vcpus", "ram", "runtime", "call_timeout_ms", NULL};

/* MemTotal of /proc/meminfo in bytes; the physical pages when it cannot be read. */
static json_int_t machine_ram(void) {
    size_t len = 0;
    char *text = local_read_file("/proc/meminfo", 1 << 16, &len);
    const char *line = text ? strstr(text, "MemTotal:") : NULL;
    long long kib = line ? strtoll(line + 9, NULL, 10) : 0;
    free(text);
    if (kib > 0) return (json_int_t)kib * 1024;
    return (json_int_t)sysconf(_SC_PHYS_PAGES) * (json_int_t)sysconf(_SC_PAGESIZE);
}

/* The configured program is a runner of the contract this backend speaks (docs/runner.md). */
static int is_runner(cdx_backend *b) {
    const char *args[] = {"--version", NULL};
    local_run run;
    if (local_runner(b, b->dir, args, NULL, &run) != 0) return 0;
    int ok = run.exit_code == 0 && run.out && strncmp(run.out, "cloud-dispatch-runner 1.", 24) == 0;
    local_run_free(&run);
    return ok;
}

static cdd_status check_keys(json_t *config, cdd_error *err) {
    const char *key;
    json_t *value;
    json_object_foreach(config, key, value) {
        int ok = 0;
        for (const char *const *k = known; *k; k++) ok |= strcmp(*k, key) == 0;
        if (!ok)
            return local_fail(err, CDD_E_INVALID,
                              "config: unknown key \"%.64s\" (known: runner, state_dir, vcpus, ram, runtime, call_timeout_ms)", key);
    }
    return CDD_OK;
}

static cdd_status check_values(json_t *config, cdd_error *err) {
    json_t *runner = json_object_get(config, "runner");
    json_t *state_dir = json_object_get(config, "state_dir");
    json_t *vcpus = json_object_get(config, "vcpus");
    json_t *ram = json_object_get(config, "ram");
    json_t *runtime = json_object_get(config, "runtime");
    json_t *timeout = json_object_get(config, "call_timeout_ms");
    if (!json_is_string(runner) || json_string_value(runner)[0] != '/')
        return local_fail(err, CDD_E_INVALID, "config.runner: required absolute path of cloud-dispatch-runner");
    if (access(json_string_value(runner), X_OK) != 0)
        return local_fail(err, CDD_E_INVALID, "config.runner: %.200s is not an executable file (%s)", json_string_value(runner),
                          strerror(errno));
    if (!json_is_string(state_dir) || json_string_value(state_dir)[0] != '/')
        return local_fail(err, CDD_E_INVALID, "config.state_dir: required absolute path");
    if (vcpus && (!json_is_integer(vcpus) || json_integer_value(vcpus) < 1 || json_integer_value(vcpus) > 100000))
        return local_fail(err, CDD_E_INVALID, "config.vcpus: an integer from 1 to 100000");
    if (ram && (!json_is_integer(ram) || json_integer_value(ram) < 1))
        return local_fail(err, CDD_E_INVALID, "config.ram: a positive integer (bytes)");
    if (runtime && (!json_is_string(runtime) || (strcmp(json_string_value(runtime), "none") != 0 &&
                                                 strcmp(json_string_value(runtime), "podman") != 0 &&
                                                 strcmp(json_string_value(runtime), "docker") != 0)))
        return local_fail(err, CDD_E_INVALID, "config.runtime: one of \"none\", \"podman\", \"docker\"");
    if (timeout && (!json_is_integer(timeout) || json_integer_value(timeout) < 100 || json_integer_value(timeout) > 600000))
        return local_fail(err, CDD_E_INVALID, "config.call_timeout_ms: an integer from 100 to 600000");
    return CDD_OK;
}

cdd_status local_configure(cdx_backend *b, const char *dispatcher_id, const char *config_json, cdd_error *err) {
    /* The id becomes a folder under state_dir: never ".", "..", hidden, or a path. */
    if (!cdd_valid_set_id(dispatcher_id))
        return local_fail(err, CDD_E_INVALID, "dispatcher_id: must be 1 to %d characters, a letter or digit first, then letters, digits, "
                          "'.', '_' or '-'", CDX_MAX_DISPATCHER_ID);
    if (!(b->dispatcher_id = strdup(dispatcher_id))) return local_fail(err, CDD_E_INTERNAL, "out of memory");
    json_error_t jerr;
    json_t *config = config_json ? json_loads(config_json, JSON_REJECT_DUPLICATES, &jerr) : NULL;
    if (!json_is_object(config)) {
        json_decref(config);
        return local_fail(err, CDD_E_INVALID, "config must be a JSON object (%s)",
                          !config_json ? "NULL given" : config ? "not an object" : jerr.text);
    }
    cdd_status status = check_keys(config, err);
    if (status == CDD_OK) status = check_values(config, err);
    if (status != CDD_OK) {
        json_decref(config);
        return status;
    }
    json_t *vcpus = json_object_get(config, "vcpus");
    json_t *ram = json_object_get(config, "ram");
    json_t *runtime = json_object_get(config, "runtime");
    json_t *timeout = json_object_get(config, "call_timeout_ms");
    long online = sysconf(_SC_NPROCESSORS_ONLN);
    char host[256] = "localhost";
    gethostname(host, sizeof host - 1);
    host[sizeof host - 1] = 0;
    b->runner = strdup(json_string_value(json_object_get(config, "runner")));
    b->state_dir = strdup(json_string_value(json_object_get(config, "state_dir")));
    b->dir = local_printf("%s/%s", b->state_dir ? b->state_dir : "", dispatcher_id);
    b->runtime = strdup(runtime ? json_string_value(runtime) : "none");
    b->hostname = strdup(host[0] ? host : "localhost");
    b->vcpus = vcpus ? (long)json_integer_value(vcpus) : (online > 0 ? online : 1);
    b->ram = ram ? json_integer_value(ram) : machine_ram();
    b->timeout_ms = timeout ? (int)json_integer_value(timeout) : LOCAL_DEFAULT_TIMEOUT_MS;
    json_decref(config);
    if (!b->runner || !b->state_dir || !b->dir || !b->runtime || !b->hostname)
        return local_fail(err, CDD_E_INTERNAL, "out of memory");
    if (!is_runner(b))
        return local_fail(err, CDD_E_INVALID, "config.runner: %.200s --version does not answer \"cloud-dispatch-runner 1.x\"", b->runner);
    char *jobs = local_printf("%s/jobs", b->dir);
    int made = jobs && local_mkdirs(jobs, 0700) == 0;
    int saved = errno;
    free(jobs);
    if (!made) return local_fail(err, CDD_E_INVALID, "config.state_dir: cannot create %.200s/jobs: %s", b->dir, strerror(saved));
    return CDD_OK;
}

void local_free_config(cdx_backend *b) {
    free(b->state_dir); free(b->dir); free(b->runner); free(b->runtime); free(b->hostname);
    b->state_dir = b->dir = b->runner = b->runtime = b->hostname = NULL;
    /* dispatcher_id stays: it names the backend in the "closed" error */
}
