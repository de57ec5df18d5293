/* An instance's private sshd: host key, config, start, liveness, and teardown. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "loopback.h"

static void sleep_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {}
}

/* The sshd config for one instance. Sessions get CDD_INSTANCE_ID (so teardown can find every
 * process of the instance) and CDD_INSTANCE_ROOT (the instance's own root folder: instances
 * share this machine's filesystem, so per-instance state lives under it). StrictModes is off
 * because state folders may sit below world-writable parents such as /tmp. SHLVL=1 keeps bash
 * from reading the user's ~/.bashrc for every command (it does so when run by sshd at level 1):
 * instances share this machine's accounts, and a heavy .bashrc cost 100 ms a command here. */
static char *sshd_config(const char *id, const char *dir, int port, const char *user) {
    return lb_strdup_printf(
        "Port %d\n"
        "ListenAddress 127.0.0.1\n"
        "HostKey %s/host_ed25519\n"
        "PidFile %s/sshd.pid\n"
        "AuthorizedKeysFile %s/authorized_keys\n"
        "AllowUsers %s\n"
        "PermitRootLogin prohibit-password\n"
        "PasswordAuthentication no\n"
        "KbdInteractiveAuthentication no\n"
        "UsePAM no\n"
        "StrictModes no\n"
        "PrintMotd no\n"
        "MaxStartups 100:30:200\n"
        "SetEnv CDD_INSTANCE_ID=%s CDD_INSTANCE_ROOT=%s/root SHLVL=1\n",
        port, dir, dir, dir, user, id, dir);
}

int lb_start_instance_sshd(cdd_instance_set *set, const char *id, const char *dir,
                           const char *authorized_key, int *out_port, char **out_host_key,
                           char *why, size_t why_size) {
    char *key_path = lb_strdup_printf("%s/host_ed25519", dir);
    char *log_path = lb_strdup_printf("%s/sshd.log", dir);
    char *config_path = lb_strdup_printf("%s/sshd_config", dir);
    char *pid_path = lb_strdup_printf("%s/sshd.pid", dir);
    char *keys_path = lb_strdup_printf("%s/authorized_keys", dir);
    char *comment = lb_strdup_printf("cloud-dispatch-loopback-%s", id);
    char *marker = NULL;
    char **env = NULL;
    int ok = -1;
    if (!key_path || !log_path || !config_path || !pid_path || !keys_path || !comment) {
        snprintf(why, why_size, "out of memory");
        goto done;
    }

    const char *keygen[] = {set->keygen_path, "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", key_path, NULL};
    if (lb_run(keygen, NULL, log_path) != 0) {
        snprintf(why, why_size, "%s could not make a host key (see %s)", set->keygen_path, log_path);
        goto done;
    }
    char *pub_path = lb_strdup_printf("%s.pub", key_path);
    char *pub = pub_path ? lb_read_file(pub_path, 4096) : NULL;
    free(pub_path);
    if (!pub) { snprintf(why, why_size, "host public key missing"); goto done; }
    pub[strcspn(pub, "\r\n")] = 0;
    *out_host_key = pub;

    if (lb_write_file_atomic(keys_path, authorized_key ? authorized_key : "", 0600) != 0) {
        snprintf(why, why_size, "cannot write %s: %s", keys_path, strerror(errno));
        goto done;
    }
    if (geteuid() == 0) lb_mkdirs("/run/sshd", 0755); /* sshd's privilege-separation folder */
    marker = lb_strdup_printf("CDD_INSTANCE_ID=%s", id);
    const char *extra[] = {marker, NULL};
    env = marker ? lb_child_environment(extra) : NULL;
    if (!env) { snprintf(why, why_size, "out of memory"); goto done; }

    /* The port stays held from the kernel's pick until sshd has bound it (lb_hold_port), so
     * no other process can take it in between: no "pick a free port, release it, hope". */
    int held = -1;
    int port = lb_hold_port(&held);
    if (port <= 0) {
        snprintf(why, why_size, "cannot bind a port on 127.0.0.1: %s", strerror(errno));
        goto done;
    }
    char *config = sshd_config(id, dir, port, set->ssh_user);
    if (!config || lb_write_file_atomic(config_path, config, 0600) != 0) {
        free(config);
        close(held);
        snprintf(why, why_size, "cannot write %s", config_path);
        goto done;
    }
    free(config);
    unlink(pid_path);
    /* Without -D sshd binds, then daemonises: exit status 0 means it is listening. */
    const char *argv[] = {set->sshd_path, "-f", config_path, "-E", log_path, NULL};
    int rc = lb_run(argv, env, log_path);
    close(held);
    if (rc != 0) {
        snprintf(why, why_size, "sshd exited with status %d (see %s)", rc, log_path);
        goto done;
    }
    /* The daemon child writes it after the parent exits; a loaded machine can take a while. */
    for (int i = 0; i < 1000 && lb_read_pid(pid_path) <= 0; i++) sleep_ms(10);
    if (lb_read_pid(pid_path) <= 0) {
        snprintf(why, why_size, "sshd wrote no pid file (see %s)", log_path);
        goto done;
    }
    *out_port = port;
    ok = 0;
done:
    free(key_path); free(log_path); free(config_path); free(pid_path); free(keys_path); free(comment);
    free(marker);
    lb_free_environment(env);
    return ok;
}

