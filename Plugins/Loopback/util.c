/* Files and processes: the small POSIX helpers the loopback driver is built from. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "loopback.h"

char *lb_strdup_printf(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    char *s = NULL;
    if (vasprintf(&s, fmt, ap) < 0) s = NULL;
    va_end(ap);
    return s;
}

char *lb_read_file_len(const char *path, size_t max_bytes, size_t *out_len) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return NULL;
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap + 1);
    while (buf) {
        if (len == cap) {
            if (cap >= max_bytes) break;
            cap *= 2;
            char *bigger = realloc(buf, cap + 1);
            if (!bigger) { free(buf); buf = NULL; break; }
            buf = bigger;
        }
        ssize_t n = read(fd, buf + len, cap - len);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        len += (size_t)n;
    }
    close(fd);
    if (buf) buf[len] = 0;
    if (out_len) *out_len = len;
    return buf;
}

char *lb_read_file(const char *path, size_t max_bytes) { return lb_read_file_len(path, max_bytes, NULL); }

/* Write to a temporary name, then rename: readers see the old or the new file, never half. */
int lb_write_file_atomic(const char *path, const char *data, mode_t mode) {
    char *tmp = lb_strdup_printf("%s.tmp.%d.%lx", path, (int)getpid(), (unsigned long)pthread_self());
    if (!tmp) return -1;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (fd < 0) { free(tmp); return -1; }
    size_t len = strlen(data), done = 0;
    while (done < len) {
        ssize_t n = write(fd, data + done, len - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) { close(fd); unlink(tmp); free(tmp); return -1; }
        done += (size_t)n;
    }
    if (fsync(fd) != 0 || close(fd) != 0 || rename(tmp, path) != 0) {
        unlink(tmp);
        free(tmp);
        return -1;
    }
    free(tmp);
    return 0;
}

int lb_mkdirs(const char *path, mode_t mode) {
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

static int remove_entry(const char *path, const struct stat *sb, int type, struct FTW *ftw) {
    (void)sb; (void)type; (void)ftw;
    return remove(path) == 0 || errno == ENOENT ? 0 : -1;
}

int lb_rm_rf(const char *path) {
    int rc = nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    return (rc == 0 || errno == ENOENT) ? 0 : -1;
}

int lb_random_hex(char *out, size_t bytes) {
    unsigned char raw[32];
    if (bytes > sizeof raw) return -1;
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    ssize_t n = read(fd, raw, bytes);
    close(fd);
    if (n != (ssize_t)bytes) return -1;
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < bytes; i++) {
        out[2 * i] = digits[raw[i] >> 4];
        out[2 * i + 1] = digits[raw[i] & 15];
    }
    out[2 * bytes] = 0;
    return 0;
}

/* Holds a port on 127.0.0.1 for a server that can only bind a port by number (sshd): a socket
 * bound to a port the kernel picked, with SO_REUSEADDR and not listening. Until the caller
 * closes *out_fd, no one can take the port (a bind without SO_REUSEADDR fails, the kernel never
 * picks it for a port-0 bind), yet the server may bind it and listen: Linux lets sockets that
 * all set SO_REUSEADDR share a port while none of them listens, and sshd sets it. Returns the
 * port, or -1 with errno. */
int lb_hold_port(int *out_fd) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    int one = 1;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0
        || getsockname(fd, (struct sockaddr *)&a, &len) != 0) {
        int saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    *out_fd = fd;
    return ntohs(a.sin_port);
}

/* Run a program to completion; its stdout and stderr go to output_path (or /dev/null).
 * Its environment is `envp`, or with NULL the scrubbed one of lb_child_environment: never the
 * host's own. Returns its exit status, or -1 when it could not run or was killed. posix_spawn
 * is safe in the host's multi-threaded process, unlike a hand-rolled fork. */
int lb_run(const char *const argv[], char *const envp[], const char *output_path) {
    char **scrubbed = envp ? NULL : lb_child_environment(NULL);
    if (!envp && !scrubbed) return -1;
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 1, output_path ? output_path : "/dev/null",
                                     O_WRONLY | O_CREAT | O_APPEND, 0600);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    /* The host's other descriptors (its listening socket, its database) must not leak into
     * long-lived children such as an instance's sshd. */
    posix_spawn_file_actions_addclosefrom_np(&actions, 3);
    pid_t pid;
    int rc = posix_spawn(&pid, argv[0], &actions, NULL, (char *const *)argv, envp ? envp : scrubbed);
    posix_spawn_file_actions_destroy(&actions);
    lb_free_environment(scrubbed);
    if (rc != 0) { errno = rc; return -1; }
    int status;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) return -1;
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* What a child keeps of the host's environment: enough to find programs and speak the
 * locale, nothing else. The host's environment may hold its secrets (an API token given
 * through a variable, a cloud's credentials), and the children here are an instance's sshd,
 * its init script and whatever those start. */
static const char *const inherited[] = {"PATH", "HOME", "LANG", "LC_ALL", "TZ", NULL};
static const char default_path[] = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

char **lb_child_environment(const char *const extra[]) {
    size_t k = 0, kept = 0;
    while (extra && extra[k]) k++;
    char **env = calloc(k + sizeof inherited / sizeof *inherited + 1, sizeof *env);
    if (!env) return NULL;
    int has_path = 0;
    for (const char *const *name = inherited; *name; name++) {
        const char *value = getenv(*name);
        if (!value) continue;
        if (!(env[kept++] = lb_strdup_printf("%s=%s", *name, value))) goto oom;
        has_path |= strcmp(*name, "PATH") == 0;
    }
    if (!has_path && !(env[kept++] = strdup(default_path))) goto oom;
    for (size_t i = 0; i < k; i++) {
        /* an extra variable replaces an inherited one of the same name */
        const char *eq = strchr(extra[i], '=');
        size_t n = eq ? (size_t)(eq - extra[i]) : strlen(extra[i]);
        for (size_t j = 0; j < kept; j++) {
            if (strncmp(env[j], extra[i], n) == 0 && env[j][n] == '=') {
                free(env[j]);
                env[j] = env[--kept];
                env[kept] = NULL;
                break;
            }
        }
        if (!(env[kept++] = strdup(extra[i]))) goto oom;
    }
    return env;
oom:
    lb_free_environment(env);
    return NULL;
}

void lb_free_environment(char **env) {
    if (!env) return;
    for (char **p = env; *p; p++) free(*p);
    free(env);
}

int lb_cannot_look(int error) { return error == EMFILE || error == ENFILE || error == ENOMEM || error == EIO; }

pid_t lb_read_pid(const char *path) {
    char *text = lb_read_file(path, 64);
    if (!text) return errno == ENOENT ? 0 : -1;
    long pid = strtol(text, NULL, 10);
    free(text);
    return pid > 1 ? (pid_t)pid : 0;
}
