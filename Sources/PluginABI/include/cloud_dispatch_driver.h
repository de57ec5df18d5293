/*
 * cloud_dispatch_driver.h — the CloudDispatch cloud-driver ABI, version 1.0.
 *
 * This header is the whole contract between the `cloud-dispatch` host and a cloud driver
 * shipped as a shared library (`libcdd_<name>.so`). A driver is built against this header
 * alone; it never links against the host. docs/driver-abi.md is the prose reference, with
 * every JSON payload, examples and the JSON Schema that the host checks replies against.
 *
 * Conventions used on every member below:
 *   [thread-safe]   may be called from any host thread, concurrently with any other member.
 *   [may-block]     may block (network, child processes); the host only calls it from its own
 *                   bounded thread pool and bounds it with a per-call timeout.
 *   [non-blocking]  must return quickly; it must not wait for the network or a lock held
 *                   across a network call.
 *   [once]          called at most once per object.
 *   in / out        direction of a pointer argument.
 *   borrowed        the pointee belongs to the caller and is valid only during the call;
 *                   copy what you keep.
 *   driver-owned    allocated by the driver; the host hands it back to `free_string`.
 *
 * Wire rules: all strings are UTF-8, NUL-terminated. Request and reply payloads are JSON
 * objects. There are no C enums and no `bool` on the wire: fixed-width integers only.
 * Every struct starts with `struct_size`; members are only ever appended; an optional member
 * is used only when the agreed minor version includes it AND it is non-NULL.
 *
 * Limits (CDD_MAX_* below) are in Unicode characters (code points), as JSON Schema's
 * maxLength counts them; the instance-set id is ASCII, so its limit is also in bytes. The host
 * refuses a request that breaks a limit or is not valid UTF-8 before it reaches a driver
 * (error class `invalid`); a driver refuses such a request too (CDD_E_INVALID naming the
 * field, quoting at most a short prefix of the value) and never echoes it back, and never
 * puts a string over a limit in a reply (the host would turn the reply into `internal`).
 *
 * Edge cases, defined (docs/driver-abi.md §7a):
 *   NULL arguments   a NULL pointer where the member needs one (set, request, out pointer,
 *                    set id, config) is CDD_E_INVALID; a NULL `err` is allowed (nothing is
 *                    filled, the status still says what happened); free_string(NULL) and
 *                    close_set(NULL) do nothing; cdd_negotiate/cdd_open with a NULL out or
 *                    table pointer answer CDD_E_ABI.
 *   after close_set  the handle stays a valid pointer for the process lifetime (a few bytes
 *                    the driver keeps); every operation on it answers CDD_E_INVALID ("instance
 *                    set ... is closed") and a second close_set does nothing.
 *   other sets' ids  a set acts only on instances it created: destroy reports another set's
 *                    id destroyed without touching it, set_tags answers CDD_E_NOT_FOUND.
 *   spent tokens     an idempotency token names one create for at least 24 hours: a repeat
 *                    returns those of its instances that still exist; when none does any more,
 *                    CDD_E_INVALID naming idempotency_token, and nothing is created.
 *   count            above capabilities.max_create_count (or below 1) is CDD_E_INVALID naming
 *                    `count`; nothing is created.
 */
#ifndef CLOUD_DISPATCH_DRIVER_H
#define CLOUD_DISPATCH_DRIVER_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------------------------------- */
/* Versions                                                                                  */
/* ---------------------------------------------------------------------------------------- */

/* A version is (major << 16) | minor. Different majors never load together. The agreed minor
 * is min(host minor, driver minor); each side uses only what the agreed minor includes. */
#define CDD_ABI_VERSION_MAJOR 1
#define CDD_ABI_VERSION_MINOR 0

static inline uint32_t cdd_make_version(uint32_t major, uint32_t minor) {
    return (major << 16) | (minor & 0xffffu);
}
static inline uint32_t cdd_version_major(uint32_t version) { return version >> 16; }
static inline uint32_t cdd_version_minor(uint32_t version) { return version & 0xffffu; }
/* The version this header describes. */
static inline uint32_t cdd_abi_version(void) {
    return cdd_make_version(CDD_ABI_VERSION_MAJOR, CDD_ABI_VERSION_MINOR);
}

/* ---------------------------------------------------------------------------------------- */
/* Limits: every string the wire carries, with its maximum length                            */
/* ---------------------------------------------------------------------------------------- */

/* The instance-set id: 1-64 bytes; first a letter or digit, then letters, digits, '.', '_',
 * '-'. So it is always one safe file-name component: never ".", "..", hidden, or with '/'.
 * cdd_valid_set_id() below checks it. */
