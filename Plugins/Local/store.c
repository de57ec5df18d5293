/* Job records: one file per idempotency token, <dir>/jobs/<token hash>.json, written
 * atomically and under the state folder's lock. Being files, they survive a restart and are
 * shared by every process that opens the same state folder (the daemon, the kit). */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "local.h"

/* FNV-1a over dispatcher id and token: the dispatcher is in it so that two dispatchers'
 * jobs never share a podman container name (cdd-<job id>) on this machine. */
void local_token_hash(cdx_backend *b, const char *token, char out[17]) {
    uint64_t h = 0xcbf29ce484222325ULL;
    const char *parts[] = {b->dispatcher_id, "\n", token};
    for (size_t i = 0; i < 3; i++)
        for (const unsigned char *p = (const unsigned char *)parts[i]; *p; p++) h = (h ^ *p) * 0x100000001b3ULL;
    snprintf(out, 17, "%016llx", (unsigned long long)h);
}

/* "<uuid>-<hash>": the uuid's first 40 characters, any not in [A-Za-z0-9._-] as '_', so the id
 * is also the runner's container uuid ([A-Za-z0-9._-]{1,64}). */
int local_job_id(const char *uuid, const char hash[17], char *out, size_t size) {
    char part[41];
    size_t n = 0;
    for (; uuid[n] && n < 40; n++) {
        char c = uuid[n];
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
        part[n] = ok ? c : '_';
    }
    part[n] = 0;
    return snprintf(out, size, "%s-%s", part, hash) < (int)size ? 0 : -1;
}

static int is_hash(const char *s) {
    if (strlen(s) != 16) return 0;
    for (; *s; s++)
        if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f'))) return 0;
    return 1;
}

int local_hash_of_id(const char *id, char out[17]) {
    size_t n = id ? strlen(id) : 0;
    if (n < 18 || n > 57 || id[n - 17] != '-' || !is_hash(id + n - 16)) return 0;
    memcpy(out, id + n - 16, 17);
    return 1;
}

json_t *local_read_record(const char *dir, const char hash[17]) {
    char *path = local_printf("%s/jobs/%s.json", dir, hash);
    if (!path) return NULL;
    char *text = local_read_file(path, 1 << 24, NULL);
    int saved = errno;
    free(path);
    if (!text) {
        errno = saved;
        return NULL;
    }
    json_t *record = json_loads(text, 0, NULL);
    free(text);
    if (!json_is_object(record) || !json_is_string(json_object_get(record, "id")) ||
        !json_is_string(json_object_get(record, "token")) || !json_is_string(json_object_get(record, "uuid")) ||
        !json_is_integer(json_object_get(record, "vcpus")) || !json_is_integer(json_object_get(record, "ram"))) {
        json_decref(record);
        errno = EBADMSG; /* a damaged record is not an absent one */
        return NULL;
    }
    return record;
}

int local_flag(json_t *record, const char *key) { return json_is_true(json_object_get(record, key)); }

static char *record_path(const char *dir, json_t *record) {
    char hash[17];
    const char *id = json_string_value(json_object_get(record, "id"));
    return local_hash_of_id(id, hash) ? local_printf("%s/jobs/%s.json", dir, hash) : NULL;
}

int local_write_record(const char *dir, json_t *record) {
    char *path = record_path(dir, record);
    char *text = json_dumps(record, JSON_SORT_KEYS | JSON_INDENT(1));
    int rc = (path && text) ? local_write_file_atomic(path, text, 0600) : -1;
    free(path);
    free(text);
    return rc;
}

int local_remove_record(const char *dir, json_t *record) {
    char *path = record_path(dir, record);
    int rc = path && (unlink(path) == 0 || errno == ENOENT) ? 0 : -1;
    free(path);
    return rc;
}

json_t *local_read_records(const char *dir) {
    char *path = local_printf("%s/jobs", dir);
    DIR *d = path ? opendir(path) : NULL;
    free(path);
    json_t *all = d ? json_array() : NULL;
    if (!all) {
        int saved = errno;
        if (d) closedir(d);
        errno = saved == ENOENT ? ENOENT : saved;
        return NULL;
    }
    struct dirent *e;
    int failed = 0;
    while (!failed && (e = readdir(d)) != NULL) {
        size_t n = strlen(e->d_name);
        if (n != 21 || strcmp(e->d_name + 16, ".json") != 0) continue;
        char hash[17];
        memcpy(hash, e->d_name, 16);
        hash[16] = 0;
        if (!is_hash(hash)) continue;
        json_t *record = local_read_record(dir, hash);
        if (record) json_array_append_new(all, record);
        /* gone meanwhile or damaged (by hand: nothing here writes half a file) is skipped;
         * unreadable (no descriptor left) must not pass for "no jobs" */
        else failed = errno != ENOENT && errno != EBADMSG;
    }
    int saved = errno;
    closedir(d);
    if (failed) {
        json_decref(all);
        errno = saved;
        return NULL;
    }
    return all;
}

/* One flock for the whole state folder: capacity counts every dispatcher's jobs in it, so a
 * submit's check and record are one step for all of them, across threads and processes
 * (each call opens the file anew, and flock excludes separate open files). */
int local_lock(cdx_backend *b) {
    char *path = local_printf("%s/lock", b->state_dir);
    int fd = path ? open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600) : -1;
    free(path);
    if (fd < 0) return -1;
    double deadline = local_monotonic() + b->timeout_ms / 1000.0;
    long pause_us = 500;
    while (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        if ((errno != EWOULDBLOCK && errno != EINTR) || local_monotonic() >= deadline) {
            int saved = errno == EWOULDBLOCK ? ETIMEDOUT : errno;
            close(fd);
            errno = saved;
            return -1;
        }
        struct timespec t = {0, pause_us * 1000};
        nanosleep(&t, NULL);
        if (pause_us < 20000) pause_us *= 2;
    }
    return fd;
}

void local_unlock(int fd) {
    if (fd >= 0) close(fd); /* closing releases the flock */
}
