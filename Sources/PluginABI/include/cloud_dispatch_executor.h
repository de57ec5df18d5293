/*
 * cloud_dispatch_executor.h — the CloudDispatch executor-backend ABI, version 1.0.
 *
 * An executor backend runs the host's containers somewhere the host does not reach over SSH:
 * an existing Slurm cluster, this machine. The host keeps the queue and every policy (order,
 * locks, limits, retries, results, restart recovery); a backend reports what can start now,
 * runs what it is given, and says how each run is going. It ships as a shared library
 * (`libcdx_<name>.so`) in the same plugins folder as the cloud drivers, built against this
 * header alone. docs/executor-abi.md is the prose reference, with every JSON payload and the
 * JSON Schema the host checks replies against.
 *
 * Same family as the driver ABI: this header includes cloud_dispatch_driver.h and reuses its
 * status codes (cdd_status, CDD_OK, CDD_E_*), its error record (cdd_error, cdd_error_fill),
 * its host table (cdd_host: log, get_extension), its UTF-8 and id helpers, and its
 * conventions: [thread-safe], [may-block], [non-blocking], borrowed, backend-owned (here in
 * place of driver-owned). Read the first comment of cloud_dispatch_driver.h once; it holds
 * here word for word.
 *
 * Limits (CDX_MAX_* below) count Unicode characters. The host never sends a request over a
 * limit; a backend never puts a string over a limit in a reply (the host would turn the reply
 * into CDD_E_INTERNAL).
 *
 * Edge cases, defined (docs/executor-abi.md §6):
 *   NULL arguments   as in the driver ABI: CDD_E_INVALID; NULL err allowed; free_string(NULL)
 *                    and close_backend(NULL) do nothing; cdx_negotiate/cdx_open with a NULL
 *                    out or table pointer answer CDD_E_ABI.
 *   after close      the handle stays a valid pointer; every operation answers CDD_E_INVALID.
 *   tokens           an idempotency token names one submit for at least 24 hours: a repeat
 *                    returns the job it made (whatever its state) and never makes a second.
 *                    The same token with a different container uuid is CDD_E_INVALID.
 *   other backends   a backend acts only on jobs its own open backend (same dispatcher id)
 *                    submitted: list leaves the others out, cancel of another's job is
 *                    CDD_E_NOT_FOUND and touches nothing.
 */
#ifndef CLOUD_DISPATCH_EXECUTOR_H
#define CLOUD_DISPATCH_EXECUTOR_H

#include "cloud_dispatch_driver.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------------------------------- */
/* Versions (same rules as CDD_ABI_VERSION_*: majors never mix, the agreed minor is the min)  */
/* ---------------------------------------------------------------------------------------- */

#define CDX_ABI_VERSION_MAJOR 1
#define CDX_ABI_VERSION_MINOR 0

static inline uint32_t cdx_abi_version(void) {
    return cdd_make_version(CDX_ABI_VERSION_MAJOR, CDX_ABI_VERSION_MINOR);
}

/* ---------------------------------------------------------------------------------------- */
/* Limits                                                                                    */
/* ---------------------------------------------------------------------------------------- */

/* The dispatcher id a backend is opened for follows the instance-set id's rule
 * (cdd_valid_set_id: 1-64 of [A-Za-z0-9._-], first a letter or digit). */
#define CDX_MAX_DISPATCHER_ID   CDD_MAX_SET_ID
#define CDX_MAX_JOB_ID          256   /* a job id: 1-256 characters */
#define CDX_MAX_PARTITION       128   /* a partition name: 1-128 characters */
#define CDX_MAX_WHERE           255   /* where a job runs (node names), 0-255 characters */
#define CDX_MAX_MESSAGE         1024  /* a job's end message */
#define CDX_MAX_TOKEN           CDD_MAX_IDEMPOTENCY_TOKEN  /* 1-64 of [A-Za-z0-9._-] */
#define CDX_MAX_TAG_KEY         CDD_MAX_TAG_KEY
#define CDX_MAX_TAG_VALUE       CDD_MAX_TAG_VALUE
#define CDX_MAX_LOG_TAIL        1048576 /* log_tail's max_bytes */

