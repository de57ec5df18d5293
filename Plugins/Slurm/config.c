/* open_backend's config: every key checked, unknown ones refused by name. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "slurm_backend.h"

static int mkdirs(const char *path) {
    char *copy = strdup(path);
    if (!copy) return -1;
    for (char *p = copy + 1; *p; p++) {
        if (*p != '/') continue;
        *p = 0;
        if (mkdir(copy, 0755) != 0 && errno != EEXIST) { free(copy); return -1; }
        *p = '/';
    }
    int rc = mkdir(copy, 0700);
    free(copy);
    return (rc == 0 || errno == EEXIST) ? 0 : -1;
}

/* A string option: absent gives `fallback`; present must be a string of 0..max characters
 * without control characters (they would reach Slurm's argv and files). */
static int string_option(json_t *config, const char *key, const char *fallback, long max, char **out, char *why,
                         size_t size) {
    json_t *v = json_object_get(config, key);
    const char *s = v ? json_string_value(v) : fallback;
    long n = s ? cdd_utf8_length(s) : -1;
    if (n < 0 || n > max) {
        snprintf(why, size, "%s: must be a string of at most %ld characters", key, max);
        return 0;
    }
    for (const char *p = s; *p; p++) {
        if ((unsigned char)*p < 0x20 || *p == 0x7f) {
            snprintf(why, size, "%s: control characters are not allowed", key);
            return 0;
        }
    }
    return (*out = strdup(s)) != NULL || (snprintf(why, size, "out of memory"), 0);
}

/* Slurm's default partition, so every job reports the partition it runs in; unknown ("")
 * when Slurm cannot be asked now (jobs then report the partition squeue shows). */
static void find_default_partition(cdx_backend *b) {
    const char *argv[] = {"scontrol", "show", "partition", "--oneliner", NULL};
    slurm_output out;
    char why[512];
    if (b->partition[0] || slurm_run(b, argv, &out, why, sizeof why) != 0) {
        if (!b->partition[0]) {
            if (out.err) slurm_output_free(&out);
            slurm_log(b, CDD_LOG_WARN, "slurm: cannot find the default partition: %s", why);
        }
        b->default_partition = strdup(b->partition);
        return;
    }
    char *save = NULL;
    for (char *line = strtok_r(out.out, "\n", &save); line && !b->default_partition; line = strtok_r(NULL, "\n", &save)) {
        char *is_default = slurm_field(line, "Default"), *name = slurm_field(line, "PartitionName");
        if (is_default && name && !strcmp(is_default, "YES") && cdd_utf8_length(name) <= CDX_MAX_PARTITION) {
            b->default_partition = name;
            name = NULL;
        }
        free(is_default);
        free(name);
    }
    slurm_output_free(&out);
    if (!b->default_partition) b->default_partition = strdup("");
}

static const char *const known_keys[] = {"slurm_conf", "partition", "account", "qos", "bin_dir", "image_runtime",
                                         "work_dir", "call_timeout_ms", NULL};

cdd_status slurm_configure(cdx_backend *b, const char *config_json, cdd_error *err) {
    json_error_t jerr;
    json_t *config = json_loads(config_json, JSON_REJECT_DUPLICATES, &jerr);
    if (!config || !json_is_object(config)) {
        json_decref(config);
        return slurm_fail(err, CDD_E_INVALID, "config: must be a JSON object");
    }
    char why[256] = "";
    const char *key;
    json_t *value;
    json_object_foreach(config, key, value) {
        int known = 0;
        for (const char *const *k = known_keys; *k; k++) known |= strcmp(*k, key) == 0;
        if (!known) {
            snprintf(why, sizeof why, "config: unknown key \"%.64s\"", key);
            goto invalid;
        }
    }
    if (!string_option(config, "slurm_conf", "", 4096, &b->slurm_conf, why, sizeof why) ||
        !string_option(config, "partition", "", CDX_MAX_PARTITION, &b->partition, why, sizeof why) ||
        !string_option(config, "account", "", 256, &b->account, why, sizeof why) ||
        !string_option(config, "qos", "", 256, &b->qos, why, sizeof why) ||
        !string_option(config, "bin_dir", "", 4096, &b->bin_dir, why, sizeof why) ||
        !string_option(config, "image_runtime", "none", 16, &b->image_runtime, why, sizeof why) ||
        !string_option(config, "work_dir", NULL, 4096, &b->work_dir, why, sizeof why))
        goto invalid;
    if (strcmp(b->image_runtime, "podman") && strcmp(b->image_runtime, "apptainer") && strcmp(b->image_runtime, "none")) {
        snprintf(why, sizeof why, "image_runtime: must be \"podman\", \"apptainer\" or \"none\"");
        goto invalid;
    }
    /* sbatch expands %j and friends in output paths: a literal % would name another file. */
    if (b->work_dir[0] != '/' || strchr(b->work_dir, '%')) {
        snprintf(why, sizeof why, "work_dir: must be an absolute path without '%%' (shared with the compute nodes)");
        goto invalid;
    }
    if (b->slurm_conf[0] && b->slurm_conf[0] != '/') {
        snprintf(why, sizeof why, "slurm_conf: must be an absolute path");
        goto invalid;
    }
    if (b->bin_dir[0] && b->bin_dir[0] != '/') {
        snprintf(why, sizeof why, "bin_dir: must be an absolute path");
        goto invalid;
    }
    json_t *timeout = json_object_get(config, "call_timeout_ms");
    b->call_timeout_ms = SLURM_DEFAULT_CALL_TIMEOUT_MS;
    if (timeout) {
        if (!json_is_integer(timeout) || json_integer_value(timeout) < 100 || json_integer_value(timeout) > 600000) {
            snprintf(why, sizeof why, "call_timeout_ms: must be an integer from 100 to 600000");
            goto invalid;
        }
        b->call_timeout_ms = (int)json_integer_value(timeout);
    }
    json_decref(config);
    if (asprintf(&b->job_dir, "%s/%s", b->work_dir, b->dispatcher_id) < 0) b->job_dir = NULL;
    if (!b->job_dir || asprintf(&b->records_dir, "%s/records", b->job_dir) < 0) b->records_dir = NULL;
    if (!b->records_dir || asprintf(&b->name_prefix, "cdx:%s:", b->dispatcher_id) < 0) b->name_prefix = NULL;
    if (!b->name_prefix) return slurm_fail(err, CDD_E_INTERNAL, "out of memory");
    if (mkdirs(b->records_dir) != 0)
        return slurm_fail(err, CDD_E_INVALID, "work_dir: cannot make %s: %s", b->records_dir, strerror(errno));
    find_default_partition(b);
    return CDD_OK;
invalid:
    json_decref(config);
    return slurm_fail(err, CDD_E_INVALID, "%s", why);
}

void slurm_free_config(cdx_backend *b) {
    char **fields[] = {&b->slurm_conf, &b->partition, &b->default_partition, &b->account, &b->qos, &b->bin_dir, &b->image_runtime,
                       &b->work_dir, &b->job_dir, &b->records_dir, &b->name_prefix};
    for (size_t i = 0; i < sizeof fields / sizeof *fields; i++) {
        free(*fields[i]);
        *fields[i] = NULL;
    }
}
