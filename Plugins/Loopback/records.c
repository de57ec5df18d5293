/* Instance records: one folder per instance under <state_dir>/<set_id>/instances, holding
 * instance.json, the sshd's files and the instance's root folder. Being files, they survive
 * a restart of the host. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "loopback.h"

/* Ids are "lo-" + 12 hex digits; anything else is refused before it touches a path. */
int lb_valid_instance_id(const char *id) {
    if (!id || strncmp(id, "lo-", 3) != 0 || strlen(id) != 15) return 0;
    for (const char *p = id + 3; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f'))) return 0;
    return 1;
}

char *lb_instance_dir(cdd_instance_set *set, const char *id) {
    return lb_strdup_printf("%s/instances/%s", set->dir, id);
}

json_t *lb_read_record(cdd_instance_set *set, const char *id) {
    if (!lb_valid_instance_id(id)) return NULL;
    char *path = lb_strdup_printf("%s/instances/%s/instance.json", set->dir, id);
    char *text = path ? lb_read_file(path, 1 << 20) : NULL;
    free(path);
    if (!text) return NULL;
    json_t *record = json_loads(text, 0, NULL);
    free(text);
    if (record && !json_is_object(record)) {
        json_decref(record);
        return NULL;
    }
    return record;
}

int lb_write_record(cdd_instance_set *set, const char *id, json_t *record) {
    char *path = lb_strdup_printf("%s/instances/%s/instance.json", set->dir, id);
    char *text = json_dumps(record, JSON_SORT_KEYS | JSON_INDENT(1));
    int rc = (path && text) ? lb_write_file_atomic(path, text, 0600) : -1;
    free(path);
    free(text);
    return rc;
}

/* The ABI's instance object for a record, with its live state. */
json_t *lb_public_instance(cdd_instance_set *set, json_t *record) {
    const char *id = json_string_value(json_object_get(record, "id"));
    char *dir = lb_instance_dir(set, id);
    int running = dir ? lb_instance_running(dir) : 0;
    free(dir);
    json_t *tags = json_object_get(record, "tags");
    return json_pack("{s:s, s:O, s:s, s:s, s:O, s:s, s:O, s:O, s:b, s:O}",
                     "id", id,
                     "provider_type", json_object_get(record, "provider_type"),
                     "state", running ? "running" : "stopped",
                     "address", "127.0.0.1",
                     "ssh_port", json_object_get(record, "ssh_port"),
                     "ssh_user", set->ssh_user,
                     "host_key", json_object_get(record, "host_key"),
                     "tags", tags ? tags : json_object(),
                     "preemptible", 0,
                     "created_at", json_object_get(record, "created_at"));
}

/* Every record, or NULL with errno when the folder or a record could not be read: an empty
 * answer for "no descriptor left" would tell the host its instances are gone. */
json_t *lb_all_records(cdd_instance_set *set) {
    json_t *all = json_array();
    char *path = lb_strdup_printf("%s/instances", set->dir);
    DIR *d = path ? opendir(path) : NULL;
    free(path);
    if (!all || !d) {
        int saved = errno;
        json_decref(all);
        if (d) closedir(d);
        errno = saved;
        return NULL;
    }
    struct dirent *e;
    int failed = 0;
    while (!failed && (e = readdir(d)) != NULL) {
        if (!lb_valid_instance_id(e->d_name)) continue;
        errno = 0;
        json_t *record = lb_read_record(set, e->d_name);
        if (record) json_array_append_new(all, record);
        else failed = lb_cannot_look(errno); /* absent or damaged is skipped, as before */
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

/* Mutations hold the in-process mutex and an flock on <set>/lock, so the daemon and the
 * conformance kit (another process) can share a state folder. A negative fd (errno set)
 * means no flock is held: the caller fails rather than mutate unlocked; it still calls
 * lb_unlock_set, which releases the mutex. */
int lb_lock_set(cdd_instance_set *set) {
    pthread_mutex_lock(&set->lock);
    char *path = lb_strdup_printf("%s/lock", set->dir);
    int fd = path ? open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600) : -1;
    free(path);
    if (fd >= 0) {
        int rc;
        while ((rc = flock(fd, LOCK_EX)) != 0 && errno == EINTR) {}
        if (rc != 0) {
            int saved = errno;
            close(fd);
            errno = saved;
            fd = -1;
        }
    }
    return fd;
}

void lb_unlock_set(cdd_instance_set *set, int fd) {
    if (fd >= 0) close(fd); /* closing releases the flock */
    pthread_mutex_unlock(&set->lock);
}
