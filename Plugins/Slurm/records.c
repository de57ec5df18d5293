/* What this dispatcher submitted, kept in files under <work_dir>/<dispatcher_id>/records:
 * job-<id>.json (token, container uuid, partition, tags, submit time, the final result once
 * seen) and token-<token> (the job id a token made). Slurm forgets a job MinJobAge after it
 * ends; these files keep tokens good for their 24 hours and results until released, for every
 * process that opens the same dispatcher id. Writes are atomic (temporary file, rename). */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "slurm_backend.h"

int slurm_valid_job_id(const char *id) {
    if (!id || !*id || strlen(id) > 32) return 0;
    for (const char *p = id; *p; p++)
        if ((*p < '0' || *p > '9') && *p != '_') return 0; /* 123, or 123_4 for an array task */
    return 1;
}

static char *record_path(cdx_backend *b, const char *prefix, const char *name, const char *suffix) {
    char *path;
    return asprintf(&path, "%s/%s%s%s", b->records_dir, prefix, name, suffix) < 0 ? NULL : path;
}

static int write_atomic(const char *path, const char *data) {
    char *tmp;
    if (asprintf(&tmp, "%s.tmp.%d.%lx", path, (int)getpid(), (unsigned long)pthread_self()) < 0) return -1;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    size_t len = strlen(data), done = 0;
    while (fd >= 0 && done < len) {
        ssize_t n = write(fd, data + done, len - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        done += (size_t)n;
    }
    int ok = fd >= 0 && done == len && fsync(fd) == 0;
    if (fd >= 0 && close(fd) != 0) ok = 0;
    if (ok && rename(tmp, path) != 0) ok = 0;
    if (!ok) unlink(tmp);
    free(tmp);
    return ok ? 0 : -1;
}

json_t *slurm_read_record(cdx_backend *b, const char *job_id) {
    if (!slurm_valid_job_id(job_id)) return NULL;
    char *path = record_path(b, "job-", job_id, ".json");
    json_t *record = path ? json_load_file(path, 0, NULL) : NULL;
    free(path);
    if (record && !json_is_object(record)) {
        json_decref(record);
        record = NULL;
    }
    return record;
}

int slurm_write_record(cdx_backend *b, json_t *record) {
    const char *id = json_string_value(json_object_get(record, "id"));
    char *path = slurm_valid_job_id(id) ? record_path(b, "job-", id, ".json") : NULL;
    char *text = json_dumps(record, JSON_COMPACT | JSON_SORT_KEYS);
    int rc = path && text ? write_atomic(path, text) : -1;
    free(path);
    free(text);
    return rc;
}

char *slurm_token_job(cdx_backend *b, const char *token) {
    char *path = record_path(b, "token-", token, "");
    char buf[64] = "";
    int fd = path ? open(path, O_RDONLY | O_CLOEXEC) : -1;
    free(path);
    if (fd < 0) return NULL;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    buf[n > 0 ? n : 0] = 0;
    buf[strcspn(buf, "\n")] = 0;
    return slurm_valid_job_id(buf) ? strdup(buf) : NULL;
}

int slurm_write_token(cdx_backend *b, const char *token, const char *job_id) {
    char *path = record_path(b, "token-", token, "");
    int rc = path ? write_atomic(path, job_id) : -1;
    free(path);
    return rc;
}

/* An intent file is written before sbatch and removed once the token's record is written, or
 * once sbatch surely made nothing. Left behind (a crash, an sbatch that timed out), it says a
 * job may exist that no record names: only then does a submit ask Slurm for the token's job by
 * name, so a first submit costs one call (sbatch). */
int slurm_mark_intent(cdx_backend *b, const char *token) {
    char *path = record_path(b, "intent-", token, "");
    int rc = path ? write_atomic(path, "") : -1;
    free(path);
    return rc;
}

void slurm_clear_intent(cdx_backend *b, const char *token) {
    char *path = record_path(b, "intent-", token, "");
    if (path) unlink(path);
    free(path);
}

int slurm_has_intent(cdx_backend *b, const char *token) {
    char *path = record_path(b, "intent-", token, "");
    int found = path && access(path, F_OK) == 0;
    free(path);
    return found || !path; /* when in doubt, ask Slurm */
}

/* One submit per token at a time, across threads and processes: flock on a file of its own
 * (each call opens it anew, so two threads of one process exclude each other too). */
int slurm_lock_token(cdx_backend *b, const char *token) {
    char *path = record_path(b, "lock-", token, "");
    int fd = path ? open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600) : -1;
    free(path);
    if (fd < 0) return -1;
    while (flock(fd, LOCK_EX) != 0) {
        if (errno != EINTR) {
            close(fd);
            return -1;
        }
    }
    return fd;
}

