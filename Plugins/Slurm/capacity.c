/* What can start now, per partition: `scontrol show node -o` (CPUs, memory, what is allocated,
 * which partitions a node is in) and `scontrol show partition -o` (MaxTime): two calls. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "slurm_backend.h"

static long long field_number(const char *line, const char *key) {
    char *v = slurm_field(line, key);
    long long n = v ? strtoll(v, NULL, 10) : 0;
    free(v);
    return n;
}

/* Slurm's MaxTime ("UNLIMITED", "30", "1:00:00", "2-00:00:00", "MM:SS") in seconds; 0: none. */
static long long max_time_seconds(const char *t) {
    if (!t || !strcmp(t, "UNLIMITED") || !strcmp(t, "INFINITE") || !strcmp(t, "NONE")) return 0;
    long long days = 0, parts[3] = {0, 0, 0};
    const char *dash = strchr(t, '-');
    if (dash) days = strtoll(t, NULL, 10), t = dash + 1;
    int n = sscanf(t, "%lld:%lld:%lld", &parts[0], &parts[1], &parts[2]);
    long long s = n == 3 ? parts[0] * 3600 + parts[1] * 60 + parts[2]
                : n == 2 ? (dash ? parts[0] * 3600 + parts[1] * 60 : parts[0] * 60 + parts[1])
                : n == 1 ? (dash ? parts[0] * 3600 : parts[0] * 60) : 0;
    return days * 86400 + s;
}

/* 1 when `list` ("a,b,c") holds `name`. */
static int in_list(const char *list, const char *name) {
    size_t n = strlen(name);
    for (const char *p = list; p && *p; p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL)
        if (!strncmp(p, name, n) && (p[n] == ',' || p[n] == 0)) return 1;
    return 0;
}

/* A node that takes no new work: down, drained, failing, powered off, reserved for maintenance. */
static int node_usable(const char *state) {
    static const char *const bad[] = {"DOWN", "DRAIN", "FAIL", "POWER", "MAINT", "REBOOT", "NOT_RESPONDING", "INVAL",
                                      "UNKNOWN", "FUTURE", NULL};
    for (const char *const *b = bad; *b; b++)
        if (state && strstr(state, *b)) return 0;
    return state != NULL;
}

cdd_status slurm_capacity(cdx_backend *b, const char *request, char **out, cdd_error *err) {
    json_t *req;
    cdd_status status = slurm_begin(b, request, out, &req, err);
    if (status != CDD_OK) return status;
    json_decref(req);
    const char *nodes_argv[] = {"scontrol", "show", "node", "--oneliner", NULL};
    const char *parts_argv[] = {"scontrol", "show", "partition", "--oneliner", NULL};
    slurm_output nodes, parts;
    char why[512];
    if (slurm_run(b, nodes_argv, &nodes, why, sizeof why) != 0) {
        if (nodes.err) slurm_output_free(&nodes);
        return slurm_fail(err, CDD_E_TRANSIENT, "%s", why);
    }
    if (slurm_run(b, parts_argv, &parts, why, sizeof why) != 0) {
        slurm_output_free(&nodes);
        if (parts.err) slurm_output_free(&parts);
        return slurm_fail(err, CDD_E_TRANSIENT, "%s", why);
    }
    json_t *list = json_array();
    for (char *pl = strtok(parts.out, "\n"); pl && list; pl = strtok(NULL, "\n")) {
        char *name = slurm_field(pl, "PartitionName"), *max_time = slurm_field(pl, "MaxTime"), *state = slurm_field(pl, "State");
        int wanted = name && (!b->partition[0] || !strcmp(name, b->partition)) && cdd_utf8_length(name) <= CDX_MAX_PARTITION;
        long long total_cpus = 0, total_mem = 0, free_cpus = 0, free_mem = 0, max_cpus = 0, max_mem = 0;
        /* strtok is in use for the partitions: walk the node lines by hand. */
        for (char *nl = nodes.out; wanted && nl && *nl;) {
            char *end = strchr(nl, '\n');
            if (end) *end = 0;
            char *in = slurm_field(nl, "Partitions"), *node_state = slurm_field(nl, "State");
            if (in && in_list(in, name)) {
                long long cpus = field_number(nl, "CPUTot"), mem = field_number(nl, "RealMemory");
                total_cpus += cpus, total_mem += mem;
                max_cpus = cpus > max_cpus ? cpus : max_cpus, max_mem = mem > max_mem ? mem : max_mem;
                if (node_usable(node_state) && state && !strcmp(state, "UP")) {
                    long long fc = cpus - field_number(nl, "CPUAlloc"), fm = mem - field_number(nl, "AllocMem");
                    free_cpus += fc > 0 ? fc : 0, free_mem += fm > 0 ? fm : 0;
                }
            }
            free(in), free(node_state);
            if (end) *end = '\n';
            nl = end ? end + 1 : NULL;
        }
        if (wanted)
            json_array_append_new(list, json_pack("{s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "name", name,
                                                  "total_vcpus", (json_int_t)total_cpus, "total_ram", (json_int_t)(total_mem << 20),
                                                  "free_vcpus", (json_int_t)free_cpus, "free_ram", (json_int_t)(free_mem << 20),
                                                  "max_job_vcpus", (json_int_t)max_cpus, "max_job_ram", (json_int_t)(max_mem << 20),
                                                  "max_run_time", (json_int_t)max_time_seconds(max_time)));
        free(name), free(max_time), free(state);
    }
    slurm_output_free(&nodes);
    slurm_output_free(&parts);
    return slurm_reply(list ? json_pack("{s:o}", "partitions", list) : NULL, out, err);
}
