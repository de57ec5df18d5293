/* cloud-dispatch-runner (and the container runtime, for leftovers) as a child: argv (no shell), a
 * scrubbed environment, stdin from memory, stdout and stderr captured, bounded by the backend's
 * call timeout, always reaped. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "local.h"

#define CAPTURE_LIMIT (1 << 20)

typedef struct capture {
    int fd;
    char *data;
    size_t len;
} capture;

/* Reads what is there; 0 at EOF (fd closed and set to -1). Output past the limit is dropped. */
static void drain(capture *c) {
    char chunk[8192];
    for (;;) {
        ssize_t n = read(c->fd, chunk, sizeof chunk);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && errno == EAGAIN) return;
        if (n <= 0) {
            close(c->fd);
            c->fd = -1;
            return;
        }
        if (c->len + (size_t)n > CAPTURE_LIMIT) continue;
        char *bigger = realloc(c->data, c->len + (size_t)n + 1);
        if (!bigger) continue;
        c->data = bigger;
        memcpy(c->data + c->len, chunk, (size_t)n);
        c->len += (size_t)n;
        c->data[c->len] = 0;
    }
}

/* The input as a memory file: no pipe to write, so no SIGPIPE in the host when the runner
 * exits before it has read everything. */
static int input_file(const char *input) {
    int fd = memfd_create("cdx-local-input", MFD_CLOEXEC);
    if (fd < 0) return -1;
    size_t len = input ? strlen(input) : 0, done = 0;
    while (done < len) {
        ssize_t n = write(fd, input + done, len - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) { close(fd); return -1; }
        done += (size_t)n;
    }
    if (lseek(fd, 0, SEEK_SET) != 0) { close(fd); return -1; }
    return fd;
}

static pid_t spawn(const char *const argv[], int in, int out, int err) {
    char **env = local_child_environment();
    if (!env) return -1;
    posix_spawn_file_actions_t actions;
    posix_spawnattr_t attr;
    posix_spawn_file_actions_init(&actions);
    posix_spawnattr_init(&attr);
    posix_spawn_file_actions_adddup2(&actions, in, 0);
    posix_spawn_file_actions_adddup2(&actions, out, 1);
    posix_spawn_file_actions_adddup2(&actions, err, 2);
    /* The host's descriptors (its listening socket, its database) must not reach the
     * runner's long-lived supervisors. */
    posix_spawn_file_actions_addclosefrom_np(&actions, 3);
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &all);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    pid_t pid;
    int rc = posix_spawn(&pid, argv[0], &actions, &attr, (char *const *)argv, env);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    local_free_environment(env);
    if (rc != 0) {
        errno = rc;
        return -1;
    }
    return pid;
}

int local_runner(cdx_backend *b, const char *root, const char *const args[], const char *input, local_run *run) {
    const char *argv[12] = {b->runner, "--root", root};
    size_t n = 3;
    for (size_t i = 0; args[i] && n < 11; i++) argv[n++] = args[i];
    argv[n] = NULL;
    return local_run_program(b, argv, input, run);
}

int local_run_program(cdx_backend *b, const char *const argv[], const char *input, local_run *run) {
    memset(run, 0, sizeof *run);
    run->exit_code = -1;
    int in = input_file(input);
    int out[2] = {-1, -1}, err[2] = {-1, -1};
    if (in < 0 || pipe2(out, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0) {
        int saved = errno;
        if (in >= 0) close(in);
        for (int i = 0; i < 2; i++) { if (out[i] >= 0) close(out[i]); if (err[i] >= 0) close(err[i]); }
        errno = saved;
        return -1;
    }
    pid_t pid = spawn(argv, in, out[1], err[1]);
    int saved = errno;
    close(in);
    close(out[1]);
    close(err[1]);
    capture c[2] = {{out[0], NULL, 0}, {err[0], NULL, 0}};
    fcntl(out[0], F_SETFL, O_NONBLOCK);
    fcntl(err[0], F_SETFL, O_NONBLOCK);
    if (pid < 0) {
        close(out[0]);
        close(err[0]);
        errno = saved;
        return -1;
    }
    double deadline = local_monotonic() + b->timeout_ms / 1000.0;
    int status = 0, reaped = 0;
    double drain_until = 0;
    for (;;) {
        double now = local_monotonic();
        if (!reaped && waitpid(pid, &status, WNOHANG) == pid) {
            reaped = 1;
            /* a grandchild (the supervisor) may hold the pipes a moment longer */
            drain_until = now + 0.2;
        }
        int open = c[0].fd >= 0 || c[1].fd >= 0;
        if ((reaped && (!open || now >= drain_until)) || now >= deadline) break;
        struct pollfd fds[2] = {{c[0].fd, POLLIN, 0}, {c[1].fd, POLLIN, 0}}; /* poll skips fd -1 */
        int wait_ms = (int)(((reaped ? drain_until : deadline) - now) * 1000) + 1;
        if (!reaped && wait_ms > (open ? 20 : 1)) wait_ms = open ? 20 : 1; /* look for the exit now and then */
        poll(fds, 2, wait_ms);
        for (int i = 0; i < 2; i++)
            if (c[i].fd >= 0) drain(&c[i]);
    }
    for (int i = 0; i < 2; i++)
        if (c[i].fd >= 0) close(c[i].fd);
    if (!reaped) {
        run->timed_out = 1;
        kill(pid, SIGKILL);
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
    }
    run->out = c[0].data;
    run->err = c[1].data;
    /* stderr is quoted in messages: one line, without its final newline */
    for (size_t i = c[1].len; run->err && i > 0 && (run->err[i - 1] == '\n' || run->err[i - 1] == '\r'); i--) run->err[i - 1] = 0;
    if (!run->timed_out && WIFEXITED(status)) run->exit_code = WEXITSTATUS(status);
    return 0;
}

void local_run_free(local_run *run) {
    free(run->out);
    free(run->err);
    run->out = run->err = NULL;
}