/* True when `text` (of `len` bytes, NUL-separated) contains `needle`. */
static int contains(const char *text, size_t len, const char *needle) {
    size_t n = strlen(needle);
    for (size_t i = 0; i + n <= len; i++)
        if (memcmp(text + i, needle, n) == 0) return 1;
    return 0;
}

/* The live sshd of an instance: 0 with *out its pid (or -1 when none lives), -1 with errno
 * when that cannot be known (the pid file or /proc unreadable: no descriptors left, say). The
 * pid file's process counts only if its command line names this instance's config (a recycled
 * pid does not; sshd rewrites its title but keeps the path in it); a zombie has none, so a
 * killed sshd counts as gone even before it is reaped. */
static int instance_sshd(const char *dir, pid_t *out) {
    *out = -1;
    char *pid_path = lb_strdup_printf("%s/sshd.pid", dir);
    if (!pid_path) return -1;
    pid_t pid = lb_read_pid(pid_path);
    free(pid_path);
    if (pid < 0) return -1;
    if (pid == 0 || (kill(pid, 0) != 0 && errno == ESRCH)) return 0;
    char proc[64];
    snprintf(proc, sizeof proc, "/proc/%d/cmdline", (int)pid);
    size_t len = 0;
    char *cmdline = lb_read_file_len(proc, 8192, &len);
    if (!cmdline) return lb_cannot_look(errno) ? -1 : 0; /* ENOENT, ESRCH: it just ended */
    char *config = lb_strdup_printf("%s/sshd_config", dir);
    int found = config && contains(cmdline, len, config);
    free(cmdline);
    if (!config) return -1;
    free(config);
    if (found) *out = pid;
    return 0;
}

/* Unknown counts as running: "stopped" would tell the host the instance is gone. */
int lb_instance_running(const char *dir) {
    pid_t pid;
    return instance_sshd(dir, &pid) != 0 || pid > 0;
}

typedef struct proc_entry {
    pid_t pid, ppid;
    int marked; /* carries CDD_INSTANCE_ID=<id> */
} proc_entry;

/* A snapshot of every process with its parent and whether it carries the marker. Returns
 * the count, or -1 with errno when /proc could not be read (a process that ends meanwhile,
 * or whose environment is not ours to read, is no failure). */
static ssize_t snapshot(proc_entry **out, const char *marker) {
    size_t n = 0, cap = 256;
    *out = NULL;
    proc_entry *all = malloc(cap * sizeof *all);
    if (!all) return -1;
    DIR *proc = opendir("/proc");
    if (!proc) {
        free(all);
        return -1;
    }
    struct dirent *e;
    char path[64];
    int failed = 0;
    while (!failed && (e = readdir(proc)) != NULL) {
        char *endp;
        long pid = strtol(e->d_name, &endp, 10);
        if (*endp || pid <= 1) continue;
        snprintf(path, sizeof path, "/proc/%ld/stat", pid);
        char *stat = lb_read_file(path, 4096);
        if (!stat) {
            failed = lb_cannot_look(errno);
            continue;
        }
        /* the parent pid is the 2nd field after the ")" that closes the command name */
        char *close = strrchr(stat, ')');
        int ppid = -1;
        if (close) sscanf(close + 1, " %*c %d", &ppid);
        free(stat);
        snprintf(path, sizeof path, "/proc/%ld/environ", pid);
        size_t len = 0;
        char *env = lb_read_file_len(path, 1 << 20, &len);
        if (!env && lb_cannot_look(errno)) {
            failed = 1;
            continue;
        }
        int marked = 0;
        for (char *p = env; p && p < env + len && !marked; p += strlen(p) + 1) /* NUL-separated */
            marked = strcmp(p, marker) == 0;
        free(env);
        if (n == cap) {
            proc_entry *bigger = realloc(all, (cap *= 2) * sizeof *all);
            if (!bigger) { failed = 1; errno = ENOMEM; continue; }
            all = bigger;
        }
        all[n++] = (proc_entry){(pid_t)pid, (pid_t)ppid, marked};
    }
    int saved = errno;
    closedir(proc);
    if (failed) {
        free(all);
        errno = saved;
        return -1;
    }
    *out = all;
    return (ssize_t)n;
}

