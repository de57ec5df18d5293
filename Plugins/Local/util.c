/* Files, times, the children's environment and UTF-8: the small helpers of the local backend. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "local.h"

char *local_printf(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    char *s = NULL;
    if (vasprintf(&s, fmt, ap) < 0) s = NULL;
    va_end(ap);
    return s;
}

char *local_read_file(const char *path, size_t max_bytes, size_t *out_len) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return NULL;
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap + 1);
    while (buf) {
        if (len == cap) {
            if (cap >= max_bytes) break;
            cap *= 2;
            char *bigger = realloc(buf, cap + 1);
            if (!bigger) { free(buf); buf = NULL; errno = ENOMEM; break; }
            buf = bigger;
        }
        ssize_t n = read(fd, buf + len, cap - len);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) { int saved = errno; free(buf); buf = NULL; errno = saved; break; }
        if (n == 0) break;
        len += (size_t)n;
    }
    int saved = errno;
    close(fd);
    errno = saved;
    if (buf) buf[len] = 0;
    if (out_len) *out_len = len;
    return buf;
}

/* Temporary name, fsync, rename: a reader (or a restart) sees the old file or the new one. */
int local_write_file_atomic(const char *path, const char *data, mode_t mode) {
    char *tmp = local_printf("%s.tmp.%d.%lx", path, (int)getpid(), (unsigned long)pthread_self());
    if (!tmp) return -1;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (fd < 0) { free(tmp); return -1; }
    size_t len = strlen(data), done = 0;
    while (done < len) {
        ssize_t n = write(fd, data + done, len - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) { int saved = errno; close(fd); unlink(tmp); free(tmp); errno = saved; return -1; }
        done += (size_t)n;
    }
    if (fsync(fd) != 0 || close(fd) != 0 || rename(tmp, path) != 0) {
        int saved = errno;
        unlink(tmp);
        free(tmp);
        errno = saved;
        return -1;
    }
    free(tmp);
    return 0;
}

int local_mkdirs(const char *path, mode_t mode) {
    char *copy = strdup(path);
    if (!copy) return -1;
    for (char *p = copy + 1; *p; p++) {
        if (*p != '/') continue;
        *p = 0;
        if (mkdir(copy, 0755) != 0 && errno != EEXIST) { free(copy); return -1; }
        *p = '/';
    }
    int rc = mkdir(copy, mode);
    free(copy);
    return (rc == 0 || errno == EEXIST) ? 0 : -1;
}

double local_now(void) {
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

double local_monotonic(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

void local_rfc3339(double seconds, char *out, size_t size) {
    if (size == 0) return;
    out[0] = 0;
    if (seconds <= 0) return;
    time_t whole = (time_t)seconds;
    struct tm tm;
    if (gmtime_r(&whole, &tm)) strftime(out, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* What the runner keeps of the host's environment: enough to find programs and speak the
 * locale. The host's own may hold secrets (an API token, a database URL), and the runner
 * passes its environment on to plain-process containers. */
static const char *const inherited[] = {"PATH", "HOME", "LANG", "LC_ALL", "TZ", NULL};
static const char default_path[] = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

char **local_child_environment(void) {
    char **env = calloc(sizeof inherited / sizeof *inherited + 1, sizeof *env);
    if (!env) return NULL;
    size_t kept = 0;
    int has_path = 0;
    for (const char *const *name = inherited; *name; name++) {
        const char *value = getenv(*name);
        if (!value) continue;
        if (!(env[kept++] = local_printf("%s=%s", *name, value))) goto oom;
        has_path |= strcmp(*name, "PATH") == 0;
    }
    if (!has_path && !(env[kept++] = strdup(default_path))) goto oom;
    return env;
oom:
    local_free_environment(env);
    return NULL;
}

void local_free_environment(char **env) {
    if (!env) return;
    for (char **p = env; *p; p++) free(*p);
    free(env);
}

/* The length of the valid UTF-8 sequence at p (at most `left` bytes), 0 when invalid. */
static size_t utf8_sequence(const unsigned char *p, size_t left) {
    unsigned c = p[0], need, min;
    if (c < 0x80) return c ? 1 : 0;
    if (c >= 0xC2 && c <= 0xDF) { need = 1; min = 0x80; c &= 0x1F; }
    else if (c >= 0xE0 && c <= 0xEF) { need = 2; min = 0x800; c &= 0x0F; }
    else if (c >= 0xF0 && c <= 0xF4) { need = 3; min = 0x10000; c &= 0x07; }
    else return 0;
    if (left < need + 1) return 0;
    for (unsigned k = 1; k <= need; k++) {
        if ((p[k] & 0xC0) != 0x80) return 0;
        c = (c << 6) | (p[k] & 0x3F);
    }
    if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) return 0;
    return need + 1;
}

/* 1 when the `left` bytes at p are the start of a character that the end cut short. */
static int cut_at_end(const unsigned char *p, size_t left) {
    size_t need = p[0] >= 0xC2 && p[0] <= 0xDF ? 2 : p[0] >= 0xE0 && p[0] <= 0xEF ? 3 : p[0] >= 0xF0 && p[0] <= 0xF4 ? 4 : 0;
    if (need == 0 || left >= need) return 0;
    for (size_t k = 1; k < left; k++)
        if ((p[k] & 0xC0) != 0x80) return 0;
    return 1;
}

char *local_utf8_tail(const char *bytes, size_t len, size_t max) {
    const unsigned char *p = (const unsigned char *)bytes;
    size_t start = len > max ? len - max : 0;
    /* a character cut at the start: skip its continuation bytes */
    for (int k = 0; k < 3 && start < len && (p[start] & 0xC0) == 0x80; k++) start++;
    char *out = malloc(len - start + 1);
    if (!out) return NULL;
    size_t o = 0, i = start;
    while (i < len) {
        size_t n = utf8_sequence(p + i, len - i);
        if (n == 0 && cut_at_end(p + i, len - i)) break;
        if (n == 0) { out[o++] = p[i] ? '?' : ' '; i++; continue; }
        memcpy(out + o, p + i, n);
        o += n;
        i += n;
    }
    out[o] = 0;
    return out;
}