#define CDD_MAX_SET_ID            64
#define CDD_MAX_TAG_KEY           128   /* tag keys: 1-128 characters */
#define CDD_MAX_TAG_VALUE         256   /* tag values: 0-256 characters */
#define CDD_MAX_INSTANCE_ID       256   /* instance ids: 1-256 characters */
#define CDD_MAX_PROVIDER_TYPE     128   /* provider_type, and an instance type's name: 1-128 */
#define CDD_MAX_QUOTA_GROUP       128   /* quota_group's group: 1-128 characters */
#define CDD_MAX_IMAGE             1024  /* create's image */
#define CDD_MAX_INIT_SCRIPT       16384 /* create's init_script */
#define CDD_MAX_SSH_PUBLIC_KEY    8192  /* create's ssh_public_key (one line) */
#define CDD_MAX_IDEMPOTENCY_TOKEN 64    /* 1-64 characters of [A-Za-z0-9._-] */
#define CDD_MAX_ADDRESS           255   /* an instance's address */
#define CDD_MAX_SSH_USER          64    /* an instance's ssh_user */
#define CDD_MAX_HOST_KEY          4096  /* an instance's host_key */
#define CDD_MAX_FAILURE_MESSAGE   1024  /* a destroy failure's message */
#define CDD_MAX_DESTROY_IDS       100000 /* ids in one destroy request */
#define CDD_MAX_SET_TAGS_IDS      1000  /* ids in one set_tags request */

/* ---------------------------------------------------------------------------------------- */
/* Status codes: a closed set of error classes the host's policy keys off                   */
/* ---------------------------------------------------------------------------------------- */

typedef int32_t cdd_status;

#define CDD_OK                   0
/* The request is wrong and retrying it unchanged will fail again (bad JSON, unknown
 * instance type, bad image id, malformed key). The host does not retry. */
#define CDD_E_INVALID            1
/* Credentials are missing, wrong or lack a permission. The host stops creating and alerts. */
#define CDD_E_AUTH               2
/* The named object does not exist (an instance id in set_tags). destroy never returns it for
 * an id that is already gone: that id simply counts as destroyed. */
#define CDD_E_NOT_FOUND          3
/* An account limit (instance count, vCPU quota, addresses). The host pauses creates until
 * its instance count drops and shuts down idle instances it does not need. */
#define CDD_E_QUOTA              4
/* The provider has no capacity for this instance type (in this zone) right now. The host
 * tries the next eligible type and backs off this one for a while. */
#define CDD_E_CAPACITY_TYPE      5
/* No capacity for the whole quota group / family of this type (see quota_group). */
#define CDD_E_CAPACITY_FAMILY    6
/* No capacity at all in this instance set (region-wide shortage). */
#define CDD_E_CAPACITY_GLOBAL    7
/* Throttled. Set retry_after_ms when the provider says when to retry. */
#define CDD_E_RATE_LIMIT         8
/* Timeouts, 5xx, dropped connections: retry with back-off. */
#define CDD_E_TRANSIENT          9
/* The driver or this instance set cannot do what was asked (e.g. preemptible instances,
 * or a required program such as sshd is not installed). */
#define CDD_E_UNSUPPORTED        10
/* A bug or an unexpected reply inside the driver. Also what the host reports when a driver
 * breaks this contract (junk JSON, a reply that fails the schema, a timeout). */
#define CDD_E_INTERNAL           11
/* Version or struct-size mismatch between host and driver. */
#define CDD_E_ABI                12

/* Caller-allocated error record. The host zeroes it, sets struct_size and passes it to every
 * member that can fail; the driver fills it when it returns a status other than CDD_OK.
 * Text fields are NUL-terminated and truncated to fit. The record may grow in a later minor
 * version: a driver fills what the caller's struct_size has room for (a text field cut
 * short by struct_size is truncated to the room left) and writes no byte past struct_size,
 * so an older host with a smaller record still gets the class, the hint and the message
 * (cdd_error_fill does exactly this). */
typedef struct cdd_error {
    uint32_t struct_size;      /* in: sizeof(cdd_error) as the host knows it */
    int32_t  http_status;      /* out: provider HTTP status, 0 when none */
    uint32_t retry_after_ms;   /* out: provider's retry hint, 0 when none */
    uint32_t reserved0;        /* zero */
    char     provider_code[64];/* out: provider error code, e.g. "InsufficientInstanceCapacity" */
    char     message[512];     /* out: one human-readable line; never a secret */
} cdd_error;

/* Log levels for cdd_host.log. */
#define CDD_LOG_ERROR 0
#define CDD_LOG_WARN  1
#define CDD_LOG_INFO  2
#define CDD_LOG_DEBUG 3
#define CDD_LOG_TRACE 4