void slurm_unlock(int fd) {
    if (fd >= 0) close(fd); /* closing drops the flock */
}

json_t *slurm_all_records(cdx_backend *b) {
    json_t *all = json_object();
    DIR *dir = all ? opendir(b->records_dir) : NULL;
    if (!dir) return all;
    struct dirent *e;
    while ((e = readdir(dir))) {
        size_t n = strlen(e->d_name);
        if (strncmp(e->d_name, "job-", 4) != 0 || n < 10 || strcmp(e->d_name + n - 5, ".json") != 0) continue;
        char id[40];
        if (n - 9 >= sizeof id) continue;
        memcpy(id, e->d_name + 4, n - 9);
        id[n - 9] = 0;
        json_t *record = slurm_read_record(b, id);
        if (record) json_object_set_new(all, id, record);
    }
    closedir(dir);
    return all;
}

/* Slurm's comment field carries the tags for an operator's `squeue`; every byte outside a
 * small safe set is %XX, so no separator, space or newline ever reaches its output. */
char *slurm_percent_encode(const char *s) {
    static const char hex[] = "0123456789ABCDEF";
    char *out = malloc(strlen(s) * 3 + 1), *w = out;
    if (!out) return NULL;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || strchr("-._~:,{}[]", *p)) {
            *w++ = (char)*p;
        } else {
            *w++ = '%';
            *w++ = hex[*p >> 4];
            *w++ = hex[*p & 15];
        }
    }
    *w = 0;
    return out;
}

char *slurm_percent_decode(const char *s) {
    char *out = malloc(strlen(s) + 1), *w = out;
    if (!out) return NULL;
    for (const char *p = s; *p; p++) {
        if (*p != '%') {
            *w++ = *p;
            continue;
        }
        unsigned v;
        if (!p[1] || !p[2] || sscanf(p + 1, "%2x", &v) != 1) {
            free(out);
            return NULL;
        }
        *w++ = (char)v;
        p += 2;
    }
    *w = 0;
    return out;
}

/* Forgets released jobs whose record is older than two days (tokens must hold for one): the
 * record, its token and lock files, and the job's output and markers. Runs at open. */
void slurm_prune_records(cdx_backend *b) {
    json_t *all = slurm_all_records(b), *record;
    const char *id;
    time_t horizon = time(NULL) - 2 * 86400;
    json_object_foreach(all, id, record) {
        struct stat st;
        char *path = record_path(b, "job-", id, ".json");
        if (!path || !json_is_true(json_object_get(record, "released")) || stat(path, &st) != 0 || st.st_mtime > horizon) {
            free(path);
            continue;
        }
        const char *token = json_string_value(json_object_get(record, "idempotency_token"));
        char *files[7] = {path};
        if (token && strlen(token) <= CDX_MAX_TOKEN && !strchr(token, '/')) {
            files[1] = record_path(b, "token-", token, "");
            files[2] = record_path(b, "lock-", token, "");
            files[6] = record_path(b, "intent-", token, "");
        }
        if (asprintf(&files[3], "%s/job-%s.out", b->job_dir, id) < 0) files[3] = NULL;
        if (asprintf(&files[4], "%s/job-%s.failed", b->job_dir, id) < 0) files[4] = NULL;
        if (asprintf(&files[5], "%s/job-%s.timeout", b->job_dir, id) < 0) files[5] = NULL;
        for (int i = 6; i >= 0; i--) {
            if (files[i]) unlink(files[i]);
            free(files[i]);
        }
    }
    json_decref(all);
}
