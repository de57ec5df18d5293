/* Internal declarations of the local executor backend (not part of the ABI). */
#ifndef CDX_LOCAL_INTERNAL_H
#define CDX_LOCAL_INTERNAL_H

#include <jansson.h>
#include <sys/types.h>

#include "cloud_dispatch_executor.h"

#define LOCAL_PARTITION "local"
#define LOCAL_DEFAULT_TIMEOUT_MS 15000
/* A released job's record stays this long, so its token still names it (the ABI's 24 hours). */
#define LOCAL_TOKEN_KEEP_SECONDS (25 * 3600)

/* The backend context: one for the process, never freed. */
typedef struct local_executor {
    const cdd_host *host;
} local_executor;

/* One open backend: a state folder on this machine, for one dispatcher. After close_backend
 * only the struct stays (closed = 1, linked into a list so it stays reachable): later calls
 * answer CDD_E_INVALID instead of touching freed memory. */
struct cdx_backend {
    local_executor *executor;
    int closed;
    struct cdx_backend *next_closed;
    char *dispatcher_id;   /* kept after close: it names the backend in the "closed" error */
    char *state_dir;       /* shared by every dispatcher: the capacity lock lives here */
    char *dir;             /* <state_dir>/<dispatcher_id>: the runner's --root, jobs/ */
    char *runner;          /* path of cloud-dispatch-runner */
    char *runtime;         /* "none", "podman" or "docker" */
    char *hostname;        /* a job's "where" */
    long vcpus;
    json_int_t ram;
    int timeout_ms;        /* bounds every runner call and the wait for the lock */
};

/* entry.c */
void local_log(cdx_backend *b, int32_t level, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
cdd_status local_fail(cdd_error *err, cdd_status status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
cdd_status local_reply(json_t *reply, char **out_json, cdd_error *err); /* steals reply */

/* config.c: open_backend's configuration, checked key by key */
cdd_status local_configure(cdx_backend *b, const char *dispatcher_id, const char *config_json, cdd_error *err);
void local_free_config(cdx_backend *b);

/* ops.c: the backend operations (cdx_backend_op_fn) */
cdd_status local_capacity(cdx_backend *b, const char *request, char **out, cdd_error *err);
cdd_status local_submit(cdx_backend *b, const char *request, char **out, cdd_error *err);
cdd_status local_list(cdx_backend *b, const char *request, char **out, cdd_error *err);
cdd_status local_cancel(cdx_backend *b, const char *request, char **out, cdd_error *err);
cdd_status local_release(cdx_backend *b, const char *request, char **out, cdd_error *err);
cdd_status local_log_tail(cdx_backend *b, const char *request, char **out, cdd_error *err);

/* store.c: job records, <dir>/jobs/<token hash>.json, and the state folder's lock */
/* The record file of a token ("<16 hex>"), and a job's id: "<uuid>-<16 hex>". */
void local_token_hash(cdx_backend *b, const char *token, char out[17]);
int local_job_id(const char *uuid, const char hash[17], char *out, size_t size);
/* The hash part of a job id, or 0 when `id` is not one of ours. */
int local_hash_of_id(const char *id, char out[17]);
json_t *local_read_record(const char *dir, const char hash[17]); /* NULL: absent (errno ENOENT) or unreadable */
int local_write_record(const char *dir, json_t *record);         /* atomic: temp, fsync, rename */
int local_flag(json_t *record, const char *key);                  /* 1 when record[key] is true */
int local_remove_record(const char *dir, json_t *record);
json_t *local_read_records(const char *dir);                      /* array; NULL: cannot read */
/* The flock on <state_dir>/lock, waited for up to timeout_ms: an fd, or -1 (errno). */
int local_lock(cdx_backend *b);
void local_unlock(int fd);

/* runner.c: cloud-dispatch-runner, run with argv, bounded, reaped */
typedef struct local_run {
    int exit_code;   /* -1: could not start, timed out or killed */
    int timed_out;
    char *out;       /* stdout, malloc'd (may be NULL) */
    char *err;       /* stderr, malloc'd (may be NULL) */
} local_run;
int local_runner(cdx_backend *b, const char *root, const char *const args[], const char *input, local_run *run);
/* Any program (argv[0] a path), the same way: 0 when it ran (run filled), -1 (errno) when not. */
int local_run_program(cdx_backend *b, const char *const argv[], const char *input, local_run *run);
void local_run_free(local_run *run);

/* refresh.c: records brought up to date from the runner (under the lock) */
/* Settles ended jobs, escalates cancels past their grace, starts pending ones. 0, or -1
 * (errno) when the runner could not be asked: then nothing is guessed. */
int local_refresh(cdx_backend *b, const char *dir, json_t *records);
/* Starts a pending record's job with `--detach`: 0 started (or already known to the runner),
 * 1 refused for good (the record is settled failed_to_start), -1 not now (why filled). */
int local_start(cdx_backend *b, const char *dir, json_t *record, char *why, size_t why_size);
/* Signals a job through `--kill`: 0 ended, 1 still running, -1 the runner failed. */
int local_kill(cdx_backend *b, const char *dir, const char *id, const char *signal);
/* "pending", "running" or "ended". */
const char *local_state(json_t *record);
/* The ABI's JOB object of a record. */
json_t *local_public_job(cdx_backend *b, json_t *record);

/* leftovers.c: what a killed supervisor left running */
/* Kills the job's processes that outlived its supervisor (a stale runner record), so a job
 * reported lost does not also run on. Returns a short note for the job's message. */
const char *local_kill_leftovers(cdx_backend *b, const char *dir, const char *id);

/* util.c */
char *local_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *local_read_file(const char *path, size_t max_bytes, size_t *out_len);
int local_write_file_atomic(const char *path, const char *data, mode_t mode);
int local_mkdirs(const char *path, mode_t mode);
double local_now(void);                               /* seconds since the epoch */
double local_monotonic(void);
void local_rfc3339(double seconds, char *out, size_t size); /* "" for 0 */
/* The environment of the runner: PATH, HOME, LANG, LC_ALL, TZ of the host, nothing else. */
char **local_child_environment(void);
void local_free_environment(char **env);
/* The last <= max bytes of `bytes` as valid UTF-8: a cut character dropped at both ends,
 * any other invalid byte replaced by '?'. malloc'd. */
char *local_utf8_tail(const char *bytes, size_t len, size_t max);

#endif