/* ---------------------------------------------------------------------------------------- */
/* The host table: services the host offers the driver                                        */
/* ---------------------------------------------------------------------------------------- */

/* Host-owned; valid from cdd_open until the process exits (drivers are never unloaded). */
typedef struct cdd_host {
    uint32_t struct_size;      /* sizeof(cdd_host) as the host knows it */
    uint32_t abi_version;      /* the agreed version */
    void    *host_ctx;         /* opaque; pass back to the callbacks below */

    /* Write one log line in the host's log, attributed to this driver.
     * [thread-safe] [non-blocking] May be called from any thread, including threads the
     * driver created, from cdd_open on. `message` is borrowed (the host copies it). Never log
     * secrets: credentials, tokens, private keys, user data. */
    void (*log)(void *host_ctx, int32_t level, const char *message);

    /* Look up a host extension by versioned id ("cdd.host.<name>/<n>").
     * [thread-safe] [non-blocking] Returns a host-owned table valid for the process lifetime,
     * or NULL when the host does not offer it. No host extensions exist in ABI 1.0. */
    const void *(*get_extension)(void *host_ctx, const char *extension_id);

    void *reserved[8];         /* NULL; future members */
} cdd_host;

/* ---------------------------------------------------------------------------------------- */
/* The driver table                                                                          */
/* ---------------------------------------------------------------------------------------- */

/* An open instance set: one account/region/project as configured, owned by the driver. */
typedef struct cdd_instance_set cdd_instance_set;

/* A synchronous JSON operation on an instance set.
 * `request_json` is borrowed. On CDD_OK the driver stores a driver-owned JSON object in
 * *out_json (the host frees it with free_string); on any other status *out_json is left NULL
 * and `err` is filled. */
typedef cdd_status (*cdd_set_op_fn)(cdd_instance_set *set, const char *request_json,
                                    char **out_json, cdd_error *err);

/* Allocated and zeroed by the HOST, filled by the driver in cdd_open. */
typedef struct cdd_driver {
    /* in: sizeof(cdd_driver) as the host knows it. out: the driver sets it to
     * min(host's value, sizeof(cdd_driver) as the driver knows it), and writes no byte past
     * the smaller of the two. The host refuses a driver whose value is below the 1.0 size. */
    uint32_t struct_size;
    uint32_t abi_version;      /* in: the agreed version (also passed to cdd_open) */

    void       *driver_ctx;    /* driver-owned; passed back to driver-level members */
    const char *id;            /* required, static: [a-z][a-z0-9_]{0,31}, e.g. "ec2" */
    const char *version;       /* required, static: the driver's own version, 1-64 chars, e.g. "1.4.2" */
    const char *description;   /* optional, static: one line for `cloud-dispatch drivers`, <= 256 chars */

    /* What the driver can do: a JSON object (schema: capabilities_reply).
     * [thread-safe] [non-blocking] *out_json is driver-owned. */
    cdd_status (*capabilities)(void *driver_ctx, char **out_json, cdd_error *err);

    /* Open an instance set: one configured account/region of this cloud.
     * `set_id` (borrowed) is the host's instance-set id, [A-Za-z0-9][A-Za-z0-9._-]{0,63}
     * (CDD_MAX_SET_ID); the driver refuses any other with CDD_E_INVALID before it touches a
     * file or the cloud (cdd_valid_set_id). Resources the driver creates for shared use (key
     * pairs, state folders) belong to that id.
     * `config_json` (borrowed) is the operator's driver config for this set; the driver
     * rejects unknown or malformed keys with CDD_E_INVALID naming the key.
     * [thread-safe] [may-block] On CDD_OK *out_set is a driver-owned handle that stays valid
     * until close_set. The host may open several sets on one driver, and the same set id
     * in two processes (e.g. the daemon and the conformance kit). */
    cdd_status (*open_set)(void *driver_ctx, const char *set_id, const char *config_json,
                           cdd_instance_set **out_set, cdd_error *err);

    /* Release an instance set. Instances are NOT destroyed.
     * [may-block] The host calls it once per set, with no other call on `set` in flight, and
     * none after. Still, the handle stays a valid pointer afterwards: a later operation on it
     * answers CDD_E_INVALID and a second close_set does nothing (never a crash). NULL: no-op. */
    void (*close_set)(cdd_instance_set *set);

    /* The operations below are [thread-safe] [may-block] cdd_set_op_fn members; the request
     * and reply shapes are in docs/driver-abi.md and the schema (names in brackets). */

    /* Create `count` instances of one type [create_request -> create_reply].
     * Required request members: instance_type {name, provider_type, vcpus, ram, preemptible,
     * price}, tags, count (1..capabilities.max_create_count, else CDD_E_INVALID naming
     * count). With an idempotency token, a repeated request returns the instances of the
     * first one that still exist instead of creating more (when capabilities.idempotent_create
     * is 1); a token whose instances are all gone is spent: CDD_E_INVALID, nothing created.
     * first_send true (optional) says the host never sent this token before, so there is no
     * earlier instance to look for; absent or false, look. The reply may hold fewer instances
     * than asked (partial success), at least one; it never holds more. Every instance carries
     * exactly the request's tags. Reply instances need id, provider_type, state, address (""
     * while unknown) and tags. */
    cdd_set_op_fn create;
    /* Instances of this set whose tags include every (key, value) of the request's filter
     * [list_request -> list_reply]. Includes booting and stopping instances; leaves out
     * those that are gone or being terminated. */
    cdd_set_op_fn list;
    /* Terminate a batch of instances [destroy_request -> destroy_reply]. An id that does not
     * exist in THIS set (never existed, already gone, or another set's) counts as destroyed;
     * another set's instance is never touched. Per-id failures go in the reply; the call's
     * own status is for failures of the whole batch. */
    cdd_set_op_fn destroy;
    /* Merge tags into instances [set_tags_request -> empty object]: the given keys get the
     * given values, other tags stay. CDD_E_NOT_FOUND when an id does not exist in this set
     * (another set's instance included); then no instance is changed. */
    cdd_set_op_fn set_tags;
    /* The instance-type catalogue with prices [instance_types_request ->
     * instance_types_reply]. */
    cdd_set_op_fn instance_types;
    /* The quota group an instance type counts against [quota_group_request ->
     * quota_group_reply]; capacity-family errors apply to the whole group. A type in no
     * catalogue of this set is CDD_E_INVALID naming provider_type. */
    cdd_set_op_fn quota_group;

    /* Look up a driver extension by versioned id (see CDD_EXT_* below).
     * [thread-safe] [non-blocking] Optional member (may be NULL). Returns a driver-owned
     * table valid for the process lifetime, or NULL when not offered. */
    const void *(*get_extension)(void *driver_ctx, const char *extension_id);

    /* Free a string the driver returned in *out_json. [thread-safe] [non-blocking] Required.
     * Accepts NULL. */
    void (*free_string)(void *driver_ctx, char *string);

    void *reserved[16];        /* NULL; future members (the host zeroes them) */
} cdd_driver;