/* ---------------------------------------------------------------------------------------- */
/* Job states and end reasons (strings on the wire; the closed sets the host keys off)        */
/* ---------------------------------------------------------------------------------------- */

/* A job's "state":
 *   "pending"  accepted, not started yet (waiting in the backend's own queue);
 *   "running"  its command has started;
 *   "ended"    over: "end_reason" says how, "exit_code" is the command's exit status when
 *              end_reason is "exited" (0-255), else null.
 * A job's "end_reason", the closed set the host's policy keys off:
 *   "exited"          the command ran and exited; its exit code is the result.
 *   "failed_to_start" the command could not be started (no such image or program, a bad cwd):
 *                     recorded as a result with exit code null and the message.
 *   "timeout"         it ran past max_run_time and was stopped.
 *   "out_of_memory"   it used more than its ram and was killed.
 *   "cancelled"       stopped by cancel (the host's), or by somebody behind the host's back.
 *   "node_fail"       the machine it ran on failed: not the container's fault; the host runs it
 *                     again without counting an attempt.
 *   "preempted"       the backend took the resources back for other work: as node_fail.
 *   "lost"            the backend no longer knows how it ended. The host runs it again and
 *                     counts an attempt.
 */

/* ---------------------------------------------------------------------------------------- */
/* The executor table                                                                        */
/* ---------------------------------------------------------------------------------------- */

/* An open backend: one configured cluster (or machine) for one dispatcher id. */
typedef struct cdx_backend cdx_backend;

/* A synchronous JSON operation on an open backend: as cdd_set_op_fn. `request_json` is
 * borrowed; on CDD_OK *out_json is a backend-owned JSON object (freed with free_string); on
 * any other status *out_json stays NULL and `err` is filled. */
typedef cdd_status (*cdx_backend_op_fn)(cdx_backend *backend, const char *request_json,
                                        char **out_json, cdd_error *err);

/* Allocated and zeroed by the HOST, filled by the backend in cdx_open (the struct_size rule
 * of cdd_driver holds: the backend sets min(host's, its own) and writes nothing past it). */
