import Glibc

/// The detached process that owns one container from start to result.
///
/// It lives in its own session with stdin, stdout and stderr on /dev/null and SIGHUP ignored,
/// so the SSH connection that started it can drop. It holds the record's lock for its whole
/// life, runs the container in its own process group, copies the container's output into the
/// bounded log, enforces `max_run_time` (TERM, then KILL after `grace`), and writes the result
/// atomically before it exits and the lock is released. A single `poll` loop over the output
/// pipe and a signal self-pipe does all of it.
struct Supervisor {
    /// Between TERM and KILL, for max_run_time and for a TERM sent to the supervisor itself.
    /// Ten seconds, like `docker stop`: time for a container to save its work.
    static let grace = 10.0
    /// Through docker/podman the grace counts from the moment `<runtime> kill` delivers the TERM:
    /// on a busy machine the runtime may still be creating the container seconds later. This
    /// bounds the wait for a TERM that cannot be delivered before KILL goes to the client.
    static let deliveryWait = 120.0
    /// How long to wait for output after the container's main process ended (background
    /// processes that escaped its process group may hold the pipe open).
    static let drainTime = 1.0

    let spec: Spec
    let paths: Paths
    let lockFD: Int32
    var info: LockInfo

    var child: Int32 = 0
    var runtimePath: String?
    /// Running `<runtime> kill` helpers: pid → the signal each sends, and which try it is.
    var helpers: [Int32: (signal: Int32, attempt: KillAttempt)] = [:]
    /// A `<runtime> kill` that failed (the container did not exist yet) is sent again then.
    var runtimeRetry: (at: Double, signal: Int32)?
    /// A signal that may have reached the container in the moment it came up is sent once more
    /// then: its init (`--init`, or the runtime's own before it) may not have set up its
    /// handlers yet, and the kernel drops a TERM to a namespace's PID 1 that has none.
    var runtimeResend: (at: Double, signal: Int32)?
    static let resendDelay = 1.0
    /// A container launched less than this long ago may still be coming up (podman takes a
    /// second or two, a busy machine longer), even when `<runtime> kill` already succeeds.
    static let comingUp = 10.0
    /// When the runtime's client was started (monotonic).
    var launchedAt = 0.0

    /// Runs in the forked child of `--detach`; never returns. `ready` is closed once the
    /// container runs (or could not start), which lets `--detach` return.
    static func run(spec: Spec, paths: Paths, lockFD: Int32, ready: Int32) -> Never {
        setsid()
        System.closeInheritedFiles(keeping: [lockFD, ready])
        let null = open("/dev/null", O_RDWR)
        if null >= 0 { dup2(null, 0); dup2(null, 1); dup2(null, 2); if null > 2 { close(null) } }
        // Whoever started us may have blocked signals (a thread's mask is inherited): unblock,
        // or SIGCHLD would never arrive.
        Signals.resetForChild()
        signal(SIGHUP, SIG_IGN)
        signal(SIGPIPE, SIG_IGN)
        signal(SIGUSR1, SIG_IGN)
        signal(SIGUSR2, SIG_IGN)
        var supervisor = Supervisor(spec: spec, paths: paths, lockFD: lockFD, info: LockInfo(uuid: spec.uuid, pid: getpid()))
        let outcome = supervisor.supervise(ready: ready)
        supervisor.finish(outcome)
        exit(0)
    }