static double monotonic_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Tear an instance down the way a cloud does: every process of it dies at once — its sshd,
 * everything below it, and anything that carries its id but left the tree (a detached
 * runner). The set is computed before killing, since killing reparents children. Returns 0
 * only once a full look finds none of them alive; -1 with errno when one could not look
 * (EMFILE...) or something survived LB_STOP_PATIENCE seconds (ETIMEDOUT): the caller must
 * then keep the instance, or it would leave an sshd no list shows. */
#define LB_STOP_PATIENCE 5.0
int lb_stop_instance(const char *id, const char *dir) {
    char *marker = lb_strdup_printf("CDD_INSTANCE_ID=%s", id);
    if (!marker) return -1;
    pid_t self = getpid();
    double deadline = monotonic_seconds() + LB_STOP_PATIENCE;
    int rc = -1;
    for (;;) { /* repeat: a process may fork while we look, and SIGKILL takes a moment */
        pid_t listener;
        proc_entry *all = NULL;
        ssize_t n = instance_sshd(dir, &listener) == 0 ? snapshot(&all, marker) : -1;
        if (n < 0) break;
        char *doomed = calloc((size_t)n + 1, 1);
        if (!doomed) { free(all); break; }
        for (ssize_t i = 0; i < n; i++) doomed[i] = all[i].marked || all[i].pid == listener;
        /* close over descendants */
        for (int changed = 1; changed; ) {
            changed = 0;
            for (ssize_t i = 0; i < n; i++) {
                if (doomed[i]) continue;
                for (ssize_t j = 0; j < n; j++)
                    if (doomed[j] && all[j].pid == all[i].ppid) { doomed[i] = 1; changed = 1; break; }
            }
        }
        int alive = listener > 0;
        for (ssize_t i = 0; i < n; i++)
            if (doomed[i] && all[i].pid != self && (kill(all[i].pid, SIGKILL) == 0 || errno != ESRCH)) alive = 1;
        free(doomed);
        free(all);
        if (!alive) { rc = 0; break; }
        if (monotonic_seconds() >= deadline) { errno = ETIMEDOUT; break; }
        sleep_ms(20);
    }
    int saved = errno;
    free(marker);
    errno = saved;
    return rc;
}

/* Run the init script once, detached, the way a booting VM would: in its own session, with
 * the instance's variables and none of the host's (lb_child_environment), output in
 * init.log. The intermediate shell exits at once so the host is left with no child to reap. */
int lb_run_init_script(const char *id, const char *dir, const char *script) {
    if (!script || !*script) return 0;
    char *id_var = lb_strdup_printf("CDD_INSTANCE_ID=%s", id);
    char *root_var = lb_strdup_printf("CDD_INSTANCE_ROOT=%s/root", dir);
    char *log_path = lb_strdup_printf("%s/init.log", dir);
    const char *extra[] = {id_var, root_var, NULL};
    char **env = (id_var && root_var) ? lb_child_environment(extra) : NULL;
    int rc = -1;
    if (env && log_path) {
        const char *argv[] = {"/bin/sh", "-c", "cd \"$CDD_INSTANCE_ROOT\" && setsid /bin/sh -c \"$1\" </dev/null >\"$2\" 2>&1 &",
                              "cdd-init", script, log_path, NULL};
        rc = lb_run(argv, env, NULL);
        if (rc > 0) errno = ECHILD; /* the shell ran but could not start it (no root folder) */
    }
    int saved = errno;
    lb_free_environment(env);
    free(id_var); free(root_var); free(log_path);
    errno = saved;
    return rc == 0 ? 0 : -1;
}
