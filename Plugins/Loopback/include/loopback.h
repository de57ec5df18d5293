/* Internal declarations of the loopback driver (not part of the ABI). */
#ifndef CDD_LOOPBACK_INTERNAL_H
#define CDD_LOOPBACK_INTERNAL_H

#include <jansson.h>
#include <pthread.h>
#include <sys/types.h>

#include "cloud_dispatch_driver.h"

#define LOOPBACK_MAX_CREATE 16
#define LOOPBACK_MAX_DESTROY 256

/* The driver context: one for the process (every cdd_open gives the same table), never
 * freed (drivers live until exit). */
typedef struct loopback_driver {
    const cdd_host *host;
} loopback_driver;

/* One open instance set: a state folder of instances on this machine. After close_set only
 * the struct itself stays (closed = 1, linked into a list so it stays reachable): later
 * calls on the handle answer CDD_E_INVALID instead of touching freed memory. */
struct cdd_instance_set {
    loopback_driver *driver;
    int closed;
    struct cdd_instance_set *next_closed;
    char *set_id;
    char *dir;            /* <state_dir>/<set_id> */
    char *sshd_path;
    char *keygen_path;
    char *ssh_user;
    int max_instances;
    json_t *catalogue;    /* array of instance types; immutable after open_set */
    pthread_mutex_t lock; /* serialises mutations within this process; flock across processes */
};

/* entry.c */
void lb_log(cdd_instance_set *set, int32_t level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
cdd_status lb_fail(cdd_error *err, cdd_status status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
cdd_status lb_reply(json_t *reply, char **out_json, cdd_error *err); /* steals reply */
/* CDD_OK when `set` and `out` can be used (not NULL, set not closed), else the error. */
cdd_status lb_usable(cdd_instance_set *set, char **out, cdd_error *err);

/* limits.c: the ABI's string limits (CDD_MAX_* in the header), checked on requests */
/* 1 when `value` is a string of min..max characters; else 0 with `why` naming `field`. */
int lb_string_within(json_t *value, const char *field, long min, long max, char *why, size_t why_size);
/* 1 when `tags` is an object of string values within the tag limits; else 0 with `why`. */
int lb_tags_within(json_t *tags, const char *field, char *why, size_t why_size);

/* ops.c: the instance-set operations */
cdd_status lb_create(cdd_instance_set *set, const char *request, char **out, cdd_error *err);
cdd_status lb_list(cdd_instance_set *set, const char *request, char **out, cdd_error *err);
cdd_status lb_destroy(cdd_instance_set *set, const char *request, char **out, cdd_error *err);
cdd_status lb_set_tags(cdd_instance_set *set, const char *request, char **out, cdd_error *err);
cdd_status lb_instance_types(cdd_instance_set *set, const char *request, char **out, cdd_error *err);
cdd_status lb_quota_group(cdd_instance_set *set, const char *request, char **out, cdd_error *err);

/* records.c: instance records in the state folder */
char *lb_instance_dir(cdd_instance_set *set, const char *id);           /* malloc'd */
json_t *lb_read_record(cdd_instance_set *set, const char *id);          /* NULL if absent */
int lb_write_record(cdd_instance_set *set, const char *id, json_t *record);
json_t *lb_public_instance(cdd_instance_set *set, json_t *record);    /* the ABI form */
json_t *lb_all_records(cdd_instance_set *set);                         /* array */
int lb_valid_instance_id(const char *id);
int lb_lock_set(cdd_instance_set *set);                                 /* returns fd */
void lb_unlock_set(cdd_instance_set *set, int fd);

/* sshd.c: an instance's private sshd */
int lb_start_instance_sshd(cdd_instance_set *set, const char *id, const char *dir,
                           const char *authorized_key, int *out_port, char **out_host_key,
                           char *why, size_t why_size);
int lb_instance_running(const char *dir); /* 1 also when it cannot be told */
int lb_stop_instance(const char *id, const char *dir); /* 0: verified gone; -1: errno */
int lb_run_init_script(const char *id, const char *dir, const char *script); /* 0, or -1 (errno) */

/* util.c: files and processes */
char *lb_strdup_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *lb_read_file(const char *path, size_t max_bytes);
char *lb_read_file_len(const char *path, size_t max_bytes, size_t *out_len);
int lb_write_file_atomic(const char *path, const char *data, mode_t mode);
int lb_mkdirs(const char *path, mode_t mode);
int lb_rm_rf(const char *path);
int lb_random_hex(char *out, size_t bytes); /* out has room for 2*bytes+1 */
int lb_hold_port(int *out_fd); /* the port, held by *out_fd until closed; -1 (errno) */
int lb_run(const char *const argv[], char *const envp[], const char *output_path);
/* The environment of every child: PATH, HOME, LANG, LC_ALL, TZ of the host, plus `extra`
 * ("NAME=value", NULL-terminated, may be NULL); malloc'd, NULL when out of memory. */
char **lb_child_environment(const char *const extra[]);
void lb_free_environment(char **env);
/* > 1: the pid in the file; 0: no file or no pid in it; -1: unreadable (errno). */
pid_t lb_read_pid(const char *path);
/* An errno that means "could not look" (no descriptors, no memory), not "nothing there". */
int lb_cannot_look(int error);

#endif
