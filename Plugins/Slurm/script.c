/* The batch script of one container. Every user string enters it single-quoted, so the shell
 * that runs it sees words, never code. A start failure (no working folder, no program, no
 * image) leaves a marker file next to the job's output: Slurm only sees an exit status, the
 * marker tells "failed_to_start" from a command that exited 126 or 127 itself. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "slurm_backend.h"

char *slurm_shell_quote(const char *s) {
    size_t n = 2;
    for (const char *p = s; *p; p++) n += *p == '\'' ? 4 : 1;
    char *q = malloc(n + 1), *w = q;
    if (!q) return NULL;
    *w++ = '\'';
    for (const char *p = s; *p; p++) {
        if (*p == '\'') {
            memcpy(w, "'\\''", 4);
            w += 4;
        } else {
            *w++ = *p;
        }
    }
    *w++ = '\'';
    *w = 0;
    return q;
}

/* A growing string; on allocation failure it turns NULL and stays so. */
typedef struct { char *s; size_t len, cap; } text;

static void add(text *t, const char *s) {
    if (!t->s && t->cap) return;
    size_t n = strlen(s);
    if (t->len + n + 1 > t->cap) {
        size_t cap = (t->cap ? t->cap : 1024);
        while (t->len + n + 1 > cap) cap *= 2;
        char *grown = realloc(t->s, cap);
        if (!grown) {
            free(t->s);
            t->s = NULL;
            t->cap = 1;
            return;
        }
        t->s = grown;
        t->cap = cap;
    }
    memcpy(t->s + t->len, s, n + 1);
    t->len += n;
}

static void add_quoted(text *t, const char *s) {
    char *q = slurm_shell_quote(s);
    if (!q) {
        free(t->s);
        t->s = NULL;
        t->cap = 1;
        return;
    }
    add(t, q);
    free(q);
}

/* The container's own process: `env` with its environment, then the command (plain) or the
 * image runtime running the command. */
static void add_command(text *t, cdx_backend *b, json_t *c) {
    const char *image = json_string_value(json_object_get(c, "image"));
    const char *cwd = json_string_value(json_object_get(c, "cwd"));
    json_t *env = json_object_get(c, "environment"), *arg;
    const char *key;
    json_t *value;
    size_t i;
    int podman = image && image[0] && strcmp(b->image_runtime, "podman") == 0;
    int apptainer = image && image[0] && strcmp(b->image_runtime, "apptainer") == 0;
    if (podman) {
        add(t, "podman run --rm --init --network=host");
        json_object_foreach(env, key, value) {
            add(t, " -e ");
            char *pair;
            if (asprintf(&pair, "%s=%s", key, json_string_value(value)) < 0) pair = NULL;
            add_quoted(t, pair ? pair : "");
            free(pair);
        }
        if (cwd && cwd[0]) {
            add(t, " -w ");
            add_quoted(t, cwd);
        }
        add(t, " -- ");
        add_quoted(t, image);
    } else if (apptainer) {
        add(t, "apptainer exec --cleanenv");
        json_object_foreach(env, key, value) {
            add(t, " --env ");
            char *pair;
            if (asprintf(&pair, "%s=%s", key, json_string_value(value)) < 0) pair = NULL;
            add_quoted(t, pair ? pair : "");
            free(pair);
        }
        if (cwd && cwd[0]) {
            add(t, " --pwd ");
            add_quoted(t, cwd);
        }
        add(t, " ");
        char *uri;
        if (asprintf(&uri, "%s%s", strstr(image, "://") ? "" : "docker://", image) < 0) uri = NULL;
        add_quoted(t, uri ? uri : "");
        free(uri);
    } else {
        /* Plain: env sets the variables (any name: a shell would drop the ones that are not
         * identifiers) and runs the argv untouched; the program was looked up before. */
        add(t, "env --");
        json_object_foreach(env, key, value) {
            add(t, " ");
            char *pair;
            if (asprintf(&pair, "%s=%s", key, json_string_value(value)) < 0) pair = NULL;
            add_quoted(t, pair ? pair : "");
            free(pair);
        }
    }
    json_array_foreach(json_object_get(c, "command"), i, arg) {
        add(t, " ");
        add_quoted(t, json_string_value(arg));
    }
}

char *slurm_job_script(cdx_backend *b, json_t *c) {
    text t = {0};
    const char *cwd = json_string_value(json_object_get(c, "cwd"));
    const char *image = json_string_value(json_object_get(c, "image"));
    json_int_t limit = json_integer_value(json_object_get(c, "max_run_time"));
    add(&t, "#!/bin/sh\n# Written by CloudDispatch's slurm backend: one container, its argv single-quoted.\nmarker=");
    add_quoted(&t, b->job_dir);
    add(&t, "/job-\"$SLURM_JOB_ID\".failed\ntimed_out=");
    add_quoted(&t, b->job_dir);
    add(&t, "/job-\"$SLURM_JOB_ID\".timeout\n");
    if (cwd && cwd[0] && !(image && image[0])) {
        add(&t, "cd -- ");
        add_quoted(&t, cwd);
        add(&t, " 2>/dev/null || { printf 'cannot enter the working folder %s\\n' ");
        add_quoted(&t, cwd);
        add(&t, " >\"$marker\"; exit 126; }\n");
    }
    if (!(image && image[0])) {
        /* The program must exist, found by the container's own PATH when it sets one: "not
         * found" leaves the marker rather than an exit status 127 from env. */
        json_t *path = json_object_get(json_object_get(c, "environment"), "PATH");
        const char *program = json_string_value(json_array_get(json_object_get(c, "command"), 0));
        add(&t, "( ");
        if (json_is_string(path)) {
            add(&t, "PATH=");
            add_quoted(&t, json_string_value(path));
            add(&t, "; ");
        }
        add(&t, "command -v -- ");
        add_quoted(&t, program);
        add(&t, " ) >/dev/null 2>&1 || { printf 'no such program: %s\\n' ");
        add_quoted(&t, program);
        add(&t, " >\"$marker\"; exit 127; }\n");
    }
    if (image && image[0] && strcmp(b->image_runtime, "podman") == 0) {
        add(&t, "podman image exists ");
        add_quoted(&t, image);
        add(&t, " || podman pull -q ");
        add_quoted(&t, image);
        add(&t, " >/dev/null || { printf 'cannot pull image %s\\n' ");
        add_quoted(&t, image);
        add(&t, " >\"$marker\"; exit 125; }\n");
    }
    if (limit > 0) {
        /* Slurm's limits count whole minutes: the exact limit in seconds is kept here, and a
         * stop by it is marked so the end reads "timeout" (Slurm's own limit is the backstop). */
        char line[160];
        snprintf(line, sizeof line, "started=$(date +%%s)\ntimeout -k 10 %lld ", (long long)limit);
        add(&t, line);
        add_command(&t, b, c);
        snprintf(line, sizeof line,
                 "\nstatus=$?\nif [ $status -ge 124 ] && [ $(( $(date +%%s) - started )) -ge %lld ]; then "
                 "echo timeout >\"$timed_out\"; fi\nexit $status\n",
                 (long long)limit);
        add(&t, line);
    } else {
        add(&t, "exec ");
        add_command(&t, b, c);
        add(&t, "\n");
    }
    return t.s;
}
