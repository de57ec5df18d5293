/* Internal declarations of the Slurm executor backend (not part of the ABI). */
#ifndef CDX_SLURM_INTERNAL_H
#define CDX_SLURM_INTERNAL_H

#include <jansson.h>
#include <pthread.h>
#include <stddef.h>

#include "cloud_dispatch_executor.h"

/* Slurm's CLI output is read whole; more than this from one call is an error, not a reply. */
#define SLURM_MAX_OUTPUT (64u << 20)
#define SLURM_DEFAULT_CALL_TIMEOUT_MS 30000

/* The process-wide context: one for every cdx_open (same table each time), never freed. */
typedef struct slurm_executor {
    const cdd_host *host;
} slurm_executor;

/* One open backend: a cluster as configured, for one dispatcher id. After close_backend only
 * the struct stays (closed = 1): later calls answer CDD_E_INVALID instead of touching freed
 * memory. Jobs live in the cluster and in `records_dir`, never only in this handle. */
struct cdx_backend {
    slurm_executor *executor;
    int closed;
    char *dispatcher_id;
    char *slurm_conf;      /* "" : Slurm's default */
    char *partition;       /* "" : the request's, else Slurm's default */
    char *default_partition; /* Slurm's default, looked up at open ("" when unknown) */
    char *account, *qos;   /* "" : none */
    char *bin_dir;         /* "" : PATH */
    char *image_runtime;   /* "podman", "apptainer" or "none" */
    char *work_dir;        /* job scripts' outputs: <work_dir>/<dispatcher_id>/ */
    char *job_dir;         /* <work_dir>/<dispatcher_id> */
    char *records_dir;     /* <job_dir>/records: one file per job, one per token */
    char *name_prefix;     /* "cdx:<dispatcher_id>:" : the job names of this dispatcher */
    int call_timeout_ms;
    pthread_mutex_t sizes_lock; /* guards sizes, sizes_at */
    json_t *sizes;         /* the partitions' sizes, for refusing jobs no node can take */
    long long sizes_at;
};

/* entry.c */
void slurm_log(cdx_backend *b, int32_t level, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
cdd_status slurm_fail(cdd_error *err, cdd_status status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
cdd_status slurm_reply(json_t *reply, char **out_json, cdd_error *err); /* steals reply */
/* Parses the request of an operation on `b`: CDD_OK with *out_root, or the error filled. */
cdd_status slurm_begin(cdx_backend *b, const char *request, char **out, json_t **out_root, cdd_error *err);

/* config.c: open_backend's config */
cdd_status slurm_configure(cdx_backend *b, const char *config_json, cdd_error *err);
void slurm_free_config(cdx_backend *b);

/* run.c: Slurm's commands, as argv, bounded by the call timeout */
typedef struct slurm_output {
    int status;        /* exit status; -1 when it could not run or was killed */
    int timed_out;
    char *out, *err;   /* malloc'd, NUL-terminated */
} slurm_output;
/* Runs `argv[0]` (a Slurm command name, found in bin_dir or PATH) with the scrubbed
 * environment plus SLURM_CONF. 0 when it ran and exited 0; else -1 with `why` (its stderr). */
int slurm_run(cdx_backend *b, const char *const argv[], slurm_output *out, char *why, size_t why_size);
void slurm_output_free(slurm_output *out);
/* Counts every command run in this process (the cost of a list, measured by the tests). */
unsigned long slurm_calls(void);

/* script.c: the batch script that runs one container */
char *slurm_job_script(cdx_backend *b, json_t *container); /* malloc'd */
char *slurm_shell_quote(const char *s);                    /* malloc'd '...' */

/* records.c: what this dispatcher submitted, kept in records_dir */
json_t *slurm_read_record(cdx_backend *b, const char *job_id);   /* NULL when absent */
int slurm_write_record(cdx_backend *b, json_t *record);          /* keyed by record.id */
char *slurm_token_job(cdx_backend *b, const char *token);         /* malloc'd id, NULL absent */
int slurm_write_token(cdx_backend *b, const char *token, const char *job_id);
int slurm_lock_token(cdx_backend *b, const char *token);          /* fd, -1 on error */
int slurm_mark_intent(cdx_backend *b, const char *token);         /* before sbatch; 0 or -1 */
void slurm_clear_intent(cdx_backend *b, const char *token);
int slurm_has_intent(cdx_backend *b, const char *token);          /* 1: a job may exist unrecorded */
void slurm_unlock(int fd);
json_t *slurm_all_records(cdx_backend *b);                        /* object id -> record */
void slurm_prune_records(cdx_backend *b);                         /* released ones older than 2 days */
int slurm_valid_job_id(const char *id);
char *slurm_percent_encode(const char *s);                        /* malloc'd */
char *slurm_percent_decode(const char *s);                        /* malloc'd, NULL if bad */

/* checks.c: the ABI's limits on request values */
int slurm_string_within(json_t *value, long min, long max); /* a string of min..max characters */
int slurm_valid_token(json_t *value);                       /* 1-64 of [A-Za-z0-9._-] */
int slurm_valid_tags(json_t *tags);                         /* an object within the tag limits */

/* submit.c and jobs.c: the backend's operations */
cdd_status slurm_capacity(cdx_backend *b, const char *request, char **out, cdd_error *err);
/* CDD_E_INVALID when no node of `partition` is big enough for the job (capacity.c). */
cdd_status slurm_check_fits(cdx_backend *b, const char *partition, long long vcpus, long long ram, cdd_error *err);
cdd_status slurm_submit(cdx_backend *b, const char *request, char **out, cdd_error *err);
cdd_status slurm_list(cdx_backend *b, const char *request, char **out, cdd_error *err);
cdd_status slurm_cancel(cdx_backend *b, const char *request, char **out, cdd_error *err);
cdd_status slurm_release(cdx_backend *b, const char *request, char **out, cdd_error *err);
cdd_status slurm_log_tail(cdx_backend *b, const char *request, char **out, cdd_error *err);

/* state.c: Slurm's view of jobs, in the ABI's words */
/* The ABI job for `record`, given squeue's row (NULL: Slurm no longer shows it). May run
 * `scontrol show job` once for a newly ended job and caches the result in the record. */
json_t *slurm_job_view(cdx_backend *b, json_t *record, const char *squeue_row);
/* squeue rows of this user's jobs, keyed by job id: one call. NULL with `why` on failure. */
json_t *slurm_squeue(cdx_backend *b, const char *name, char *why, size_t why_size);
/* A value of `key` in a `scontrol show -o` line ("Key=value ..."), malloc'd, or NULL. */
char *slurm_field(const char *line, const char *key);
/* "2026-12-02T13:05:59" (Slurm's local time) as RFC 3339 UTC, or "" ("N/A", "Unknown"). */
void slurm_rfc3339(const char *slurm_time, char *out, size_t size);
void slurm_now_rfc3339(char *out, size_t size);

#endif
