/* What can start now, per partition: `scontrol show node -o` (CPUs, memory, what is allocated,
 * which partitions a node is in) and `scontrol show partition -o` (MaxTime): two calls. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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

/* Every partition (or only `only`), in the capacity reply's shape; NULL with `why`. */
static json_t *read_partitions(cdx_backend *b, const char *only, char *why, size_t why_size) {
    const char *nodes_argv[] = {"scontrol", "show", "node", "--oneliner", NULL};
    const char *parts_argv[] = {"scontrol", "show", "partition", "--oneliner", NULL};
    slurm_output nodes, parts;
    if (slurm_run(b, nodes_argv, &nodes, why, why_size) != 0) {
        if (nodes.err) slurm_output_free(&nodes);
        return NULL;
    }
    if (slurm_run(b, parts_argv, &parts, why, why_size) != 0) {
        slurm_output_free(&nodes);
        if (parts.err) slurm_output_free(&parts);
        return NULL;
    }
    json_t *list = json_array();
    char *save = NULL;
    for (char *pl = strtok_r(parts.out, "\n", &save); pl && list; pl = strtok_r(NULL, "\n", &save)) {
        char *name = slurm_field(pl, "PartitionName"), *max_time = slurm_field(pl, "MaxTime"), *state = slurm_field(pl, "State");
        int wanted = name && (!only[0] || !strcmp(name, only)) && cdd_utf8_length(name) <= CDX_MAX_PARTITION;
        long long total_cpus = 0, total_mem = 0, free_cpus = 0, free_mem = 0, max_cpus = 0, max_mem = 0;
        /* The node lines are walked by hand: every partition reads them all. */
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
            json_array_append_new(list, json_pack("{s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:b}", "name", name,
                                                  "total_vcpus", (json_int_t)total_cpus, "total_ram", (json_int_t)(total_mem << 20),
                                                  "free_vcpus", (json_int_t)free_cpus, "free_ram", (json_int_t)(free_mem << 20),
                                                  "max_job_vcpus", (json_int_t)max_cpus, "max_job_ram", (json_int_t)(max_mem << 20),
                                                  "max_run_time", (json_int_t)max_time_seconds(max_time),
                                                  "_up", state && !strcmp(state, "UP")));
        free(name), free(max_time), free(state);
    }
    slurm_output_free(&nodes);
    slurm_output_free(&parts);
    if (!list) snprintf(why, why_size, "out of memory");
    return list;
}

cdd_status slurm_capacity(cdx_backend *b, const char *request, char **out, cdd_error *err) {
    json_t *req;
    cdd_status status = slurm_begin(b, request, out, &req, err);
    if (status != CDD_OK) return status;
    json_decref(req);
    char why[512];
    json_t *list = read_partitions(b, b->partition, why, sizeof why);
    if (!list) return slurm_fail(err, CDD_E_TRANSIENT, "%s", why);
    size_t i;
    json_t *p;
    json_array_foreach(list, i, p) json_object_del(p, "_up"); /* internal: whether it takes jobs now */
    return slurm_reply(json_pack("{s:o}", "partitions", list), out, err);
}

/* Slurm accepts a job bigger than any node of its partition and leaves it pending for ever
 * (Reason=PartitionConfig): such a submit is refused here instead (CDD_E_INVALID), against
 * the partitions' biggest nodes, looked up at most once a minute. A partition that is not UP
 * (down, drained, inactive) cannot take it now: CDD_E_CAPACITY_TYPE. */
cdd_status slurm_check_fits(cdx_backend *b, const char *partition, long long vcpus, long long ram, cdd_error *err) {
    pthread_mutex_lock(&b->sizes_lock);
    time_t now = time(NULL);
    if (!b->sizes || now - b->sizes_at >= 60) {
        char why[512];
        json_t *fresh = read_partitions(b, "", why, sizeof why);
        if (fresh) {
            json_decref(b->sizes);
            b->sizes = fresh;
            b->sizes_at = now;
        }
    }
    json_t *sizes = json_incref(b->sizes), *p;
    pthread_mutex_unlock(&b->sizes_lock);
    size_t i;
    cdd_status status = CDD_OK;
    json_array_foreach(sizes, i, p) {
        if (strcmp(json_string_value(json_object_get(p, "name")), partition) != 0) continue;
        long long max_cpus = json_integer_value(json_object_get(p, "max_job_vcpus"));
        long long max_ram = json_integer_value(json_object_get(p, "max_job_ram"));
        if (vcpus > max_cpus)
            status = slurm_fail(err, CDD_E_INVALID, "container.vcpus: %lld, the biggest node of partition %s has %lld", vcpus,
                                partition, max_cpus);
        else if (ram > max_ram)
            status = slurm_fail(err, CDD_E_INVALID, "container.ram: %lld bytes, the biggest node of partition %s has %lld",
                                ram, partition, max_ram);
        else if (!json_is_true(json_object_get(p, "_up")))
            status = slurm_fail(err, CDD_E_CAPACITY_TYPE, "partition %s is not up", partition);
    }
    json_decref(sizes);
    return status; /* a partition not seen (or Slurm not answering): sbatch decides */
}