/* The part of cdd_driver every 1.x driver must fill: up to and including free_string. */
static inline uint32_t cdd_driver_size_v1_0(void) {
    return (uint32_t)(offsetof(cdd_driver, free_string) + sizeof(void (*)(void *, char *)));
}

/* ---------------------------------------------------------------------------------------- */
/* Optional extensions (driver side), looked up with cdd_driver.get_extension                 */
/* ---------------------------------------------------------------------------------------- */

/* Interruption notices (spot reclaim warnings). */
#define CDD_EXT_INTERRUPTIONS "cdd.interruptions/1"
typedef struct cdd_ext_interruptions {
    uint32_t struct_size;
    /* Instances with a pending reclaim: {} -> {"notices":[{"id":..,"at":RFC3339}]}.
     * [thread-safe] [may-block] */
    cdd_set_op_fn poll;
    void *reserved[4];
} cdd_ext_interruptions;

/* Quota queries: how much of each quota group is used and allowed. */
#define CDD_EXT_QUOTAS "cdd.quotas/1"
typedef struct cdd_ext_quotas {
    uint32_t struct_size;
    /* {} -> {"groups":[{"group":..,"used_vcpus":N,"limit_vcpus":N}]}. [thread-safe] [may-block] */
    cdd_set_op_fn query;
    void *reserved[4];
} cdd_ext_quotas;

/* ---------------------------------------------------------------------------------------- */
/* Entry points: the only symbols a driver exports (functions only: Swift cannot export data) */
/* ---------------------------------------------------------------------------------------- */

/* Every other symbol stays local: C drivers build with -fvisibility=hidden and mark these two
 * visible; Swift drivers link with a version script ({ global: cdd_negotiate; cdd_open;
 * local: *; }), since Swift exports every public and internal symbol otherwise. */

/* Negotiate the version. `host_version` is the highest version the host speaks. On CDD_OK
 * *out_agreed is cdd_make_version(same major, min(host minor, driver minor)). Returns
 * CDD_E_ABI when the majors differ.
 * Pure: no allocation, no threads, no host calls, no side effects. [thread-safe] */
