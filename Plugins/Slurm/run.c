/* Slurm's commands as child processes: argv only (never a shell), a scrubbed environment,
 * stdout and stderr captured, and the call timeout enforced (kill and reap on expiry). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "slurm_backend.h"

static unsigned long calls;

unsigned long slurm_calls(void) { return __atomic_load_n(&calls, __ATOMIC_RELAXED); }

static long long now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Appends what `fd` has to `buf`; 0 at end of file, 1 when more may come, -1 over the limit. */
static int drain(int fd, char **buf, size_t *len, size_t *cap) {
    if (*len + 4096 + 1 > *cap) {
        if (*cap >= SLURM_MAX_OUTPUT) return -1;
        size_t bigger = *cap ? *cap * 2 : 8192;
        char *grown = realloc(*buf, bigger);
        if (!grown) return -1;
        *buf = grown;
        *cap = bigger;
    }
    ssize_t n = read(fd, *buf + *len, *cap - *len - 1);
    if (n < 0) return errno == EINTR || errno == EAGAIN ? 1 : 0;
    *len += (size_t)n;
    (*buf)[*len] = 0;
    return n > 0;
}

/* What a Slurm command keeps of the host's environment: enough to find programs and speak the
 * locale, plus SLURM_CONF; never the host's secrets. */
static char **child_environment(cdx_backend *b) {
    static const char *const inherited[] = {"PATH", "HOME", "USER", "LOGNAME", "LANG", "LC_ALL", "TZ", NULL};
    char **env = calloc(sizeof inherited / sizeof *inherited + 2, sizeof *env);
    size_t n = 0;
    if (!env) return NULL;
    for (const char *const *name = inherited; *name; name++) {
        const char *value = getenv(*name);
        if (value && asprintf(&env[n++], "%s=%s", *name, value) < 0) env[--n] = NULL;
    }
    if (b->slurm_conf[0] && asprintf(&env[n++], "SLURM_CONF=%s", b->slurm_conf) < 0) env[--n] = NULL;
    return env;
}

static void free_environment(char **env) {
    for (char **p = env; p && *p; p++) free(*p);
    free(env);
}

void slurm_output_free(slurm_output *out) {
    free(out->out);
    free(out->err);
    out->out = out->err = NULL;
}

/* Waits for the child and its two pipes, killing it at the deadline. */
static void collect(pid_t pid, int out_fd, int err_fd, long long deadline, slurm_output *out) {
    size_t len[2] = {0, 0}, cap[2] = {0, 0};
    char **bufs[2] = {&out->out, &out->err};
    struct pollfd fds[2] = {{.fd = out_fd, .events = POLLIN}, {.fd = err_fd, .events = POLLIN}};
    int open_fds = 2;
    while (open_fds > 0) {
        long long left = deadline - now_ms();
        if (left <= 0) {
            out->timed_out = 1;
            break;
        }
        int ready = poll(fds, 2, (int)(left > 1000 ? 1000 : left));
        if (ready < 0 && errno != EINTR) break;
        for (int i = 0; i < 2 && ready > 0; i++) {
            if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
            int more = drain(fds[i].fd, bufs[i], &len[i], &cap[i]);
            if (more <= 0) {
                if (more < 0) out->timed_out = 1; /* an answer too big to be Slurm's: stop it */
                fds[i].fd = -1;
                open_fds--;
            }
        }
        if (out->timed_out) break;
    }
    /* The child leads its own process group: a kill reaches whatever it started too. */
    if (out->timed_out) kill(-pid, SIGKILL);
    int status = 0;
    for (;;) {
        pid_t done = waitpid(pid, &status, WNOHANG);
        if (done == pid || (done < 0 && errno != EINTR)) break;
        if (done == 0 && now_ms() >= deadline && !out->timed_out) {
            out->timed_out = 1; /* it closed its output but did not exit in time */
            kill(-pid, SIGKILL);
        }
        if (done == 0) {
            struct timespec pause = {0, 2000000};
            nanosleep(&pause, NULL);
        }
    }
    out->status = !out->timed_out && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int slurm_run(cdx_backend *b, const char *const argv[], slurm_output *out, char *why, size_t why_size) {
    memset(out, 0, sizeof *out);
    out->status = -1;
    __atomic_add_fetch(&calls, 1, __ATOMIC_RELAXED);
    char *program = NULL;
    if (b->bin_dir[0] ? asprintf(&program, "%s/%s", b->bin_dir, argv[0]) < 0 : !(program = strdup(argv[0]))) {
        snprintf(why, why_size, "out of memory");
        return -1;
    }
    char **env = child_environment(b);
    int out_pipe[2] = {-1, -1}, err_pipe[2] = {-1, -1};
    if (!env || pipe2(out_pipe, O_CLOEXEC) != 0 || pipe2(err_pipe, O_CLOEXEC) != 0) {
        snprintf(why, why_size, "cannot run %s: %s", argv[0], strerror(errno));
        for (int i = 0; i < 2; i++) {
            if (out_pipe[i] >= 0) close(out_pipe[i]);
            if (err_pipe[i] >= 0) close(err_pipe[i]);
        }
        free_environment(env);
        free(program);
        return -1;
    }
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&actions, out_pipe[1], 1);
    posix_spawn_file_actions_adddup2(&actions, err_pipe[1], 2);
    posix_spawn_file_actions_addclosefrom_np(&actions, 3); /* the host's sockets stay its own */
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
    posix_spawnattr_setpgroup(&attr, 0);
    pid_t pid;
    /* posix_spawnp searches the host's PATH (glibc), and is safe in a threaded process. */
    int rc = b->bin_dir[0] ? posix_spawn(&pid, program, &actions, &attr, (char *const *)argv, env)
                           : posix_spawnp(&pid, program, &actions, &attr, (char *const *)argv, env);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    close(out_pipe[1]);
    close(err_pipe[1]);
    free_environment(env);
    if (rc != 0) {
        snprintf(why, why_size, "cannot run %s: %s", program, strerror(rc));
        close(out_pipe[0]);
        close(err_pipe[0]);
        free(program);
        return -1;
    }
    collect(pid, out_pipe[0], err_pipe[0], now_ms() + b->call_timeout_ms, out);
    close(out_pipe[0]);
    close(err_pipe[0]);
    if (!out->out) out->out = calloc(1, 1);
    if (!out->err) out->err = calloc(1, 1);
    if (out->timed_out) {
        snprintf(why, why_size, "%s gave no answer within %d ms (killed)", program, b->call_timeout_ms);
    } else if (out->status != 0) {
        const char *text = out->err && out->err[0] ? out->err : (out->out ? out->out : "");
        size_t n = strcspn(text, "\n");
        snprintf(why, why_size, "%s failed (status %d): %.*s", program, out->status, (int)(n > 300 ? 300 : n), text);
    }
    free(program);
    if (!out->out || !out->err) {
        slurm_output_free(out);
        snprintf(why, why_size, "out of memory");
        return -1;
    }
    return out->status == 0 ? 0 : -1;
}