    private mutating func supervise(ready: Int32) -> Outcome {
        var readyFD = ready
        defer { if readyFD >= 0 { close(readyFD) } }
        Lock.rewrite(lockFD, Array(info.json.text.utf8))
        let logFD = open(paths.log(spec.uuid), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard logFD >= 0 else { return Outcome(reason: "cannot create the log file: \(System.errorText())") }
        var log = BoundedLog(fd: logFD)
        defer { log.flush(now: System.monotonic()); close(logFD) }
        guard let signalFD = Signals.routeToPipe([SIGCHLD, SIGTERM, SIGINT, SIGQUIT]) else {
            return Outcome(reason: "cannot create a pipe: \(System.errorText())")
        }

        let command: Launch.Command
        switch Launch.plan(spec, stateFolder: paths.folder, find: System.findOnPath) {
        case .refuse(let reason): return Outcome(reason: reason, startedAt: System.now())
        case .run(let c): command = c
        }
        info.startedAt = System.now()
        guard let (outputFD, failure) = start(command) else {
            return Outcome(reason: "cannot create a pipe: \(System.errorText())", startedAt: info.startedAt)
        }
        if let failure {
            return Outcome(reason: failure, startedAt: info.startedAt)
        }
        info.pgid = child
        info.runtime = runtimePath
        Lock.rewrite(lockFD, Array(info.json.text.utf8))
        close(readyFD)
        readyFD = -1

        return loop(outputFD: outputFD, signalFD: signalFD, log: &log)
    }

    /// Forks and execs the container with its output on a pipe. Returns the pipe's read end and
    /// nil, or a reason when it could not start (missing cwd, exec failure): the child reports
    /// its errno on a close-on-exec pipe, so success is known once exec happened.
    private mutating func start(_ command: Launch.Command) -> (Int32, String?)? {
        guard let output = System.pipe(), let report = System.pipe() else { return nil }
        runtimePath = command.runtime == nil ? nil : command.argv[0]
        let argv = command.argv.map { strdup($0) } + [nil]
        let environment = command.environment.map { strdup($0) }
        let cwd = command.cwd
        let account = command.account
        let pid = fork()
        if pid == 0 {
            setpgid(0, 0)
            Signals.resetForChild()
            dup2(output.write, 1)
            dup2(output.write, 2)
            for case let variable? in environment { putenv(variable) }
            var failure: (UInt8, Int32)
            // The account first, so the working folder is checked with its rights.
            if let account, case let code = RunAs.become(account), code != 0 {
                failure = (3, code)
            } else if chdir(cwd) != 0 {
                failure = (1, errno)
            } else {
                execvp(argv[0]!, argv)
                failure = (2, errno)
            }
            var message = [failure.0] + withUnsafeBytes(of: failure.1) { Array($0) }
            _ = write(report.write, &message, message.count)
            _exit(127)
        }
        argv.forEach { free($0) }
        environment.forEach { free($0) }
        close(output.write)
        close(report.write)
        defer { close(report.read) }
        guard pid > 0 else {
            close(output.read)
            return (-1, "cannot start a process: \(System.errorText())")
        }
        child = pid
        launchedAt = System.monotonic()
        setpgid(pid, pid)
        let message = System.readAll(report.read, limit: 64) ?? []
        guard message.count == 5 else {
            System.setNonBlocking(output.read)
            return (output.read, nil)
        }
        close(output.read)
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let code = message[1...4].withUnsafeBytes { $0.loadUnaligned(as: Int32.self) }
        if message[0] == 1 {
            return (
                -1,
                code == ENOENT
                    ? "working directory \(cwd) does not exist"
                    : "cannot use working directory \(cwd): \(System.errorText(code))"
            )
        }
        if message[0] == 3, let account {
            return (-1, "cannot run as uid \(account.uid) gid \(account.gid): \(System.errorText(code)) (run_as needs the runner to run as root)")
        }
        return (-1, "cannot start \(JSON.string(command.argv[0]).text): \(System.errorText(code))")
    }

    /// Until the container's main process has ended and its output is drained.
    private mutating func loop(outputFD: Int32, signalFD: Int32, log: inout BoundedLog) -> Outcome {
        var outputOpen = true
        var status: Int32?
        var reason: String?
        let startedAt = System.monotonic()
        var stopAt: Double? = spec.maxRunTime > 0 ? startedAt + Double(spec.maxRunTime) : nil
        var killAt: Double?
        var drainUntil = Double.infinity
        var buffer = [UInt8](repeating: 0, count: 65536)

        while true {
            let now = System.monotonic()
            if status == nil, let at = stopAt, now >= at {
                stopAt = nil
                reason = "exceeded max_run_time of \(spec.maxRunTime) s"
                signalContainer(SIGTERM)
                killAt = now + killDelay
            }
            if status == nil, let at = killAt, now >= at {
                killAt = nil
                signalContainer(SIGKILL)
            }
            if status == nil, let retry = runtimeRetry, now >= retry.at {
                runtimeRetry = nil
                runtimeKill(retry.signal, .retry)
            }
            if status == nil, let resend = runtimeResend, now >= resend.at {
                runtimeResend = nil
                runtimeKill(resend.signal, .resend)
            }
            if log.wantsFlush(now: now) { log.flush(now: now) }
            if status != nil && (!outputOpen || now >= drainUntil) { break }

            let due = [stopAt, killAt, runtimeRetry?.at, runtimeResend?.at, log.flushDue, drainUntil.isFinite ? drainUntil : nil].compactMap { $0 }.min()
            let timeout = due.map { Int32(max(0, min(60_000, ($0 - now) * 1000 + 1))) } ?? -1
            var fds = [pollfd(fd: signalFD, events: Int16(POLLIN), revents: 0)]
            if outputOpen { fds.append(pollfd(fd: outputFD, events: Int16(POLLIN), revents: 0)) }
            let ready = poll(&fds, nfds_t(fds.count), timeout)
            if ready < 0 && errno != EINTR { System.sleep(seconds: 0.05) }

            for signal in Signals.drain(signalFD) {
                switch signal {
                case SIGCHLD:
                    if status == nil, let ended = reapContainer() {
                        status = ended
                        drainUntil = System.monotonic() + Supervisor.drainTime
                    }
                    if reapHelpers(containerRuns: status == nil), let at = killAt {
                        killAt = min(at, System.monotonic() + Supervisor.grace)  // the TERM reached the container just now
                    }
                default:
                    // Asked to stop (shutdown, operator): stop the container the same way.
                    if status == nil {
                        reason = reason ?? "the runner was stopped by \(Signals.name(signal))"
                        signalContainer(signal)
                        if killAt == nil { killAt = System.monotonic() + killDelay }
                    }
                }
            }
            if outputOpen {
                while true {
                    let n = buffer.withUnsafeMutableBytes { read(outputFD, $0.baseAddress!, 65536) }
                    if n > 0 { log.append(buffer[0..<n]); continue }
                    if n == 0 {
                        outputOpen = false; close(outputFD)
                    } else if errno == EINTR {
                        continue
                    } else if errno != EAGAIN {
                        outputOpen = false; close(outputFD)
                    }
                    break
                }
            }
        }
        return Supervisor.outcome(
            status: status ?? 0, viaRuntime: info.runtime != nil, reason: reason,
            startedAt: info.startedAt)
    }

    /// The exit status when the container's main process has ended. Its process group is
    /// killed first, while the zombie still reserves the group id: leftovers of a container
    /// do not outlive it (as with docker).
    private mutating func reapContainer() -> Int32? {
        var info = siginfo_t()
        guard waitid(P_PID, id_t(child), &info, WEXITED | WNOHANG | WNOWAIT) == 0,
            info._sifields._sigchld.si_pid == child
        else { return nil }
        killpg(child, SIGKILL)
        var status: Int32 = 0
        while waitpid(child, &status, 0) < 0 && errno == EINTR {}
        return status
    }

    /// From a TERM to KILL: the grace, or through a runtime the longest wait for the TERM's
    /// delivery (the grace then starts when it is delivered, see `reapHelpers`).
    private var killDelay: Double { runtimePath == nil ? Supervisor.grace : Supervisor.deliveryWait }

    /// A `<runtime> kill` that failed while the container still runs is tried again shortly:
    /// it fails while the runtime is still creating the container. One that succeeds may have
    /// come just as the container came up, and is then sent once more (`runtimeResend`).
    /// Returns whether one that was not a KILL succeeded: the container has its signal now.
    private mutating func reapHelpers(containerRuns: Bool) -> Bool {
        var delivered = false
        for (pid, helper) in helpers {
            var status: Int32 = 0
            guard waitpid(pid, &status, WNOHANG) == pid else { continue }
            helpers[pid] = nil
            if status == 0 && helper.signal != SIGKILL {
                delivered = true
                let now = System.monotonic()
                if containerRuns, Supervisor.sendsAgain(helper.attempt, age: now - launchedAt) {
                    runtimeResend = (now + Supervisor.resendDelay, helper.signal)
                }
            }
            if status != 0, containerRuns, runtimeRetry == nil { runtimeRetry = (System.monotonic() + 0.25, helper.signal) }
        }
        return delivered
    }

    /// Whether a signal the runtime delivered to a running container is sent once more: when
    /// it got through only after a failed try, or the container is young (`comingUp`). Either
    /// way it may have come as the container came up. A second TERM costs a container that
    /// got the first one nothing; an older container gets exactly one, as with `docker stop`.
    static func sendsAgain(_ attempt: KillAttempt, age: Double) -> Bool {
        switch attempt {
        case .first: age < comingUp
        case .retry: true
        case .resend: false
        }
    }

    /// A plain process: its process group. Through docker/podman: the container itself, by the
    /// runtime's `kill`; the runtime's client gets only KILL (the last resort). A TERM to
    /// `podman run` while it was still creating the container made it exit 0 and leave the
    /// container running with nobody watching it.
    private mutating func signalContainer(_ signal: Int32) {
        guard runtimePath != nil else {
            if child > 0 { killpg(child, signal) }
            return
        }
        if signal == SIGKILL, child > 0 { killpg(child, signal) }
        runtimeKill(signal)
    }

    private mutating func runtimeKill(_ signal: Int32, _ attempt: KillAttempt = .first) {
        if let runtimePath, let pid = Spawn.runtimeKill(runtimePath, container: Launch.containerName(spec.uuid), signal: signal) {
            helpers[pid] = (signal, attempt)
        }
    }

    /// Which try of a signal a `<runtime> kill` is: the first, again after one that failed
    /// (the container did not run yet), or the one more after a delivery (`runtimeResend`).
    enum KillAttempt { case first, retry, resend }

    /// The result from a wait status. Through docker/podman a signal shows as exit 128+n.
    static func outcome(status: Int32, viaRuntime: Bool, reason: String?, startedAt: Double?) -> Outcome {
        var result = Outcome(reason: reason, startedAt: startedAt, finishedAt: nil)
        let low = status & 0x7F
        if low == 0 {
            let code = Int((status >> 8) & 0xFF)
            result.exitCode = code
            if viaRuntime, (129...192).contains(code) { result.signal = code - 128 }
        } else {
            result.exitCode = 128 + Int(low)
            result.signal = Int(low)
        }
        return result
    }

    /// Writes the result atomically; the lock is released when this process exits right after.
    private func finish(_ outcome: Outcome) {
        var final = outcome
        final.finishedAt = System.now()
        if final.startedAt == nil { final.startedAt = final.finishedAt }
        _ = System.writeAtomically(
            paths.result(spec.uuid), Array((final.json(uuid: spec.uuid).text + "\n").utf8),
            temporary: paths.resultTemporary(spec.uuid))
    }
}