cdd_status cdd_negotiate(uint32_t host_version, uint32_t *out_agreed);

/* Fill the driver table. Called once per loaded file, after a successful negotiation, with
 * the agreed version. `host` is host-owned and valid for the process lifetime (NULL: the
 * driver logs nothing); `driver` is host-allocated and zeroed with struct_size and
 * abi_version set. May be called again (a vetting child, a second host table): every call
 * gives byte-for-byte the same table contents, driver_ctx included (keep one context for
 * the process; the first call's `host` is the one the driver keeps). [may-block] */
cdd_status cdd_open(uint32_t agreed_version, const cdd_host *host, cdd_driver *driver,
                    cdd_error *err);

#define CDD_NEGOTIATE_SYMBOL "cdd_negotiate"
#define CDD_OPEN_SYMBOL      "cdd_open"

typedef cdd_status (*cdd_negotiate_fn)(uint32_t host_version, uint32_t *out_agreed);
typedef cdd_status (*cdd_open_fn)(uint32_t agreed_version, const cdd_host *host,
                                  cdd_driver *driver, cdd_error *err);

/* Copies `text` into a field of `capacity` bytes, truncated and NUL-terminated (capacity 0:
 * nothing). A helper of cdd_error_fill. */
static inline void cdd_error_text(char *field, size_t capacity, const char *text) {
    if (capacity == 0) return;
    size_t i = 0;
    for (; text && text[i] && i + 1 < capacity; i++) field[i] = text[i];
    field[i] = 0;
}

/* The bytes of a field at `offset` (of `size` bytes) that a record of `room` bytes holds. */
static inline size_t cdd_error_room(uint32_t room, size_t offset, size_t size) {
    if (room <= offset) return 0;
    return room - offset < size ? room - offset : size;
}

/* Fill an error record (a convenience for C drivers; truncates, always terminates). Fills the
 * fields the caller's struct_size has room for, and nothing past it: a record from an older,
 * smaller host still gets what it has room for. */
static inline cdd_status cdd_error_fill(cdd_error *err, cdd_status status, int32_t http_status,
                                        uint32_t retry_after_ms, const char *provider_code,
                                        const char *message) {
    if (err == NULL) return status;
    uint32_t room = err->struct_size;
    if (cdd_error_room(room, offsetof(cdd_error, http_status), sizeof err->http_status) == sizeof err->http_status)
        err->http_status = http_status;
    if (cdd_error_room(room, offsetof(cdd_error, retry_after_ms), sizeof err->retry_after_ms) == sizeof err->retry_after_ms)
        err->retry_after_ms = retry_after_ms;
    cdd_error_text(err->provider_code, cdd_error_room(room, offsetof(cdd_error, provider_code), sizeof err->provider_code),
                   provider_code);
    cdd_error_text(err->message, cdd_error_room(room, offsetof(cdd_error, message), sizeof err->message), message);
    return status;
}

/* 1 when `id` is a valid instance-set id (see CDD_MAX_SET_ID), else 0. */
static inline int cdd_valid_set_id(const char *id) {
    if (id == NULL) return 0;
    size_t n = 0;
    for (; id[n]; n++) {
        char c = id[n];
        int alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
        if (!alnum && (n == 0 || (c != '.' && c != '_' && c != '-'))) return 0;
        if (n + 1 > CDD_MAX_SET_ID) return 0;
    }
    return n > 0;
}

/* The length of `s` in Unicode characters when it is valid UTF-8 (no overlong forms, no
 * surrogates, nothing above U+10FFFF), else -1. For checking the CDD_MAX_* limits. */
static inline long cdd_utf8_length(const char *s) {
    if (s == NULL) return -1;
    const unsigned char *p = (const unsigned char *)s;
    long n = 0;
    while (*p) {
        unsigned c = *p, need, min;
        if (c < 0x80) { p++; n++; continue; }
        if (c >= 0xC2 && c <= 0xDF) { need = 1; min = 0x80; c &= 0x1F; }
        else if (c >= 0xE0 && c <= 0xEF) { need = 2; min = 0x800; c &= 0x0F; }
        else if (c >= 0xF0 && c <= 0xF4) { need = 3; min = 0x10000; c &= 0x07; }
        else return -1;
        p++;
        for (unsigned k = 0; k < need; k++, p++) {
            if ((*p & 0xC0) != 0x80) return -1;
            c = (c << 6) | (*p & 0x3F);
        }
        if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) return -1;
        n++;
    }
    return n;
}

#ifdef __cplusplus
}
#endif
#endif /* CLOUD_DISPATCH_DRIVER_H */