typedef struct cdx_executor {
    uint32_t struct_size;
    uint32_t abi_version;      /* in: the agreed version */

    void       *executor_ctx;  /* backend-owned; passed back to executor-level members */
    const char *id;            /* required, static: [a-z][a-z0-9_]{0,31}, e.g. "slurm" */
    const char *version;       /* required, static: 1-64 characters */
    const char *description;   /* optional, static: one line, <= 256 characters */

    /* What the backend can do [capabilities_reply]: {"idempotent_submit":true|false,
     * "images":true|false (it can run a container image), "log_tail":true|false}: JSON
     * booleans, all three required, as in the driver's capabilities.
     * [thread-safe] [non-blocking] *out_json is backend-owned. */
    cdd_status (*capabilities)(void *executor_ctx, char **out_json, cdd_error *err);

    /* Open a backend for one dispatcher. `dispatcher_id` (borrowed, cdd_valid_set_id) names
     * whose jobs these are: the backend marks every job it submits with it and lists only
     * those. `config_json` (borrowed) is the operator's config; unknown or malformed keys are
     * CDD_E_INVALID naming the key. [thread-safe] [may-block] On CDD_OK *out_backend stays
     * valid until close_backend. The same id may be opened in two processes at once (the
     * daemon and the conformance kit): jobs live in the cluster, not in the handle. */
    cdd_status (*open_backend)(void *executor_ctx, const char *dispatcher_id,
                               const char *config_json, cdx_backend **out_backend,
                               cdd_error *err);

    /* Release a backend. Jobs are NOT cancelled. [may-block] Once per backend, no call in
     * flight; later calls on the handle answer CDD_E_INVALID; NULL: no-op. */
    void (*close_backend)(cdx_backend *backend);

    /* The members below are [thread-safe] [may-block] cdx_backend_op_fn; shapes in
     * docs/executor-abi.md and the schema (names in brackets). */

    /* What can start now, per partition [capacity_request -> capacity_reply]:
     * {"partitions":[{"name", "total_vcpus", "total_ram", "free_vcpus", "free_ram",
     *   "max_job_vcpus", "max_job_ram", "max_run_time"}]}: sizes in bytes, max_run_time in
     * seconds (0: no limit). "free" counts every user's load, not only this dispatcher's. */
    cdx_backend_op_fn capacity;

    /* Run one container [submit_request -> submit_reply]: {"container":{"uuid", "command",
     * "image", "environment", "cwd", "vcpus", "ram", "max_run_time"}, "partition",
     * "idempotency_token", "tags"} -> {"job": JOB}. With a token already used, returns that
     * token's job (see the edge cases above) instead of making another. CDD_E_CAPACITY_TYPE
     * when the partition cannot take it now, CDD_E_INVALID when it never could. */
    cdx_backend_op_fn submit;

    /* This dispatcher's jobs whose tags include every pair of "tags" [list_request ->
     * list_reply]: {"jobs":[JOB...]}, pending, running, and ended ones not yet released. A JOB:
     * {"id", "idempotency_token", "partition", "state", "where", "tags", "exit_code",
     *  "end_reason", "message", "submitted_at", "started_at", "ended_at"} (times RFC 3339
     * or ""; exit_code and end_reason null until "ended"). */
    cdx_backend_op_fn list;

    /* Stop a job [cancel_request -> empty object]: {"id", "grace_ms"}: TERM now, KILL after
     * grace_ms if still running; returns without waiting. A job already ended or released
     * counts as cancelled (CDD_OK); one this backend never submitted is CDD_E_NOT_FOUND. */
    cdx_backend_op_fn cancel;

    /* Forget ended jobs whose result the host has recorded [release_request -> empty object]:
     * {"ids":[...]}. Unknown or still-running ids are left alone (CDD_OK). */
    cdx_backend_op_fn release;

    /* The last bytes of a job's output [log_tail_request -> log_tail_reply]: {"id",
     * "max_bytes"} -> {"text"} (valid UTF-8; cut at a character boundary).
     * CDD_E_UNSUPPORTED when capabilities.log_tail is 0. */
    cdx_backend_op_fn log_tail;

    /* Look up a backend extension by versioned id. Optional (may be NULL). None in 1.0. */
    const void *(*get_extension)(void *executor_ctx, const char *extension_id);

    /* Free a string the backend returned. [thread-safe] [non-blocking] Required; accepts NULL. */
    void (*free_string)(void *executor_ctx, char *string);

    void *reserved[16];        /* NULL; future members */
} cdx_executor;

/* The part of cdx_executor every 1.x backend must fill: up to and including free_string. */
static inline uint32_t cdx_executor_size_v1_0(void) {
    return (uint32_t)(offsetof(cdx_executor, free_string) + sizeof(void (*)(void *, char *)));
}

/* ---------------------------------------------------------------------------------------- */
/* Entry points: the only symbols a backend exports (cdx_negotiate, cdx_open)                */
/* ---------------------------------------------------------------------------------------- */

/* As cdd_negotiate: pure; CDD_E_ABI when the majors differ. [thread-safe] */
cdd_status cdx_negotiate(uint32_t host_version, uint32_t *out_agreed);

/* As cdd_open: fill the table (byte-for-byte the same on every call); `host` valid for the
 * process lifetime. [may-block] */
cdd_status cdx_open(uint32_t agreed_version, const cdd_host *host, cdx_executor *executor,
                    cdd_error *err);

#define CDX_NEGOTIATE_SYMBOL "cdx_negotiate"
#define CDX_OPEN_SYMBOL      "cdx_open"

typedef cdd_status (*cdx_negotiate_fn)(uint32_t host_version, uint32_t *out_agreed);
typedef cdd_status (*cdx_open_fn)(uint32_t agreed_version, const cdd_host *host,
                                  cdx_executor *executor, cdd_error *err);

#ifdef __cplusplus
}
#endif
#endif /* CLOUD_DISPATCH_EXECUTOR_H */
